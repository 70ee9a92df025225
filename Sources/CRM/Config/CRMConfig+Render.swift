extension CRMConfig {
    /// The rendering context for this env: configuration plus what the controller discovered (registered templates,
    /// router). The reconciler builds one per pass so discovery changes apply on the next reconcile.
    public func renderContext(
        registeredTemplates: Set<String> = ["dev", "edge", "cloud"], router: RouterEndpoint? = nil
    ) -> RenderContext {
        RenderContext(
            namespace: namespace, clusterDomain: clusterDomain, envName: envName, profile: profile.rawValue,
            registeredTemplates: registeredTemplates, envIsEdge: envIsEdge, hpaEnabled: hpaEnabled,
            odgmEnabled: odgmEnabled, maxReplicas: maxReplicas, rpsPerReplica: rpsPerReplica, odgmImage: odgmImage,
            odgmPullPolicy: odgmPullPolicy, odgmExtraEnv: odgmExtraEnv, pvcSize: odgmPVCSize,
            storageClass: odgmStorageClass, retainPVC: odgmRetainPVC, router: router, enforcedFields: [],
            otelEndpoint: otelEndpoint)
    }

    /// Labels every ClassRuntime of this env carries (§9.1: `OPRC_ENV_REGION/ZONE/HW_CLASS`), label-safe.
    public var environmentLabels: [String: String] {
        var labels: [String: String] = [:]
        if let region { labels[CRMKeys.regionLabel] = CRMNames.labelSafe(region) }
        if let zone { labels[CRMKeys.zoneLabel] = CRMNames.labelSafe(zone) }
        if let hardwareClass { labels[CRMKeys.hwClassLabel] = CRMNames.labelSafe(hardwareClass) }
        return labels
    }
}
