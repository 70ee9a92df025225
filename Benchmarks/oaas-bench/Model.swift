import GRPCTransports

/// The gRPC operations under test, each compared with a storage-level and a Redis baseline.
enum Operation: String, CaseIterable, Sendable {
    case set = "Set"
    case get = "Get"
    case setValue = "SetValue"
    case getValue = "GetValue"

    /// Writes are compared with durable baselines, reads with read baselines.
    var baseline: BaselineKind { self == .set || self == .setValue ? .write : .read }

    var describesOurs: String {
        switch self {
        case .set: return "gRPC Set, numeric id, 2 entries of 16 B"
        case .get: return "gRPC Get of a 2-entry object"
        case .setValue: return "gRPC SetValue, numeric key, 16 B"
        case .getValue: return "gRPC GetValue, 16 B"
        }
    }
}

enum BaselineKind: Sendable {
    case write, read

    var lmdb: String { self == .write ? "Writer put, durable group commit" : "read txn + get" }
    var redis: String { self == .write ? "SET, appendfsync always" : "GET" }
}

struct CaseKey: Hashable, Sendable {
    let operation: Operation
    let concurrency: Int
}

struct BaselineKey: Hashable, Sendable {
    let kind: BaselineKind
    let concurrency: Int
}

struct Settings: Sendable {
    var duration: Duration
    var warmup: Duration
    var concurrencies = [1, 64]
    /// HTTP/2 connections shared by the concurrent gRPC callers.
    var connections = 8
    /// Objects (and Redis keys) the calls are spread over; all exist before the reads start.
    var keyspace = 4096
    var valueSize = 16
    /// The engines measured, the default (nghttp2) first: it is the one the targets are checked on.
    var transports: [GRPCTransportKind] = [.nghttp2, .nio]
}

struct Results: Sendable {
    /// Our measurements per gRPC transport engine (server and clients on the same one).
    var ours: [GRPCTransportKind: [CaseKey: Measurement]] = [:]
    var lmdb: [BaselineKey: Measurement] = [:]
    var redis: [BaselineKey: Measurement] = [:]
    /// Why the Redis baseline is missing, when it is.
    var redisNote: String?
}
