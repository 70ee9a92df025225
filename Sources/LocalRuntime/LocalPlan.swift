import CRM
import OaaSProto

/// What one ClassRuntime needs in a local env: its collections (as ODGM gets them), its functions' routes, and
/// which functions are checked (endpoints) or cannot run locally (container-only). WASM functions run inside the
/// local ODGM (its module is loaded on the first call).
struct LocalPlan {
    static let collectionKind = "Collection"

    let template: TemplateChoice
    let routes: ResolvedRoutes
    var collections: [Oprc_CreateCollectionRequest] = []
    /// Predicted function statuses, one per function of the spec.
    var functions: [FunctionStatusEntry] = []
    /// Endpoint functions: key → URL whose reachability decides readiness.
    var endpoints: [String: String] = [:]
    /// Functions that cannot run here, with the reason shown in status.
    var unrunnable: [String: String] = [:]
    /// Differences from the Kubernetes realisation worth telling the user.
    var notes: [String] = []

    init(record: ClassRuntime, context: RenderContext, functionURLs: [String: String]) {
        template = TemplateSelector.select(record.spec, context: context)
        routes = RouteResolver.resolve(record, context: context, mode: .local(functionURLs: functionURLs))
        let noLocal = Set(routes.noLocalRuntime)
        for function in record.spec.functions {
            let key = function.functionKey
            let route = routes.routes.values.first { $0.functionKey == key }
            var entry = FunctionStatusEntry(functionKey: key, predictedUrl: route?.url ?? "", template: template.name)
            if noLocal.contains(key) {
                unrunnable[key] = "NoLocalRuntime: function '\(key)' has only a container image; start it yourself and pass --function-url \(key)=http://127.0.0.1:<port>"
            } else if let url = route?.url, url.hasPrefix("http://") || url.hasPrefix("https://") {
                endpoints[key] = url
            }
            entry.ready = unrunnable[key] == nil ? nil : false
            if let reason = unrunnable[key] {
                entry.reason = "NoLocalRuntime"
                entry.message = reason
            }
            functions.append(entry)
        }
        guard context.odgmEnabled, record.spec.odgmAddonEnabled else { return }
        let persistent = record.spec.odgmConfig?.persistence?.enabled ?? false
        for var request in OdgmCollections.requests(record, routes: routes) {
            // One in-process node per env: every collection is a single replica of shard type `none`.
            if request.replicaCount > 1 || (!request.shardType.isEmpty && request.shardType != "none") {
                notes.append("collection \(request.name): \(request.shardType.isEmpty ? "none" : request.shardType) × \(request.replicaCount) runs as one local replica")
            }
            request.replicaCount = 1
            request.shardType = "none"
            request.shardAssignments = []
            if !persistent { request.options["storage_backend"] = "memory" }
            collections.append(request)
        }
    }

    /// Children as they appear in `status.resource_refs`.
    var resourceRefs: [ClassRuntimeStatus.ResourceRef] {
        let collectionRefs = collections.map { ClassRuntimeStatus.ResourceRef(kind: Self.collectionKind, name: $0.name) }
        let endpointRefs = endpoints.keys.map { ClassRuntimeStatus.ResourceRef(kind: "Endpoint", name: $0) }
        return (collectionRefs + endpointRefs).sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }
    }
}
