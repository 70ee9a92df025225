import Foundation
import Kube
import Testing
import Yams

@testable import CRM

/// "The CRD in `k8s/` is the one the CRM expects": the shipped CustomResourceDefinition is compared with the model,
/// so a field added on either side without the other fails here.
@Suite("CRM model: k8s/crd/classruntimes.oaas.io.yaml")
struct ModelCRDTests {
    static let crdPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("k8s/crd/classruntimes.oaas.io.yaml")

    static func loadCRD() throws -> [String: Any] {
        let text = try String(contentsOf: crdPath, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func version(_ crd: [String: Any]) throws -> [String: Any] {
        let spec = try #require(crd["spec"] as? [String: Any])
        let versions = try #require(spec["versions"] as? [[String: Any]])
        return try #require(versions.first { $0["name"] as? String == "v1alpha1" })
    }

    @Test("names, scope, version, status subresource and printer columns match spec §10")
    func identity() throws {
        let crd = try Self.loadCRD()
        #expect(crd["apiVersion"] as? String == "apiextensions.k8s.io/v1")
        #expect(crd["kind"] as? String == "CustomResourceDefinition")
        #expect((crd["metadata"] as? [String: Any])?["name"] as? String == "classruntimes.oaas.io")
        let spec = try #require(crd["spec"] as? [String: Any])
        #expect(spec["group"] as? String == ClassRuntime.resource.group)
        #expect(spec["scope"] as? String == "Namespaced")
        let names = try #require(spec["names"] as? [String: Any])
        #expect(names["kind"] as? String == ClassRuntime.resource.kind)
        #expect(names["plural"] as? String == ClassRuntime.resource.resource)
        #expect(names["singular"] as? String == "classruntime")
        #expect(names["shortNames"] as? [String] == ["crt"])
        #expect(names["categories"] as? [String] == ["oaas"])
        let versions = try #require(spec["versions"] as? [[String: Any]])
        #expect(versions.count == 1)
        let version = try Self.version(crd)
        #expect(version["name"] as? String == ClassRuntime.resource.version)
        #expect(version["served"] as? Bool == true)
        #expect(version["storage"] as? Bool == true)
        let subresources = try #require(version["subresources"] as? [String: Any])
        #expect(subresources["status"] is [String: Any])
        let columns = try #require(version["additionalPrinterColumns"] as? [[String: Any]])
        let described = columns.map { "\($0["name"] ?? "")=\($0["jsonPath"] ?? "")" }
        #expect(described == [
            "Class=.spec.package_class_key", "Env=.spec.target_env", "Template=.status.template",
            "Phase=.status.phase", "Ready=.status.ready", "Age=.metadata.creationTimestamp",
        ])
        // Every printer column points at something a full ClassRuntime actually writes.
        let object = try Self.fullyPopulated().kubeObject().json
        for column in columns {
            let path = (column["jsonPath"] as? String ?? "").split(separator: ".").map(String.init)
            #expect(object.value(at: path) != nil, "\(path)")
        }
    }

    @Test("every key a fully populated ClassRuntime writes is in the schema with the right type, and vice versa")
    func schemaMatchesModel() throws {
        let version = try Self.version(Self.loadCRD())
        let schema = try #require((version["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any])
        #expect(schema["required"] as? [String] == ["spec"])
        let specSchema = try #require((schema["properties"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(specSchema["required"] as? [String] == ["package_class_key"])

        var walker = SchemaWalker()
        walker.check(try Self.fullyPopulated().kubeObject().json, schema: schema, path: "")
        #expect(walker.problems == [])

        // The other direction: every property the CRD declares under spec and status is written by the model.
        var declared: [String] = []
        SchemaWalker.declaredPaths(schema, path: "", into: &declared)
        let missing = declared.filter { path in
            !walker.visited.contains(path) && !path.hasPrefix(".metadata") && path != ".apiVersion" && path != ".kind"
        }
        #expect(missing == [], "declared in the CRD but never written by the model")
    }

    @Test("the schema's enums accept every value the CRM writes")
    func enums() throws {
        let version = try Self.version(Self.loadCRD())
        let schema = try #require((version["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any])
        var walker = SchemaWalker()
        for phase in ClassRuntimePhase.allCases {
            walker.check(.string(phase.rawValue), schema: SchemaWalker.node(schema, ".status.phase"), path: ".status.phase")
        }
        for source in ["hint", "nfr", "profile"] {
            walker.check(.string(source), schema: SchemaWalker.node(schema, ".status.template_source"),
                         path: ".status.template_source")
        }
        for mode in ["off", "observe", "enforce"] {
            walker.check(.string(mode), schema: SchemaWalker.node(schema, ".spec.enforcement.mode"),
                         path: ".spec.enforcement.mode")
        }
        #expect(walker.problems == [])
    }

    @Test("the comparison catches drift: unknown key, wrong type, missing required field, unwritten CRD field")
    func driftIsDetected() throws {
        let version = try Self.version(Self.loadCRD())
        let schema = try #require((version["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any])
        var object = try Self.fullyPopulated().kubeObject().json
        object.setValue("x", at: "spec", "brand_new_field")
        object.setValue("four", at: "spec", "odgm_config", "partition_count")
        object.setValue(nil, at: "spec", "package_class_key")
        object.setValue(nil, at: "spec", "telemetry")
        var walker = SchemaWalker()
        walker.check(object, schema: schema, path: "")
        #expect(walker.problems.sorted() == [
            ".spec.brand_new_field: written by the model but not in the CRD",
            ".spec.odgm_config.partition_count: string where the CRD says integer",
            ".spec.package_class_key: required by the CRD but not written",
        ])
        var declared: [String] = []
        SchemaWalker.declaredPaths(schema, path: "", into: &declared)
        #expect(declared.contains(".spec.telemetry.sampling_rate"))
        #expect(!walker.visited.contains(".spec.telemetry.sampling_rate"))
    }

    /// Every optional field of the model set, so the walk touches the whole schema.
    static func fullyPopulated() throws -> ClassRuntime {
        var cr = try RenderFixtures.classRuntime()
        cr.resourceVersion = "7"
        var spec = cr.spec
        spec.selectedTemplate = "cloud"
        spec.addons = ["odgm"]
        spec.functions[1].description = "sums the cart"
        spec.functions[1].availableLocation = "edge-1"
        spec.functions[1].nfrRequirements = .init(minThroughputRps: 10, availability: 0.99, cpuUtilizationTarget: 0.6,
                                                  maxLatencyMs: 20, consistency: "strong")
        spec.functions[1].provisionConfig = .init(
            containerImage: "img", port: 8080, maxConcurrency: 4, needHttp2: true, cpuRequest: "100m",
            memoryRequest: "64Mi", cpuLimit: "1", memoryLimit: "256Mi", minScale: 1, maxScale: 4,
            wasmModuleUrl: "file:///m.wasm", wasmFuel: 100, endpointUrl: "http://e:1")
        spec.functionBindings[0].parameters = ["x"]
        spec.odgmConfig?.zenohMode = "peer"
        spec.odgmConfig?.persistence = .init(enabled: true, size: "2Gi", storageClass: "fast")
        spec.odgmConfig?.invocations?.disabledFn = ["total"]
        spec.odgmConfig?.invocations?.fnRoutes["add"] = .init(
            url: "wasm://Cart.add", stateless: true, standby: false, activeGroup: [1], functionKey: "Cart.add",
            wasmModuleUrl: "file:///m.wasm", wasmFuel: 7)
        spec.nfrRequirements = .init(minThroughputRps: 100, maxLatencyMs: 50, availabilityPct: 99.9,
                                     consistency: "strong", cpuUtilizationTarget: 0.7)
        spec.enforcement = .init(mode: "enforce", dimensions: ["replicas", "cpu", "memory"])
        spec.telemetry = .init(enabled: true, traces: true, metrics: false, logs: true, samplingRate: 0.5,
                               serviceName: "cart", resourceAttributes: ["team": "a"])
        cr.spec = spec
        cr.status = ClassRuntimeStatus(
            phase: .available, message: "ok", lastUpdated: "2024-05-01T12:00:00Z", observedGeneration: 1,
            conditions: [ClassRuntimeCondition(type: "Available", status: "True", reason: "Ready", message: "ok",
                                               lastTransitionTime: "2024-05-01T12:00:00Z", observedGeneration: 1)],
            template: "cloud", templateSource: "nfr", ready: "2/2", progressingSince: "2024-05-01T11:00:00Z",
            resourceRefs: [.init(kind: "StatefulSet", name: "s", uid: "u")],
            functions: [FunctionStatusEntry(functionKey: "Cart.total", service: "svc", port: 80,
                                            predictedUrl: "http://svc/", observedUrl: "http://svc/",
                                            template: "cloud", ready: true, reason: "Ready", message: "ok",
                                            lastTransitionTime: "2024-05-01T12:00:00Z")],
            routers: [RouterEndpoint(service: "oaas-router", port: 17447)],
            nfrRecommendations: ["replicas": 2],
            nfrCompliance: .init(overallStatus: "Compliant", throughputStatus: "Compliant",
                                 latencyStatus: "Compliant", availabilityStatus: "Compliant",
                                 lastChecked: "2024-05-01T12:00:00Z"),
            lastAppliedRecommendations: [.init(component: "function", dimension: "replicas", target: 2,
                                               basis: "enforcer", confidence: 1)],
            lastAppliedAt: "2024-05-01T12:00:00Z")
        return cr
    }
}

/// Walks a JSON value against an OpenAPI v3 structural schema (the subset CRDs use), recording problems and the
/// schema paths it reached (`.spec.functions[].provision_config.port`, `.spec.odgm_config.options{}`).
struct SchemaWalker {
    var problems: [String] = []
    var visited: Set<String> = []

    mutating func check(_ value: JSONValue, schema: [String: Any], path: String) {
        visited.insert(path)
        let type = schema["type"] as? String
        if let allowed = schema["enum"] as? [Any], let text = value.stringValue,
           !allowed.contains(where: { "\($0)" == text })
        {
            problems.append("\(path): '\(text)' not in enum \(allowed)")
        }
        switch value {
        case .object(let members):
            guard type == "object" else { return problems.append("\(path): object where the CRD says \(type ?? "-")") }
            if schema["x-kubernetes-preserve-unknown-fields"] as? Bool == true { return }
            if let properties = schema["properties"] as? [String: Any] {
                for (key, member) in members {
                    guard let sub = properties[key] as? [String: Any] else {
                        problems.append("\(path).\(key): written by the model but not in the CRD")
                        continue
                    }
                    check(member, schema: sub, path: "\(path).\(key)")
                }
                for required in schema["required"] as? [String] ?? [] where members[required] == nil {
                    problems.append("\(path).\(required): required by the CRD but not written")
                }
            } else if let additional = schema["additionalProperties"] as? [String: Any] {
                visited.insert("\(path){}")
                for member in members.values { check(member, schema: additional, path: "\(path){}") }
            } else if path != ".metadata" {
                problems.append("\(path): object without properties in the CRD")
            }
        case .array(let elements):
            guard type == "array", let items = schema["items"] as? [String: Any] else {
                return problems.append("\(path): array where the CRD says \(type ?? "-")")
            }
            for element in elements { check(element, schema: items, path: "\(path)[]") }
        case .string:
            if type != "string" { problems.append("\(path): string where the CRD says \(type ?? "-")") }
        case .int:
            if type != "integer" && type != "number" { problems.append("\(path): integer where the CRD says \(type ?? "-")") }
        case .double:
            if type != "number" { problems.append("\(path): number where the CRD says \(type ?? "-")") }
        case .bool:
            if type != "boolean" { problems.append("\(path): boolean where the CRD says \(type ?? "-")") }
        case .null:
            problems.append("\(path): null written")
        }
    }

    /// Every path the schema declares, with the same notation `check` records.
    static func declaredPaths(_ schema: [String: Any], path: String, into paths: inout [String]) {
        if !path.isEmpty { paths.append(path) }
        if schema["x-kubernetes-preserve-unknown-fields"] as? Bool == true { return }
        if let properties = schema["properties"] as? [String: Any] {
            for (key, sub) in properties {
                if let sub = sub as? [String: Any] { declaredPaths(sub, path: "\(path).\(key)", into: &paths) }
            }
        }
        if let additional = schema["additionalProperties"] as? [String: Any] {
            declaredPaths(additional, path: "\(path){}", into: &paths)
        }
        if let items = schema["items"] as? [String: Any] { declaredPaths(items, path: "\(path)[]", into: &paths) }
    }

    /// The sub-schema at a dotted property path.
    static func node(_ schema: [String: Any], _ path: String) -> [String: Any] {
        var current = schema
        for key in path.split(separator: ".") {
            current = (current["properties"] as? [String: Any])?[String(key)] as? [String: Any] ?? [:]
        }
        return current
    }
}
