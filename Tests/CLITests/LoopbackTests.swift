import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Testing
@testable import OaaSCLI

/// A scripted `oprc.DataService` that sends versions only in response metadata, like the gateway.
private struct ScriptedDataService: Oprc_DataService.ServiceProtocol {
    static let version: Metadata = ["oaas-object-version": "7"]

    func get(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        guard request.message.objectIDStr == "user-42" else {
            throw RPCError(code: .notFound, message: "object not found")
        }
        var response = Oprc_ObjectResponse()
        response.obj.metadata.clsID = request.message.clsID
        response.obj.metadata.objectIDStr = request.message.objectIDStr
        response.obj.entriesStr["name"] = EntryOptions.byteValue("alice")
        return ServerResponse(message: response, metadata: Self.version)
    }

    func set(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        if request.message.objectIDStr == "taken" {
            throw RPCError(code: .alreadyExists, message: "object 'taken' already exists")
        }
        return ServerResponse(message: Oprc_EmptyResponse(), metadata: Self.version)
    }

    func merge(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        throw RPCError(code: .unimplemented, message: "merge")
    }

    func delete(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        throw RPCError(code: .notFound, message: "object not found")
    }

    func getValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ValueResponse> {
        throw RPCError(code: .unimplemented, message: "getValue")
    }

    func setValue(request: ServerRequest<Oprc_SetKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        throw RPCError(code: .unimplemented, message: "setValue")
    }

    func deleteValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        throw RPCError(code: .unimplemented, message: "deleteValue")
    }

    func batchSetValues(request: ServerRequest<Oprc_BatchSetValuesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        throw RPCError(code: .unimplemented, message: "batchSetValues")
    }

    func listValues(request: ServerRequest<Oprc_ListValuesRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ValueEnvelope> {
        StreamingServerResponse(metadata: Self.version) { writer in
            for key in ["a", "b"] {
                var envelope = Oprc_ValueEnvelope()
                envelope.key = key
                envelope.version = 7
                try await writer.write(envelope)
            }
            return [:]
        }
    }

    func listObjects(request: ServerRequest<Oprc_ListObjectsRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ObjectMetaEnvelope> {
        StreamingServerResponse { writer in
            var item = Oprc_ObjectMetaEnvelope()
            item.objectIDStr = "user-42"
            item.version = 7
            try await writer.write(item)
            return [:]
        }
    }

    func stats(request: ServerRequest<Oprc_StatsRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_StatsResponse> {
        ServerResponse(message: Oprc_StatsResponse())
    }

    func capabilities(request: ServerRequest<Oprc_CapabilitiesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_CapabilitiesResponse> {
        var response = Oprc_CapabilitiesResponse()
        response.stringIds = true
        return ServerResponse(message: response)
    }
}

/// Runs `body` against the scripted service on an ephemeral loopback port.
private func withScriptedServer(_ body: @Sendable (GatewayEndpoint) async throws -> Void) async throws {
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    try await withGRPCServer(transport: transport, services: [ScriptedDataService()]) { _ in
        let address = try await transport.listeningAddress
        let port = try #require(address.ipv4?.port)
        try await body(GatewayEndpoint(host: .ipv4("127.0.0.1"), port: port))
    }
}

@Suite("gRPC client over loopback")
struct LoopbackTests {
    @Test("versions come from response metadata; errors keep their gRPC code")
    func roundTrip() async throws {
        try await withScriptedServer { endpoint in
            try await GatewayConnection.with(endpoint) { client in
                var set = Oprc_SetObjectRequest()
                set.clsID = "users"
                set.objectIDStr = "user-42"
                #expect(try await client.set(set) == 7)

                var get = Oprc_SingleObjectRequest()
                get.clsID = "users"
                get.objectIDStr = "user-42"
                let object = try await client.get(get)
                #expect(object.objectVersion == 7)
                #expect(text(try Render.object(object, format: .table)) == "meta: users/0/user-42 (version 7)\nname: alice\n")

                let page = try await client.listValues(Oprc_ListValuesRequest())
                #expect(page.entries.map(\.key) == ["a", "b"])
                #expect(page.version == 7)
                #expect(try await client.listObjects(Oprc_ListObjectsRequest()).count == 1)
                #expect(try await client.capabilities().stringIds)

                get.objectIDStr = "other"
                do {
                    _ = try await client.get(get)
                    Issue.record("expected NOT_FOUND")
                } catch {
                    #expect(CLIFailure.from(error).code == "NOT_FOUND")
                }

                let setStr = try ObjectSetStrCommand.parse(["0", "--object-id-str", "taken", "-s", "a=b"])
                do {
                    _ = try await setStr.execute(client: client, cls: "users", format: .table)
                    Issue.record("expected ALREADY_EXISTS")
                } catch let failure as CLIFailure {
                    #expect(failure.code == "ALREADY_EXISTS")
                    #expect(failure.hint == "use 'oaas object merge'")
                }
            }
        }
    }

    @Test("an unreachable gateway is UNAVAILABLE with a hint, quickly")
    func unreachable() async throws {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let endpoint = GatewayEndpoint(host: .ipv4("127.0.0.1"), port: 1)
        let started = ContinuousClock.now
        do {
            try await GatewayConnection.with(endpoint) { client in
                _ = try await client.capabilities()
            }
            Issue.record("expected a failure")
        } catch let failure as CLIFailure {
            #expect(failure.code == "UNAVAILABLE")
            #expect(failure.message.contains("127.0.0.1:1"))
            #expect(failure.hint != nil)
        }
        // Bounded well below a hang, with room for a loaded 2-core CI machine.
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}
