import Foundation
import OaaSCore
import OaaSProto
import Storage

/// Run-time collection management for the local runtime (`oaas dev`).
public struct ODGMCollectionHost: CollectionHost {
    let node: ODGMNode

    public init(node: ODGMNode) {
        self.node = node
    }

    public func applyCollection(_ request: Oprc_CreateCollectionRequest) async throws -> CollectionChange {
        try node.upsertCollection(request)
    }

    public func dropCollection(named name: String, deleteData: Bool) async throws {
        try await node.dropCollection(named: name, deleteData: deleteData)
    }

    public func collectionNames() async -> [String] {
        node.allCollections.map(\.spec.name)
    }
}

extension ODGMNode {
    /// Creates `request`'s collection or swaps in its new definition; the partition layout is immutable.
    func upsertCollection(_ request: Oprc_CreateCollectionRequest) throws -> CollectionChange {
        guard let existing = collection(named: request.name) else {
            try createCollection(request, path: "collection '\(request.name)'", persist: true)
            return .created
        }
        let spec = try CollectionSpec(request, members: config.members, path: "collection '\(request.name)'")
        if existing.spec.request == spec.request { return .unchanged }
        guard spec.partitionCount == existing.spec.partitionCount,
              spec.replicaCount == existing.spec.replicaCount,
              spec.shardType == existing.spec.shardType,
              spec.options.storageBackend == existing.spec.options.storageBackend,
              spec.options.storagePath == existing.spec.options.storagePath
        else {
            throw OaaSError(.invalidArgument, "collection '\(request.name)': partition count, replica count, shard type and storage are immutable")
        }
        try replaceCollection(existing, with: spec)
        return .updated
    }
}
