import Foundation
import PM
import Storage
import Testing

/// Every backend, one suite: the same semantics are required of each (control-plane spec §6).
enum Backend: String, CaseIterable, Sendable {
    case memory, lmdb, etcd

    /// The etcd cases need the `etcd` binary; without it they are left out and `EtcdKVStoreTests` reports the skip.
    static let available = allCases.filter { $0 != .etcd || EtcdTestServer.isInstalled }
}

final class StoreUnderTest: @unchecked Sendable {
    let store: any KVStore
    private let registry = StorageRegistry()
    private let path: String?

    init(_ backend: Backend, path existing: String? = nil) async throws {
        switch backend {
        case .memory:
            store = MemoryKVStore()
            path = nil
        case .lmdb:
            let dir = existing ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-pm-\(UUID().uuidString)")
            store = try LMDBKVStore(handle: registry.open(path: dir, options: .init(mapSizeBytes: 64 << 20)))
            path = dir
        case .etcd:
            // The shared server; a fresh prefix keeps each test's keys apart.
            let server = try await EtcdTestServer.shared.value
            store = try EtcdKVStore(config: server.config(prefix: "/oaas-test/\(UUID().uuidString)"))
            path = nil
        }
    }

    /// Closes the LMDB store and opens the same directory again.
    func reopened() async throws -> StoreUnderTest {
        registry.closeAll()
        return try await StoreUnderTest(.lmdb, path: path)
    }

    deinit {
        registry.closeAll()
    }
}

private func data(_ text: String) -> Data { Data(text.utf8) }

@Suite struct KVStoreTests {
    @Test(arguments: Backend.available)
    func putGetListInKeyOrder(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
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
        // An empty prefix lists the whole store, in key order.
        #expect(try await s.list(prefix: "", after: nil, limit: nil).map(\.key) == ["deployments/d"] + all.map(\.key))
    }

    @Test(arguments: Backend.available)
    func revisionsAdvanceAndGuardWrites(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
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

    @Test(arguments: Backend.available)
    func multiKeyCommitsAreAtomic(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
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

    @Test(arguments: Backend.available)
    func concurrentCreatesHaveOneWinner(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
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

    /// Operations of one commit apply in order, also where they touch the same keys (etcd refuses such a txn
    /// as sent, so its backend has to fold them).
    @Test(arguments: Backend.available)
    func operationsApplyInOrder(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        try await s.commit([.put("a/1", data("1")), .put("a/2", data("2")), .put("a/20", data("20"))], if: [])
        try await s.commit([.deletePrefix("a/"), .put("a/2", data("new")), .put("a/3", data("3"))], if: [])
        #expect(try await s.list(prefix: "a/", after: nil, limit: nil).map(\.key) == ["a/2", "a/3"])
        #expect(try await s.get("a/2")?.value == data("new"))
        try await s.commit([.put("b", data("x")), .delete("b"), .put("c", data("1")), .put("c", data("2"))], if: [])
        #expect(try await s.get("b") == nil)
        #expect(try await s.get("c")?.value == data("2"))
        try await s.commit([.delete("a/3"), .put("a/3", data("again")), .put("a/4", data("4")), .deletePrefix("a/4")], if: [])
        #expect(try await s.list(prefix: "a/", after: nil, limit: nil).map(\.value) == [data("new"), data("again")])
    }

    @Test(arguments: Backend.available)
    func pagingAndEmptyValues(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        try await s.commit(["p/a", "p/b", "p/c", "p/d", "q/a"].map { .put($0, Data()) }, if: [])
        #expect(try await s.get("p/a")?.value == Data())
        #expect(try await s.list(prefix: "p/", after: "p/b0", limit: 1).map(\.key) == ["p/c"])
        #expect(try await s.list(prefix: "p/", after: "a", limit: 2).map(\.key) == ["p/a", "p/b"])
        #expect(try await s.list(prefix: "p/", after: "p/d", limit: nil).isEmpty)
        #expect(try await s.list(prefix: "p/", after: "z", limit: nil).isEmpty)
        #expect(try await s.list(prefix: "p/", after: nil, limit: 0).isEmpty)
    }

    @Test(arguments: Backend.available)
    func conflictNamesTheFailingGuard(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let s = t.store
        let first = try await s.commit([.put("k", data("1"))], if: [])
        try await s.commit([.put("k", data("2"))], if: [])
        await #expect(throws: KVStoreError.conflict("k")) {
            try await s.commit([.put("n", data(""))], if: [.absent("n"), .revision("k", first)])
        }
        await #expect(throws: KVStoreError.conflict("k")) {
            try await s.commit([.put("n", data(""))], if: [.absent("n"), .absent("k")])
        }
        await #expect(throws: KVStoreError.conflict("n")) {
            try await s.commit([.put("n", data(""))], if: [.revision("n", 0)])
        }
        #expect(try await s.get("n") == nil)
    }

    @Test func lmdbKeepsDataAcrossRestart() async throws {
        let first = try await StoreUnderTest(.lmdb)
        let revision = try await first.store.commit([.put("packages/keep", data("v"))], if: [])
        let second = try await first.reopened()
        let item = try await second.store.get("packages/keep")
        #expect(item?.value == data("v") && item?.revision == revision)
        let next = try await second.store.commit([.put("packages/other", data("w"))], if: [])
        #expect(next == revision + 1)
        try await second.store.health()
    }
}
