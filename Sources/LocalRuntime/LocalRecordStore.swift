import CRM
import Foundation
import Kube
import Storage

/// ClassRuntime records of one local env, kept as the same JSON the API server would hold (metadata, spec, status)
/// in LMDB at `<data-dir>/crm/<env>`.
struct LocalRecordStore: Sendable {
    private let environment: Environment
    private let writer: Writer
    private let records: Database

    init(storage: StorageRegistry, path: String, durable: Bool) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let handle = try storage.open(path: path, options: .init(mapSizeBytes: 64 << 20, maxDatabases: 2, durable: durable))
        environment = handle.environment
        writer = handle.writer
        records = try handle.environment.openDatabase("classruntimes")
    }

    func get(_ name: String) throws -> ClassRuntime? {
        let bytes = try environment.read { txn in try txn.get(records, Array(name.utf8)) }
        return try bytes.map(Self.decode)
    }

    /// Every record, sorted by name (LMDB key order).
    func list() throws -> [ClassRuntime] {
        let values: [[UInt8]] = try environment.read { txn in
            var values: [[UInt8]] = []
            try txn.withCursor(records) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    values.append(Array(current.value))
                    entry = try cursor.next()
                }
            }
            return values
        }
        return try values.map(Self.decode)
    }

    func put(_ runtime: ClassRuntime) async throws {
        let key = Array(runtime.name.utf8)
        let value = Array(try JSONEncoder().encode(runtime.kubeObject()))
        let db = records
        try await writer.write { txn in try txn.put(db, key, value) }
    }

    func delete(_ name: String) async throws {
        let key = Array(name.utf8)
        let db = records
        try await writer.write { txn in _ = try txn.delete(db, key) }
    }

    private static func decode(_ bytes: [UInt8]) throws -> ClassRuntime {
        let object = try JSONDecoder().decode(KubeObject.self, from: Data(bytes))
        return try ClassRuntime(object: object)
    }
}
