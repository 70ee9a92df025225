import Foundation
import OaaSProto

/// Deploy's pure part (control-plane spec §8.3, §10.1, §10.2): validate a DeploymentUnit and build the ClassRuntime
/// that Deploy server-side-applies. Equal units build equal CRs (maps encode sorted, lists keep unit order), so a
/// repeated Deploy leaves the generation alone.
public enum ClassRuntimeBuilder {
    /// Validates the unit (§8.1 INVALID_ARGUMENT rules) and builds the CR: name = sanitised id; labels incl.
    /// `extraLabels` (region/zone/hw class; ours win on a clash); annotations `oaas.io/correlation-id`,
    /// `oaas.io/revision`, `oaas.io/package-class-key`; finalizer `oaas.io/finalizer`.
    public static func build(
        unit: Oaas_Deployment_DeploymentUnit, namespace: String, correlationId: String?,
        extraLabels: [String: String]
    ) throws(CRMError) -> ClassRuntime {
        try UnitValidator.validate(unit)
        let name = try CRMNames.sanitize(unit.id)
        let spec = UnitMapping.spec(from: unit)

        var labels = extraLabels.mapValues(CRMNames.labelSafe)
        labels[CRMKeys.deploymentId] = name
        labels[CRMKeys.classLabel] = CRMNames.labelSafe(spec.packageClassKey)
        labels[CRMKeys.packageLabel] = CRMNames.labelSafe(unit.packageName)
        if let key = spec.deploymentKey { labels[CRMKeys.deploymentKeyLabel] = CRMNames.labelSafe(key) }
        if let env = spec.targetEnv { labels[CRMKeys.envLabel] = CRMNames.labelSafe(env) }
        labels[CRMKeys.managedBy] = CRMKeys.managedByValue
        labels[CRMKeys.partOf] = CRMKeys.partOfValue

        var annotations = [CRMKeys.packageClassKey: spec.packageClassKey]
        if let correlationId, !correlationId.isEmpty { annotations[CRMKeys.correlationId] = correlationId }
        if unit.hasRevision { annotations[CRMKeys.revision] = String(unit.revision) }

        return ClassRuntime(name: name, namespace: namespace, spec: spec, labels: labels, annotations: annotations,
                            finalizers: [CRMKeys.finalizer])
    }
}
