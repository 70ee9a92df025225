import ArgumentParser
import Foundation
import GRPCCore
import OaaSCore
import OaaSProto
import Testing
@testable import OaaSCLI

/// Records requests and answers from canned responses; no server involved.
actor FakeDataPlane: DataPlaneClient {
    var setRequests: [Oprc_SetObjectRequest] = []
    var mergeRequests: [Oprc_SetObjectRequest] = []
    var keyRequests: [Oprc_SingleKeyRequest] = []
    var deleteRequests: [Oprc_SingleObjectRequest] = []
    var listValueRequests: [Oprc_ListValuesRequest] = []
    var listObjectRequests: [Oprc_ListObjectsRequest] = []

    var setResult: Result<UInt64?, RPCError> = .success(1)
    var deleteError: RPCError?
    var object = Oprc_ObjectResponse()
    var value = Oprc_ValueResponse()
    var valuePages: [EntryPage] = []
    var objectPages: [[Oprc_ObjectMetaEnvelope]] = []

    func configure(_ change: @Sendable (isolated FakeDataPlane) -> Void) { change(self) }

    func set(_ request: Oprc_SetObjectRequest) async throws -> UInt64? {
        setRequests.append(request)
        return try setResult.get()
    }

    func merge(_ request: Oprc_SetObjectRequest) async throws -> Oprc_ObjectResponse {
        mergeRequests.append(request)
        return object
    }

    func get(_ request: Oprc_SingleObjectRequest) async throws -> Oprc_ObjectResponse { object }

    func getValue(_ request: Oprc_SingleKeyRequest) async throws -> Oprc_ValueResponse {
        keyRequests.append(request)
        return value
    }

    func delete(_ request: Oprc_SingleObjectRequest) async throws -> UInt64? {
        deleteRequests.append(request)
        if let deleteError { throw deleteError }
        return 9
    }

    func listValues(_ request: Oprc_ListValuesRequest) async throws -> EntryPage {
        listValueRequests.append(request)
        return valuePages.isEmpty ? EntryPage(entries: [], version: nil) : valuePages.removeFirst()
    }

    func listObjects(_ request: Oprc_ListObjectsRequest) async throws -> [Oprc_ObjectMetaEnvelope] {
        listObjectRequests.append(request)
        return objectPages.isEmpty ? [] : objectPages.removeFirst()
    }

    func stats() async throws -> Oprc_StatsResponse { Oprc_StatsResponse() }

    func capabilities() async throws -> Oprc_CapabilitiesResponse {
        var caps = Oprc_CapabilitiesResponse()
        caps.stringIds = true
        return caps
    }
}

private struct TestRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

private func command<T: ParsableCommand>(_ arguments: [String], as type: T.Type) throws -> T {
    try #require(try TestRoot.parseAsRoot(arguments) as? T)
}

@Suite("Command logic against a fake data plane")
struct CommandLogicTests {
    @Test("setstr sends a create-only string Set with BYTE values")
    func setStr() async throws {
        let fake = FakeDataPlane()
        let cmd = try command(["object", "setstr", "--cls-id", "users", "0", "--object-id-str", "User-42", "-s", "name=alice", "-b", "7=x"],
                              as: ObjectSetStrCommand.self)
        let out = try await cmd.execute(client: fake, cls: "users", format: .table)
        #expect(text(out) == "✓ set users/0/user-42 (version 1)\n")
        let request = try #require(await fake.setRequests.first)
        #expect(request.clsID == "users")
        #expect(request.partitionID == 0)
        #expect(request.objectIDStr == "User-42", "the server normalizes; the CLI sends the id as given")
        #expect(request.objectID == 0)
        #expect(request.object.entriesStr["name"]?.data == Data("alice".utf8))
        #expect(request.object.entries[7]?.type == .byte)
    }

    @Test("ALREADY_EXISTS on setstr carries the merge hint")
    func alreadyExists() async throws {
        let fake = FakeDataPlane()
        await fake.configure { $0.setResult = .failure(RPCError(code: .alreadyExists, message: "object 'user-42' already exists")) }
        let cmd = try command(["object", "setstr", "-c", "users", "0", "--object-id-str", "user-42"], as: ObjectSetStrCommand.self)
        do {
            _ = try await cmd.execute(client: fake, cls: "users", format: .table)
            Issue.record("expected failure")
        } catch let failure as CLIFailure {
            #expect(failure.report == "error: ALREADY_EXISTS: object 'user-42' already exists\nhint: use 'oaas object merge'\n")
        }
    }

    @Test("other gRPC errors report their code name")
    func rpcErrorNames() {
        #expect(CLIFailure.from(RPCError(code: .notFound, message: "class 'x' not found")).report
            == "error: NOT_FOUND: class 'x' not found\n")
        #expect(CLIFailure.from(RPCError(code: .aborted, message: "version mismatch")).code == "ABORTED")
        #expect(CLIFailure.from(RPCError(code: .unavailable, message: "no leader")).code == "UNAVAILABLE")
    }

    @Test("numeric set and merge address the object numerically")
    func numericSetAndMerge() async throws {
        let fake = FakeDataPlane()
        await fake.configure { $0.object = sampleObject() }
        let set = try command(["object", "set", "-c", "c", "2", "42", "-b", "1=a"], as: ObjectSetCommand.self)
        #expect(text(try await set.execute(client: fake, cls: "c", format: .table)) == "✓ set c/2/42 (version 1)\n")
        #expect(await fake.setRequests.first?.objectID == 42)
        #expect(await fake.setRequests.first?.hasObjectIDStr == false)

        let merge = try command(["object", "merge", "-c", "users", "0", "--object-id-str", "user-42", "-s", "role=admin"],
                                as: ObjectMergeCommand.self)
        let out = text(try await merge.execute(client: fake, cls: "users", format: .table))
        #expect(out.hasPrefix("meta: users/0/user-42 (version 3)\n"))
        #expect(await fake.mergeRequests.first?.objectIDStr == "user-42")
    }

    @Test("getstr --key-str asks GetValue with the exact string key")
    func getStrKey() async throws {
        let fake = FakeDataPlane()
        await fake.configure {
            $0.value.value = byteValue("alice")
            $0.value.objectVersion = 1
        }
        let cmd = try command(["object", "getstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "--key-str", "Name"],
                              as: ObjectGetStrCommand.self)
        #expect(try await cmd.execute(client: fake, cls: "users", format: .table) == Data("alice".utf8))
        let request = try #require(await fake.keyRequests.first)
        #expect(request.keyStr == "Name")
        #expect(request.key == 0)
        #expect(request.objectIDStr == "user-42")

        let numeric = try command(["object", "get", "0", "5", "-k", "0"], as: ObjectGetCommand.self)
        _ = try await numeric.execute(client: fake, cls: "c", format: .table)
        let second = try #require(await fake.keyRequests.last)
        #expect(second.key == 0)
        #expect(!second.hasKeyStr)
        #expect(second.objectID == 5)
    }

    @Test("liststr follows cursors across pages")
    func listStrPages() async throws {
        let fake = FakeDataPlane()
        var first = Oprc_ValueEnvelope()
        first.key = "a"
        first.version = 2
        first.nextCursor = Data([1])
        var second = Oprc_ValueEnvelope()
        second.key = "b"
        second.version = 2
        await fake.configure { [first, second] in
            $0.valuePages = [EntryPage(entries: [first], version: 2), EntryPage(entries: [second], version: 2)]
        }
        let cmd = try command(["object", "liststr", "-c", "c", "0", "--object-id-str", "o", "--kind", "string"], as: ObjectListStrCommand.self)
        #expect(text(try await cmd.execute(client: fake, cls: "c", format: .table)) == "a\nb\n")
        let requests = await fake.listValueRequests
        #expect(requests.count == 2)
        #expect(requests[0].hasCursor == false)
        #expect(requests[1].cursor == Data([1]))
        #expect(requests.allSatisfy { $0.keyKind == .string })
    }

    @Test("object list: one page by default, --all follows cursors")
    func listPages() async throws {
        let fake = FakeDataPlane()
        var a = Oprc_ObjectMetaEnvelope()
        a.objectID = 1
        a.nextCursor = Data([9])
        var b = Oprc_ObjectMetaEnvelope()
        b.objectID = 2
        await fake.configure { [a, b] in $0.objectPages = [[a], [b]] }
        let one = try command(["object", "list", "-c", "c", "0", "-n", "1"], as: ObjectListCommand.self)
        let page = text(try await one.execute(client: fake, cls: "c", format: .table))
        #expect(page.contains("--- 1 object(s) ---\nNext cursor: CQ\n"))

        await fake.configure { [a, b] in $0.objectPages = [[a], [b]] }
        let all = try command(["object", "list", "-c", "c", "0", "-n", "1", "--all"], as: ObjectListCommand.self)
        let everything = text(try await all.execute(client: fake, cls: "c", format: .table))
        #expect(everything.hasSuffix("--- 2 object(s) ---\n"))
        let requests = await fake.listObjectRequests
        #expect(requests.last?.cursor == Data([9]))
        #expect(requests.allSatisfy { $0.clsID == "c" && $0.limit == 1 })
    }

    @Test("delete: NOT_FOUND is exit 1 unless --ignore-missing (missing object only)")
    func deleteMissing() async throws {
        let fake = FakeDataPlane()
        await fake.configure { $0.deleteError = RPCError(code: .notFound, message: "object not found") }
        let strict = try command(["object", "delete", "-c", "c", "0", "5"], as: ObjectDeleteCommand.self)
        await #expect(throws: CLIFailure.self) { try await strict.execute(client: fake, cls: "c", format: .table) }

        let lenient = try command(["object", "rm", "-c", "c", "0", "5", "--ignore-missing"], as: ObjectDeleteCommand.self)
        let out = try await lenient.execute(client: fake, cls: "c", format: .json)
        #expect(try json(out)["deleted"] as? Bool == false)

        var metadata = Metadata()
        metadata.addString("NO_CLASS", forKey: OaaSError.errorCodeMetadataKey)
        await fake.configure { [metadata] in
            $0.deleteError = RPCError(code: .notFound, message: "class 'c' not found", metadata: metadata)
        }
        await #expect(throws: CLIFailure.self) { try await lenient.execute(client: fake, cls: "c", format: .table) }

        await fake.configure { $0.deleteError = nil }
        #expect(text(try await strict.execute(client: fake, cls: "c", format: .table)) == "✓ deleted c/0/5\n")
    }

    @Test("capabilities through the fake")
    func capabilities() async throws {
        let cmd = try command(["caps", "--json"], as: CapabilitiesCommand.self)
        let out = try await cmd.execute(client: FakeDataPlane(), format: try cmd.global.format(json: cmd.json))
        #expect(try json(out)["string_ids"] as? Bool == true)
    }
}

@Suite("Command runner")
struct RunnerTests {
    @Test("failures become exit 1, run-time usage errors exit 2, explicit codes pass through")
    func exitMapping() async {
        await #expect(throws: ExitCode.failure) {
            try await Terminal.run { throw CLIFailure(code: "NOT_FOUND", message: "object not found") }
        }
        await #expect(throws: ExitCode.failure) {
            try await Terminal.run { throw RPCError(code: .unavailable, message: "no leader") }
        }
        await #expect(throws: ExitCode(2)) {
            try await Terminal.run { throw ValidationError("no class given") }
        }
        await #expect(throws: ExitCode(6)) {
            try await Terminal.run { throw ExitCode(6) }
        }
        #expect(throws: ExitCode.failure) {
            try Terminal.runSync { throw CLIFailure(code: "INVALID_ARGUMENT", message: "malformed config") }
        }
    }
}
