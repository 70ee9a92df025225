import Kube

/// Renders the desired child set of a ClassRuntime (control-plane spec §9.4 step 3, §11). Pure: the same CR and
/// context give byte-identical objects (sorted keys, stable env order), so `oaas.io/applied-hash` is stable.
public enum Renderer {
    /// Kubernetes mode renders every child. Local mode (`oaas dev`) renders no Kubernetes objects, only routes,
    /// `ODGM_COLLECTION` and predicted function statuses: the local runtime realises those itself.
    /// Throws INVALID_ARGUMENT naming the field for problems the reconciler reports as Degraded `TemplateError`.
    public static func render(_ cr: ClassRuntime, context: RenderContext,
                              mode: RouteMode = .kubernetes) throws(CRMError) -> RenderedChildren {
        try validate(cr.spec, mode: mode)
        let template = TemplateSelector.select(cr.spec, context: context)
        let traits = TemplateTraits(name: template.name)
        let odgmOn = context.odgmEnabled && cr.spec.odgmAddonEnabled
        let routes = RouteResolver.resolve(cr, context: context, mode: mode)
        let collectionJSON = OdgmCollections.json(odgmOn ? OdgmCollections.requests(cr, routes: routes) : [])
        let functions = cr.spec.functions
            .map { predictedStatus($0, cr: cr, context: context, mode: mode, template: template.name) }
            .sorted { $0.functionKey < $1.functionKey }

        guard case .kubernetes = mode else {
            return RenderedChildren(template: template, children: [], functions: functions, routes: routes,
                                    odgmCollectionJSON: collectionJSON, warnings: [])
        }

        let factory = ChildFactory(cr: cr, context: context)
        var children: [DesiredChild] = []
        var warnings: [String] = []
        let odgmService = CRMNames.odgmService(cr: cr.name)
        let env = FunctionEnv(odgm: odgmOn ? ("\(context.serviceHost(odgmService)):\(OdgmRenderer.port)", collectionJSON) : nil)
        let functionRenderer = FunctionRenderer(factory: factory, traits: traits, env: env)
        for function in functions.compactMap({ cr.spec.function($0.functionKey) }) {
            guard case .container(let image) = FunctionKind(function, mode: mode) else { continue }
            let rendered = functionRenderer.render(function, image: image)
            children += rendered.children
            warnings += rendered.warnings
        }
        if odgmOn {
            guard let image = context.odgmImage, !image.isEmpty else {
                throw .invalidArgument(
                    "odgm image: neither OPRC_CRM_TEMPLATES_ODGM_IMAGE nor OAAS_IMAGE is set, so ODGM cannot be rendered")
            }
            children += OdgmRenderer(factory: factory, traits: traits, collectionJSON: collectionJSON).render(image: image)
        }
        children.sort { ($0.kind, $0.name, $0.resource.apiVersion) < ($1.kind, $1.name, $1.resource.apiVersion) }
        return RenderedChildren(template: template, children: children, functions: functions, routes: routes,
                                odgmCollectionJSON: collectionJSON, warnings: warnings)
    }

    /// Where each function will be reachable. WASM: service "", port 0, `wasm://<key>`; endpoint: its URL;
    /// container: its Service on port 80.
    static func predictedStatus(_ function: ClassRuntimeSpec.Function, cr: ClassRuntime, context: RenderContext,
                                mode: RouteMode, template: String) -> FunctionStatusEntry {
        let key = function.functionKey
        var entry = FunctionStatusEntry(functionKey: key, template: template)
        switch FunctionKind(function, mode: mode) {
        case .container:
            let service = CRMNames.functionChild(cr: cr.name, functionKey: key)
            entry.service = service
            entry.port = 80
            entry.predictedUrl = "http://\(context.serviceHost(service))/"
        case .wasm:
            entry.predictedUrl = "wasm://\(key)"
        case .endpoint(let url):
            entry.predictedUrl = mode == .kubernetes ? RouteResolver.expandServiceURL(url, context: context) : url
        case .noLocalRuntime:
            entry.ready = false
            entry.reason = "NoLocalRuntime"
            entry.message = "function '\(key)' has only a container image; run it yourself and pass --function-url \(key)=URL"
        case .unrunnable:
            break
        }
        return entry
    }

    /// Problems the API server would reject, or that leave nothing to run, named by their spec path.
    static func validate(_ spec: ClassRuntimeSpec, mode: RouteMode) throws(CRMError) {
        for (index, function) in spec.functions.enumerated() {
            let path = "spec.functions[\(index)]"
            if FunctionKind(function, mode: mode) == .unrunnable {
                throw .invalidArgument(
                    "\(path).provision_config: function '\(function.functionKey)' has no runnable source "
                        + "(container_image, wasm_module_url or endpoint_url)")
            }
            if let port = function.provisionConfig?.port, !(1...65535).contains(port) {
                throw .invalidArgument("\(path).provision_config.port: \(port) is not in 1..65535")
            }
            for name in function.config.keys.sorted() where !UnitValidator.isEnvName(name) {
                throw .invalidArgument("\(path).config[\"\(name)\"]: not a valid env var name")
            }
        }
        if let (index, message) = UnitValidator.childNameClash(spec.functions.map(\.functionKey)) {
            throw .invalidArgument("spec.functions[\(index)].function_key: \(message)")
        }
        if let shardType = spec.odgmConfig?.shardType, !shardType.isEmpty,
           !UnitValidator.shardTypes.contains(shardType.lowercased())
        {
            throw .invalidArgument("spec.odgm_config.shard_type: unknown shard type '\(shardType)'")
        }
    }
}
