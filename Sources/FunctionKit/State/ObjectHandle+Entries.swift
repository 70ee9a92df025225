import Foundation
import GRPCCore
import OaaSProto

/// Reads and writes of single entries and batches.
extension ObjectHandle {
    /// The value bytes of one entry; nil if the entry or the object does not exist.
    public func get(_ key: EntryKey) async throws -> Data? {
        var request = Oprc_SingleKeyRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = partition
        request.setKey(key)
        do {
            let response = try await client.call(describe("GetValue", key)) { service, metadata, options in
                try await service.getValue(request, metadata: metadata, options: options)
            }
            return response.hasValue ? response.value.data : nil
        } catch let error as DataServiceError where error.isMissingObject {
            return nil
        }
    }

    /// One entry decoded as UTF-8 (invalid sequences become U+FFFD); nil if absent.
    public func string(_ key: EntryKey) async throws -> String? {
        try await get(key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Upserts one entry (creating the object if needed) and returns the new version.
    @discardableResult
    public func set(_ key: EntryKey, _ value: Data) async throws -> UInt64 {
        let operation = describe("SetValue", key)
        var request = Oprc_SetKeyRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = try signedPartition(operation)
        request.setKey(key)
        request.value = Oprc_ValData.with { $0.data = value }
        return try await client.call(operation) { service, metadata, options in
            try await service.setValue(request: ClientRequest(message: request, metadata: metadata), options: options) {
                try Self.version(of: $0)
            }
        }
    }

    /// Upserts one entry as UTF-8 text and returns the new version.
    @discardableResult
    public func set(_ key: EntryKey, _ value: String) async throws -> UInt64 {
        try await set(key, Data(value.utf8))
    }

    /// Deletes one entry and returns the version (unchanged when the key was absent). A missing
    /// object throws NOT_FOUND.
    @discardableResult
    public func delete(_ key: EntryKey) async throws -> UInt64 {
        var request = Oprc_SingleKeyRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = partition
        request.setKey(key)
        return try await client.call(describe("DeleteValue", key)) { service, metadata, options in
            try await service.deleteValue(request: ClientRequest(message: request, metadata: metadata), options: options) {
                try Self.version(of: $0)
            }
        }
    }

    /// Sets and deletes several entries as one atomic mutation (one version step) and returns the
    /// new version. With `expectedVersion`, ODGM refuses the batch with ABORTED unless the object is
    /// at that version (0 = must not exist; data-plane spec §4.3).
    @discardableResult
    public func batchSet(
        _ values: [EntryKey: Data], deleting: [EntryKey] = [], expectedVersion: UInt64? = nil
    ) async throws -> UInt64 {
        var request = Oprc_BatchSetValuesRequest()
        request.setObject(cls: cls, id: id)
        request.partitionID = partition
        for (key, data) in values {
            let value = Oprc_ValData.with { $0.data = data }
            switch key {
            case .numeric(let key): request.valuesNum[key] = value
            case .string(let key): request.values[key] = value
            }
        }
        for key in deleting {
            switch key {
            case .numeric(let key): request.deleteKeysNum.append(key)
            case .string(let key): request.deleteKeys.append(key)
            }
        }
        if let expectedVersion { request.expectedObjectVersion = expectedVersion }
        return try await client.call("BatchSetValues \(path)") { service, metadata, options in
            try await service.batchSetValues(request: ClientRequest(message: request, metadata: metadata), options: options) {
                try Self.version(of: $0)
            }
        }
    }

    /// ``batchSet(_:deleting:expectedVersion:)`` with UTF-8 text values.
    @discardableResult
    public func batchSet(
        _ values: [EntryKey: String], deleting: [EntryKey] = [], expectedVersion: UInt64? = nil
    ) async throws -> UInt64 {
        try await batchSet(values.mapValues { Data($0.utf8) }, deleting: deleting, expectedVersion: expectedVersion)
    }
}
