import Kube

/// The ODGM of one ClassRuntime (control-plane spec §11.4): a StatefulSet, a headless Service for peers, a client
/// Service for functions and the router, and under cloud/knative a PDB (≥ 2 local nodes) and preferred
/// anti-affinity. Never a sidecar.
struct OdgmRenderer {
    static let port: Int64 = 8080
    static let dataDir = "/data/odgm"

    let factory: ChildFactory
    let traits: TemplateTraits
    let collectionJSON: String

    var cr: ClassRuntime { factory.cr }
    var context: RenderContext { factory.context }

    func render(image: String) -> [DesiredChild] {
        let name = CRMNames.odgmStatefulSet(cr: cr.name)
        let headless = CRMNames.odgmHeadless(cr: cr.name)
        let client = CRMNames.odgmService(cr: cr.name)
        let nodes = max(1, OdgmEnv.localNodes(cr.spec).count)
        let selector = JSONValue(factory.selector(name))

        var children = [
            child(.statefulSets, statefulSet(name: name, headless: headless, image: image, nodes: nodes), workload: true),
            child(.services, service(headless, selector: selector, headless: true), workload: false),
            child(.services, service(client, selector: selector, headless: false), workload: false),
        ]
        if traits.odgmHighAvailability, nodes >= 2 {
            let pdbName = CRMNames.odgmPDB(cr: cr.name)
            var pdb = factory.object(.podDisruptionBudgets, name: pdbName, labels: factory.labels(pdbName, component: "odgm"))
            pdb.spec = ["maxUnavailable": 1, "selector": ["matchLabels": selector]]
            children.append(child(.podDisruptionBudgets, pdb, workload: false))
        }
        return children
    }

    private func child(_ resource: KubeResource, _ object: KubeObject, workload: Bool) -> DesiredChild {
        DesiredChild(resource: resource, object: ChildFactory.stamped(object), component: "odgm", functionKey: nil,
                     workload: workload)
    }

    private func statefulSet(name: String, headless: String, image: String, nodes: Int) -> KubeObject {
        let labels = factory.labels(name, component: "odgm")
        let env = OdgmEnv(cr: cr, context: context, statefulSet: name, headless: headless,
                          collectionJSON: collectionJSON).render()
        var container: JSONValue = [
            "name": "odgm", "image": .string(image), "args": ["serve", "--role", "odgm"],
            "ports": [["name": "grpc", "containerPort": .int(Self.port)]],
            "env": .array(env),
            "readinessProbe": ["grpc": ["port": .int(Self.port)], "periodSeconds": 5, "failureThreshold": 3],
            "livenessProbe": ["tcpSocket": ["port": .int(Self.port)], "initialDelaySeconds": 15, "periodSeconds": 10],
            "volumeMounts": [["name": "data", "mountPath": .string(Self.dataDir)]],
        ]
        if let policy = context.odgmPullPolicy ?? traits.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        if let requests = traits.odgmRequests {
            container["resources"] = ["requests": ["cpu": .string(requests.cpu), "memory": .string(requests.memory)]]
        }
        var podSpec: JSONValue = ["containers": [container]]
        if traits.odgmHighAvailability {
            podSpec["affinity"] = ["podAntiAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [[
                "weight": 100,
                "podAffinityTerm": [
                    "labelSelector": ["matchLabels": JSONValue(factory.selector(name))],
                    "topologyKey": "kubernetes.io/hostname",
                ],
            ]]]]
        }
        var spec: JSONValue = [
            "replicas": .int(Int64(nodes)),
            "serviceName": .string(headless),
            "podManagementPolicy": "Parallel",
            "selector": ["matchLabels": JSONValue(factory.selector(name))],
        ]
        let persistence = cr.spec.odgmConfig?.persistence
        if persistence?.enabled == true {
            var claim: JSONValue = [
                "accessModes": ["ReadWriteOnce"],
                "resources": ["requests": ["storage": .string(persistence?.size ?? context.pvcSize)]],
            ]
            if let storageClass = persistence?.storageClass ?? context.storageClass {
                claim["storageClassName"] = .string(storageClass)
            }
            spec["volumeClaimTemplates"] = [["metadata": ["name": "data"], "spec": claim]]
            let retain = context.retainPVC || cr.annotations[CRMKeys.retainData]?.lowercased() == "true"
            spec["persistentVolumeClaimRetentionPolicy"] = [
                "whenDeleted": retain ? "Retain" : "Delete", "whenScaled": "Retain",
            ]
        } else {
            podSpec["volumes"] = [["name": "data", "emptyDir": [:]]]
        }
        spec["template"] = [
            "metadata": [
                "labels": JSONValue(labels),
                "annotations": JSONValue(ChildFactory.podAnnotations(metricsPort: Int(Self.port), http2: false)),
            ],
            "spec": podSpec,
        ]
        var object = factory.object(.statefulSets, name: name, labels: labels)
        object.spec = spec
        return object
    }

    /// Both Services expose only `grpc` 8080 (h2c): clients, peers and the router all speak gRPC there.
    private func service(_ name: String, selector: JSONValue, headless: Bool) -> KubeObject {
        var object = factory.object(.services, name: name, labels: factory.labels(name, component: "odgm"))
        var spec: JSONValue = [
            "selector": selector,
            "ports": [[
                "name": "grpc", "port": .int(Self.port), "targetPort": "grpc", "appProtocol": "kubernetes.io/h2c",
            ]],
        ]
        if headless {
            spec["clusterIP"] = "None"
            spec["publishNotReadyAddresses"] = true
        } else {
            spec["type"] = "ClusterIP"
        }
        object.spec = spec
        return object
    }
}
