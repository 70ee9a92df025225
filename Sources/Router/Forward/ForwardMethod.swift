import Foundation
import OaaSCore
import OaaSProto
import SwiftProtobuf

/// The class and partition a forwarded request addresses; nil class for calls that name none (Stats, Capabilities).
struct RequestLocation: Sendable, Equatable {
    var clsID: String?
    var partitionID: UInt32?
}

/// A method `Forward` may run (spec §7.1): the unary RPCs of `oprc.DataService`, `oprc.OprcFunction` and
/// `oaas.invocation.AsyncInvocation`. `locate` decodes the request just enough to find its class and partition.
struct ForwardMethod: Sendable {
    let service: String
    let method: String
    let streaming: Bool
    let locate: @Sendable (Data) throws(OaaSError) -> RequestLocation

    var path: String { "/\(service)/\(method)" }

    /// The method named by a full path (`/oprc.DataService/Get`; the leading slash is optional).
    static func named(_ path: String) -> ForwardMethod? {
        let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
        return all[trimmed]
    }

    private static let all: [String: ForwardMethod] = {
        let data = "oprc.DataService", function = "oprc.OprcFunction", async = "oaas.invocation.AsyncInvocation"
        let methods: [ForwardMethod] = [
            unary(data, "Get", Oprc_SingleObjectRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(data, "Set", Oprc_SetObjectRequest.self) { try .init(clsID: $0.clsID, signed: $0.partitionID) },
            unary(data, "Merge", Oprc_SetObjectRequest.self) { try .init(clsID: $0.clsID, signed: $0.partitionID) },
            unary(data, "Delete", Oprc_SingleObjectRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(data, "GetValue", Oprc_SingleKeyRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(data, "SetValue", Oprc_SetKeyRequest.self) { try .init(clsID: $0.clsID, signed: $0.partitionID) },
            unary(data, "DeleteValue", Oprc_SingleKeyRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(data, "BatchSetValues", Oprc_BatchSetValuesRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            streaming(data, "ListValues"),
            streaming(data, "ListObjects"),
            unary(data, "Stats", Oprc_StatsRequest.self) { _ in .init() },
            unary(data, "Capabilities", Oprc_CapabilitiesRequest.self) { _ in .init() },
            unary(function, "InvokeFn", Oprc_InvocationRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(function, "InvokeObj", Oprc_ObjectInvocationRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
            unary(async, "Submit", Oaas_Invocation_SubmitRequest.self) { request in
                switch request.call {
                case .fn(let call): .init(clsID: call.clsID, partitionID: call.partitionID)
                case .obj(let call): .init(clsID: call.clsID, partitionID: call.partitionID)
                case nil: throw OaaSError(.invalidArgument, "request: exactly one of fn or obj required")
                }
            },
            unary(async, "GetResult", Oaas_Invocation_GetResultRequest.self) { .init(clsID: $0.clsID, partitionID: $0.partitionID) },
        ]
        return Dictionary(uniqueKeysWithValues: methods.map { ("\($0.service)/\($0.method)", $0) })
    }()

    private static func unary<M: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ type: M.Type,
        _ locate: @escaping @Sendable (M) throws -> RequestLocation
    ) -> ForwardMethod {
        ForwardMethod(service: service, method: method, streaming: false) { bytes throws(OaaSError) in
            let message: M
            do {
                message = try M(serializedBytes: bytes)
            } catch {
                throw OaaSError(.invalidArgument, "request: not a valid \(M.protoMessageName): \(error)")
            }
            do {
                return try locate(message)
            } catch let error as OaaSError {
                throw error
            } catch {
                throw OaaSError(.invalidArgument, "request: \(error)")
            }
        }
    }

    private static func streaming(_ service: String, _ method: String) -> ForwardMethod {
        ForwardMethod(service: service, method: method, streaming: true) { _ throws(OaaSError) in RequestLocation() }
    }
}

extension RequestLocation {
    /// The reference's int32 `partition_id` fields (spec §3.2): negative is a bad request, not a huge partition.
    init(clsID: String, signed partitionID: Int32) throws(OaaSError) {
        guard partitionID >= 0 else {
            throw OaaSError(.invalidArgument, "partition_id must not be negative (got \(partitionID))")
        }
        self.init(clsID: clsID, partitionID: UInt32(partitionID))
    }
}
