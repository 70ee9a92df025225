import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Synchronization

/// What a fake CRM does and what it saw; every behaviour can be changed while it runs.
struct FakeCRMScript: Sendable {
    /// `GetEnvHealth` answers (nil availability = none reported).
    var status = "Healthy"
    var availability: Double? = 1.0
    var nodeCount: UInt32? = 3
    var readyNodes: UInt32? = 3
    var serving: Oaas_Health_HealthCheckResponse.ServingStatus = .serving
    /// The next deploys fail with these codes, one each, then deploys succeed.
    var deployFailures: [RPCError.Code] = []
    /// Every deploy fails with this code ("down" for deploys).
    var deployAlwaysFails: RPCError.Code?
    /// Every delete fails with this code.
    var deleteAlwaysFails: RPCError.Code?
    /// Every read (status, list, get) fails with this code.
    var readsFail: RPCError.Code?
    /// Condition reported for every runtime (the runtime status of §8.2).
    var condition: Oaas_Runtime_DeploymentCondition = .running
    var phase: Oaas_Runtime_DeploymentPhase = .phaseRunning
    /// Answer like a reference CRM: a summary string and no `runtime_status`.
    var referenceStyle = false
}

/// Everything the fake CRM received.
struct FakeCRMLog: Sendable {
    var calls: [String: Int] = [:]
    var deployed: [Oaas_Deployment_DeploymentUnit] = []
    var deleted: [String] = []
    var correlationIds: [String] = []
    var traceparents: [String] = []
    /// Raw `grpc-timeout` values.
    var timeouts: [String] = []
    /// Current runtimes by unit id.
    var runtimes: [String: Oaas_Deployment_DeploymentUnit] = [:]
}

/// A CRM double: a real grpc-swift server on a loopback port serving DeploymentService, CrmInfoService (unless
/// `healthOnly`) and HealthService, with scriptable behaviour and a record of every call.
final class FakeCRM: Sendable {
    let core: FakeCRMCore
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    /// The gRPC services, also usable on another transport (in-process).
    let services: [any RegistrableRPCService]

    init(env: String, script: FakeCRMScript = FakeCRMScript(), healthOnly: Bool = false) {
        core = FakeCRMCore(env: env, script: script)
        transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        var services: [any RegistrableRPCService] = [FakeDeploymentService(crm: core), FakeHealthService(crm: core)]
        if !healthOnly { services.append(FakeInfoService(crm: core)) }
        self.services = services
        server = GRPCServer(transport: transport, services: services)
    }

    var envName: String { core.envName }
    /// A copy of everything received so far.
    var log: FakeCRMLog { core.log.withLock { $0 } }

    /// Starts serving; returns the `http://127.0.0.1:<port>` URL.
    func start() async throws -> String {
        let server = server
        task.withLock { $0 = Task { try? await server.serve() } }
        let address = try await transport.listeningAddress
        guard let port = address.ipv4?.port else { throw RPCError(code: .internalError, message: "no port") }
        return "http://127.0.0.1:\(port)"
    }

    /// Stops gracefully, then hard: a client that keeps a call open would otherwise hold the test forever.
    func stop() async {
        server.beginGracefulShutdown()
        guard let serving = task.withLock({ $0 }) else { return }
        let deadline = Task {
            try await Task.sleep(for: .seconds(5))
            serving.cancel()
        }
        await serving.value
        deadline.cancel()
    }

    func update(_ change: (inout FakeCRMScript) -> Void) { core.script.withLock { change(&$0) } }
    func calls(_ method: String) -> Int { log.calls[method] ?? 0 }
    var deployed: [Oaas_Deployment_DeploymentUnit] { log.deployed }
    var deleted: [String] { log.deleted }
}

/// The state and behaviour of a fake CRM, shared by its services.
final class FakeCRMCore: Sendable {
    let envName: String
    let script: Mutex<FakeCRMScript>
    let log = Mutex(FakeCRMLog())

    init(env: String, script: FakeCRMScript) {
        envName = env
        self.script = Mutex(script)
    }

    func record(_ method: String, _ metadata: Metadata, _ context: ServerContext) {
        log.withLock { log in
            log.calls[method, default: 0] += 1
            if let id = metadata[stringValues: "x-correlation-id"].first(where: { _ in true }) { log.correlationIds.append(id) }
            if let trace = metadata[stringValues: "traceparent"].first(where: { _ in true }) { log.traceparents.append(trace) }
            if let timeout = metadata[stringValues: "grpc-timeout"].first(where: { _ in true }) { log.timeouts.append(timeout) }
        }
    }

    func deploy(_ unit: Oaas_Deployment_DeploymentUnit) throws -> Oaas_Deployment_DeployResponse {
        let failure: RPCError.Code? = script.withLock { script in
            if let code = script.deployAlwaysFails { return code }
            return script.deployFailures.isEmpty ? nil : script.deployFailures.removeFirst()
        }
        if let failure { throw RPCError(code: failure, message: "scripted deploy failure in \(envName)") }
        let existed = log.withLock { log in
            log.deployed.append(unit)
            defer { log.runtimes[unit.id] = unit }
            return log.runtimes[unit.id] != nil
        }
        var response = Oaas_Deployment_DeployResponse()
        response.status = .ok
        response.deploymentID = unit.id
        response.message = existed ? "updated" : "created"
        return response
    }

    func delete(_ id: String) throws -> Oaas_Deployment_DeleteDeploymentResponse {
        if let code = script.withLock({ $0.deleteAlwaysFails }) { throw RPCError(code: code, message: "scripted delete failure in \(envName)") }
        let existed = log.withLock { log in
            log.deleted.append(id)
            return log.runtimes.removeValue(forKey: id) != nil
        }
        guard existed else { throw RPCError(code: .notFound, message: "no ClassRuntime '\(id)'") }
        var response = Oaas_Deployment_DeleteDeploymentResponse()
        response.status = .ok
        response.message = "deleting"
        return response
    }

    func checkReads() throws {
        if let code = script.withLock({ $0.readsFail }) { throw RPCError(code: code, message: "scripted read failure in \(envName)") }
    }

    func runtime(_ id: String) -> Oaas_Deployment_DeploymentUnit? { log.withLock { $0.runtimes[id] } }
    var runtimes: [Oaas_Deployment_DeploymentUnit] { log.withLock { $0.runtimes.values.sorted { $0.id < $1.id } } }

    func summary(_ unit: Oaas_Deployment_DeploymentUnit) -> Oaas_Runtime_ClassRuntimeSummary {
        let script = script.withLock { $0 }
        var summary = Oaas_Runtime_ClassRuntimeSummary()
        summary.id = unit.id
        summary.deploymentUnitID = unit.id
        summary.packageName = unit.packageName
        summary.classKey = unit.classKey
        summary.targetEnvironment = unit.targetEnv
        summary.status = runtimeStatus()
        summary.partitionCount = unit.odgmConfig.partitionCount
        summary.createdAt = "2025-01-01T00:00:00Z"
        summary.updatedAt = "2025-01-01T00:00:01Z"
        var compliance = Oaas_Runtime_NfrCompliance()
        compliance.overallStatus = "Compliant"
        compliance.lastChecked = "2025-01-01T00:00:02Z"
        summary.nfrCompliance = compliance
        var ref = Oaas_Deployment_ResourceReference()
        ref.kind = "StatefulSet"
        ref.name = "\(unit.id)-odgm"
        ref.namespace = script.referenceStyle ? "" : envName
        summary.resourceRefs = [ref]
        return summary
    }

    func runtimeStatus() -> Oaas_Runtime_ClassRuntimeStatus {
        let script = script.withLock { $0 }
        var status = Oaas_Runtime_ClassRuntimeStatus()
        status.condition = script.condition
        status.phase = script.phase
        status.message = script.condition == .running ? "Available" : "Progressing"
        status.lastUpdated = "2025-01-01T00:00:03Z"
        var function = Oaas_Runtime_FunctionStatus()
        function.functionKey = "fn"
        function.ready = script.condition == .running
        status.functions = [function]
        return status
    }

    func envHealth() -> Oaas_Health_CrmEnvHealth {
        let script = script.withLock { $0 }
        var reply = Oaas_Health_CrmEnvHealth()
        reply.envName = "\(envName)-crm"
        reply.status = script.status
        reply.crmVersion = "fake-1"
        if let value = script.availability { reply.availability = value }
        if let value = script.nodeCount { reply.nodeCount = value }
        if let value = script.readyNodes { reply.readyNodes = value }
        reply.templates = ["dev", "edge", "cloud"]
        return reply
    }
}

// MARK: - Services

private struct FakeDeploymentService: Oaas_Deployment_DeploymentService.ServiceProtocol {
    let crm: FakeCRMCore

    func deploy(request: ServerRequest<Oaas_Deployment_DeployRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Deployment_DeployResponse> {
                crm.record("Deploy", request.metadata, context)
        return ServerResponse(message: try crm.deploy(request.message.deploymentUnit))
    }

    func getDeploymentStatus(request: ServerRequest<Oaas_Deployment_GetDeploymentStatusRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Deployment_GetDeploymentStatusResponse> {
                crm.record("GetDeploymentStatus", request.metadata, context)
        try crm.checkReads()
        guard let unit = crm.runtime(request.message.deploymentID) else {
            throw RPCError(code: .notFound, message: "no ClassRuntime '\(request.message.deploymentID)'")
        }
        var reply = Oaas_Deployment_GetDeploymentStatusResponse()
        reply.status = .ok
        reply.deployment = unit
        let status = crm.runtimeStatus()
        if crm.script.withLock({ $0.referenceStyle }) {
            reply.message = status.condition == .running ? "Available" : "Progressing"
        } else {
            reply.message = status.message
            reply.runtimeStatus = status
        }
        return ServerResponse(message: reply)
    }

    func deleteDeployment(request: ServerRequest<Oaas_Deployment_DeleteDeploymentRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Deployment_DeleteDeploymentResponse> {
                crm.record("DeleteDeployment", request.metadata, context)
        return ServerResponse(message: try crm.delete(request.message.deploymentID))
    }

    func listClassRuntimes(request: ServerRequest<Oaas_Deployment_ListClassRuntimesRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Deployment_ListClassRuntimesResponse> {
                crm.record("ListClassRuntimes", request.metadata, context)
        try crm.checkReads()
        var reply = Oaas_Deployment_ListClassRuntimesResponse()
        // Filters are ignored on purpose, like a reference CRM: PM must filter too.
        reply.items = crm.runtimes.map(crm.summary)
        return ServerResponse(message: reply)
    }

    func getClassRuntime(request: ServerRequest<Oaas_Deployment_GetClassRuntimeRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Deployment_GetClassRuntimeResponse> {
                crm.record("GetClassRuntime", request.metadata, context)
        try crm.checkReads()
        guard let unit = crm.runtime(request.message.deploymentID) else {
            throw RPCError(code: .notFound, message: "no ClassRuntime '\(request.message.deploymentID)'")
        }
        var reply = Oaas_Deployment_GetClassRuntimeResponse()
        reply.deployment = crm.summary(unit)
        return ServerResponse(message: reply)
    }
}

private struct FakeInfoService: Oaas_Health_CrmInfoService.SimpleServiceProtocol {
    let crm: FakeCRMCore

    func getEnvHealth(request: Oaas_Health_CrmEnvRequest, context: ServerContext) async throws -> Oaas_Health_CrmEnvHealth {
                crm.record("GetEnvHealth", [:], context)
        return crm.envHealth()
    }
}

private struct FakeHealthService: Oaas_Health_HealthService.SimpleServiceProtocol {
    let crm: FakeCRMCore

    func check(request: Oaas_Health_HealthCheckRequest, context: ServerContext) async throws -> Oaas_Health_HealthCheckResponse {
                crm.record("Check", [:], context)
        var reply = Oaas_Health_HealthCheckResponse()
        reply.status = crm.script.withLock { $0.serving }
        return reply
    }

    func watch(request: Oaas_Health_HealthCheckRequest, response: RPCWriter<Oaas_Health_HealthCheckResponse>, context: ServerContext) async throws {
        var reply = Oaas_Health_HealthCheckResponse()
        reply.status = crm.script.withLock { $0.serving }
        try await response.write(reply)
    }
}
