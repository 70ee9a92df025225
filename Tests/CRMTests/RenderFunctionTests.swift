import Kube
import Testing

@testable import CRM

@Suite("CRM render: function workloads (§11.2, §11.3)")
struct RenderFunctionTests {
    @Test("two container functions ⇒ two Deployments + two Services named after the function keys")
    func twoFunctions() throws {
        let cr = RenderFixtures.simple(functions: [RenderFixtures.container("Thing.b"), RenderFixtures.container("Thing.a")])
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        #expect(rendered.children("Deployment").map(\.name) == ["demo-1-fn-thing-a", "demo-1-fn-thing-b"])
        #expect(rendered.children("Service").map(\.name)
            == ["demo-1-fn-thing-a", "demo-1-fn-thing-b", "demo-1-odgm-hl", "demo-1-odgm-svc"])
        // Sorted by kind, then name.
        let order = rendered.children.map { "\($0.kind)/\($0.name)" }
        #expect(order == order.sorted())
        let service = try #require(rendered.child("Service", "demo-1-fn-thing-a")).object
        #expect(service.value(at: "spec", "ports") == [[
            "name": "grpc", "port": 80, "targetPort": "grpc", "appProtocol": "kubernetes.io/h2c",
        ]])
        #expect(service.value(at: "spec", "selector") == ["app": "demo-1-fn-thing-a", "oaas.io/owner": "demo-1"])
        #expect(rendered.workloadCount == 3)
    }

    @Test("labels, selector, ownerReferences and pod annotations on function children")
    func labelsAndOwners() throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("Thing.a")])
        cr.spec.functions[0].provisionConfig?.needHttp2 = true
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        let expectedLabels = [
            "app": "demo-1-fn-thing-a", "oaas.io/owner": "demo-1", "oaas.io/deployment-id": "demo-1",
            "oaas.io/class": "demo.Thing", "oaas.io/component": "function", "oaas.io/function": "Thing.a",
            "app.kubernetes.io/name": "demo-1-fn-thing-a", "app.kubernetes.io/managed-by": "oaas-crm",
            "app.kubernetes.io/part-of": "oaas",
        ]
        for child in rendered.children where child.component == "function" {
            #expect(child.object.labels == expectedLabels)
            #expect(child.object.ownerReferences == [OwnerReference(
                apiVersion: "oaas.io/v1alpha1", kind: "ClassRuntime", name: "demo-1", uid: "uid-demo",
                controller: true, blockOwnerDeletion: true)])
            #expect(child.object.annotations[CRMKeys.appliedHash]?.count == 16)
            #expect(child.functionKey == "Thing.a")
        }
        let deployment = try #require(rendered.children("Deployment").first).object
        #expect(deployment.value(at: "spec", "selector", "matchLabels")
            == ["app": "demo-1-fn-thing-a", "oaas.io/owner": "demo-1"])
        #expect(deployment.value(at: "spec", "template", "metadata", "labels") == JSONValue(expectedLabels))
        #expect(deployment.value(at: "spec", "template", "metadata", "annotations") == [
            "oaas.io/http2": "true", "prometheus.io/scrape": "true", "prometheus.io/port": "8080",
            "prometheus.io/path": "/metrics",
        ])
        let container = try #require(deployment.container)
        #expect(container["name"] == "function")
        #expect(container["image"] == "registry.local/fn:1")
        #expect(container["ports"] == [["name": "grpc", "containerPort": 8080]])
        #expect(container["readinessProbe"] == ["tcpSocket": ["port": 8080], "periodSeconds": 5, "failureThreshold": 3])
    }

    @Test("function env: injected values sorted by name, user config wins with a warning, ODGM_SERVICE does not")
    func functionEnv() throws {
        let fn = RenderFixtures.container(
            "Thing.a", config: ["LOG_LEVEL": "debug", "OPRC_ENV": "mine", "ODGM_SERVICE": "elsewhere:1", "A_FIRST": "1"])
        let cr = RenderFixtures.simple(functions: [fn])
        let context = RenderFixtures.context(router: RouterEndpoint(service: "oaas-router", port: 17447))
        let rendered = try Renderer.render(cr, context: context)
        let env = try #require(rendered.children("Deployment").first).object.env
        #expect(env.map(\.0) == [
            "A_FIRST", "HTTP_PORT", "LOG_LEVEL", "ODGM_COLLECTION", "ODGM_ENABLED", "ODGM_SERVICE", "OPRC_CLS_ID",
            "OPRC_DEPLOYMENT_ID", "OPRC_ENV", "OPRC_FUNCTION_KEY", "OPRC_PARTITION_RANGE", "OPRC_ROUTER_URL",
        ])
        let values = Dictionary(uniqueKeysWithValues: env)
        #expect(values["HTTP_PORT"] == "8080")
        #expect(values["LOG_LEVEL"] == "debug")
        #expect(values["OPRC_ENV"] == "mine")
        #expect(values["ODGM_SERVICE"] == "demo-1-odgm-svc.oaas-1.svc.cluster.local:8080")
        #expect(values["ODGM_ENABLED"] == "true")
        #expect(values["ODGM_COLLECTION"] == rendered.odgmCollectionJSON)
        #expect(values["OPRC_CLS_ID"] == "demo.Thing")
        #expect(values["OPRC_DEPLOYMENT_ID"] == "demo-1")
        #expect(values["OPRC_FUNCTION_KEY"] == "Thing.a")
        #expect(values["OPRC_PARTITION_RANGE"] == "0-1")
        #expect(values["OPRC_ROUTER_URL"] == "http://oaas-router.oaas-1.svc.cluster.local:17447")
        #expect(rendered.warnings.count == 2)
        #expect(rendered.warnings.contains { $0.contains("OPRC_ENV overrides") })
        #expect(rendered.warnings.contains { $0.contains("ODGM_SERVICE ignored") })
    }

    @Test("port P: provision_config.port, else integer config.HTTP_PORT, else 8080; HTTP_PORT injected only if absent")
    func port() throws {
        let cases: [(ClassRuntimeSpec.Function, Int64, String)] = [
            (RenderFixtures.container("f", port: 9000), 9000, "9000"),
            (RenderFixtures.container("f", config: ["HTTP_PORT": "7000"]), 7000, "7000"),
            (RenderFixtures.container("f", port: 9000, config: ["HTTP_PORT": "7000"]), 9000, "7000"),
            (RenderFixtures.container("f"), 8080, "8080"),
        ]
        for (function, port, env) in cases {
            let rendered = try Renderer.render(RenderFixtures.simple(functions: [function]),
                                               context: RenderFixtures.context())
            let deployment = try #require(rendered.children("Deployment").first).object
            #expect(deployment.container?["ports"]?[0]?["containerPort"] == .int(port))
            #expect(deployment.envValue("HTTP_PORT") == env)
        }
    }

    @Test("WASM and endpoint functions render no workload; WASM gets wasm:// routes, endpoints their URL")
    func wasmAndEndpoint() throws {
        let cr = try RenderFixtures.classRuntime()
        var context = RenderFixtures.context()
        let rendered = try Renderer.render(cr, context: context)
        #expect(rendered.children.filter { $0.component == "function" }.map { "\($0.kind)/\($0.name)" } == [
            "Deployment/\(cr.name)-fn-cart-total", "Service/\(cr.name)-fn-cart-total",
        ])
        let add = try #require(rendered.routes.routes["add"])
        #expect(add.url == "wasm://Cart.add")
        #expect(add.wasmModuleUrl == "https://artifacts.example.com/cart-add.wasm")
        #expect(add.wasmFuel == 5_000_000)
        #expect(add.stateless == false)
        #expect(rendered.functions.first { $0.functionKey == "Cart.add" }
            == FunctionStatusEntry(functionKey: "Cart.add", service: "", port: 0, predictedUrl: "wasm://Cart.add",
                                   template: "cloud"))

        var endpointOnly = RenderFixtures.simple(
            functions: [ClassRuntimeSpec.Function(
                functionKey: "Thing.remote",
                provisionConfig: .init(endpointUrl: "http://remote-fn:9000/invoke"))],
            bindings: [.init(name: "remote", functionKey: "Thing.remote")])
        endpointOnly.spec.functions.append(.init(functionKey: "Thing.ext",
                                                 provisionConfig: .init(endpointUrl: "https://fn.example.com")))
        endpointOnly.spec.functionBindings.append(.init(name: "ext", functionKey: "Thing.ext"))
        context.clusterDomain = "k.local"
        let remote = try Renderer.render(endpointOnly, context: context)
        #expect(remote.children.allSatisfy { $0.component == "odgm" })
        #expect(remote.routes.routes["remote"]?.url == "http://remote-fn.oaas-1.svc.k.local:9000/invoke")
        #expect(remote.routes.routes["ext"]?.url == "https://fn.example.com")
        #expect(remote.functions.map(\.predictedUrl) == ["https://fn.example.com",
                                                         "http://remote-fn.oaas-1.svc.k.local:9000/invoke"])
    }

    @Test("a function without runnable source is a render error naming the field")
    func noSource() {
        let cr = RenderFixtures.simple(functions: [RenderFixtures.container("ok"),
                                                   ClassRuntimeSpec.Function(functionKey: "broken")])
        #expect(throws: CRMError.invalidArgument(
            "spec.functions[1].provision_config: function 'broken' has no runnable source "
                + "(container_image, wasm_module_url or endpoint_url)")) {
            try Renderer.render(cr, context: RenderFixtures.context())
        }
    }

    @Test("two function keys that give the same object names are a render error")
    func nameClash() {
        let cr = RenderFixtures.simple(functions: [RenderFixtures.container("Cart.total"),
                                                   RenderFixtures.container("cart_total")])
        #expect(throws: CRMError.invalidArgument(
            "spec.functions[1].function_key: 'cart_total' gives the same object names as 'Cart.total' (fn-cart-total)")) {
            try Renderer.render(cr, context: RenderFixtures.context())
        }
    }

    @Test("a config HTTP_PORT that disagrees with provision_config.port is kept, with a warning")
    func portMismatchWarning() throws {
        let cr = RenderFixtures.simple(functions: [RenderFixtures.container("f", port: 9000,
                                                                          config: ["HTTP_PORT": "7000"])])
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        #expect(rendered.warnings == ["function 'f': config HTTP_PORT is '7000' but the container port is 9000"])
    }

    @Test("Knative: a Knative Service (no Deployment/Service/HPA) with env order, ODGM env and scaling annotations")
    func knative() throws {
        var cr = RenderFixtures.simple(
            functions: [RenderFixtures.container("Thing.a", config: ["ZED": "z"], maxScale: 9)],
            nfr: .init(minThroughputRps: 1200))
        cr.spec.functions[0].provisionConfig?.maxConcurrency = 8
        cr.spec.functions[0].provisionConfig?.needHttp2 = true
        let rendered = try Renderer.render(cr, context: RenderFixtures.context(profile: "full", hpa: true, knative: true))
        #expect(rendered.template == TemplateChoice(name: "knative", source: "nfr"))
        #expect(rendered.children.filter { $0.component == "function" }.map(\.resource) == [.knativeServices])
        let service = try #require(rendered.children.first { $0.resource == .knativeServices })
        #expect(service.workload)
        #expect(service.object.apiVersion == "serving.knative.dev/v1")
        #expect(service.object.labels["networking.knative.dev/visibility"] == "cluster-local")
        #expect(service.object.ownerReferences.first?.uid == "uid-demo")
        #expect(service.object.value(at: "spec", "template", "metadata", "annotations") == [
            "autoscaling.knative.dev/minScale": "3", "autoscaling.knative.dev/maxScale": "9",
            "networking.knative.dev/http2": "true",
        ])
        #expect(service.object.value(at: "spec", "template", "spec", "containerConcurrency") == 8)
        let container = try #require(service.object.container)
        #expect(container["ports"] == [["name": "h2c", "containerPort": 8080]])
        #expect(container["resources"] == ["requests": ["cpu": "100m", "memory": "128Mi"]])
        #expect(service.object.env.map(\.0) == [
            "HTTP_PORT", "ODGM_COLLECTION", "ODGM_ENABLED", "ODGM_SERVICE", "OPRC_CLS_ID", "OPRC_DEPLOYMENT_ID",
            "OPRC_ENV", "OPRC_FUNCTION_KEY", "OPRC_PARTITION_RANGE", "ZED",
        ])
        #expect(service.object.envValue("ODGM_SERVICE") == "demo-1-odgm-svc.oaas-1.svc.cluster.local:8080")
        // The route points at the Knative Service's cluster-local address.
        #expect(rendered.functions.first?.predictedUrl == "http://demo-1-fn-thing-a.oaas-1.svc.cluster.local/")
        // ODGM is rendered as in cloud.
        #expect(rendered.children("StatefulSet").count == 1)
    }

    @Test("fields owned by the enforcer are left out of the apply")
    func enforcedFields() throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("Thing.a")])
        cr.spec.selectedTemplate = "cloud"
        var context = RenderFixtures.context()
        context.enforcedFields = [.init(functionKey: "Thing.a", dimension: "replicas"),
                                  .init(functionKey: "Thing.a", dimension: "cpu")]
        let deployment = try #require(try Renderer.render(cr, context: context).children("Deployment").first).object
        #expect(deployment.value(at: "spec", "replicas") == nil)
        #expect(deployment.container?.value(at: "resources", "requests") == ["memory": "128Mi"])
    }

    @Test("telemetry adds OTEL env to functions and ODGM")
    func telemetry() throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("Thing.a")])
        cr.spec.telemetry = .init(samplingRate: 0.25, resourceAttributes: ["team": "a", "app": "b"])
        var context = RenderFixtures.context()
        context.otelEndpoint = "http://otel:4317"
        let rendered = try Renderer.render(cr, context: context)
        let function = try #require(rendered.children("Deployment").first).object
        #expect(function.envValue("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel:4317")
        #expect(function.envValue("OTEL_SERVICE_NAME") == "demo-1-fn-thing-a")
        #expect(function.envValue("OTEL_TRACES_SAMPLER") == "parentbased_traceidratio")
        #expect(function.envValue("OTEL_TRACES_SAMPLER_ARG") == "0.25")
        #expect(function.envValue("OTEL_RESOURCE_ATTRIBUTES") == "app=b,team=a")
        let odgm = try #require(rendered.children("StatefulSet").first).object
        #expect(odgm.envValue("OTEL_SERVICE_NAME") == "demo-1-odgm")
    }
}
