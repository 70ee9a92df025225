/// Everything rendering needs besides the ClassRuntime: the env's configuration (control-plane spec §9.1) and what
/// the controller discovered (router, Knative). Rendering is a pure function of (ClassRuntime, RenderContext).
public struct RenderContext: Sendable {
    public var namespace: String
    /// `OPRC_CRM_CLUSTER_DOMAIN`.
    public var clusterDomain: String
    /// `OPRC_CRM_ENV_NAME`.
    public var envName: String
    /// `dev` | `edge` | `full` (aliases `prod`, `production`, `cloud`): picks the default template.
    public var profile: String
    /// Canonical names of the registered templates: `dev`, `edge`, `cloud`, plus `knative` when discovered.
    public var registeredTemplates: Set<String>
    /// `OPRC_ENV_IS_EDGE`.
    public var envIsEdge: Bool
    /// `OPRC_CRM_FEATURES_HPA`.
    public var hpaEnabled: Bool
    /// `OPRC_CRM_FEATURES_ODGM`: global ODGM switch (a spec's `addons` can only turn ODGM off further).
    public var odgmEnabled: Bool
    /// `OPRC_CRM_LIMITS_MAX_REPLICAS`.
    public var maxReplicas: Int
    /// `OPRC_CRM_RPS_PER_REPLICA`.
    public var rpsPerReplica: Int
    /// `OPRC_CRM_TEMPLATES_ODGM_IMAGE`, else `OAAS_IMAGE`. nil with ODGM on is a render error (TemplateError).
    public var odgmImage: String?
    /// `OPRC_CRM_TEMPLATES_ODGM_PULL_POLICY`; nil = the template's policy.
    public var odgmPullPolicy: String?
    /// `OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV`, appended last to the ODGM env in this order.
    public var odgmExtraEnv: [(String, String)]
    /// `OPRC_CRM_ODGM_PVC_SIZE`.
    public var pvcSize: String
    /// `OPRC_CRM_ODGM_STORAGE_CLASS`; nil = cluster default.
    public var storageClass: String?
    /// `OPRC_CRM_ODGM_RETAIN_PVC`.
    public var retainPVC: Bool
    /// The discovered router Service (first `app=router, platform=oaas` Service by name), if any.
    public var router: RouterEndpoint?
    /// Fields the NFR enforcer owns: the renderer leaves them out so the reconciler's apply never reverts them.
    public var enforcedFields: Set<EnforcedField>
    /// OTLP endpoint injected as `OTEL_EXPORTER_OTLP_ENDPOINT` when a unit enables telemetry; nil = not injected.
    public var otelEndpoint: String?

    public init(
        namespace: String, clusterDomain: String = "cluster.local", envName: String, profile: String = "dev",
        registeredTemplates: Set<String> = ["dev", "edge", "cloud"], envIsEdge: Bool = false,
        hpaEnabled: Bool = false, odgmEnabled: Bool = true, maxReplicas: Int = 20, rpsPerReplica: Int = 500,
        odgmImage: String? = nil, odgmPullPolicy: String? = nil, odgmExtraEnv: [(String, String)] = [],
        pvcSize: String = "1Gi", storageClass: String? = nil, retainPVC: Bool = false,
        router: RouterEndpoint? = nil, enforcedFields: Set<EnforcedField> = [], otelEndpoint: String? = nil
    ) {
        self.namespace = namespace
        self.clusterDomain = clusterDomain
        self.envName = envName
        self.profile = profile
        self.registeredTemplates = registeredTemplates
        self.envIsEdge = envIsEdge
        self.hpaEnabled = hpaEnabled
        self.odgmEnabled = odgmEnabled
        self.maxReplicas = maxReplicas
        self.rpsPerReplica = rpsPerReplica
        self.odgmImage = odgmImage
        self.odgmPullPolicy = odgmPullPolicy
        self.odgmExtraEnv = odgmExtraEnv
        self.pvcSize = pvcSize
        self.storageClass = storageClass
        self.retainPVC = retainPVC
        self.router = router
        self.enforcedFields = enforcedFields
        self.otelEndpoint = otelEndpoint
    }

    /// `<service>.<namespace>.svc.<domain>`.
    public func serviceHost(_ service: String) -> String { "\(service).\(namespace).svc.\(clusterDomain)" }

    /// `http://<router>.<ns>.svc.<domain>:<port>` of the discovered router.
    public var routerURL: String? { router.map { "http://\(serviceHost($0.service)):\($0.port)" } }
}

/// One field the enforcer owns for one function (`dimension`: `replicas`, `cpu` or `memory`).
public struct EnforcedField: Sendable, Hashable {
    public var functionKey: String
    public var dimension: String

    public init(functionKey: String, dimension: String) {
        self.functionKey = functionKey
        self.dimension = dimension
    }
}
