import Foundation
import PM
import Storage
import Testing

/// Both backends, one suite: the same semantics are required of each (control-plane spec §6).
enum Backend: String, CaseIterable, Sendable {
    case memory, lmdb
}

final class StoreUnderTest: @unchecked Sendable {
    let store: any KVStore
    private let registry = StorageRegistry()
    private let path: String?

    init(_ backend: Backend, path existing: String? = nil) throws {
        switch backend {
        case .memory:
            store = MemoryKVStore()
            path = nil
        case .lmdb:
            let dir = existing ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-pm-\(UUID().uuidString)")
            store = try LMDBKVStore(handle: registry.open(path: dir, options: .init(mapSizeBytes: 64 << 20)))
            path = dir
        }
    }

    /// Closes the LMDB store and opens the same directory again.
    func reopened() throws -> StoreUnderTest {
        registry.closeAll()
        return try StoreUnderTest(.lmdb, path: path)
    }

    deinit {
        registry.closeAll()
    }
}

private func data(_ text: String) -> Data { Data(text.utf8) }

@Suite struct KVStoreTests {
    @Test(arguments: Backend.allCases)
    func putGetListInKeyOrder(_ backend: Backend) async throws {
        let t = try StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        for name in ["b", "a", "c", "a/x"] {
            try await s.commit([.put("packages/\(name)", data(name))], if: [])
        }
        try await s.commit([.put("deployments/d", data("d"))], if: [])
        let all = try await s.list(prefix: "packages/", after: nil, limit: nil)
        #expect(all.map(\.key) == ["packages/a", "packages/a/x", "packages/b", "packages/c"])
        let page = try await s.list(prefix: "packages/", after: "packages/a/x", limit: 1)
        #expect(page.map(\.key) == ["packages/b"])
        #expect(try await s.get("packages/c")?.value == data("c"))
        #expect(try await s.get("packages/zz") == nil)
    }

    @Test(arguments: Backend.allCases)
    func revisionsAdvanceAndGuardWrites(_ backend: Backend) async throws {
        let t = try StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        let first = try await s.commit([.put("k", data("1"))], if: [.absent("k")])
        #expect(try await s.get("k")?.revision == first)
        await #expect(throws: KVStoreError.conflict("k")) { try await s.commit([.put("k", data("2"))], if: [.absent("k")]) }
        let second = try await s.commit([.put("k", data("2"))], if: [.revision("k", first)])
        #expect(second > first)
        await #expect(throws: KVStoreError.conflict("k")) { try await s.commit([.put("k", data("3"))], if: [.revision("k", first)]) }
        #expect(try await s.get("k")?.value == data("2"))
        await #expect(throws: KVStoreError.conflict("missing")) { try await s.commit([.delete("missing")], if: [.revision("missing", 1)]) }
    }

    @Test(arguments: Backend.allCases)
    func multiKeyCommitsAreAtomic(_ backend: Backend) async throws {
        let t = try StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        try await s.commit([.put("deployments/d1", data("x"))], if: [])
        // One failing condition stops every operation of the commit.
        await #expect(throws: KVStoreError.self) {
            try await s.commit([.put("deployments/d2", data("y")), .put("index/p/d2", data(""))], if: [.absent("deployments/d1")])
        }
        #expect(try await s.get("deployments/d2") == nil)
        #expect(try await s.get("index/p/d2") == nil)
        try await s.commit([.put("deployments/d1/clusters/a", data("u1")), .put("deployments/d1/clusters/b", data("u2"))], if: [])
        try await s.commit([.deletePrefix("deployments/d1/clusters/")], if: [])
        #expect(try await s.list(prefix: "deployments/d1/clusters/", after: nil, limit: nil).isEmpty)
        #expect(try await s.get("deployments/d1") != nil)
    }

    @Test(arguments: Backend.allCases)
    func concurrentCreatesHaveOneWinner(_ backend: Backend) async throws {
        let t = try StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<16 {
                group.addTask { (try? await s.commit([.put("packages/p", data("\(i)"))], if: [.absent("packages/p")])) != nil }
            }
            var n = 0
            for await won in group where won { n += 1 }
            return n
        }
        #expect(wins == 1)
    }

    @Test func lmdbKeepsDataAcrossRestart() async throws {
        let first = try StoreUnderTest(.lmdb)
        let revision = try await first.store.commit([.put("packages/keep", data("v"))], if: [])
        let second = try first.reopened()
        let item = try await second.store.get("packages/keep")
        #expect(item?.value == data("v") && item?.revision == revision)
        let next = try await second.store.commit([.put("packages/other", data("w"))], if: [])
        #expect(next == revision + 1)
        try await second.store.health()
    }
}
