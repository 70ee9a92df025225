import Foundation
import Kube
import Testing

@testable import CRM

@Suite("CRM model: ClassRuntime JSON")
struct ModelCodingTests {
    @Test("applyObject carries metadata and spec, and reads back to the same ClassRuntime")
    func applyRoundTrip() throws {
        let cr = try RenderFixtures.classRuntime()
        let object = cr.applyObject()
        #expect(object.apiVersion == "oaas.io/v1alpha1")
        #expect(object.kind == "ClassRuntime")
        #expect(object.name == cr.name)
        #expect(object.namespace == "oaas-1")
        #expect(object.finalizers == ["oaas.io/finalizer"])
        #expect(object.status == nil)
        #expect(object.value(at: "metadata", "uid") == nil)
        #expect(object.value(at: "spec", "package_class_key") == "shop.Cart")
        #expect(object.value(at: "spec", "odgm_config", "partition_count") == 4)
        let back = try ClassRuntime(object: object)
        #expect(back.spec == cr.spec)
        #expect(back.labels == cr.labels)
        #expect(back.annotations == cr.annotations)
    }

    @Test("a full object (metadata, spec, status) survives kubeObject() → init(object:)")
    func fullRoundTrip() throws {
        var cr = try RenderFixtures.classRuntime()
        cr.resourceVersion = "42"
        cr.status = ClassRuntimeStatus(
            phase: .degraded, message: "image pull failed", lastUpdated: "2024-05-01T12:00:00Z",
            observedGeneration: 1,
            conditions: [ClassRuntimeCondition(type: "Degraded", status: "True", reason: "ImagePullFailed",
                                               message: "bad image", lastTransitionTime: "2024-05-01T12:00:00Z",
                                               observedGeneration: 1)],
            template: "cloud", templateSource: "nfr", ready: "1/2", progressingSince: "2024-05-01T11:59:00Z",
            resourceRefs: [.init(kind: "Deployment", name: "x", uid: "u1")],
            functions: [FunctionStatusEntry(functionKey: "Cart.total", service: "x", port: 80,
                                            predictedUrl: "http://x/", template: "cloud", ready: false)],
            routers: [RouterEndpoint(service: "oaas-router", port: 17447)],
            nfrRecommendations: ["replicas": 3, "functions": ["Cart.total": ["replicas": 3]]],
            nfrCompliance: .init(overallStatus: "AtRisk", latencyStatus: "AtRisk", lastChecked: "2024-05-01T12:00:00Z"),
            lastAppliedRecommendations: [.init(component: "function", dimension: "replicas", target: 3,
                                               basis: "enforcer", confidence: 1)],
            lastAppliedAt: "2024-05-01T12:00:00Z")
        let back = try ClassRuntime(object: cr.kubeObject())
        #expect(back == cr)
    }

    @Test("a status from another controller version never makes the CR unreadable")
    func lenientStatus() throws {
        var object = try RenderFixtures.classRuntime().applyObject()
        object.status = ["phase": "Running", "conditions": [["type": "Ready", "status": "True"], "garbage"],
                         "ready": 3, "functions": [["service": "no key"]], "template": "cloud"]
        let cr = try ClassRuntime(object: object)
        #expect(cr.status?.phase == nil)
        #expect(cr.status?.conditions.map(\.type) == ["Ready"])
        #expect(cr.status?.ready == nil)
        #expect(cr.status?.functions.isEmpty == true)
        #expect(cr.status?.template == "cloud")
        #expect(ClassRuntimeSummaries.summaryString(cr) == "Unknown")
    }

    @Test("a malformed spec fails naming the JSON path")
    func malformedSpecNamesField() throws {
        var object = try RenderFixtures.classRuntime().applyObject()
        object.spec?["functions"] = [["function_key": "f", "provision_config": ["port": "eighty"]]]
        #expect {
            try ClassRuntime(object: object)
        } throws: { error in
            guard case CRMError.internalError(let message) = error else { return false }
            return message.contains("spec.functions[0].provision_config.port")
        }
        object.spec = ["functions": []]
        #expect {
            try ClassRuntime(object: object)
        } throws: { error in
            guard case CRMError.internalError(let message) = error else { return false }
            return message.contains("spec.package_class_key: required field is missing")
        }
        object.spec = nil
        #expect(throws: CRMError.self) { try ClassRuntime(object: object) }
    }

    @Test("absent collections decode as empty and absent addons mean ODGM on")
    func defaults() throws {
        let spec = try JSONValue(jsonData: Data(#"{"package_class_key":"a.B"}"#.utf8)).decode(as: ClassRuntimeSpec.self)
        #expect(spec.functions.isEmpty)
        #expect(spec.functionBindings.isEmpty)
        #expect(spec.odgmAddonEnabled)
        var off = spec
        off.addons = []
        #expect(!off.odgmAddonEnabled)
        off.addons = ["ODGM"]
        #expect(off.odgmAddonEnabled)
        // Nil optionals are never written.
        let json = CRMJSON.encode(spec)
        #expect(json["selected_template"] == nil)
        #expect(json["odgm_config"] == nil)
    }
}
