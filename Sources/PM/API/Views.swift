import Foundation
import OaaSModels
import OaaSProto

/// The response bodies of spec §4.3 that are not plain models.
enum Views {
    static func packageResponse(_ result: PackageResult) -> DocumentValue {
        .obj([
            "id": .str(result.name),
            "status": .str(result.status.rawValue),
            "message": .str(result.message),
            "warnings": .strings(result.warnings),
            "redeployed": .strings(result.redeployed),
        ])
    }

    static func deploymentResponse(_ result: UpsertResult) -> DocumentValue {
        .obj([
            "id": .str(result.key),
            "status": .str(result.status.rawValue),
            "message": .str(result.message),
            "units": .array(result.units.map { unit in
                .obj([
                    "env": .str(unit.env),
                    "unit_id": .str(unit.unitId),
                    "result": .str(unit.resultName),
                    "error": .str(unit.error.map(CRMFailure.describe)),
                ])
            }),
            "warnings": .strings(result.warnings),
        ])
    }

    /// OClass fields with `key` = `{package}.{class}` (reference-compatible), plus `package_name` and `class_key`.
    static func classView(_ cls: OClass, package: String) -> DocumentValue {
        cls.documentValue.adding([
            DocumentMember("key", .str("\(package).\(cls.key)")),
            DocumentMember("package_name", .str(package)),
            DocumentMember("class_key", .str(cls.key)),
        ])
    }

    /// OFunction fields plus `package_name` and `bound_by` (`{package}.{class}.{binding}` of every binding using it).
    static func functionView(_ function: OFunction, package: OPackage) -> DocumentValue {
        let boundBy = package.classes.flatMap { cls in
            cls.functionBindings.filter { $0.functionKey == function.key }.map { "\(package.name).\(cls.key).\($0.name)" }
        }
        return function.documentValue.adding([
            DocumentMember("package_name", .str(package.name)),
            DocumentMember("bound_by", .strings(boundBy)),
        ])
    }

    static func clusterHealth(_ health: ClusterHealth) -> DocumentValue {
        .obj([
            "cluster_name": .str(health.clusterName),
            "crm_env_name": .str(health.crmEnvName ?? health.clusterName),
            "status": .str(health.status.rawValue),
            "crm_version": .str(health.crmVersion),
            "last_seen": health.lastSeen.map { .str(Timestamps.format($0)) } ?? .null,
            "node_count": .int(health.nodeCount),
            "ready_nodes": .int(health.readyNodes),
            "availability": .double(health.availability),
            "templates": health.templates.map(DocumentValue.strings),
            "message": .str(health.message),
        ])
    }

    static func envInfo(_ env: CRMEnvironment, isDefault: Bool, health: ClusterHealth?) -> DocumentValue {
        .obj([
            "name": .str(env.name),
            "url": .str(env.config.url),
            "gateway_url": .str(env.config.gatewayURL),
            "default": .bool(isDefault),
            "health": health.map(clusterHealth) ?? .null,
        ])
    }

    // MARK: Runtime views

    static func resourceRef(_ ref: Oaas_Deployment_ResourceReference) -> DocumentValue {
        .obj([
            "kind": .str(ref.kind),
            "name": .str(ref.name),
            "namespace": ref.hasNamespace ? .str(ref.namespace) : .null,
            "uid": ref.hasUid ? .str(ref.uid) : .null,
        ])
    }

    static func functionStatus(_ status: Oaas_Runtime_FunctionStatus) -> DocumentValue {
        .obj([
            "function_key": .str(status.functionKey),
            "service": .str(status.service),
            "port": .int(status.port),
            "predicted_url": .str(status.predictedURL),
            "observed_url": status.hasObservedURL ? .str(status.observedURL) : .null,
            "template": .str(status.template),
            "ready": status.hasReady ? .bool(status.ready) : .null,
            "reason": status.hasReason ? .str(status.reason) : .null,
            "message": status.hasMessage ? .str(status.message) : .null,
            "last_transition_time": status.hasLastTransitionTime ? .str(status.lastTransitionTime) : .null,
        ])
    }

    static func nfrCompliance(_ compliance: Oaas_Runtime_NfrCompliance) -> DocumentValue {
        .obj([
            "overall_status": .str(compliance.overallStatus),
            "throughput_status": compliance.hasThroughputStatus ? .str(compliance.throughputStatus) : .null,
            "latency_status": compliance.hasLatencyStatus ? .str(compliance.latencyStatus) : .null,
            "availability_status": compliance.hasAvailabilityStatus ? .str(compliance.availabilityStatus) : .null,
            "last_checked": .str(compliance.lastChecked),
        ])
    }

    static func runtimeStatus(_ status: Oaas_Runtime_ClassRuntimeStatus) -> DocumentValue {
        .obj([
            "condition": .str(LiveStatus.displayName(status.condition)),
            "phase": .str(LiveStatus.phaseName(status.phase)),
            "message": status.hasMessage ? .str(status.message) : .null,
            "last_updated": .str(status.lastUpdated),
            "functions": status.functions.isEmpty ? nil : .array(status.functions.map(functionStatus)),
        ])
    }

    /// ApiClassRuntime (spec §4.3); `cluster_name` is PM's env name.
    static func classRuntime(_ summary: Oaas_Runtime_ClassRuntimeSummary, env: String) -> DocumentValue {
        .obj([
            "id": .str(summary.id),
            "deployment_unit_id": .str(summary.deploymentUnitID.isEmpty ? summary.id : summary.deploymentUnitID),
            "package_name": .str(summary.packageName),
            "class_key": .str(summary.classKey),
            "target_environment": .str(summary.targetEnvironment),
            "cluster_name": .str(env),
            "status": runtimeStatus(summary.status),
            "nfr_compliance": summary.hasNfrCompliance ? nfrCompliance(summary.nfrCompliance) : .null,
            "resource_refs": .array(summary.resourceRefs.map(resourceRef)),
            "created_at": .str(summary.createdAt),
            "updated_at": .str(summary.updatedAt),
            "partition_count": .int(max(summary.partitionCount, 1)),
        ])
    }

    /// `GET /deployment-status/{unit_id}`.
    static func deploymentStatus(unitId: String, _ reply: Oaas_Deployment_GetDeploymentStatusResponse) -> DocumentValue {
        let status = LiveStatus.runtimeStatus(reply)
        return .obj([
            "id": .str(unitId),
            "status": .str(LiveStatus.displayName(status.condition)),
            "phase": .str(LiveStatus.phaseName(status.phase)),
            "message": status.hasMessage ? .str(status.message) : .str(reply.hasMessage ? reply.message : ""),
            "last_updated": .str(status.lastUpdated),
        ])
    }
}
