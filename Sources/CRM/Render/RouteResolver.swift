/// Resolves `odgm_config.invocations.fn_routes` (control-plane spec §11.2, §13 item 4). Keys are binding names
/// (plus any extra explicit routes); a route whose url is set is kept; otherwise container functions point at their
/// Service, WASM functions at `wasm://<key>`, endpoint functions at their endpoint. Bindings whose function is not in
/// the unit (non-provisioned types) or has no local runtime go to `disabled` with an empty url.
public enum RouteResolver {
    public static func resolve(_ cr: ClassRuntime, context: RenderContext, mode: RouteMode) -> ResolvedRoutes {
        let spec = cr.spec
        // No ODGM, nobody to route for.
        guard context.odgmEnabled, spec.odgmAddonEnabled else { return ResolvedRoutes() }
        let explicit = spec.odgmConfig?.invocations ?? ClassRuntimeSpec.Invocations()
        let expand: (String) -> String = { url in
            if case .kubernetes = mode { return expandServiceURL(url, context: context) }
            return url
        }
        var routes: [String: ResolvedRoute] = [:]
        var disabled = Set(explicit.disabledFn)
        var noLocalRuntime = Set<String>()
        let keys = Set(spec.functionBindings.map(\.name)).union(explicit.fnRoutes.keys)
        for key in keys.sorted() {
            let binding = spec.functionBindings.first { $0.name == key }
            let given = explicit.fnRoutes[key]
            let functionKey = given?.functionKey ?? binding?.functionKey
            var route = ResolvedRoute(
                url: "", stateless: given?.stateless ?? binding?.stateless ?? true, standby: given?.standby ?? false,
                activeGroup: given?.activeGroup ?? [], functionKey: functionKey,
                wasmModuleUrl: given?.wasmModuleUrl, wasmFuel: given?.wasmFuel)
            if let given, !given.url.isEmpty {
                route.url = expand(given.url)
                routes[key] = route
                continue
            }
            guard let functionKey, let function = spec.function(functionKey) else {
                disabled.insert(key)
                routes[key] = route
                continue
            }
            switch FunctionKind(function, mode: mode) {
            case .container:
                let service = CRMNames.functionChild(cr: cr.name, functionKey: functionKey)
                route.url = "http://\(context.serviceHost(service))/"
            case .wasm(let moduleURL, let fuel):
                route.url = "wasm://\(functionKey)"
                route.wasmModuleUrl = moduleURL
                route.wasmFuel = fuel
            case .endpoint(let url):
                route.url = expand(url)
            case .noLocalRuntime:
                noLocalRuntime.insert(functionKey)
                disabled.insert(key)
            case .unrunnable:
                disabled.insert(key)
            }
            routes[key] = route
        }
        return ResolvedRoutes(routes: routes, disabled: disabled.sorted(), noLocalRuntime: noLocalRuntime.sorted())
    }

    /// `http://host[:port]/…` with a dot-less host (a bare Service name) → `http://host.<ns>.svc.<domain>[:port]/…`.
    static func expandServiceURL(_ url: String, context: RenderContext) -> String {
        let scheme = "http://"
        guard url.lowercased().hasPrefix(scheme) else { return url }
        let rest = url.dropFirst(scheme.count)
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == ":" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let host = rest[..<hostEnd]
        guard !host.isEmpty, !host.contains("."), !host.hasPrefix("["), host.lowercased() != "localhost" else {
            return url
        }
        return scheme + context.serviceHost(String(host)) + rest[hostEnd...]
    }
}
