import Kube

/// One change the enforcer is about to make: the apply body and what it changes.
struct NFRPlan: Sendable {
    var resource: KubeResource
    /// Server-side-apply body for manager `oprc-crm-enforcer`.
    var object: KubeObject
    /// The live value; nil when unset (a container without that request).
    var current: Int?
    /// The value to write (replicas: stepped and clamped).
    var value: Int
    /// The cap that lowered the stepped value (`NFRClampedMax`).
    var clampedTo: Int?
    /// Where the value goes, for messages (`Deployment cart-fn-add spec.replicas`).
    var field: String

    var changes: Bool { current != value }
}

/// A dimension the enforcer cannot set on this workload (reported as `NFRApplyFailed`).
struct NFRUnsupported: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// The objects that carry one function's enforced values (control-plane spec §12 "Targets"): replicas go to the HPA's
/// `minReplicas` when an HPA exists, else the Knative revision's `minScale` annotation, else the Deployment's
/// `spec.replicas`; cpu/memory requests go to the Deployment's `function` container.
struct NFRWorkload: Sendable {
    static let containerName = "function"
    static let minScaleAnnotation = "autoscaling.knative.dev/minScale"
    static let maxScaleAnnotation = "autoscaling.knative.dev/maxScale"

    let namespace: String
    /// The function child name (Deployment, HPA, Knative Service and Service share it).
    let child: String
    var hpa: KubeObject?
    var knative: KubeObject?
    var deployment: KubeObject?

    /// Reads the function's live workload objects; the Knative Service only under the knative template (elsewhere
    /// it does not exist and the API may not even be served).
    static func load(client: KubeClient, namespace: String, child: String, template: String) async throws
        -> NFRWorkload
    {
        var workload = NFRWorkload(namespace: namespace, child: child)
        if template == TemplateSelector.knative {
            workload.knative = try await client.getIfPresent(.knativeServices, namespace: namespace, name: child)
        } else {
            workload.hpa = try await client.getIfPresent(.horizontalPodAutoscalers, namespace: namespace, name: child)
            workload.deployment = try await client.getIfPresent(.deployments, namespace: namespace, name: child)
        }
        return workload
    }

    /// Takes the server's answer to an apply, so a second dimension on the same object starts from it.
    mutating func update(_ resource: KubeResource, _ stored: KubeObject) {
        switch resource {
        case .horizontalPodAutoscalers: hpa = stored
        case .knativeServices: knative = stored
        default: deployment = stored
        }
    }

    /// Whether the reconciler (`oprc-crm`) owns the field `dimension` is enforced on, and the enforcer does not: its
    /// apply overwrote an enforced value (a resync that raced with the enforcer's write).
    func takenOverByReconciler(_ dimension: NFRDimension) -> Bool {
        let (object, path): (KubeObject?, [String]) = switch dimension {
        case .replicas:
            if hpa != nil { (hpa, NFRFieldOwnership.hpaMinReplicas) }
            else if knative != nil { (knative, NFRFieldOwnership.knativeMinScale) }
            else { (deployment, NFRFieldOwnership.deploymentReplicas) }
        case .cpu, .memory:
            (deployment, NFRFieldOwnership.containerRequest(dimension.rawValue))
        }
        return NFRFieldOwnership.owns(object, path: path, manager: CRMKeys.fieldManager)
            && !NFRFieldOwnership.owns(object, path: path)
    }

    /// Dimensions the enforcer owns on these objects (see `NFRFieldOwnership`).
    static func enforcerOwned(deployment: KubeObject?, hpa: KubeObject?, knative: KubeObject?) -> Set<NFRDimension> {
        var owned = Set<NFRDimension>()
        if NFRFieldOwnership.owns(hpa, path: NFRFieldOwnership.hpaMinReplicas)
            || NFRFieldOwnership.owns(knative, path: NFRFieldOwnership.knativeMinScale)
            || NFRFieldOwnership.owns(deployment, path: NFRFieldOwnership.deploymentReplicas)
        {
            owned.insert(.replicas)
        }
        if NFRFieldOwnership.owns(deployment, path: NFRFieldOwnership.containerRequest("cpu")) { owned.insert(.cpu) }
        if NFRFieldOwnership.owns(deployment, path: NFRFieldOwnership.containerRequest("memory")) {
            owned.insert(.memory)
        }
        return owned
    }

    // MARK: Planning

    /// The change that moves `dimension` toward `target`; nil when the function has no workload yet (the reconciler
    /// creates it; the next tick enforces). Replicas move at most `maxDeltaPercent` % of the current value (at least
    /// 1; nil = straight to the target) and stay within [1, `maxReplicas`] (and the HPA's `maxReplicas` / Knative
    /// `maxScale`, which the API would otherwise reject).
    func plan(_ dimension: NFRDimension, target: Int, maxReplicas: Int, maxDeltaPercent: Int?) throws(NFRUnsupported)
        -> NFRPlan?
    {
        switch dimension {
        case .replicas:
            return replicaPlan(target: target, maxReplicas: maxReplicas, maxDeltaPercent: maxDeltaPercent)
        case .cpu, .memory:
            if knative != nil {
                // Knative's containers list is atomic for server-side apply: a partial container would replace it.
                throw NFRUnsupported(description:
                    "\(dimension.rawValue) requests of Knative Service \(child) are not enforced (set them in the unit)")
            }
            guard deployment != nil else { return nil }
            let resource = dimension.rawValue
            let current = requestText(resource).flatMap {
                dimension == .cpu ? KubeQuantity.millicores($0) : KubeQuantity.bytes($0)
            }
            let text = dimension == .cpu ? KubeQuantity.cpuText(millicores: target) : KubeQuantity.memoryText(bytes: target)
            return NFRPlan(resource: .deployments, object: deploymentBody(set: dimension, replicas: nil, request: text),
                           current: current, value: target, clampedTo: nil,
                           field: "Deployment \(child) container \(Self.containerName) requests.\(resource)")
        }
    }

    private func replicaPlan(target: Int, maxReplicas: Int, maxDeltaPercent: Int?) -> NFRPlan? {
        func step(current: Int, cap: Int) -> (value: Int, clampedTo: Int?) {
            NFRMath.nextReplicas(current: current, target: target, maxDeltaPercent: maxDeltaPercent, upperBound: cap)
        }
        if let hpa {
            let current = Self.int(hpa.spec?["minReplicas"]) ?? 1
            let cap = min(maxReplicas, Self.int(hpa.spec?["maxReplicas"]) ?? maxReplicas)
            let (value, clamped) = step(current: current, cap: cap)
            var object = KubeObject(.horizontalPodAutoscalers, name: child, namespace: namespace)
            object.spec = ["minReplicas": .int(Int64(value))]
            return NFRPlan(resource: .horizontalPodAutoscalers, object: object, current: current, value: value,
                           clampedTo: clamped, field: "HorizontalPodAutoscaler \(child) spec.minReplicas")
        }
        if let knative {
            let annotations = knative.value(at: "spec", "template", "metadata", "annotations")
            let current = annotations?[Self.minScaleAnnotation]?.stringValue.flatMap { Int($0) } ?? 0
            var cap = maxReplicas
            if let maxScale = annotations?[Self.maxScaleAnnotation]?.stringValue.flatMap({ Int($0) }), maxScale > 0 {
                cap = min(cap, maxScale)
            }
            let (value, clamped) = step(current: current, cap: cap)
            var object = KubeObject(.knativeServices, name: child, namespace: namespace)
            object.spec = ["template": ["metadata": ["annotations": [Self.minScaleAnnotation: .string(String(value))]]]]
            return NFRPlan(resource: .knativeServices, object: object, current: current, value: value,
                           clampedTo: clamped,
                           field: "Knative Service \(child) annotation \(Self.minScaleAnnotation)")
        }
        if let deployment {
            let current = Self.int(deployment.spec?["replicas"]) ?? 1
            let (value, clamped) = step(current: current, cap: maxReplicas)
            return NFRPlan(resource: .deployments, object: deploymentBody(set: .replicas, replicas: value, request: nil),
                           current: current, value: value, clampedTo: clamped,
                           field: "Deployment \(child) spec.replicas")
        }
        return nil
    }

    /// A Deployment apply body that sets one dimension and restates every other field the enforcer already owns on
    /// it at its live value: server-side apply removes owned fields a manager leaves out.
    private func deploymentBody(set dimension: NFRDimension, replicas: Int?, request: String?) -> KubeObject {
        let owned = Self.enforcerOwned(deployment: deployment, hpa: nil, knative: nil)
        var spec: JSONValue = [:]
        if dimension == .replicas, let replicas {
            spec["replicas"] = .int(Int64(replicas))
        } else if owned.contains(.replicas), let live = deployment?.spec?["replicas"] {
            spec["replicas"] = live
        }
        var requests: [String: String] = [:]
        for resource in [NFRDimension.cpu, .memory] {
            if dimension == resource, let request {
                requests[resource.rawValue] = request
            } else if owned.contains(resource), let live = requestText(resource.rawValue) {
                requests[resource.rawValue] = live
            }
        }
        if !requests.isEmpty {
            spec["template"] = ["spec": ["containers": [[
                "name": .string(Self.containerName), "resources": ["requests": JSONValue(requests)],
            ]]]]
        }
        var object = KubeObject(.deployments, name: child, namespace: namespace)
        object.spec = spec
        return object
    }

    /// `requests.<resource>` of the Deployment's `function` container, as written.
    private func requestText(_ resource: String) -> String? {
        let containers = deployment?.value(at: "spec", "template", "spec", "containers")?.arrayValue ?? []
        let container = containers.first { $0["name"]?.stringValue == Self.containerName }
        return container?.value(at: ["resources", "requests", resource])?.stringValue
    }

    private static func int(_ value: JSONValue?) -> Int? {
        value?.intValue.flatMap { Int(exactly: $0) }
    }
}

extension NFRMath {
    /// The next replica count toward `target`: at most max(1, current × `maxDeltaPercent` / 100) away from
    /// `current` (nil: no bound), then clamped to [1, `upperBound`]. `clampedTo` is set when the cap lowered the value.
    static func nextReplicas(current: Int, target: Int, maxDeltaPercent: Int?, upperBound: Int)
        -> (value: Int, clampedTo: Int?)
    {
        let base = min(max(current, 0), 1_000_000)
        var stepped = target
        if let maxDeltaPercent {
            let bound = max(1, base * max(0, min(maxDeltaPercent, 10_000)) / 100)
            stepped = base + min(max(target - base, -bound), bound)
        }
        let cap = max(1, upperBound)
        return (min(max(stepped, 1), cap), stepped > cap ? cap : nil)
    }
}
