import OaaSProto

/// What a call carries besides its message: trigger depth, trace context and deadline
/// (data-plane spec §5.4), and whether it was already forwarded once (§4.7).
public struct CallContext: Sendable {
    public var triggerDepth: Int
    public var traceparent: String?
    public var tracestate: String?
    public var deadline: ContinuousClock.Instant?
    public var forwarded: Bool
    /// `oaas-invocation-id`: the async, trigger-delivery or generated id of the invocation this call belongs to.
    public var invocationID: String?

    public init(triggerDepth: Int = 0, traceparent: String? = nil, tracestate: String? = nil,
                deadline: ContinuousClock.Instant? = nil, forwarded: Bool = false, invocationID: String? = nil) {
        self.triggerDepth = triggerDepth
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.deadline = deadline
        self.forwarded = forwarded
        self.invocationID = invocationID
    }
}

/// One page of a ListValues call, with the object's version (sent even for an empty page).
public struct ValuePage: Sendable {
    public var entries: [Oprc_ValueEnvelope]
    public var version: UInt64

    public init(entries: [Oprc_ValueEnvelope], version: UInt64) {
        self.entries = entries
        self.version = version
    }
}

/// The semantics of `oprc.DataService` (data-plane spec §4), independent of the wire.
///
/// ODGM implements it over its shards; the gateway implements it by validating and forwarding to
/// the ODGM that owns the partition, in-process when both roles share a process. Errors are
/// ``OaaSError``s. Write calls return the object version after the call (§2.2).
public protocol ObjectStore: Sendable {
    func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse
    func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64
    func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse
    func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64
    func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse
    func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64
    func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64
    func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64
    func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage
    func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope]
    func stats(context: CallContext) async throws -> Oprc_StatsResponse
    func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse
}

/// Metadata keys of the data plane (spec §2.2, §5.4).
public enum MetadataKeys {
    public static let objectVersion = "oaas-object-version"
    public static let triggerDepth = "oaas-trigger-depth"
    public static let forwarded = "oaas-forwarded"
    public static let invocationID = "oaas-invocation-id"
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"
}
