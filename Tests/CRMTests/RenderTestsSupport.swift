import Foundation
import Kube
import OaaSModels
import OaaSProto

@testable import CRM

/// Fixtures of the model, build and render tests (engineer A): the spec §2.4 example (`shop.Cart`, a WASM `add` and
/// a container `total`) as a DeploymentUnit and as a ClassRuntime, plus small helpers to dig into rendered objects.
enum RenderFixtures {
    static let namespace = "oaas-1"
    static let env = "oaas-1"
    static let unitId = DeterministicIds.unitId(deploymentKey: "cart", env: env)
    static let nodeIds = DeterministicIds.envNodeIds(deploymentKey: "cart", nodeEnvs: [env, env, env])[env] ?? []

    /// The spec example's unit: STRONG + persistent, 4 partitions × 3 replicas on 3 local nodes.
    static func unit() -> Oaas_Deployment_DeploymentUnit {
        var unit = Oaas_Deployment_DeploymentUnit()
        unit.id = unitId
        unit.packageName = "shop"
        unit.classKey = "Cart"
        unit.targetEnv = env
        unit.deploymentKey = "cart"
        unit.revision = 1_700_000_000_000
        unit.createdAt = .with { $0.seconds = 1_700_000_000 }

        var add = Oaas_Deployment_FunctionDeploymentSpec()
        add.functionKey = "Cart.add"
        add.provisionConfig = .with {
            $0.wasmModuleURL = "https://artifacts.example.com/cart-add.wasm"
            $0.wasmFuel = 5_000_000
        }
        var total = Oaas_Deployment_FunctionDeploymentSpec()
        total.functionKey = "Cart.total"
        total.provisionConfig = .with {
            $0.containerImage = "registry.example.com/cart-total:1.2"
            $0.endpointURL = "http://127.0.0.1:9101"
            $0.port = 8080
        }
        total.config = ["LOG_LEVEL": "info"]
        unit.functions = [add, total]
        unit.functionBindings = [
            .with { $0.name = "add"; $0.functionKey = "Cart.add"; $0.accessModifier = "PUBLIC"; $0.stateless = false },
            .with {
                $0.name = "total"; $0.functionKey = "Cart.total"; $0.accessModifier = "PUBLIC"; $0.stateless = true
            },
        ]

        var odgm = Oaas_Deployment_OdgmConfig()
        odgm.collections = ["shop.Cart"]
        odgm.partitionCount = 4
        odgm.replicaCount = 3
        odgm.shardType = "raft"
        odgm.options = ["storage_backend": "lmdb"]
        odgm.log = "info"
        odgm.envNodeIds = [env: .with { $0.ids = nodeIds }]
        odgm.odgmNodeID = nodeIds[0]
        let assignments = DeterministicIds.shardAssignments(nodeIds: nodeIds, partitionCount: 4, replicaCount: 3)
        odgm.collectionAssignments = ["shop.Cart": .with {
            $0.assignments = assignments.map { assignment in
                .with {
                    if let primary = assignment.primary { $0.primary = primary }
                    $0.replica = assignment.replica
                    $0.shardIds = assignment.shardIds
                }
            }
        }]
        odgm.invocations = .with {
            $0.fnRoutes = [
                "add": .with { $0.url = ""; $0.stateless = false; $0.standby = false; $0.functionKey = "Cart.add" },
                "total": .with { $0.url = ""; $0.stateless = true; $0.standby = false; $0.functionKey = "Cart.total" },
            ]
        }
        odgm.persistence = .with { $0.enabled = true }
        unit.odgmConfig = odgm

        unit.nfr = .with {
            $0.availability = 0.999
            $0.maxLatencyMs = 50
            $0.consistency = "strong"
            $0.enforcementMode = "observe"
            $0.enforcementDimensions = ["replicas"]
        }
        return unit
    }

    /// The unit built into a CR, as if read back from the API server (uid, generation, creation time).
    static func classRuntime(_ unit: Oaas_Deployment_DeploymentUnit = unit()) throws -> ClassRuntime {
        var cr = try ClassRuntimeBuilder.build(unit: unit, namespace: namespace, correlationId: "corr-1",
                                               extraLabels: [:])
        cr.uid = "uid-1234"
        cr.generation = 1
        cr.creationTimestamp = Date(timeIntervalSince1970: 1_700_000_000)
        return cr
    }

    /// A minimal CR with just the given functions and bindings (ODGM on, defaults elsewhere).
    static func simple(name: String = "demo-1", functions: [ClassRuntimeSpec.Function],
                       bindings: [ClassRuntimeSpec.Binding] = [], nfr: ClassRuntimeSpec.Nfr? = nil) -> ClassRuntime {
        var spec = ClassRuntimeSpec(packageClassKey: "demo.Thing", packageName: "demo", classKey: "Thing",
                                    targetEnv: env)
        spec.functions = functions
        spec.functionBindings = bindings
        spec.nfrRequirements = nfr
        spec.odgmConfig = ClassRuntimeSpec.OdgmConfig(collections: ["demo.Thing"], partitionCount: 2)
        return ClassRuntime(name: name, namespace: namespace, spec: spec, uid: "uid-demo", generation: 1)
    }

    static func container(_ key: String, image: String = "registry.local/fn:1", port: UInt32? = nil,
                          config: [String: String] = [:], minScale: UInt32? = nil,
                          maxScale: UInt32? = nil) -> ClassRuntimeSpec.Function {
        ClassRuntimeSpec.Function(
            functionKey: key,
            provisionConfig: ClassRuntimeSpec.ProvisionConfig(containerImage: image, port: port, minScale: minScale,
                                                              maxScale: maxScale),
            config: config)
    }

    static func context(profile: String = "dev", hpa: Bool = false, knative: Bool = false,
                        router: RouterEndpoint? = nil) -> RenderContext {
        var templates: Set<String> = ["dev", "edge", "cloud"]
        if knative { templates.insert("knative") }
        return RenderContext(namespace: namespace, envName: env, profile: profile, registeredTemplates: templates,
                             hpaEnabled: hpa, odgmImage: "registry.local/oaas:test", router: router)
    }
}

// MARK: - Digging into rendered children

extension RenderedChildren {
    func child(_ kind: String, _ name: String) -> DesiredChild? {
        children.first { $0.kind == kind && $0.name == name }
    }

    func children(_ kind: String) -> [DesiredChild] { children.filter { $0.kind == kind } }
}

extension KubeObject {
    /// The first container of a Deployment/StatefulSet/Knative Service.
    var container: JSONValue? { value(at: "spec", "template", "spec", "containers")?[0] }

    /// The container env as ordered (name, value) pairs (`valueFrom` entries have value "<ref>").
    var env: [(String, String)] {
        (container?["env"]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", $0["value"]?.stringValue ?? "<ref>")
        }
    }

    func envValue(_ name: String) -> String? { env.first { $0.0 == name }?.1 }
}
