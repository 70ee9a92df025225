import Foundation
import OaaSCore
import OaaSProto
import Synchronization
import Testing
@testable import Gateway

/// A route table set by the test.
final class FixedRoutes: RouteSource, Sendable {
    private let table = Mutex<Oaas_Router_RouteTable?>(nil)

    func set(_ new: Oaas_Router_RouteTable?) { table.withLock { $0 = new } }

    var routeTable: Oaas_Router_RouteTable? { table.withLock { $0 } }

    func collection(_ clsID: String) -> Oaas_Router_CollectionRoute? {
        routeTable?.collections.first { $0.clsID == clsID }
    }

    func shards(clsID: String, partitionID: UInt32) -> [Oaas_Router_ShardRoute] {
        collection(clsID)?.partitions.first { $0.partitionID == partitionID }?.shards ?? []
    }
}

/// One fake ODGM per address; records which address each call reached.
final class FakeNodes: NodeConnector, Sendable {
    let stores: [String: FakeObjectStore]
    private let reached = Mutex<[String]>([])
    /// Addresses whose calls fail with UNAVAILABLE (a dead node).
    let dead = Mutex<Set<String>>([])
    /// Runs when a call hits a dead node (e.g. the router's table changes meanwhile).
    let onDeadCall = Mutex<(@Sendable () -> Void)?>(nil)

    init(_ addresses: [String]) {
        stores = Dictionary(uniqueKeysWithValues: addresses.map { ($0, FakeObjectStore(classes: ["users"], partitionCount: 4)) })
    }

    var calls: [String] { reached.withLock { $0 } }

    func upstream(for address: String) throws(OaaSError) -> NodeUpstream {
        reached.withLock { $0.append(address) }
        if dead.withLock({ $0.contains(address) }) {
            onDeadCall.withLock { $0 }?()
            throw OaaSError(.unavailable, "connection refused: \(address)")
        }
        guard let store = stores[address] else { throw OaaSError(.unavailable, "unknown node \(address)") }
        let invoker = EchoInvoker(address: address)
        return NodeUpstream(store: store, invoker: invoker, asyncInvoker: invoker)
    }
}

/// Answers every invocation with the address that ran it.
struct EchoInvoker: Invoker, AsyncInvoker {
    let address: String

    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.payload = Data(address.utf8)
        return response
    }

    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.payload = Data(address.utf8)
        return response
    }

    func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        var response = Oaas_Invocation_SubmitResponse()
        response.invocationID = address
        return response
    }

    func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        Oaas_Invocation_GetResultResponse()
    }
}

/// (address, primary, ready, env) per shard, per partition.
func routeTable(_ cls: String = "users", partitions: [[(String, Bool, Bool, String)]], options: [String: String] = [:],
                revision: UInt64 = 1) -> Oaas_Router_RouteTable {
    var collection = Oaas_Router_CollectionRoute()
    collection.clsID = cls
    collection.partitionCount = UInt32(partitions.count)
    collection.options = options
    for (pid, shards) in partitions.enumerated() {
        var partition = Oaas_Router_PartitionRoute()
        partition.partitionID = UInt32(pid)
        for (index, shard) in shards.enumerated() {
            var route = Oaas_Router_ShardRoute()
            route.shardID = UInt64(pid * 10 + index + 1)
            route.address = shard.0
            route.primary = shard.1
            route.ready = shard.2
            route.env = shard.3
            partition.shards.append(route)
        }
        collection.partitions.append(partition)
    }
    var table = Oaas_Router_RouteTable()
    table.revision = revision
    table.collections = [collection]
    return table
}

@Suite struct RoutingTests {
    let a = "http://a:1"
    let b = "http://b:1"

    func setRequest(_ partition: Int32, id: UInt64 = 7) -> Oprc_SetObjectRequest {
        var request = Oprc_SetObjectRequest()
        request.clsID = "users"
        request.partitionID = partition
        request.objectID = id
        request.object = Oprc_ObjData()
        return request
    }

    func getRequest(_ partition: UInt32, id: UInt64 = 7) -> Oprc_SingleObjectRequest {
        var request = Oprc_SingleObjectRequest()
        request.clsID = "users"
        request.partitionID = partition
        request.objectID = id
        return request
    }

    func make(_ table: Oaas_Router_RouteTable?, config: GatewayConfig = GatewayConfig(retryBackoff: .milliseconds(1)),
              fallback: String? = nil) -> (RoutingObjectStore, FixedRoutes, FakeNodes) {
        let routes = FixedRoutes()
        routes.set(table)
        let nodes = FakeNodes([a, b, "http://fallback:1"])
        return (RoutingObjectStore(routes: routes, nodes: nodes, fallback: fallback, config: config), routes, nodes)
    }

    @Test func callsLandOnThePartitionOwner() async throws {
        let (store, _, nodes) = make(routeTable(partitions: [[(a, true, true, "")], [(b, true, true, "")]]))
        _ = try await store.set(setRequest(0, id: 1), context: CallContext())
        _ = try await store.set(setRequest(1, id: 2), context: CallContext())
        #expect(nodes.calls == [a, b])
        #expect(try await store.get(getRequest(1, id: 2), context: CallContext()).objectVersion == 1)
        #expect(await nodes.stores[a]?.objects.count == 1)
        #expect(await nodes.stores[b]?.objects.count == 1)
    }

    @Test func picksTheReadyPrimaryThenTheSameEnv() throws {
        let routes = FixedRoutes()
        let resolver = RouteResolver(routes: routes, fallback: nil, env: "east")
        routes.set(routeTable(partitions: [[(a, false, true, "west"), (b, true, true, "west")]]))
        #expect(try resolver.address(clsID: "users", partitionID: 0, purpose: .data) == b)
        routes.set(routeTable(partitions: [[(a, false, true, "west"), (b, true, false, "east"), ("http://c:1", false, true, "east")]]))
        #expect(try resolver.address(clsID: "users", partitionID: 0, purpose: .data) == "http://c:1")
        #expect(try resolver.address(clsID: "users", partitionID: 0, purpose: .invocation) == "http://c:1")
    }

    @Test func invokeOnlyPrimaryRefusesReplicas() async throws {
        let routes = FixedRoutes()
        routes.set(routeTable(partitions: [[(a, true, false, ""), (b, false, true, "")]], options: ["invoke_only_primary": "true"]))
        let nodes = FakeNodes([a, b])
        let invoker = RoutingInvoker(routes: routes, nodes: nodes, config: GatewayConfig(retryAttempts: 0))
        var call = Oprc_InvocationRequest()
        call.clsID = "users"
        call.fnID = "echo"
        let error = await #expect(throws: OaaSError.self) { _ = try await invoker.invokeFn(call, context: CallContext()) }
        #expect(error?.code == .unavailable && error?.message == "no route for users/0")
        routes.set(routeTable(partitions: [[(a, true, true, ""), (b, false, true, "")]], options: ["invoke_only_primary": "true"]))
        #expect(try await invoker.invokeFn(call, context: CallContext()).payload == Data(a.utf8))
    }

    @Test func noRouteUnknownClassAndPartition() async throws {
        let (store, routes, _) = make(nil)
        var error = await #expect(throws: OaaSError.self) { _ = try await store.get(getRequest(0), context: CallContext()) }
        #expect(error?.code == .unavailable)
        routes.set(routeTable(partitions: [[(a, true, false, "")], []]))
        error = await #expect(throws: OaaSError.self) { _ = try await store.get(getRequest(0), context: CallContext()) }
        #expect(error?.message == "no route for users/0")
        error = await #expect(throws: OaaSError.self) { _ = try await store.get(getRequest(1), context: CallContext()) }
        #expect(error?.message == "no route for users/1")
        error = await #expect(throws: OaaSError.self) { _ = try await store.get(getRequest(2), context: CallContext()) }
        #expect(error?.code == .noPartition)
        var other = getRequest(0)
        other.clsID = "ghost"
        error = await #expect(throws: OaaSError.self) { _ = try await store.get(other, context: CallContext()) }
        #expect(error?.code == .noClass)
        error = await #expect(throws: OaaSError.self) { _ = try await store.set(setRequest(-1), context: CallContext()) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func unknownClassesGoToTheDefaultODGM() async throws {
        let (store, _, nodes) = make(routeTable(partitions: [[(a, true, true, "")]]), fallback: "http://fallback:1")
        var other = setRequest(0)
        other.clsID = "users"
        _ = try await store.set(other, context: CallContext())
        var unknown = getRequest(0)
        unknown.clsID = "orders"
        _ = try? await store.get(unknown, context: CallContext())
        #expect(nodes.calls == [a, "http://fallback:1"])
    }

    @Test func aWriteOnAStaleRouteIsRetriedOnTheNewOwner() async throws {
        let (store, routes, nodes) = make(routeTable(partitions: [[(a, true, true, "")]]))
        nodes.dead.withLock { $0 = [a] }
        // Same table after the failure: a write is not retried (it may have reached the node).
        var error = await #expect(throws: OaaSError.self) { _ = try await store.set(setRequest(0), context: CallContext()) }
        #expect(error?.code == .unavailable)
        #expect(nodes.calls == [a])

        // The table moves the partition while the first attempt fails: the retry goes to the new owner.
        nodes.onDeadCall.withLock { $0 = { routes.set(routeTable(partitions: [[(b, true, true, "")]], revision: 2)) } }
        let retrying = RoutingObjectStore(routes: routes, nodes: nodes, config: GatewayConfig(retryAttempts: 1, retryBackoff: .milliseconds(1)))
        _ = try await retrying.set(setRequest(0), context: CallContext())
        nodes.onDeadCall.withLock { $0 = nil }
        #expect(nodes.calls == [a, a, b])
        #expect(await nodes.stores[b]?.objects.count == 1)

        // No retries left: the error stands.
        let none = RoutingObjectStore(routes: routes, nodes: nodes, config: GatewayConfig(retryAttempts: 0))
        nodes.dead.withLock { $0 = [b] }
        error = await #expect(throws: OaaSError.self) { _ = try await none.set(setRequest(0), context: CallContext()) }
        #expect(error?.code == .unavailable)
    }

    @Test func getResultIsRetriedOnTheSameNode() async throws {
        let routes = FixedRoutes()
        routes.set(routeTable(partitions: [[(a, true, true, "")]]))
        let nodes = FakeNodes([a])
        nodes.dead.withLock { $0 = [a] }
        let async = RoutingAsyncInvoker(routes: routes, nodes: nodes, config: GatewayConfig(retryAttempts: 2, retryBackoff: .milliseconds(1)))
        var request = Oaas_Invocation_GetResultRequest()
        request.clsID = "users"
        request.fnID = "f"
        request.invocationID = "x"
        _ = await #expect(throws: OaaSError.self) { _ = try await async.getResult(request, context: CallContext()) }
        #expect(nodes.calls == [a, a, a])
    }

    @Test func statsFanOutAndCapabilitiesAreANDed() async throws {
        let (store, _, nodes) = make(routeTable(partitions: [[(a, true, true, "")], [(b, true, true, "")], [(b, false, false, "")]]))
        _ = try await store.set(setRequest(0, id: 1), context: CallContext())
        _ = try await store.stats(context: CallContext())
        #expect(Set(nodes.calls.suffix(2)) == [a, b])
        #expect(try await store.capabilities(context: CallContext()).granularEntryStorage)
        let (empty, _, _) = make(routeTable(partitions: [[]]))
        let error = await #expect(throws: OaaSError.self) { _ = try await empty.capabilities(context: CallContext()) }
        #expect(error?.code == .unavailable)
    }
}
