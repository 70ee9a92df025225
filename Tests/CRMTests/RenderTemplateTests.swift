import Kube
import Testing

@testable import CRM

@Suite("CRM render: template selection (§11.1)")
struct RenderTemplateTests {
    typealias Nfr = ClassRuntimeSpec.Nfr

    static func choose(hint: String? = nil, nfr: Nfr? = nil, profile: String = "dev", knative: Bool = false,
                       edge: Bool = false) -> TemplateChoice {
        var spec = ClassRuntimeSpec(packageClassKey: "a.B", selectedTemplate: hint, nfrRequirements: nfr)
        spec.targetEnv = "e"
        var context = RenderFixtures.context(profile: profile, knative: knative)
        context.envIsEdge = edge
        return TemplateSelector.select(spec, context: context)
    }

    @Test("a hint naming a registered template (or alias) wins over NFRs and profile")
    func hintWins() {
        #expect(Self.choose(hint: "edge", nfr: Nfr(maxLatencyMs: 10), profile: "full")
            == TemplateChoice(name: "edge", source: "hint"))
        #expect(Self.choose(hint: "k8s_deployment") == TemplateChoice(name: "cloud", source: "hint"))
        #expect(Self.choose(hint: "KN", knative: true) == TemplateChoice(name: "knative", source: "hint"))
    }

    @Test("an unknown or unregistered hint is reported and selection falls through")
    func unknownHint() {
        #expect(Self.choose(hint: "gpu-pool", profile: "edge")
            == TemplateChoice(name: "edge", source: "profile", unavailableHint: "gpu-pool"))
        #expect(Self.choose(hint: "knative", nfr: Nfr(availabilityPct: 99.95))
            == TemplateChoice(name: "cloud", source: "nfr", unavailableHint: "knative"))
        #expect(Self.choose(hint: "  ").unavailableHint == nil)
    }

    @Test("NFR rules in order", arguments: [
        (Nfr(maxLatencyMs: 50), false, false, "cloud"),
        (Nfr(maxLatencyMs: 51), false, false, "dev"),
        (Nfr(consistency: "STRONG"), false, false, "cloud"),
        (Nfr(availabilityPct: 99.9), false, false, "cloud"),
        (Nfr(availabilityPct: 99.8), false, false, "dev"),
        (Nfr(minThroughputRps: 500), true, false, "knative"),
        (Nfr(minThroughputRps: 500), false, false, "cloud"),
        (Nfr(minThroughputRps: 499), true, false, "dev"),
        (Nfr(minThroughputRps: 900, maxLatencyMs: 20), true, false, "cloud"),
        (Nfr(minThroughputRps: 100), false, true, "edge"),
        (Nfr(minThroughputRps: 900), true, true, "knative"),
    ])
    func nfrRules(nfr: Nfr, knative: Bool, edge: Bool, expected: String) {
        let choice = Self.choose(nfr: nfr, knative: knative, edge: edge)
        #expect(choice.name == expected)
        #expect(choice.source == (expected == "dev" ? "profile" : "nfr"))
    }

    @Test("no NFRs ⇒ the profile default (even on an edge env)", arguments: [
        ("dev", "dev"), ("edge", "edge"), ("full", "cloud"), ("production", "cloud"), ("weird", "dev"),
    ])
    func profileDefault(profile: String, expected: String) {
        #expect(Self.choose(profile: profile, edge: true) == TemplateChoice(name: expected, source: "profile"))
        #expect(Self.choose(nfr: Nfr(), profile: profile) == TemplateChoice(name: expected, source: "profile"))
    }

    @Test("knative is never chosen when it is not registered")
    func knativeAbsent() {
        for hint in [nil, "knative", "kn", "knsvc"] {
            for rps: UInt32 in [0, 500, 10_000] {
                #expect(Self.choose(hint: hint, nfr: Nfr(minThroughputRps: rps), profile: "full").name != "knative")
            }
        }
    }

    @Test("cloud renders an HPA only with the HPA feature; edge needs max_scale > min_scale too")
    func hpa() throws {
        let fn = RenderFixtures.container("Cart.total", minScale: 1, maxScale: 5)
        var cr = RenderFixtures.simple(functions: [fn])
        for (template, feature, expected) in [
            ("cloud", true, 1), ("cloud", false, 0), ("edge", true, 1), ("edge", false, 0), ("dev", true, 0),
        ] {
            cr.spec.selectedTemplate = template
            let rendered = try Renderer.render(cr, context: RenderFixtures.context(hpa: feature))
            #expect(rendered.children("HorizontalPodAutoscaler").count == expected, "\(template) hpa=\(feature)")
            let deployment = try #require(rendered.children("Deployment").first)
            // The HPA owns the replica count.
            #expect((deployment.object.value(at: "spec", "replicas") == nil) == (expected == 1))
        }
        cr.spec.selectedTemplate = "edge"
        cr.spec.functions = [RenderFixtures.container("Cart.total", minScale: 2, maxScale: 2)]
        #expect(try Renderer.render(cr, context: RenderFixtures.context(hpa: true))
            .children("HorizontalPodAutoscaler").isEmpty)
    }

    @Test("the HPA targets the Deployment with R, max(max_scale or the limit, R) and the CPU target")
    func hpaShape() throws {
        var cr = RenderFixtures.simple(
            functions: [RenderFixtures.container("Cart.total")],
            nfr: .init(availabilityPct: 99.9, cpuUtilizationTarget: 0.55))
        cr.spec.selectedTemplate = "cloud"
        let rendered = try Renderer.render(cr, context: RenderFixtures.context(hpa: true))
        let hpa = try #require(rendered.child("HorizontalPodAutoscaler", "demo-1-fn-cart-total")).object
        #expect(hpa.apiVersion == "autoscaling/v2")
        #expect(hpa.value(at: "spec", "scaleTargetRef") == ["apiVersion": "apps/v1", "kind": "Deployment",
                                                            "name": "demo-1-fn-cart-total"])
        #expect(hpa.value(at: "spec", "minReplicas") == 3)
        #expect(hpa.value(at: "spec", "maxReplicas") == 20)
        #expect(hpa.value(at: "spec", "metrics")?[0]?.value(at: "resource", "target", "averageUtilization") == 55)
        // The template default guarantees a cpu request for the HPA to work with.
        #expect(rendered.children("Deployment").first?.object.container?.value(at: "resources", "requests", "cpu")
            == "100m")
    }

    @Test("replicas R: dev/edge max(min_scale, 1); cloud also availability and throughput, capped", arguments: [
        ("dev", nil as UInt32?, Nfr(minThroughputRps: 5000, availabilityPct: 99.99), 1),
        ("dev", 4, Nfr(), 4),
        ("edge", 0, Nfr(), 1),
        ("cloud", nil, Nfr(), 1),
        ("cloud", nil, Nfr(availabilityPct: 99), 2),
        ("cloud", nil, Nfr(availabilityPct: 99.9), 3),
        ("cloud", nil, Nfr(minThroughputRps: 1200), 3),
        ("cloud", 5, Nfr(availabilityPct: 99.9), 5),
        ("cloud", nil, Nfr(minThroughputRps: 1_000_000), 20),
    ])
    func replicas(template: String, minScale: UInt32?, nfr: Nfr, expected: Int) throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("f", minScale: minScale)], nfr: nfr)
        cr.spec.selectedTemplate = template
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        let deployment = try #require(rendered.children("Deployment").first)
        #expect(deployment.object.value(at: "spec", "replicas") == .int(Int64(expected)))
    }

    @Test("template differences: requests, pull policy, rollout, liveness", arguments: ["dev", "edge", "cloud"])
    func templateAspects(template: String) throws {
        var cr = RenderFixtures.simple(functions: [RenderFixtures.container("f")])
        cr.spec.selectedTemplate = template
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        let deployment = try #require(rendered.children("Deployment").first).object
        let container = try #require(deployment.container)
        let odgm = try #require(rendered.children("StatefulSet").first).object.container
        switch template {
        case "dev":
            #expect(container["resources"] == nil)
            #expect(container["imagePullPolicy"] == "IfNotPresent")
            #expect(deployment.value(at: "spec", "strategy") == nil)
            #expect(container["livenessProbe"] == nil)
            #expect(odgm?["resources"] == nil)
        case "edge":
            #expect(container["resources"] == ["requests": ["cpu": "50m", "memory": "64Mi"]])
            #expect(container["imagePullPolicy"] == nil)
            #expect(deployment.value(at: "spec", "strategy", "rollingUpdate") == ["maxUnavailable": 0])
            #expect(container.value(at: "livenessProbe", "tcpSocket", "port") == 8080)
            #expect(odgm?.value(at: "resources", "requests") == ["cpu": "100m", "memory": "128Mi"])
        default:
            #expect(container["resources"] == ["requests": ["cpu": "100m", "memory": "128Mi"]])
            #expect(deployment.value(at: "spec", "strategy", "rollingUpdate")
                == ["maxUnavailable": 0, "maxSurge": "25%"])
            #expect(container["livenessProbe"] != nil)
            #expect(odgm?.value(at: "resources", "requests") == ["cpu": "250m", "memory": "256Mi"])
        }
        #expect(container.value(at: "readinessProbe", "tcpSocket", "port") == 8080)
        #expect(rendered.template.name == template)
    }
}
