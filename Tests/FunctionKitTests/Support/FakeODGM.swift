import Foundation
import GRPCCore
import OaaSProto

/// One DataService call as the fake ODGM received it.
struct RecordedCall: Sendable {
    var method: String
    var cls: String
    var partition: UInt32
    var object: String
    var triggerDepth: String?
    var traceparent: String?
    var tracestate: String?
    var invocationID: String?
    var timeout: String?
}

/// Object state and a call log standing in for ODGM behind `oprc.DataService`. Semantics follow
/// data-plane spec §4 closely enough for a client test: versions, NOT_FOUND with `oaas-error-code`,
/// CAS on BatchSetValues. The class `missing-class` is unknown (NOT_FOUND `NO_CLASS`).
actor FakeODGM {
    struct Stored {
        var version: UInt64
        var data: Oprc_ObjData
    }

    static let unknownClass = "missing-class"

    private(set) var objects: [String: Stored] = [:]
    private(set) var calls: [RecordedCall] = []

    static func key(_ cls: String, _ partition: UInt32, numeric: UInt64, string: String?) -> String {
        "\(cls)/\(partition)/" + (string.map { "s:\($0)" } ?? "n:\(numeric)")
    }

    func object(_ key: String) -> Stored? { objects[key] }

    func record(_ method: String, _ key: String, cls: String, partition: UInt32, metadata: Metadata) throws {
        func first(_ name: String) -> String? { metadata[stringValues: name].first(where: { _ in true }) }
        calls.append(RecordedCall(
            method: method, cls: cls, partition: partition, object: key,
            triggerDepth: first("oaas-trigger-depth"), traceparent: first("traceparent"),
            tracestate: first("tracestate"), invocationID: first("oaas-invocation-id"),
            timeout: first("grpc-timeout")
        ))
        if cls == Self.unknownClass {
            throw Self.error(.notFound, "class '\(cls)' not found", code: "NO_CLASS")
        }
    }

    func live(_ key: String) throws -> Stored {
        guard let stored = objects[key] else { throw Self.error(.notFound, "object not found", code: "NO_OBJECT") }
        return stored
    }

    /// Applies one mutation (creating the object when asked) and returns the new version.
    func mutate(_ key: String, create: Bool, _ change: (inout Oprc_ObjData) -> Void) throws -> Stored {
        var stored: Stored
        if let existing = objects[key] {
            stored = existing
        } else if create {
            stored = Stored(version: 0, data: Oprc_ObjData())
        } else {
            throw Self.error(.notFound, "object not found", code: "NO_OBJECT")
        }
        change(&stored.data)
        stored.version += 1
        objects[key] = stored
        return stored
    }

    func remove(_ key: String) throws {
        guard objects.removeValue(forKey: key) != nil else {
            throw Self.error(.notFound, "object not found", code: "NO_OBJECT")
        }
    }

    func checkCAS(_ key: String, expected: UInt64?) throws {
        guard let expected else { return }
        let current = objects[key]?.version ?? 0
        guard current == expected else {
            throw Self.error(.aborted, "version mismatch: expected \(expected), current \(current)", code: "VERSION_MISMATCH")
        }
    }

    static func error(_ code: RPCError.Code, _ message: String, code restCode: String) -> RPCError {
        RPCError(code: code, message: message, metadata: ["oaas-error-code": "\(restCode)"])
    }
}
