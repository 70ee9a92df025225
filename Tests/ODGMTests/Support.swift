import Foundation
import Logging
import ODGM
import Storage
import OaaSCore
import OaaSProto

/// An ODGM node over a fresh LMDB directory, with one collection `cls` of 4 partitions.
final class TestNode: Sendable {
    let node: ODGMNode
    let service: ObjectService
    let path: String
    let storage: StorageRegistry

    init(autoCreate: Bool = false, configure: (inout ODGMConfig) -> Void = { _ in }) throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-odgm-\(UUID().uuidString)")
        var config = ODGMConfig()
        config.dataDir = path
        config.mapSizeMB = 256
        var collection = Oprc_CreateCollectionRequest()
        collection.name = "cls"
        collection.partitionCount = 4
        config.collections = [collection]
        configure(&config)
        storage = StorageRegistry()
        node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "test"))
        try node.start()
        service = ObjectService(node: node, autoCreate: autoCreate, logger: Logger(label: "test"))
    }

    /// Closes and reopens the same data directory.
    func reopened(autoCreate: Bool = false) throws -> ObjectService {
        storage.closeAll()
        let again = try ODGMNode(config: node.config, storage: storage, logger: Logger(label: "test"))
        try again.start()
        if autoCreate { try again.loadStoredCollections() }
        return ObjectService(node: again, autoCreate: autoCreate, logger: Logger(label: "test"))
    }

    deinit {
        storage.closeAll()
        try? FileManager.default.removeItem(atPath: path)
    }
}

let ctx = CallContext()

func val(_ text: String) -> Oprc_ValData {
    var value = Oprc_ValData()
    value.data = Data(text.utf8)
    return value
}

func text(_ value: Oprc_ValData?) -> String? {
    value.map { String(decoding: $0.data, as: UTF8.self) }
}

func objectRequest(_ id: UInt64 = 0, str: String? = nil, pid: Int32 = 0, cls: String = "cls",
                   num: [UInt32: String] = [:], strs: [String: String] = [:]) -> Oprc_SetObjectRequest {
    var request = Oprc_SetObjectRequest()
    request.clsID = cls
    request.partitionID = pid
    request.objectID = id
    if let str { request.objectIDStr = str }
    var object = Oprc_ObjData()
    for (k, v) in num { object.entries[k] = val(v) }
    for (k, v) in strs { object.entriesStr[k] = val(v) }
    request.object = object
    return request
}

func single(_ id: UInt64 = 0, str: String? = nil, pid: UInt32 = 0, cls: String = "cls") -> Oprc_SingleObjectRequest {
    var request = Oprc_SingleObjectRequest()
    request.clsID = cls
    request.partitionID = pid
    request.objectID = id
    if let str { request.objectIDStr = str }
    return request
}

func keyRequest(_ id: UInt64 = 0, str: String? = nil, key: UInt32 = 0, keyStr: String? = nil, cls: String = "cls") -> Oprc_SingleKeyRequest {
    var request = Oprc_SingleKeyRequest()
    request.clsID = cls
    request.objectID = id
    if let str { request.objectIDStr = str }
    request.key = key
    if let keyStr { request.keyStr = keyStr }
    return request
}

func setKey(_ id: UInt64 = 0, str: String? = nil, key: UInt32 = 0, keyStr: String? = nil, value: String, cls: String = "cls", pid: Int32 = 0) -> Oprc_SetKeyRequest {
    var request = Oprc_SetKeyRequest()
    request.clsID = cls
    request.partitionID = pid
    request.objectID = id
    if let str { request.objectIDStr = str }
    request.key = key
    if let keyStr { request.keyStr = keyStr }
    request.value = val(value)
    return request
}

func errorCode(_ body: () async throws -> Void) async -> OaaSError.Code? {
    do {
        try await body()
        return nil
    } catch let error as OaaSError {
        return error.code
    } catch {
        return .internal
    }
}
