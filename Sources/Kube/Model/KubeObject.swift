import Foundation

/// One Kubernetes object of any kind: the JSON document plus typed access to the metadata every object shares.
///
/// Spec and status stay generic (`JSONValue`) because they differ per kind; callers that want types decode them with
/// `JSONValue.decode(as:)`.
public struct KubeObject: Sendable, Hashable {
    /// The whole document; always a JSON object.
    public private(set) var json: JSONValue

    /// Wraps a JSON object; anything else is rejected.
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw KubeError.decoding("a Kubernetes object must be a JSON object") }
        self.json = json
    }

    /// A new object with `apiVersion`, `kind` and `metadata.name`/`namespace` set.
    public init(apiVersion: String, kind: String, name: String, namespace: String? = nil) {
        var json: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": ["name": .string(name)]]
        if let namespace { json.setValue(.string(namespace), at: "metadata", "namespace") }
        self.json = json
    }

    /// A new object of `resource`'s kind.
    public init(_ resource: KubeResource, name: String, namespace: String? = nil) {
        self.init(apiVersion: resource.apiVersion, kind: resource.kind, name: name,
                  namespace: resource.namespaced ? namespace : nil)
    }

    public subscript(key: String) -> JSONValue? {
        get { json[key] }
        set { json[key] = newValue }
    }

    public func value(at path: String...) -> JSONValue? { json.value(at: path) }

    public mutating func setValue(_ value: JSONValue?, at path: String...) { json.setValue(value, at: path) }
}

// MARK: Top-level fields

extension KubeObject {
    public var apiVersion: String? {
        get { json["apiVersion"]?.stringValue }
        set { json["apiVersion"] = newValue.map(JSONValue.string) }
    }

    public var kind: String? {
        get { json["kind"]?.stringValue }
        set { json["kind"] = newValue.map(JSONValue.string) }
    }

    public var spec: JSONValue? {
        get { json["spec"] }
        set { json["spec"] = newValue }
    }

    public var status: JSONValue? {
        get { json["status"] }
        set { json["status"] = newValue }
    }

    public var metadata: JSONValue {
        get { json["metadata"] ?? .object([:]) }
        set { json["metadata"] = newValue }
    }
}

// MARK: Metadata

extension KubeObject {
    private func meta(_ key: String) -> JSONValue? { json.value(at: "metadata", key) }
    private mutating func setMeta(_ key: String, _ value: JSONValue?) { json.setValue(value, at: "metadata", key) }

    public var name: String {
        get { meta("name")?.stringValue ?? "" }
        set { setMeta("name", .string(newValue)) }
    }

    public var namespace: String? {
        get { meta("namespace")?.stringValue }
        set { setMeta("namespace", newValue.map(JSONValue.string)) }
    }

    public var uid: String? { meta("uid")?.stringValue }

    /// Opaque; send it back unchanged to make a write conditional on nobody else having written since.
    public var resourceVersion: String? {
        get { meta("resourceVersion")?.stringValue }
        set { setMeta("resourceVersion", newValue.map(JSONValue.string)) }
    }

    public var generation: Int64? { meta("generation")?.intValue }

    public var creationTimestamp: Date? { meta("creationTimestamp")?.stringValue.flatMap(KubeTime.parse) }

    /// Set by the server when deletion was requested but finalizers remain.
    public var deletionTimestamp: Date? { meta("deletionTimestamp")?.stringValue.flatMap(KubeTime.parse) }

    public var isBeingDeleted: Bool { meta("deletionTimestamp").map { !$0.isNull } ?? false }

    public var labels: [String: String] {
        get { Self.stringMap(meta("labels")) }
        set { setMeta("labels", newValue.isEmpty ? nil : JSONValue(newValue)) }
    }

    public var annotations: [String: String] {
        get { Self.stringMap(meta("annotations")) }
        set { setMeta("annotations", newValue.isEmpty ? nil : JSONValue(newValue)) }
    }

    public var finalizers: [String] {
        get { meta("finalizers")?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { setMeta("finalizers", newValue.isEmpty ? nil : JSONValue(newValue)) }
    }

    public var ownerReferences: [OwnerReference] {
        get { (try? meta("ownerReferences")?.decode(as: [OwnerReference].self)) ?? [] }
        set {
            let encoded = newValue.isEmpty ? nil : try? JSONValue(encoding: newValue)
            setMeta("ownerReferences", encoded)
        }
    }

    /// Server-side apply bookkeeping: which manager owns which fields.
    public var managedFields: [ManagedFieldsEntry] {
        (try? meta("managedFields")?.decode(as: [ManagedFieldsEntry].self)) ?? []
    }

    /// An owner reference pointing at this object (for children it creates).
    public func ownerReference(controller: Bool = true, blockOwnerDeletion: Bool = true) -> OwnerReference? {
        guard let apiVersion, let kind, let uid else { return nil }
        return OwnerReference(apiVersion: apiVersion, kind: kind, name: name, uid: uid,
                              controller: controller, blockOwnerDeletion: blockOwnerDeletion)
    }

    private static func stringMap(_ value: JSONValue?) -> [String: String] {
        guard let object = value?.objectValue else { return [:] }
        return object.compactMapValues(\.stringValue)
    }
}

extension KubeObject: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

/// `metadata.ownerReferences[]`.
public struct OwnerReference: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String,
                controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// `metadata.managedFields[]` (the field set itself stays JSON: it is the server's `FieldsV1` trie).
public struct ManagedFieldsEntry: Sendable, Hashable, Codable {
    public var manager: String?
    /// `Apply` or `Update`.
    public var operation: String?
    public var apiVersion: String?
    public var time: String?
    public var subresource: String?
    public var fieldsType: String?
    public var fieldsV1: JSONValue?
}

/// A page of a list call.
public struct KubeList: Sendable, Hashable {
    public var items: [KubeObject]
    /// The collection's version at the time of the list: start a watch here to miss nothing.
    public var resourceVersion: String
    /// Non-nil when more pages follow (`limit` was set).
    public var continueToken: String?

    public init(items: [KubeObject], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }
}
