import CRM
import Foundation
import GRPCCore
import Kube
import Logging
import OaaSCore
import OaaSProto
import Storage

/// Settings of one local env's CRM (control-plane spec §13).
public struct LocalCRMOptions: Sendable {
    public var envName: String
    /// Records go to `<dataDir>/crm/<env>`; nil keeps them in a scratch directory removed at exit (`--memory`).
    public var dataDir: String?
    /// `--function-url KEY=URL` overrides for endpoint functions.
    public var functionURLs: [String: String]
    /// What endpoint runtimes use as `ODGM_SERVICE` (the gateway), logged per endpoint function.
    public var odgmService: String
    /// `OPRC_MOCK_CLUSTER_AVAILABILITY`.
    public var mockAvailability: Double?
    /// Not ready this long after a change ⇒ Degraded `Timeout`.
    public var progressDeadline: Duration
    /// How often unready runtimes are re-checked.
    public var recheckInterval: Duration

    public init(envName: String, dataDir: String?, functionURLs: [String: String] = [:], odgmService: String = "127.0.0.1:8081",
                mockAvailability: Double? = nil, progressDeadline: Duration = .seconds(600), recheckInterval: Duration = .seconds(2)) {
        self.envName = envName
        self.dataDir = dataDir
        self.functionURLs = functionURLs
        self.odgmService = odgmService
        self.mockAvailability = mockAvailability
        self.progressDeadline = progressDeadline
        self.recheckInterval = recheckInterval
    }
}

/// The CRM of one local env: the same Deploy upsert, validation, template selection, route and `ODGM_COLLECTION`
/// rendering, phases and summaries as on Kubernetes; children are realised in-process as ODGM collections and
/// endpoint checks instead of Kubernetes objects.
public actor LocalCRM {
    public nonisolated let options: LocalCRMOptions
    let host: any CollectionHost
    let store: LocalRecordStore
    let logger: Logger
    /// The records, read and changed only on this actor (LMDB keeps them durable): a reconcile pass and a Deploy
    /// that interleave at an `await` never overwrite each other's fields.
    private var records: [String: ClassRuntime]
    /// Writes reach LMDB in the order the actor made them.
    private var lastPersist: Task<Void, any Error>?
    private var running: Set<String> = []
    private var again: Set<String> = []
    private var loggedEndpoints: Set<String> = []

    public init(options: LocalCRMOptions, host: any CollectionHost, storage: StorageRegistry, logger: Logger) throws {
        self.options = options
        self.host = host
        var logger = logger
        logger[metadataKey: "env"] = .string(options.envName)
        self.logger = logger
        let base = options.dataDir ?? (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("oaas-dev-crm-\(ProcessInfo.processInfo.processIdentifier)")
        let path = ((base as NSString).appendingPathComponent("crm") as NSString).appendingPathComponent(options.envName)
        store = try LocalRecordStore(storage: storage, path: path, durable: options.dataDir != nil)
        records = Dictionary(try store.list().map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    nonisolated var renderContext: RenderContext {
        RenderContext(namespace: options.envName, clusterDomain: "local", envName: options.envName, profile: "dev",
                      registeredTemplates: ["dev", "edge", "cloud"])
    }

    // MARK: DeploymentService

    public func deploy(_ unit: Oaas_Deployment_DeploymentUnit, correlationId: String?) async throws(CRMError) -> Oaas_Deployment_DeployResponse {
        let desired = try ClassRuntimeBuilder.build(unit: unit, namespace: options.envName, correlationId: correlationId, extraLabels: [:])
        let message: String
        var record: ClassRuntime
        if let existing = try read(desired.name) {
            if existing.deploymentId != desired.deploymentId {
                throw .alreadyExists("ClassRuntime '\(desired.name)' belongs to deployment '\(existing.deploymentId)'")
            }
            if existing.isBeingDeleted { throw .aborted("ClassRuntime '\(desired.name)' is being deleted; retry") }
            if let incoming = desired.revision, let stored = existing.revision, incoming < stored {
                throw .failedPrecondition("deployment_unit.revision \(incoming) is older than the ClassRuntime's \(stored)")
            }
            record = existing
            record.labels.merge(desired.labels) { _, new in new }
            record.annotations.merge(desired.annotations) { _, new in new }
            record.finalizers = Array(Set(existing.finalizers).union(desired.finalizers)).sorted()
            if existing.spec != desired.spec {
                record.spec = desired.spec
                record.generation += 1
                // Until the next pass has realised the new spec, the runtime is progressing (spec §9.4 SpecChanged).
                var status = record.status ?? ClassRuntimeStatus()
                status.phase = .progressing
                status.message = "spec changed"
                status.conditions = PhaseConditions.make(phase: .progressing, reason: "SpecChanged", message: "spec changed",
                                                         generation: record.generation, previous: status.conditions, now: Date())
                status.lastUpdated = Self.now()
                record.status = status
                message = "updated"
            } else {
                message = "unchanged"
            }
        } else {
            record = desired
            record.uid = UUID().uuidString.lowercased()
            record.generation = 1
            record.creationTimestamp = Date()
            record.status = ClassRuntimeStatus(phase: .pending, message: "Pending", lastUpdated: Self.now(),
                                               conditions: PhaseConditions.make(phase: .pending, reason: "Pending", message: "created", generation: 1, previous: [], now: Date()))
            message = "created"
        }
        try await write(record)
        var log = logger
        if let correlationId { log[metadataKey: "correlation_id"] = .string(correlationId) }
        log.info("deploy \(record.name): \(message)")
        startReconcile(record.name)
        var response = Oaas_Deployment_DeployResponse()
        response.status = .ok
        response.deploymentID = unit.id
        response.message = message
        return response
    }

    public func status(_ id: String) throws(CRMError) -> Oaas_Deployment_GetDeploymentStatusResponse {
        let record = try existing(id)
        var response = Oaas_Deployment_GetDeploymentStatusResponse()
        response.status = .ok
        response.message = ClassRuntimeSummaries.summaryString(record)
        response.deployment = ClassRuntimeSummaries.deploymentUnit(from: record)
        response.statusResourceRefs = ClassRuntimeSummaries.resourceReferences(record)
        response.runtimeStatus = ClassRuntimeSummaries.runtimeStatus(record)
        return response
    }

    public func delete(_ id: String) async throws(CRMError) -> Oaas_Deployment_DeleteDeploymentResponse {
        var record = try existing(id)
        if !record.isBeingDeleted {
            record.deletionTimestamp = Date()
            var status = record.status ?? ClassRuntimeStatus()
            status.phase = .deleting
            status.message = "Deleting"
            status.conditions = PhaseConditions.make(phase: .deleting, reason: "Deleting", message: "deleting children",
                                                     generation: record.generation, previous: status.conditions, now: Date())
            status.lastUpdated = Self.now()
            record.status = status
            try await write(record)
            logger.info("delete \(record.name): deleting")
        }
        startReconcile(record.name)
        var response = Oaas_Deployment_DeleteDeploymentResponse()
        response.status = .ok
        response.message = "deleting"
        return response
    }

    public func list(_ request: Oaas_Deployment_ListClassRuntimesRequest) throws(CRMError) -> Oaas_Deployment_ListClassRuntimesResponse {
        var response = Oaas_Deployment_ListClassRuntimesResponse()
        response.items = ClassRuntimeSummaries.list(try all(), request, envName: options.envName)
        return response
    }

    public func get(_ id: String) throws(CRMError) -> Oaas_Deployment_GetClassRuntimeResponse {
        var response = Oaas_Deployment_GetClassRuntimeResponse()
        response.deployment = ClassRuntimeSummaries.summary(try existing(id), envName: options.envName)
        return response
    }

    // MARK: CrmInfoService

    public nonisolated func envHealth() -> Oaas_Health_CrmEnvHealth {
        var health = Oaas_Health_CrmEnvHealth()
        health.envName = options.envName
        health.status = "Healthy"
        health.crmVersion = "oaas-local"
        let now = Date().timeIntervalSince1970
        var seen = Oaas_Common_Timestamp()
        seen.seconds = Int64(now)
        seen.nanos = Int32((now - now.rounded(.down)) * 1e9)
        health.lastSeen = seen
        health.nodeCount = 1
        health.readyNodes = 1
        health.availability = min(max(options.mockAvailability ?? 1.0, 0), 1)
        health.templates = ["dev", "edge", "cloud"]
        return health
    }

    // MARK: Reconcile

    /// Reconciles every record (start-up, and the periodic re-check of unready runtimes).
    public func reconcileAll() async {
        guard let records = try? all() else { return }
        for record in records { await reconcile(record.name) }
    }

    /// Names whose runtimes are not settled (pending, progressing or deleting).
    func unsettled() -> [String] {
        ((try? all()) ?? []).filter { record in
            guard let phase = record.status?.phase else { return true }
            return phase != .available && phase != .degraded || record.status?.observedGeneration != record.generation
        }.map(\.name)
    }

    private func startReconcile(_ name: String) {
        Task { await self.reconcile(name) }
    }

    /// One reconcile pass; concurrent requests for the same name fold into one extra pass.
    func reconcile(_ name: String) async {
        if running.contains(name) {
            again.insert(name)
            return
        }
        running.insert(name)
        defer { running.remove(name) }
        repeat {
            again.remove(name)
            do {
                try await reconcileOnce(name)
            } catch {
                logger.error("reconcile \(name) failed: \(error)")
            }
        } while again.contains(name)
    }

    private func reconcileOnce(_ name: String) async throws {
        guard var record = records[name] else { return }
        if record.isBeingDeleted {
            try await removeChildren(of: record)
            try await persist(name, nil)
            logger.info("deleted \(name)")
            return
        }
        let plan = LocalPlan(record: record, context: renderContext, functionURLs: options.functionURLs)
        var applied: [String] = []
        var problems: [String] = []
        for request in plan.collections {
            do {
                let change = try await host.applyCollection(request)
                if change != .unchanged { logger.info("collection \(request.name) \(change.rawValue) for \(name)") }
                applied.append(request.name)
            } catch {
                problems.append("collection \(request.name): \(error)")
            }
        }
        // Orphans: collections this runtime created before and no longer wants.
        let previous = Set((record.status?.resourceRefs ?? []).filter { $0.kind == LocalPlan.collectionKind }.map(\.name))
        for orphan in previous.subtracting(plan.collections.map(\.name)).sorted() {
            try? await host.dropCollection(named: orphan, deleteData: !retainsData(record))
            logger.info("orphan collection \(orphan) of \(name) dropped")
        }
        var functions = plan.functions
        for index in functions.indices {
            guard let url = plan.endpoints[functions[index].functionKey] else { continue }
            logEndpointOnce(record: record, functionKey: functions[index].functionKey, url: url)
            if let reason = await EndpointProbe.check(url) {
                functions[index].ready = false
                functions[index].reason = "EndpointUnreachable"
                functions[index].message = reason
            } else {
                functions[index].ready = true
                functions[index].observedUrl = url
            }
        }
        guard let latest = records[name] else { return }
        // The spec changed or deletion began while this pass ran: its observations are stale, run again.
        guard latest.generation == record.generation, !latest.isBeingDeleted else {
            again.insert(name)
            return
        }
        record = latest
        record.status = LocalStatus.next(record: record, plan: plan, functions: functions, applied: applied,
                                         problems: problems, deadline: options.progressDeadline)
        try await write(record)
    }

    private func removeChildren(of record: ClassRuntime) async throws {
        for ref in record.status?.resourceRefs ?? [] where ref.kind == LocalPlan.collectionKind {
            try await host.dropCollection(named: ref.name, deleteData: !retainsData(record))
        }
    }

    private func retainsData(_ record: ClassRuntime) -> Bool {
        ["true", "1", "yes"].contains(record.annotations[CRMKeys.retainData]?.lowercased() ?? "")
    }

    private func logEndpointOnce(record: ClassRuntime, functionKey: String, url: String) {
        guard loggedEndpoints.insert("\(record.name)/\(functionKey)").inserted else { return }
        let partitions = max(record.spec.odgmConfig?.partitionCount ?? 1, 1)
        logger.info("""
            endpoint function \(record.spec.packageClassKey)/\(functionKey) is routed to \(url); start its runtime with \
            ODGM_SERVICE=\(options.odgmService) OPRC_CLS_ID=\(record.spec.packageClassKey) OPRC_DEPLOYMENT_ID=\(record.name) \
            OPRC_FUNCTION_KEY=\(functionKey) OPRC_ENV=\(options.envName) OPRC_PARTITION_RANGE=0-\(partitions - 1)
            """)
    }

    // MARK: Records

    private func existing(_ id: String) throws(CRMError) -> ClassRuntime {
        let name = try CRMNames.sanitize(id)
        guard let record = try read(name) else { throw .notFound("ClassRuntime '\(id)' not found in env '\(options.envName)'") }
        return record
    }

    private func read(_ name: String) throws(CRMError) -> ClassRuntime? {
        records[name]
    }

    private func all() throws(CRMError) -> [ClassRuntime] {
        records.values.sorted { $0.name < $1.name }
    }

    private func write(_ record: ClassRuntime) async throws(CRMError) {
        do { try await persist(record.name, record) } catch { throw .unavailable("storing ClassRuntime '\(record.name)': \(error)") }
    }

    /// Changes the record at once and queues its durable write behind the earlier ones; nil removes it.
    private func persist(_ name: String, _ record: ClassRuntime?) async throws {
        records[name] = record
        let previous = lastPersist
        let store = self.store
        let task = Task {
            _ = await previous?.result
            if let record { try await store.put(record) } else { try await store.delete(name) }
        }
        lastPersist = task
        try await task.value
    }

    static func now() -> String { KubeTime.format(Date()) }
}
