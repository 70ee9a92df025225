import GRPCCore
import Kube
import OaaSProto

/// `oaas.deployment.DeploymentService` (control-plane spec §8.3, Kubernetes mode). It only writes ClassRuntimes;
/// the leader's controller realises them, so every replica serves it.
struct DeploymentService: Oaas_Deployment_DeploymentService.ServiceProtocol {
    let context: CRMServiceContext

    private var namespace: String { context.config.namespace }
    private var client: KubeClient { context.client }

    // MARK: Deploy

    func deploy(request: ServerRequest<Oaas_Deployment_DeployRequest>, context serverContext: ServerContext)
        async throws -> ServerResponse<Oaas_Deployment_DeployResponse>
    {
        try await context.serve("Deploy", request.metadata) { call in
            guard request.message.hasDeploymentUnit else {
                throw CRMError.invalidArgument("deployment_unit: required")
            }
            let unit = request.message.deploymentUnit
            let runtime = try ClassRuntimeBuilder.build(
                unit: unit, namespace: namespace, correlationId: call.correlationId,
                extraLabels: context.config.environmentLabels)
            let result = try await upsert(runtime, unit: unit, call: call)
            call.logger.info("deployed", metadata: ["classruntime": "\(runtime.name)", "result": "\(result)"])
            var response = Oaas_Deployment_DeployResponse()
            response.status = .ok
            response.deploymentID = unit.id
            response.message = result
            return response
        }
    }

    /// GET, check ownership/deletion/revision, then server-side apply; answers created | updated | unchanged.
    private func upsert(_ runtime: ClassRuntime, unit: Oaas_Deployment_DeploymentUnit, call: CRMServiceContext.Call)
        async throws -> String
    {
        let client = self.client
        let namespace = self.namespace
        let name = runtime.name
        let existing = try await call.kube("get ClassRuntime \(name)") {
            try await client.getIfPresent(.classRuntimes, namespace: namespace, name: name)
        }
        if let existing {
            try Self.checkUpsertAllowed(existing: existing, new: runtime, unit: unit)
        }
        let applied = try await call.kube("apply ClassRuntime \(name)") {
            try await client.apply(.classRuntimes, runtime.applyObject(), fieldManager: CRMKeys.fieldManager,
                                   force: true)
        }
        guard let existing else { return "created" }
        return (applied.generation ?? 0) > (existing.generation ?? 0) ? "updated" : "unchanged"
    }

    /// §8.1: another deployment's CR ⇒ ALREADY_EXISTS; being deleted ⇒ ABORTED; an older revision ⇒
    /// FAILED_PRECONDITION. Read from the raw object so a CR whose spec this version cannot decode can still be fixed.
    static func checkUpsertAllowed(existing: KubeObject, new runtime: ClassRuntime,
                                   unit: Oaas_Deployment_DeploymentUnit) throws(CRMError) {
        let name = runtime.name
        if let owner = existing.labels[CRMKeys.deploymentId], owner != runtime.labels[CRMKeys.deploymentId] {
            throw .alreadyExists("ClassRuntime \(name) belongs to deployment id '\(owner)'")
        }
        let existingKey = existing.value(at: "spec", "deployment_key")?.stringValue ?? ""
        if let newKey = runtime.spec.deploymentKey, !newKey.isEmpty, !existingKey.isEmpty, existingKey != newKey {
            throw .alreadyExists("ClassRuntime \(name) belongs to deployment '\(existingKey)', not '\(newKey)'")
        }
        if existing.isBeingDeleted {
            throw .aborted("ClassRuntime \(name) is being deleted; retry once it is gone")
        }
        if unit.hasRevision, let stored = existing.annotations[CRMKeys.revision].flatMap({ UInt64($0) }),
           unit.revision < stored {
            throw .failedPrecondition(
                "deployment_unit.revision: \(unit.revision) is older than the ClassRuntime's revision \(stored)")
        }
    }

    // MARK: Reads

    func getDeploymentStatus(
        request: ServerRequest<Oaas_Deployment_GetDeploymentStatusRequest>, context serverContext: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_GetDeploymentStatusResponse> {
        try await context.serve("GetDeploymentStatus", request.metadata) { call in
            let runtime = try await read(request.message.deploymentID, call: call)
            var response = Oaas_Deployment_GetDeploymentStatusResponse()
            response.status = .ok
            response.message = ClassRuntimeSummaries.summaryString(runtime)
            response.deployment = ClassRuntimeSummaries.deploymentUnit(from: runtime)
            response.statusResourceRefs = ClassRuntimeSummaries.resourceReferences(runtime)
            response.runtimeStatus = ClassRuntimeSummaries.runtimeStatus(runtime)
            return response
        }
    }

    func getClassRuntime(
        request: ServerRequest<Oaas_Deployment_GetClassRuntimeRequest>, context serverContext: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_GetClassRuntimeResponse> {
        try await context.serve("GetClassRuntime", request.metadata) { call in
            let runtime = try await read(request.message.deploymentID, call: call)
            var response = Oaas_Deployment_GetClassRuntimeResponse()
            response.deployment = ClassRuntimeSummaries.summary(runtime, envName: context.config.envName)
            return response
        }
    }

    func listClassRuntimes(
        request: ServerRequest<Oaas_Deployment_ListClassRuntimesRequest>, context serverContext: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_ListClassRuntimesResponse> {
        try await context.serve("ListClassRuntimes", request.metadata) { call in
            let client = self.client
            let namespace = self.namespace
            let list = try await call.kube("list ClassRuntimes") {
                try await client.listAll(.classRuntimes, namespace: namespace)
            }
            let envName = context.config.envName
            var runtimes: [ClassRuntime] = []
            for object in list.items {
                do {
                    runtimes.append(try ClassRuntime(object: object))
                } catch {
                    call.logger.warning("skipping unreadable ClassRuntime", metadata: ["error": "\(error)"])
                }
            }
            var response = Oaas_Deployment_ListClassRuntimesResponse()
            response.items = ClassRuntimeSummaries.list(runtimes, request.message, envName: envName)
            return response
        }
    }

    // MARK: Delete

    func deleteDeployment(
        request: ServerRequest<Oaas_Deployment_DeleteDeploymentRequest>, context serverContext: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_DeleteDeploymentResponse> {
        try await context.serve("DeleteDeployment", request.metadata) { call in
            let id = request.message.deploymentID
            let name = try Self.name(of: id)
            let client = self.client
            let namespace = self.namespace
            do {
                _ = try await call.kube("delete ClassRuntime \(name)") {
                    try await client.delete(.classRuntimes, namespace: namespace, name: name,
                                            propagationPolicy: .background)
                }
            } catch let error as KubeError where error.isNotFound {
                throw CRMError.notFound("deployment '\(id)' not found")
            }
            call.logger.info("deleting", metadata: ["classruntime": "\(name)"])
            var response = Oaas_Deployment_DeleteDeploymentResponse()
            response.status = .ok
            response.message = "deleting"
            return response
        }
    }

    // MARK: Helpers

    /// The CR of a unit id, or NOT_FOUND.
    private func read(_ id: String, call: CRMServiceContext.Call) async throws -> ClassRuntime {
        let name = try Self.name(of: id)
        let client = self.client
        let namespace = self.namespace
        let object = try await call.kube("get ClassRuntime \(name)") {
            try await client.getIfPresent(.classRuntimes, namespace: namespace, name: name)
        }
        guard let object else { throw CRMError.notFound("deployment '\(id)' not found") }
        return try ClassRuntime(object: object)
    }

    static func name(of id: String) throws(CRMError) -> String {
        guard !id.isEmpty else { throw .invalidArgument("deployment_id: required") }
        do {
            return try CRMNames.sanitize(id)
        } catch {
            throw .invalidArgument(error.message.replacingOccurrences(of: "deployment_unit.id", with: "deployment_id"))
        }
    }
}
