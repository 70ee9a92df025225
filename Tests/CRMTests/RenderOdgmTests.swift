import Foundation
import Kube
import OaaSCore
import OaaSProto
import Testing

@testable import CRM

@Suite("CRM render: ODGM (§11.4)")
struct RenderOdgmTests {
    @Test("ODGM_COLLECTION for the spec example: counts, shard type, options, assignments and resolved routes")
    func collectionJSON() throws {
        let cr = try RenderFixtures.classRuntime()
        let rendered = try Renderer.render(cr, context: RenderFixtures.context())
        let parsed = try JSONValue(jsonData: Data(rendered.odgmCollectionJSON.utf8))
        let assignments = try #require(cr.spec.odgmConfig?.collectionAssignments["shop.Cart"])
        let expected: JSONValue = [[
            "name": "shop.Cart", "partition_count": 4, "replica_count": 3, "shard_type": "raft",
            "options": ["storage_backend": "lmdb"],
            "shard_assignments": .array(assignments.map { assignment in
                [
                    "primary": .int(Int64(assignment.primary ?? 0)),
                    "replica": .array(assignment.replica.map { .int(Int64($0)) }),
                    "shard_ids": .array(assignment.shardIds.map { .int(Int64($0)) }),
                ]
            }),
            "invocations": [
                "fn_routes": [
                    "add": [
                        "url": "wasm://Cart.add", "stateless": false, "standby": false, "active_group": [],
                        "wasm_module_url": "https://artifacts.example.com/cart-add.wasm", "wasm_fuel": 5_000_000,
                    ],
                    "total": [
                        "url": .string("http://\(cr.name)-fn-cart-total.oaas-1.svc.cluster.local/"),
                        "stateless": true, "standby": false, "active_group": [],
                    ],
                ],
                "disabled_fn": [],
            ],
        ]]
        #expect(parsed == expected)
        // Byte-stable and readable by ODGM's own decoder (data-plane §8.5 lenient input).
        #expect(rendered.odgmCollectionJSON == (try Renderer.render(cr, context: RenderFixtures.context())).odgmCollectionJSON)
        let elements = try #require(try JSONSerialization.jsonObject(with: Data(rendered.odgmCollectionJSON.utf8)) as? [Any])
        let decoded = try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, fromJSONObject: elements[0])
        #expect(decoded == OdgmCollections.requests(cr, routes: rendered.routes)[0])
        #expect(decoded.shardAssignments.count == 4)
    }

    @Test("defaults: one collection named after the class, counts 1, shard type none; bad assignments dropped")
    func collectionDefaults() throws {
        var cr = RenderFixtures.simple(functions: [])
        cr.spec.odgmConfig = ClassRuntimeSpec.OdgmConfig(
            partitionCount: 2, collectionAssignments: ["demo.Thing": [.init(primary: 9, replica: [1], shardIds: [1])]])
        let requests = OdgmCollections.requests(cr, routes: ResolvedRoutes())
        #expect(requests.count == 1)
        #expect(requests[0].name == "demo.Thing")
        #expect(requests[0].partitionCount == 2)
        #expect(requests[0].replicaCount == 1)
        #expect(requests[0].shardType == "none")
        #expect(requests[0].shardAssignments.isEmpty)
        #expect(OdgmCollections.isValid([.init(primary: 1, replica: [5], shardIds: [1]),
                                         .init(primary: 2, replica: [5], shardIds: [2])], partitions: 2, replicas: 1))
        #expect(!OdgmCollections.isValid([.init(primary: 1, replica: [5], shardIds: [1]),
                                          .init(primary: 1, replica: [5], shardIds: [1])], partitions: 2, replicas: 1))
        #expect(!OdgmCollections.isValid([.init(primary: 3, replica: [5], shardIds: [1])], partitions: 1, replicas: 1))
    }

    @Test("StatefulSet: replicas = local nodes, Parallel, headless serviceName, image, args, probes, env order")
    func statefulSet() throws {
        let cr = try RenderFixtures.classRuntime()
        var context = RenderFixtures.context(router: RouterEndpoint(service: "oaas-router", port: 17447))
        context.odgmExtraEnv = [("ODGM_EXTRA", "1"), ("ODGM_LOG", "debug")]
        context.odgmPullPolicy = "Always"
        let rendered = try Renderer.render(cr, context: context)
        let stsName = CRMNames.odgmStatefulSet(cr: cr.name)
        let sts = try #require(rendered.child("StatefulSet", stsName)).object
        let headless = CRMNames.odgmHeadless(cr: cr.name)
        #expect(sts.value(at: "spec", "replicas") == 3)
        #expect(sts.value(at: "spec", "serviceName") == .string(headless))
        #expect(sts.value(at: "spec", "podManagementPolicy") == "Parallel")
        let container = try #require(sts.container)
        #expect(container["name"] == "odgm")
        #expect(container["image"] == "registry.local/oaas:test")
        #expect(container["imagePullPolicy"] == "Always")
        #expect(container["args"] == ["serve", "--role", "odgm"])
        #expect(container["ports"] == [["name": "grpc", "containerPort": 8080]])
        #expect(container.value(at: "readinessProbe", "grpc", "port") == 8080)
        #expect(container.value(at: "livenessProbe", "tcpSocket", "port") == 8080)
        #expect(container["volumeMounts"] == [["name": "data", "mountPath": "/data/odgm"]])

        let ids = RenderFixtures.nodeIds
        let domain = "\(headless).oaas-1.svc.cluster.local"
        let env = sts.env
        #expect(env.map(\.0) == [
            "ODGM_CLUSTER_ID", "POD_NAME", "ODGM_NODE_ID_LIST", "ODGM_NODE_ADDR", "ODGM_MEMBERS", "ODGM_MEMBER_ADDRS",
            "ODGM_COLLECTION", "ODGM_LOG", "ODGM_HTTP_PORT", "ODGM_DATA_DIR", "OPRC_ROUTER_URL", "OPRC_ENV",
            "OPRC_CLS_ID", "OPRC_DEPLOYMENT_ID", "ODGM_EXTRA", "ODGM_LOG",
        ])
        #expect(container["env"]?[1] == ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]])
        #expect(sts.envValue("ODGM_CLUSTER_ID") == cr.name)
        #expect(sts.envValue("ODGM_NODE_ID_LIST") == ids.map(String.init).joined(separator: ","))
        #expect(sts.envValue("ODGM_NODE_ADDR") == "http://$(POD_NAME).\(domain):8080")
        #expect(sts.envValue("ODGM_MEMBERS") == ids.sorted().map(String.init).joined(separator: ","))
        #expect(sts.envValue("ODGM_MEMBER_ADDRS") == ids.enumerated()
            .map { "\($1)=http://\(stsName)-\($0).\(domain):8080" }.joined(separator: ","))
        #expect(sts.envValue("ODGM_COLLECTION") == rendered.odgmCollectionJSON)
        #expect(sts.envValue("ODGM_DATA_DIR") == "/data/odgm")
        #expect(sts.envValue("ODGM_HTTP_PORT") == "8080")
        #expect(sts.envValue("OPRC_ROUTER_URL") == "http://oaas-router.oaas-1.svc.cluster.local:17447")
        #expect(sts.envValue("OPRC_ENV") == "oaas-1")
        #expect(sts.envValue("OPRC_CLS_ID") == "shop.Cart")
    }

    @Test("one local node ⇒ ODGM_NODE_ID; other envs' nodes only in ODGM_MEMBERS")
    func singleLocalNode() throws {
        var cr = RenderFixtures.simple(functions: [])
        cr.spec.odgmConfig?.envNodeIds = ["oaas-1": [42], "oaas-2": [7]]
        let sts = try #require(try Renderer.render(cr, context: RenderFixtures.context()).children("StatefulSet").first).object
        #expect(sts.value(at: "spec", "replicas") == 1)
        #expect(sts.envValue("ODGM_NODE_ID") == "42")
        #expect(sts.envValue("ODGM_NODE_ID_LIST") == nil)
        #expect(sts.envValue("ODGM_MEMBERS") == "7,42")
        #expect(sts.envValue("ODGM_MEMBER_ADDRS") == "42=http://demo-1-odgm-0.demo-1-odgm-hl.oaas-1.svc.cluster.local:8080")
        // No ids at all: one node, ODGM picks its default id.
        cr.spec.odgmConfig?.envNodeIds = [:]
        let bare = try #require(try Renderer.render(cr, context: RenderFixtures.context()).children("StatefulSet").first).object
        #expect(bare.value(at: "spec", "replicas") == 1)
        #expect(bare.envValue("ODGM_NODE_ID") == nil)
        #expect(bare.envValue("ODGM_MEMBERS") == nil)
    }

    @Test("Services: headless (None, publishNotReadyAddresses) and client, both grpc 8080 = ODGM_SERVICE's port")
    func services() throws {
        let rendered = try Renderer.render(
            RenderFixtures.simple(functions: [RenderFixtures.container("Thing.a")]), context: RenderFixtures.context())
        let headless = try #require(rendered.child("Service", "demo-1-odgm-hl")).object
        #expect(headless.value(at: "spec", "clusterIP") == "None")
        #expect(headless.value(at: "spec", "publishNotReadyAddresses") == true)
        let client = try #require(rendered.child("Service", "demo-1-odgm-svc")).object
        #expect(client.value(at: "spec", "type") == "ClusterIP")
        let port = try #require(client.value(at: "spec", "ports")?[0])
        #expect(port == ["name": "grpc", "port": 8080, "targetPort": "grpc", "appProtocol": "kubernetes.io/h2c"])
        #expect(headless.value(at: "spec", "ports")?[0] == port)
        for service in [headless, client] {
            #expect(service.value(at: "spec", "selector") == ["app": "demo-1-odgm", "oaas.io/owner": "demo-1"])
            #expect(service.labels["oaas.io/component"] == "odgm")
        }
        let odgmService = try #require(rendered.children("Deployment").first?.object.envValue("ODGM_SERVICE"))
        #expect(odgmService == "demo-1-odgm-svc.oaas-1.svc.cluster.local:\(port["port"]?.intValue ?? -1)")
    }

    @Test("persistent ⇒ volumeClaimTemplates with a retention policy; otherwise emptyDir")
    func storage() throws {
        var cr = try RenderFixtures.classRuntime()
        var context = RenderFixtures.context()
        context.pvcSize = "5Gi"
        context.storageClass = "standard"
        func sts() throws -> KubeObject {
            try #require(try Renderer.render(cr, context: context).children("StatefulSet").first).object
        }
        var object = try sts()
        #expect(object.value(at: "spec", "volumeClaimTemplates") == [[
            "metadata": ["name": "data"],
            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "5Gi"]],
                     "storageClassName": "standard"],
        ]])
        #expect(object.value(at: "spec", "persistentVolumeClaimRetentionPolicy")
            == ["whenDeleted": "Delete", "whenScaled": "Retain"])
        #expect(object.value(at: "spec", "template", "spec", "volumes") == nil)

        cr.spec.odgmConfig?.persistence = .init(enabled: true, size: "20Gi", storageClass: "fast")
        cr.annotations[CRMKeys.retainData] = "true"
        object = try sts()
        #expect(object.value(at: "spec", "volumeClaimTemplates")?[0]?.value(at: "spec", "resources", "requests", "storage") == "20Gi")
        #expect(object.value(at: "spec", "volumeClaimTemplates")?[0]?.value(at: "spec", "storageClassName") == "fast")
        #expect(object.value(at: "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") == "Retain")
        cr.annotations[CRMKeys.retainData] = nil
        context.retainPVC = true
        #expect(try sts().value(at: "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") == "Retain")

        cr.spec.odgmConfig?.persistence = nil
        object = try sts()
        #expect(object.value(at: "spec", "volumeClaimTemplates") == nil)
        #expect(object.value(at: "spec", "persistentVolumeClaimRetentionPolicy") == nil)
        #expect(object.value(at: "spec", "template", "spec", "volumes") == [["name": "data", "emptyDir": [:]]])
    }

    @Test("cloud: PDB with ≥ 2 local nodes and preferred anti-affinity; dev: neither")
    func highAvailability() throws {
        var cr = try RenderFixtures.classRuntime()
        let cloud = try Renderer.render(cr, context: RenderFixtures.context())
        #expect(cloud.template.name == "cloud")
        let pdb = try #require(cloud.children("PodDisruptionBudget").first)
        #expect(pdb.name == CRMNames.odgmPDB(cr: cr.name))
        #expect(pdb.object.value(at: "spec", "selector", "matchLabels", "app") == .string(CRMNames.odgmStatefulSet(cr: cr.name)))
        let sts = try #require(cloud.children("StatefulSet").first).object
        #expect(sts.value(at: "spec", "template", "spec", "affinity", "podAntiAffinity") != nil)

        cr.spec.odgmConfig?.envNodeIds = ["oaas-1": [RenderFixtures.nodeIds[0]]]
        #expect(try Renderer.render(cr, context: RenderFixtures.context()).children("PodDisruptionBudget").isEmpty)

        cr.spec.selectedTemplate = "dev"
        cr.spec.odgmConfig?.envNodeIds = ["oaas-1": RenderFixtures.nodeIds]
        let dev = try Renderer.render(cr, context: RenderFixtures.context())
        #expect(dev.children("PodDisruptionBudget").isEmpty)
        #expect(dev.children("StatefulSet").first?.object.value(at: "spec", "template", "spec", "affinity") == nil)
    }

    @Test("ODGM off (CRM switch or spec addons): no StatefulSet, Services, routes or ODGM env")
    func odgmOff() throws {
        let fn = RenderFixtures.container("Thing.a")
        let cr = RenderFixtures.simple(functions: [fn], bindings: [.init(name: "a", functionKey: "Thing.a")])
        var switchedOff = RenderFixtures.context()
        switchedOff.odgmEnabled = false
        switchedOff.odgmImage = nil
        var withoutAddon = cr
        withoutAddon.spec.addons = ["metrics"]
        for (cr, context) in [(cr, switchedOff), (withoutAddon, RenderFixtures.context())] {
            let rendered = try Renderer.render(cr, context: context)
            #expect(rendered.children.map { "\($0.kind)/\($0.name)" } == [
                "Deployment/demo-1-fn-thing-a", "Service/demo-1-fn-thing-a",
            ])
            #expect(rendered.routes == ResolvedRoutes())
            #expect(rendered.odgmCollectionJSON == "[]")
            let env = try #require(rendered.children("Deployment").first).object.env.map(\.0)
            #expect(!env.contains { $0.hasPrefix("ODGM_") })
        }
    }

    @Test("ODGM on without an image is a render error")
    func missingImage() {
        var context = RenderFixtures.context()
        context.odgmImage = nil
        #expect(throws: CRMError.self) {
            try Renderer.render(RenderFixtures.simple(functions: []), context: context)
        }
    }

    @Test("every name ≤ 63 and the StatefulSet ≤ 47 for a 63-character ClassRuntime name")
    func longNames() throws {
        var unit = RenderFixtures.unit()
        unit.id = String(repeating: "a", count: 50) + "-" + String(repeating: "b", count: 12)
        var cr = try RenderFixtures.classRuntime(unit)
        #expect(cr.name.count == 63)
        cr.spec.functions[1].functionKey = "Cart.total-with-a-rather-long-function-key-name-that-goes-on"
        cr.spec.functionBindings[1].functionKey = cr.spec.functions[1].functionKey
        var context = RenderFixtures.context(hpa: true)
        context.router = RouterEndpoint(service: "oaas-router", port: 17447)
        let rendered = try Renderer.render(cr, context: context)
        #expect(rendered.children.count == 7)
        for child in rendered.children {
            #expect(child.name.count <= 63, "\(child.kind) \(child.name)")
            for (key, value) in child.object.labels {
                #expect(value.count <= 63, "\(child.name) label \(key)")
                #expect(CRMNames.isLabelValue(value), "\(child.name) label \(key)=\(value)")
            }
        }
        let sts = try #require(rendered.children("StatefulSet").first)
        #expect(sts.name.count <= 47)
        // `controller-revision-hash` = `<name>-<10 chars>` still fits in a label value.
        #expect(sts.name.count + 11 <= 63)
    }
}
