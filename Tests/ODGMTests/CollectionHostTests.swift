import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing

@Suite struct CollectionHostTests {
    func request(_ name: String, partitions: Int32 = 2, route: String? = nil) -> Oprc_CreateCollectionRequest {
        var request = Oprc_CreateCollectionRequest()
        request.name = name
        request.partitionCount = partitions
        if let route {
            var fn = Oprc_FuncInvokeRoute()
            fn.url = route
            request.invocations.fnRoutes["echo"] = fn
        }
        return request
    }

    @Test func applyCreatesUpdatesAndKeepsData() async throws {
        let t = try TestNode()
        let host = ODGMCollectionHost(node: t.node)
        #expect(try await host.applyCollection(request("shop.Cart", route: "http://a/")) == .created)
        #expect(try await host.applyCollection(request("shop.Cart", route: "http://a/")) == .unchanged)
        _ = try await t.service.set(objectRequest(7, cls: "shop.Cart", num: [1: "kept"]), context: ctx)
        #expect(try await host.applyCollection(request("shop.Cart", route: "http://b/")) == .updated)
        #expect(t.node.collection(named: "shop.Cart")?.spec.request.invocations.fnRoutes["echo"]?.url == "http://b/")
        #expect(text(try await t.service.get(single(7, cls: "shop.Cart"), context: ctx).obj.entries[1]) == "kept")
        // The partition layout cannot change under existing data.
        await #expect(throws: OaaSError.self) { try await host.applyCollection(request("shop.Cart", partitions: 3)) }
        #expect(await host.collectionNames().contains("shop.Cart"))
    }

    @Test func dropRemovesDefinitionAndData() async throws {
        let t = try TestNode()
        let host = ODGMCollectionHost(node: t.node)
        try await host.applyCollection(request("shop.Cart"))
        try await host.applyCollection(request("shop.Cartx"))
        _ = try await t.service.set(objectRequest(1, cls: "shop.Cart", num: [1: "gone"]), context: ctx)
        _ = try await t.service.set(objectRequest(1, cls: "shop.Cartx", num: [1: "stays"]), context: ctx)
        try await host.dropCollection(named: "shop.Cart", deleteData: true)
        #expect(await errorCode { _ = try await t.service.get(single(1, cls: "shop.Cart"), context: ctx) } == .noClass)
        // Re-created empty: the old objects are gone, the neighbour with a longer name is untouched.
        try await host.applyCollection(request("shop.Cart"))
        #expect(await errorCode { _ = try await t.service.get(single(1, cls: "shop.Cart"), context: ctx) } == .noObject)
        #expect(text(try await t.service.get(single(1, cls: "shop.Cartx"), context: ctx).obj.entries[1]) == "stays")
        try await host.dropCollection(named: "missing", deleteData: true)
    }

    @Test func definitionsSurviveRestart() async throws {
        let t = try TestNode()
        let host = ODGMCollectionHost(node: t.node)
        try await host.applyCollection(request("shop.Cart", route: "http://b/"))
        try await host.dropCollection(named: "cls", deleteData: false)
        let again = try t.reopened(autoCreate: true)
        _ = again
        // `reopened` loads stored definitions: the applied one is back, the dropped one is not stored.
        #expect(await errorCode { _ = try await again.get(single(1, cls: "shop.Cart"), context: ctx) } == .noObject)
    }
}
