import Kube

/// The objects of one container function (control-plane spec §11.1, §11.3): Deployment + Service (+ HPA), or a
/// Knative Service under the knative template.
struct FunctionRenderer {
    let factory: ChildFactory
    let traits: TemplateTraits
    let env: FunctionEnv

    var cr: ClassRuntime { factory.cr }
    var context: RenderContext { factory.context }

    func render(_ function: ClassRuntimeSpec.Function, image: String) -> (children: [DesiredChild], warnings: [String]) {
        let key = function.functionKey
        let name = CRMNames.functionChild(cr: cr.name, functionKey: key)
        let port = FunctionEnv.port(function)
        let (envVars, warnings) = env.render(function, port: port, cr: cr, child: name, context: context)
        let replicas = traits.replicas(function, nfr: cr.spec.nfrRequirements, context: context)
        let labels = factory.labels(name, component: "function", functionKey: key)
        let enforced = { (dimension: String) in
            context.enforcedFields.contains(EnforcedField(functionKey: key, dimension: dimension))
        }
        var container: JSONValue = [
            "name": "function", "image": .string(image), "env": .array(envVars),
        ]
        if let resources = resources(function, omitCPU: enforced("cpu"), omitMemory: enforced("memory")) {
            container["resources"] = resources
        }

        func child(_ resource: KubeResource, _ object: KubeObject, workload: Bool) -> DesiredChild {
            DesiredChild(resource: resource, object: ChildFactory.stamped(object), component: "function",
                         functionKey: key, workload: workload)
        }

        if traits.isKnative {
            container["ports"] = [["name": "h2c", "containerPort": .int(Int64(port))]]
            // Cluster-local: ODGM and the gateway reach it inside the cluster only.
            var serviceLabels = labels
            serviceLabels["networking.knative.dev/visibility"] = "cluster-local"
            var object = factory.object(.knativeServices, name: name, labels: serviceLabels)
            var annotations: [String: String] = [:]
            if !enforced("replicas") { annotations["autoscaling.knative.dev/minScale"] = String(replicas) }
            if let maxScale = function.provisionConfig?.maxScale {
                annotations["autoscaling.knative.dev/maxScale"] = String(maxScale)
            }
            if function.provisionConfig?.needHttp2 == true { annotations["networking.knative.dev/http2"] = "true" }
            var podSpec: JSONValue = ["containers": [container]]
            if let concurrency = function.provisionConfig?.maxConcurrency, concurrency > 0 {
                podSpec["containerConcurrency"] = .int(Int64(concurrency))
            }
            object.spec = ["template": ["metadata": ["labels": JSONValue(labels), "annotations": JSONValue(annotations)],
                                        "spec": podSpec]]
            return ([child(.knativeServices, object, workload: true)], warnings)
        }

        container["ports"] = [["name": "grpc", "containerPort": .int(Int64(port))]]
        if let policy = traits.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        container["readinessProbe"] = [
            "tcpSocket": ["port": .int(Int64(port))], "periodSeconds": 5, "failureThreshold": 3,
        ]
        if traits.functionLiveness {
            container["livenessProbe"] = [
                "tcpSocket": ["port": .int(Int64(port))], "initialDelaySeconds": 15, "periodSeconds": 10,
            ]
        }
        let hpa = traits.wantsHPA(function, context: context)
        let podAnnotations = ChildFactory.podAnnotations(
            metricsPort: port, http2: function.provisionConfig?.needHttp2 == true)
        var deployment = factory.object(.deployments, name: name, labels: labels)
        var spec: JSONValue = [
            "selector": ["matchLabels": JSONValue(factory.selector(name))],
            "template": [
                "metadata": ["labels": JSONValue(labels), "annotations": JSONValue(podAnnotations)],
                "spec": ["containers": [container]],
            ],
        ]
        // An HPA (or the enforcer) owns the replica count; leaving it out keeps the apply from fighting it.
        if !hpa, !enforced("replicas") { spec["replicas"] = .int(Int64(replicas)) }
        if let strategy = traits.deploymentStrategy { spec["strategy"] = strategy }
        deployment.spec = spec

        var service = factory.object(.services, name: name, labels: labels)
        service.spec = [
            "type": "ClusterIP",
            "selector": JSONValue(factory.selector(name)),
            "ports": [["name": "grpc", "port": 80, "targetPort": "grpc", "appProtocol": "kubernetes.io/h2c"]],
        ]
        var children = [child(.deployments, deployment, workload: true), child(.services, service, workload: false)]
        if hpa {
            children.append(child(.horizontalPodAutoscalers,
                                  autoscaler(function, name: name, labels: labels, replicas: replicas,
                                             omitMin: enforced("replicas")),
                                  workload: false))
        }
        return (children, warnings)
    }

    /// requests: spec, else template default; limits: spec only. Enforcer-owned requests are left out.
    private func resources(_ function: ClassRuntimeSpec.Function, omitCPU: Bool, omitMemory: Bool) -> JSONValue? {
        let config = function.provisionConfig
        var requests: [String: String] = [:]
        if !omitCPU, let cpu = config?.cpuRequest ?? traits.functionRequests?.cpu { requests["cpu"] = cpu }
        if !omitMemory, let memory = config?.memoryRequest ?? traits.functionRequests?.memory {
            requests["memory"] = memory
        }
        var limits: [String: String] = [:]
        if let cpu = config?.cpuLimit { limits["cpu"] = cpu }
        if let memory = config?.memoryLimit { limits["memory"] = memory }
        var resources: JSONValue = [:]
        if !requests.isEmpty { resources["requests"] = JSONValue(requests) }
        if !limits.isEmpty { resources["limits"] = JSONValue(limits) }
        return resources == [:] ? nil : resources
    }

    /// autoscaling/v2 on CPU: minReplicas R, maxReplicas max(max_scale or LIMITS_MAX_REPLICAS, R), target
    /// round(cpu_utilization_target × 100) (default 70).
    private func autoscaler(_ function: ClassRuntimeSpec.Function, name: String, labels: [String: String],
                            replicas: Int, omitMin: Bool) -> KubeObject {
        let maxReplicas = max(Int(function.provisionConfig?.maxScale ?? UInt32(clamping: context.maxReplicas)), replicas)
        let target = cr.spec.nfrRequirements?.cpuUtilizationTarget
            ?? function.nfrRequirements?.cpuUtilizationTarget ?? 0.7
        var object = factory.object(.horizontalPodAutoscalers, name: name, labels: labels)
        var spec: JSONValue = [
            "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name)],
            "maxReplicas": .int(Int64(maxReplicas)),
            "metrics": [[
                "type": "Resource",
                "resource": [
                    "name": "cpu",
                    "target": ["type": "Utilization", "averageUtilization": .int(Int64((target * 100).rounded()))],
                ],
            ]],
        ]
        if !omitMin { spec["minReplicas"] = .int(Int64(replicas)) }
        object.spec = spec
        return object
    }
}
