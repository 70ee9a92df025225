import Foundation
import GRPCCore
import OaaSProto

/// Whole-object calls: Get, Merge, Delete.
extension ObjectHandle {
    /// The whole object; nil if it does not exist.
    public func fetch() async throws -> StoredObject? {
        var request = Oprc_SingleObjectRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = partition
        do {
            return try await client.call("Get \(path)") { service, metadata, options in
                try await service.get(request: ClientRequest(message: request, metadata: metadata), options: options) {
                    StoredObject(try $0.message, fallbackVersion: Self.headerVersion(of: $0))
                }
            }
        } catch let error as DataServiceError where error.isMissingObject {
            return nil
        }
    }

    /// Adds or overwrites the given entries and keeps the others, creating the object if needed;
    /// returns the merged object.
    @discardableResult
    public func merge(_ values: [EntryKey: Data]) async throws -> StoredObject {
        let operation = "Merge \(path)"
        var object = Oprc_ObjData()
        for (key, data) in values {
            let value = Oprc_ValData.with { $0.data = data }
            switch key {
            case .numeric(let key): object.entries[key] = value
            case .string(let key): object.entriesStr[key] = value
            }
        }
        var request = Oprc_SetObjectRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = try signedPartition(operation)
        request.object = object
        return try await client.call(operation) { service, metadata, options in
            try await service.merge(request: ClientRequest(message: request, metadata: metadata), options: options) {
                StoredObject(try $0.message, fallbackVersion: Self.headerVersion(of: $0))
            }
        }
    }

    /// ``merge(_:)`` with UTF-8 text values.
    @discardableResult
    public func merge(_ values: [EntryKey: String]) async throws -> StoredObject {
        try await merge(values.mapValues { Data($0.utf8) })
    }

    /// Deletes the object; false if it did not exist.
    @discardableResult
    public func deleteObject() async throws -> Bool {
        var request = Oprc_SingleObjectRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = partition
        do {
            try await client.call("Delete \(path)") { service, metadata, options in
                _ = try await service.delete(request, metadata: metadata, options: options)
            }
            return true
        } catch let error as DataServiceError where error.isMissingObject {
            return false
        }
    }
}
