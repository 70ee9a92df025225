import Foundation
import Kube

/// One ClassRuntime custom resource (control-plane spec §10): metadata the CRM reads and writes, plus the typed
/// spec and status.
public struct ClassRuntime: Sendable, Equatable {
    public static let resource: KubeResource = .classRuntimes

    public var name: String
    public var namespace: String
    public var uid: String?
    public var resourceVersion: String?
    /// 0 until the API server assigns one.
    public var generation: Int64
    public var creationTimestamp: Date?
    public var deletionTimestamp: Date?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var finalizers: [String]
    public var spec: ClassRuntimeSpec
    public var status: ClassRuntimeStatus?

    public init(
        name: String, namespace: String, spec: ClassRuntimeSpec, status: ClassRuntimeStatus? = nil,
        uid: String? = nil, resourceVersion: String? = nil, generation: Int64 = 0, creationTimestamp: Date? = nil,
        deletionTimestamp: Date? = nil, labels: [String: String] = [:], annotations: [String: String] = [:],
        finalizers: [String] = []
    ) {
        self.name = name
        self.namespace = namespace
        self.spec = spec
        self.status = status
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.labels = labels
        self.annotations = annotations
        self.finalizers = finalizers
    }

    /// Reads a ClassRuntime as the API server returns it. A missing or malformed spec throws INTERNAL naming the
    /// field (`ClassRuntime ns/name: spec.functions[0].function_key: required field is missing`); the status is
    /// decoded leniently (see `ClassRuntimeStatus`).
    public init(object: KubeObject) throws(CRMError) {
        let name = object.name
        let namespace = object.namespace ?? ""
        let root = "ClassRuntime \(namespace)/\(name): spec"
        guard let specJSON = object.spec, !specJSON.isNull else {
            throw .internalError("\(root): required field is missing")
        }
        let spec = try CRMJSON.decode(specJSON, as: ClassRuntimeSpec.self, root: root)
        var status: ClassRuntimeStatus?
        if let statusJSON = object.status, statusJSON.objectValue != nil {
            status = try? statusJSON.decode(as: ClassRuntimeStatus.self)
        }
        self.init(
            name: name, namespace: namespace, spec: spec, status: status, uid: object.uid,
            resourceVersion: object.resourceVersion, generation: object.generation ?? 0,
            creationTimestamp: object.creationTimestamp, deletionTimestamp: object.deletionTimestamp,
            labels: object.labels, annotations: object.annotations, finalizers: object.finalizers)
    }

    /// What Deploy server-side-applies: apiVersion, kind, metadata (name, namespace, labels, annotations,
    /// finalizers) and spec. No status, uid or resourceVersion: apply owns only the fields it sends.
    public func applyObject() -> KubeObject {
        var object = KubeObject(Self.resource, name: name, namespace: namespace)
        object.labels = labels
        object.annotations = annotations
        object.finalizers = finalizers
        object.spec = specJSON
        return object
    }

    /// The whole object as read (metadata, spec and status), e.g. for the local runtime's record store.
    public func kubeObject() -> KubeObject {
        var object = applyObject()
        object.setValue(uid.map(JSONValue.string), at: "metadata", "uid")
        object.resourceVersion = resourceVersion
        if generation > 0 { object.setValue(.int(generation), at: "metadata", "generation") }
        object.setValue(creationTimestamp.map { .string(KubeTime.format($0)) }, at: "metadata", "creationTimestamp")
        object.setValue(deletionTimestamp.map { .string(KubeTime.format($0)) }, at: "metadata", "deletionTimestamp")
        object.status = status.map(CRMJSON.encode)
        return object
    }

    public var specJSON: JSONValue { CRMJSON.encode(spec) }

    /// The status as JSON, for a `/status` merge patch (`{"status": ...}`). Absent optional fields are omitted, so a
    /// merge patch leaves analyzer/enforcer fields the reconciler does not set untouched.
    public var statusJSON: JSONValue? { status.map(CRMJSON.encode) }

    /// Owner reference for the CR's children (`controller`, `blockOwnerDeletion`); nil before the CR has a uid.
    public var ownerReference: OwnerReference? {
        guard let uid else { return nil }
        return OwnerReference(apiVersion: Self.resource.apiVersion, kind: Self.resource.kind, name: name, uid: uid,
                              controller: true, blockOwnerDeletion: true)
    }

    /// `oaas.io/deployment-id`, else the name (the unit id PM knows this runtime by).
    public var deploymentId: String { labels[CRMKeys.deploymentId] ?? name }

    /// `oaas.io/revision` as written by Deploy.
    public var revision: UInt64? { annotations[CRMKeys.revision].flatMap { UInt64($0) } }

    public var isBeingDeleted: Bool { deletionTimestamp != nil }
}
