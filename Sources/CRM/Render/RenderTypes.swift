import Kube

/// The template a ClassRuntime renders with, and why (control-plane spec §11.1; `status.template_source`).
public struct TemplateChoice: Sendable, Equatable {
    /// Canonical name: `dev`, `edge`, `cloud` or `knative`.
    public var name: String
    /// `hint` | `nfr` | `profile`.
    public var source: String
    /// The spec's hint when it named no registered template: the controller emits `TemplateUnavailable`.
    public var unavailableHint: String?

    public init(name: String, source: String, unavailableHint: String? = nil) {
        self.name = name
        self.source = source
        self.unavailableHint = unavailableHint
    }
}

/// Where function routes point: Kubernetes Services (§11.2), or the local runtime of `oaas dev` (§13 item 4), where
/// `functionURLs` are the `--function-url KEY=URL` overrides.
public enum RouteMode: Sendable, Equatable {
    case kubernetes
    case local(functionURLs: [String: String])
}

/// One resolved invocation route (ODGM `FuncInvokeRoute` plus the function it serves).
public struct ResolvedRoute: Sendable, Equatable {
    public var url: String
    public var stateless: Bool
    public var standby: Bool
    public var activeGroup: [UInt64]
    public var functionKey: String?
    public var wasmModuleUrl: String?
    public var wasmFuel: UInt64?

    public init(url: String, stateless: Bool = true, standby: Bool = false, activeGroup: [UInt64] = [],
                functionKey: String? = nil, wasmModuleUrl: String? = nil, wasmFuel: UInt64? = nil) {
        self.url = url
        self.stateless = stateless
        self.standby = standby
        self.activeGroup = activeGroup
        self.functionKey = functionKey
        self.wasmModuleUrl = wasmModuleUrl
        self.wasmFuel = wasmFuel
    }
}

/// The routes ODGM gets, keyed by binding name.
public struct ResolvedRoutes: Sendable, Equatable {
    public var routes: [String: ResolvedRoute]
    /// Binding names ODGM refuses (FAILED_PRECONDITION), sorted.
    public var disabled: [String]
    /// Local mode only: function keys with only a container image (Degraded `NoLocalRuntime`), sorted.
    public var noLocalRuntime: [String]

    public init(routes: [String: ResolvedRoute] = [:], disabled: [String] = [], noLocalRuntime: [String] = []) {
        self.routes = routes
        self.disabled = disabled
        self.noLocalRuntime = noLocalRuntime
    }
}

/// One object the ClassRuntime should own.
public struct DesiredChild: Sendable {
    public var resource: KubeResource
    /// Complete apply body: labels, ownerReferences to the CR (when it has a uid) and annotation
    /// `oaas.io/applied-hash` (hash of the object without that annotation).
    public var object: KubeObject
    /// `function` | `odgm`.
    public var component: String
    public var functionKey: String?
    /// Counts toward `status.ready` (Deployment, StatefulSet, Knative Service).
    public var workload: Bool

    public init(resource: KubeResource, object: KubeObject, component: String, functionKey: String?, workload: Bool) {
        self.resource = resource
        self.object = object
        self.component = component
        self.functionKey = functionKey
        self.workload = workload
    }

    public var name: String { object.name }
    public var kind: String { resource.kind }
    public var appliedHash: String { object.annotations[CRMKeys.appliedHash] ?? "" }
}

/// The desired state of one ClassRuntime.
public struct RenderedChildren: Sendable {
    public var template: TemplateChoice
    /// Every desired child, sorted by kind, then name.
    public var children: [DesiredChild]
    /// Predicted `status.functions` (no readiness yet), sorted by function key.
    public var functions: [FunctionStatusEntry]
    public var routes: ResolvedRoutes
    /// `ODGM_COLLECTION` (`[]` when ODGM is off).
    public var odgmCollectionJSON: String
    /// Problems worth a Warning Event, e.g. user `config` overriding an injected env var.
    public var warnings: [String]

    public init(template: TemplateChoice, children: [DesiredChild], functions: [FunctionStatusEntry],
                routes: ResolvedRoutes, odgmCollectionJSON: String, warnings: [String]) {
        self.template = template
        self.children = children
        self.functions = functions
        self.routes = routes
        self.odgmCollectionJSON = odgmCollectionJSON
        self.warnings = warnings
    }

    /// `status.resource_refs` for these children (uids are filled in by whoever observed them).
    public var resourceRefs: [ClassRuntimeStatus.ResourceRef] {
        children.map { ClassRuntimeStatus.ResourceRef(kind: $0.kind, name: $0.name) }
    }

    /// Number of workloads (the `<desired>` of `status.ready`).
    public var workloadCount: Int { children.filter(\.workload).count }
}
