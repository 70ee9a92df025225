import Kube
import Testing

@testable import CRM

@Suite("CRM render: routes, local mode, applied-hash")
struct RenderRoutesTests {
    @Test("routes are auto-filled per binding and merged with explicit ones")
    func autoFilledAndMerged() throws {
        var cr = RenderFixtures.simple(
            functions: [RenderFixtures.container("Thing.a"), RenderFixtures.container("Thing.b")],
            bindings: [.init(name: "a", functionKey: "Thing.a", stateless: false),
                       .init(name: "b", functionKey: "Thing.b"),
                       .init(name: "builtin", functionKey: "Thing.builtin")])
        cr.spec.odgmConfig?.invocations = .init(fnRoutes: [
            "b": .init(url: "http://custom-b/run", standby: true, activeGroup: [7]),
            "extra": .init(url: "", functionKey: "Thing.a"),
            "fixed": .init(url: "https://fixed.example.com/x"),
        ], disabledFn: ["legacy"])
        let routes = RouteResolver.resolve(cr, context: RenderFixtures.context(), mode: .kubernetes)
        #expect(routes.routes["a"] == ResolvedRoute(
            url: "http://demo-1-fn-thing-a.oaas-1.svc.cluster.local/", stateless: false, functionKey: "Thing.a"))
        // An explicit url is kept; a bare service name is expanded to the namespace's DNS name.
        #expect(routes.routes["b"] == ResolvedRoute(
            url: "http://custom-b.oaas-1.svc.cluster.local/run", stateless: true, standby: true, activeGroup: [7],
            functionKey: "Thing.b"))
        #expect(routes.routes["extra"]?.url == "http://demo-1-fn-thing-a.oaas-1.svc.cluster.local/")
        #expect(routes.routes["fixed"]?.url == "https://fixed.example.com/x")
        // A binding whose function the unit does not carry (a non-provisioned type) is disabled with an empty url.
        #expect(routes.routes["builtin"] == ResolvedRoute(url: "", stateless: true, functionKey: "Thing.builtin"))
        #expect(routes.disabled == ["builtin", "legacy"])
        #expect(routes.noLocalRuntime.isEmpty)
    }

    @Test("service URL expansion only touches dot-less http hosts")
    func expansion() {
        let context = RenderFixtures.context()
        #expect(RouteResolver.expandServiceURL("http://svc", context: context) == "http://svc.oaas-1.svc.cluster.local")
        #expect(RouteResolver.expandServiceURL("http://svc:80/p", context: context)
            == "http://svc.oaas-1.svc.cluster.local:80/p")
        for kept in ["http://svc.other/", "http://localhost:8080/", "http://127.0.0.1:9/", "https://svc/", "wasm://k",
                     "http://[::1]:80/"] {
            #expect(RouteResolver.expandServiceURL(kept, context: context) == kept)
        }
    }

    @Test("local mode: --function-url overrides, WASM stays wasm://, endpoints keep their URL, no Kubernetes objects")
    func localMode() throws {
        let cr = try RenderFixtures.classRuntime()
        let overrides = ["Cart.total": "http://127.0.0.1:9200"]
        let rendered = try Renderer.render(cr, context: RenderFixtures.context(), mode: .local(functionURLs: overrides))
        #expect(rendered.children.isEmpty)
        #expect(rendered.routes.routes["total"]?.url == "http://127.0.0.1:9200")
        #expect(rendered.routes.routes["add"]?.url == "wasm://Cart.add")
        #expect(rendered.routes.disabled.isEmpty)
        #expect(rendered.odgmCollectionJSON.contains("http://127.0.0.1:9200"))

        // Without the override the endpoint_url is used, unexpanded.
        let plain = RouteResolver.resolve(cr, context: RenderFixtures.context(), mode: .local(functionURLs: [:]))
        #expect(plain.routes["total"]?.url == "http://127.0.0.1:9101")
    }

    @Test("local mode: a container-only function has no local runtime; its bindings go to disabled_fn")
    func noLocalRuntime() throws {
        let cr = RenderFixtures.simple(
            functions: [RenderFixtures.container("Thing.a"),
                        .init(functionKey: "Thing.w", provisionConfig: .init(wasmModuleUrl: "file:///w.wasm"))],
            bindings: [.init(name: "a", functionKey: "Thing.a"), .init(name: "a2", functionKey: "Thing.a"),
                       .init(name: "w", functionKey: "Thing.w")])
        let rendered = try Renderer.render(cr, context: RenderFixtures.context(), mode: .local(functionURLs: [:]))
        #expect(rendered.routes.noLocalRuntime == ["Thing.a"])
        #expect(rendered.routes.disabled == ["a", "a2"])
        #expect(rendered.routes.routes["a"]?.url == "")
        #expect(rendered.routes.routes["w"]?.url == "wasm://Thing.w")
        let status = try #require(rendered.functions.first { $0.functionKey == "Thing.a" })
        #expect(status.reason == "NoLocalRuntime")
        #expect(status.ready == false)
        #expect(status.message?.contains("--function-url Thing.a=") == true)
        // The same JSON ODGM receives says so too.
        let requests = OdgmCollections.requests(cr, routes: rendered.routes)
        #expect(requests[0].invocations.disabledFn == ["a", "a2"])
        // An override gives it a runtime.
        let overridden = RouteResolver.resolve(cr, context: RenderFixtures.context(),
                                               mode: .local(functionURLs: ["Thing.a": "http://127.0.0.1:7000"]))
        #expect(overridden.noLocalRuntime.isEmpty)
        #expect(overridden.disabled.isEmpty)
        #expect(overridden.routes["a2"]?.url == "http://127.0.0.1:7000")
    }

    @Test("applied-hash is stable across renders and changes only for objects that changed")
    func appliedHash() throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("Thing.a"), RenderFixtures.container("Thing.b")])
        let context = RenderFixtures.context()
        let first = try Renderer.render(cr, context: context)
        let again = try Renderer.render(cr, context: context)
        #expect(first.children.map(\.appliedHash) == again.children.map(\.appliedHash))
        #expect(first.children.map { $0.object.json.jsonString() } == again.children.map { $0.object.json.jsonString() })
        #expect(Set(first.children.map(\.appliedHash)).count == first.children.count)

        cr.spec.functions[0].provisionConfig?.containerImage = "registry.local/fn:2"
        let changed = try Renderer.render(cr, context: context)
        let hashes = { (rendered: RenderedChildren) in
            Dictionary(uniqueKeysWithValues: rendered.children.map { ("\($0.kind)/\($0.name)", $0.appliedHash) })
        }
        let before = hashes(first)
        let after = hashes(changed)
        #expect(before["Deployment/demo-1-fn-thing-a"] != after["Deployment/demo-1-fn-thing-a"])
        for key in before.keys where key != "Deployment/demo-1-fn-thing-a" {
            #expect(before[key] == after[key], "\(key)")
        }
        // The hash is over the object without the annotation: re-stamping is idempotent.
        let deployment = try #require(first.children.first).object
        #expect(ChildFactory.stamped(deployment).json == deployment.json)
    }

    @Test("resource refs and predicted function statuses follow the children")
    func refsAndStatuses() throws {
        let cr = try RenderFixtures.classRuntime()
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        #expect(rendered.resourceRefs.map { "\($0.kind)/\($0.name)" } == rendered.children.map { "\($0.kind)/\($0.name)" })
        #expect(rendered.functions.map(\.functionKey) == ["Cart.add", "Cart.total"])
        let total = try #require(rendered.functions.last)
        #expect(total == FunctionStatusEntry(
            functionKey: "Cart.total", service: "\(cr.name)-fn-cart-total", port: 80,
            predictedUrl: "http://\(cr.name)-fn-cart-total.oaas-1.svc.cluster.local/", template: "cloud"))
        #expect(rendered.template == TemplateChoice(name: "cloud", source: "nfr"))
        #expect(rendered.warnings.isEmpty)
    }
}
