import Foundation
import OaaSCore
import OaaSProto

/// ODGM settings from the environment (data-plane spec §9.1).
public struct ODGMConfig: Sendable {
    public var httpPort: Int = 8080
    public var nodeID: UInt64 = 1
    public var members: [UInt64] = [1]
    public var nodeAddress: String?
    public var collections: [Oprc_CreateCollectionRequest] = []
    public var dataDir: String = "/data/odgm"
    public var maxStringIdLength: Int = 160
    public var mapSizeMB: Int = 65536
    public var maxMessageBytes: Int = 16 * 1024 * 1024
    public var defaultPartitions: UInt32 = 16
    public var enableStringIds = true
    public var enableStringEntryKeys = true
    public var eventsEnabled = true
    public var eventPublish = true
    public var includeValues = false
    /// Runtime-call deadline when none was propagated (`ODGM_INVOKE_TIMEOUT_MS`).
    public var invokeTimeout: Duration = .milliseconds(300_000)
    /// How long a finished async result stays readable (`ODGM_ASYNC_RESULT_TTL_SECS`).
    public var asyncResultTTL: Duration = .seconds(3600)
    /// Unfinished async calls allowed per shard (`ODGM_ASYNC_MAX_PENDING`).
    public var asyncMaxPending = 10_000
    /// Retries after a retryable failure, for triggers and async calls (`ODGM_TRIGGER_MAX_RETRIES`).
    public var triggerMaxRetries = 3
    /// First retry delay, doubled on each further retry (`ODGM_TRIGGER_RETRY_BACKOFF_MS`).
    public var triggerRetryBackoff: Duration = .milliseconds(200)
    /// Deepest trigger chain delivered; deeper deliveries are counted and dropped (`ODGM_MAX_TRIGGER_DEPTH`).
    public var maxTriggerDepth = 10
    /// Trigger deliveries in flight per node, one object each (`ODGM_MAX_CONCURRENT_TRIGGERS`).
    public var maxConcurrentTriggers = 100
    /// Deadline of one trigger delivery attempt (`ODGM_TRIGGER_TIMEOUT_MS`).
    public var triggerTimeout: Duration = .milliseconds(30_000)
    /// Deliveries one mutation may enqueue; the excess is counted and dropped (`ODGM_MAX_BATCH_TRIGGER_FANOUT`).
    public var maxTriggerFanout = 256
    /// Pending deliveries per shard outbox before mutations that add more are refused (`ODGM_EVENT_QUEUE_BOUND`).
    public var eventQueueBound = 8192
    /// Scratch directory for `memory` collections (wiped at start and shutdown).
    public var scratchDir: String?
    /// `OPRC_ROUTER_URL`: register with this router and publish change events to it (nil: standalone).
    public var routerURL: String?
    /// `OPRC_ENV`: env name sent when registering (nil: the router's `OPRC_ROUTER_ENV`).
    public var env: String?
    /// Non-fatal remarks to log at start-up.
    public var warnings: [String] = []

    public init() {}

    /// Reads the variables; problems are reported to `env` (the caller validates once for all roles).
    public init(env: EnvReader, hostname: String = ProcessInfo.processInfo.hostName) {
        httpPort = env.int("ODGM_HTTP_PORT", default: 8080, range: 1...65535)
        dataDir = env.string("ODGM_DATA_DIR", default: "/data/odgm")
        maxStringIdLength = env.int("ODGM_MAX_STRING_ID_LEN", default: 160, range: 1...65536)
        mapSizeMB = env.int("ODGM_LMDB_MAP_SIZE_MB", default: 65536, range: 1...(1 << 24))
        maxMessageBytes = env.int("ODGM_MAX_MESSAGE_BYTES", default: 16 * 1024 * 1024, range: 1024...(1 << 30))
        defaultPartitions = env.int("ODGM_DEFAULT_PARTITIONS", default: UInt32(16), range: 1...65536)
        enableStringIds = env.bool("ODGM_ENABLE_STRING_IDS", default: true)
        enableStringEntryKeys = env.bool("ODGM_ENABLE_STRING_ENTRY_KEYS", default: true)
        eventsEnabled = env.bool("ODGM_EVENTS_ENABLED", default: true)
        eventPublish = env.bool("ODGM_EVENT_PUBLISH", default: true)
        includeValues = env.bool("ODGM_EVENT_INCLUDE_VALUES", default: false)
        invokeTimeout = .milliseconds(env.int("ODGM_INVOKE_TIMEOUT_MS", default: 300_000, range: 1...86_400_000))
        asyncResultTTL = .seconds(env.int("ODGM_ASYNC_RESULT_TTL_SECS", default: 3600, range: 0...315_360_000))
        asyncMaxPending = env.int("ODGM_ASYNC_MAX_PENDING", default: 10_000, range: 1...100_000_000)
        triggerMaxRetries = env.int("ODGM_TRIGGER_MAX_RETRIES", default: 3, range: 0...100)
        triggerRetryBackoff = .milliseconds(env.int("ODGM_TRIGGER_RETRY_BACKOFF_MS", default: 200, range: 1...3_600_000))
        maxTriggerDepth = env.int("ODGM_MAX_TRIGGER_DEPTH", default: 10, range: 0...10_000)
        maxConcurrentTriggers = env.int("ODGM_MAX_CONCURRENT_TRIGGERS", default: 100, range: 1...100_000)
        triggerTimeout = .milliseconds(env.int("ODGM_TRIGGER_TIMEOUT_MS", default: 30_000, range: 1...86_400_000))
        maxTriggerFanout = env.int("ODGM_MAX_BATCH_TRIGGER_FANOUT", default: 256, range: 1...1_000_000)
        eventQueueBound = env.int("ODGM_EVENT_QUEUE_BOUND", default: 8192, range: 1...100_000_000)
        nodeAddress = env.string("ODGM_NODE_ADDR")
        routerURL = env.string("OPRC_ROUTER_URL").flatMap { $0.isEmpty ? nil : $0 }
        self.env = env.string("OPRC_ENV").flatMap { $0.isEmpty ? nil : $0 }

        // Members and node id (spec §9.1): ODGM_NODE_ID, else ODGM_NODE_ID_LIST at the pod ordinal.
        var memberList: [UInt64]?
        if let raw = env.lookup("ODGM_MEMBERS") {
            memberList = Self.parseIDs(raw.value, variable: raw.name, env: env)
        }
        var id: UInt64?
        if let raw = env.lookup("ODGM_NODE_ID") {
            if let parsed = UInt64(raw.value) { id = parsed } else { env.report("\(raw.name): '\(raw.value)' is not a valid u64") }
        } else if let raw = env.lookup("ODGM_NODE_ID_LIST") {
            let list = Self.parseIDs(raw.value, variable: raw.name, env: env)
            let name = env.string("POD_NAME") ?? hostname
            if let dash = name.lastIndex(of: "-"), let ordinal = Int(name[name.index(after: dash)...]), ordinal < list.count {
                id = list[ordinal]
                if memberList == nil { memberList = list }
            } else {
                env.report("\(raw.name): cannot pick an entry: '\(name)' has no ordinal within the list")
            }
        } else if memberList != nil {
            env.report("ODGM_NODE_ID: required when ODGM_MEMBERS is set")
        }
        nodeID = id ?? 1
        members = memberList ?? [nodeID]
        if !members.contains(nodeID) {
            env.report("ODGM_NODE_ID: \(nodeID) is not in ODGM_MEMBERS \(members)")
        }

        if let raw = env.lookup("ODGM_COLLECTION") {
            do { collections += try CollectionSpec.parseList(raw.value, source: raw.name) } catch { error.problems.forEach(env.report) }
        }
        if let raw = env.lookup("ODGM_COLLECTION_FILE") {
            do {
                let text = try String(contentsOfFile: raw.value, encoding: .utf8)
                collections += try CollectionSpec.parseList(text, source: raw.name)
            } catch let error as ConfigurationError {
                error.problems.forEach(env.report)
            } catch {
                env.report("\(raw.name): cannot read '\(raw.value)': \(error.localizedDescription)")
            }
        }
        if env.values.keys.contains(where: { $0.hasPrefix("OPRC_ZENOH_") }) {
            warnings.append("OPRC_ZENOH_* variables are ignored; set OPRC_ROUTER_URL instead")
        }
    }

    private static func parseIDs(_ raw: String, variable: String, env: EnvReader) -> [UInt64] {
        var ids: [UInt64] = []
        for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: .whitespaces)
            if let id = UInt64(text) { ids.append(id) } else { env.report("\(variable): entry '\(text)' is not a valid u64") }
        }
        return ids
    }
}
