import Foundation
import Kube
import OaaSProto
import Testing

@testable import CRM

@Suite("CRM build: DeploymentUnit → ClassRuntime")
struct BuildTests {
    @Test("metadata of §10.1: name, labels, annotations, finalizer")
    func metadata() throws {
        let cr = try ClassRuntimeBuilder.build(
            unit: RenderFixtures.unit(), namespace: "oaas-1", correlationId: "corr-9",
            extraLabels: ["oaas.io/region": "eu/west", CRMKeys.deploymentId: "spoofed"])
        #expect(cr.name == RenderFixtures.unitId)
        #expect(cr.namespace == "oaas-1")
        #expect(cr.labels == [
            "oaas.io/deployment-id": RenderFixtures.unitId, "oaas.io/class": "shop.Cart", "oaas.io/package": "shop",
            "oaas.io/deployment-key": "cart", "oaas.io/env": "oaas-1",
            "oaas.io/region": CRMNames.labelSafe("eu/west"),
            "app.kubernetes.io/managed-by": "oaas-crm", "app.kubernetes.io/part-of": "oaas",
        ])
        #expect(cr.annotations == [
            "oaas.io/correlation-id": "corr-9", "oaas.io/revision": "1700000000000",
            "oaas.io/package-class-key": "shop.Cart",
        ])
        #expect(cr.finalizers == ["oaas.io/finalizer"])
        #expect(cr.revision == 1_700_000_000_000)
        #expect(cr.status == nil)
    }

    @Test("spec of §10.2 from the unit")
    func spec() throws {
        let spec = try RenderFixtures.classRuntime().spec
        #expect(spec.packageClassKey == "shop.Cart")
        #expect(spec.packageName == "shop")
        #expect(spec.classKey == "Cart")
        #expect(spec.deploymentKey == "cart")
        #expect(spec.targetEnv == "oaas-1")
        #expect(spec.selectedTemplate == nil)
        #expect(spec.addons == nil)
        #expect(spec.functions.map(\.functionKey) == ["Cart.add", "Cart.total"])
        #expect(spec.functions[0].provisionConfig?.wasmModuleUrl == "https://artifacts.example.com/cart-add.wasm")
        #expect(spec.functions[0].provisionConfig?.wasmFuel == 5_000_000)
        #expect(spec.functions[1].provisionConfig?.containerImage == "registry.example.com/cart-total:1.2")
        #expect(spec.functions[1].provisionConfig?.needHttp2 == nil)
        #expect(spec.functions[1].config == ["LOG_LEVEL": "info"])
        #expect(spec.functionBindings.map(\.name) == ["add", "total"])
        #expect(spec.functionBindings[1].stateless == true)
        let odgm = try #require(spec.odgmConfig)
        #expect(odgm.partitionCount == 4)
        #expect(odgm.replicaCount == 3)
        #expect(odgm.shardType == "raft")
        #expect(odgm.envNodeIds == ["oaas-1": RenderFixtures.nodeIds])
        #expect(odgm.nodeId == RenderFixtures.nodeIds[0])
        #expect(odgm.collectionAssignments["shop.Cart"]?.count == 4)
        #expect(odgm.invocations?.fnRoutes["total"] == .init(url: "", stateless: true, standby: false,
                                                             functionKey: "Cart.total"))
        #expect(odgm.persistence == .init(enabled: true))
        #expect(spec.nfrRequirements == .init(maxLatencyMs: 50, availabilityPct: 99.9, consistency: "strong"))
        #expect(spec.enforcement == .init(mode: "observe", dimensions: ["replicas"]))
        #expect(spec.telemetry == nil)
    }

    @Test("zero counts the CRD forbids mean unset; a reference PM's per-function NFRs fill spec.nfr_requirements")
    func protoDefaults() throws {
        var unit = RenderFixtures.unit()
        unit.odgmConfig.partitionCount = 0
        unit.odgmConfig.replicaCount = 0
        unit.clearNfr()
        unit.functions[0].nfrRequirements = .with { $0.minThroughputRps = 800; $0.availability = 0.99 }
        let spec = try RenderFixtures.classRuntime(unit).spec
        #expect(spec.odgmConfig?.partitionCount == nil)
        #expect(spec.odgmConfig?.replicaCount == nil)
        #expect(spec.nfrRequirements == .init(minThroughputRps: 800, availabilityPct: 99))
        #expect(spec.enforcement == nil)
    }

    @Test("equal units build byte-identical CRs")
    func deterministic() throws {
        let first = try RenderFixtures.classRuntime().applyObject().json.jsonString()
        let second = try RenderFixtures.classRuntime().applyObject().json.jsonString()
        #expect(first == second)
    }

    @Test("§8.1 INVALID_ARGUMENT rules name the field", arguments: [
        ("no source", "deployment_unit.functions[1].provision_config"),
        ("long id", "deployment_unit.id"),
        ("empty id", "deployment_unit.id"),
        ("shard type", "deployment_unit.odgm_config.shard_type"),
        ("availability", "deployment_unit.nfr.availability"),
        ("port", "deployment_unit.functions[1].provision_config.port"),
        ("scale", "deployment_unit.functions[1].provision_config.min_scale"),
        ("oci", "deployment_unit.functions[0].provision_config.wasm_module_url"),
        ("config key", "deployment_unit.functions[1].config[\"BAD-KEY\"]"),
        ("duplicate function", "deployment_unit.functions[1].function_key"),
        ("enforcement", "deployment_unit.nfr.enforcement_mode"),
        ("no class", "deployment_unit.class_key"),
        ("name clash", "deployment_unit.functions[1].function_key"),
    ])
    func invalid(problem: String, field: String) {
        var unit = RenderFixtures.unit()
        switch problem {
        case "no source": unit.functions[1].provisionConfig = .with { $0.port = 8080 }
        case "long id": unit.id = "Deployment_" + String(repeating: "x", count: 60)
        case "empty id": unit.id = ""
        case "shard type": unit.odgmConfig.shardType = "paxos"
        case "availability": unit.nfr.availability = 1.5
        case "port": unit.functions[1].provisionConfig.port = 70000
        case "scale":
            unit.functions[1].provisionConfig.minScale = 5
            unit.functions[1].provisionConfig.maxScale = 2
        case "oci": unit.functions[0].provisionConfig.wasmModuleURL = "oci://registry/add:1"
        case "config key": unit.functions[1].config["BAD-KEY"] = "x"
        case "duplicate function": unit.functions[1].functionKey = "Cart.add"
        case "enforcement": unit.nfr.enforcementMode = "sometimes"
        case "no class": unit.classKey = ""
        case "name clash": unit.functions[1].functionKey = "cart_add"
        default: Issue.record("unknown case \(problem)")
        }
        #expect {
            try ClassRuntimeBuilder.build(unit: unit, namespace: "ns", correlationId: nil, extraLabels: [:])
        } throws: { error in
            guard case CRMError.invalidArgument(let message) = error else { return false }
            return message.hasPrefix(field + ":")
        }
    }

    @Test("a function without any provision_config is rejected too")
    func noProvisionConfig() {
        var unit = RenderFixtures.unit()
        unit.functions[0].clearProvisionConfig()
        #expect(throws: CRMError.invalidArgument(
            "deployment_unit.functions[0].provision_config: function 'Cart.add' has no runnable source "
                + "(container_image, wasm_module_url or endpoint_url)")) {
            try ClassRuntimeBuilder.build(unit: unit, namespace: "ns", correlationId: nil, extraLabels: [:])
        }
    }

    @Test("deploymentUnit(from:) gives back the unit (with selected_template = status.template)")
    func unitRoundTrip() throws {
        let unit = RenderFixtures.unit()
        var cr = try RenderFixtures.classRuntime(unit)
        cr.status = ClassRuntimeStatus(template: "cloud")
        let back = ClassRuntimeSummaries.deploymentUnit(from: cr)
        var expected = unit
        expected.selectedTemplate = "cloud"
        #expect(back == expected)
    }
}
