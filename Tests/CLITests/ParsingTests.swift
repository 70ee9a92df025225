import ArgumentParser
import Foundation
import OaaSCore
import Testing
@testable import OaaSCLI

/// A root like the executable's, so top-level aliases (`caps`, `ctx`) are exercised.
private struct TestRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

private func parse<T: ParsableCommand>(_ arguments: [String], as type: T.Type) throws -> T {
    let command = try TestRoot.parseAsRoot(arguments)
    guard let typed = command as? T else {
        Issue.record("parsed \(Swift.type(of: command)), expected \(T.self)")
        throw ValidationError("wrong command")
    }
    return typed
}

/// The exit code and message the executable would produce for these arguments.
private func usageFailure(_ arguments: [String]) -> (code: Int32, message: String)? {
    do {
        _ = try TestRoot.parseAsRoot(arguments)
        return nil
    } catch {
        return (ClientCommands.exitCode(for: error), TestRoot.fullMessage(for: error))
    }
}

@Suite("Argument parsing")
struct ParsingTests {
    @Test("the seed line parses with interleaved flags and positionals")
    func seedLine() throws {
        let command = try parse(
            ["object", "setstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "-s", "name=alice", "-s", "role=admin"],
            as: ObjectSetStrCommand.self)
        #expect(command.cls.clsID == "users")
        #expect(command.partition == 0)
        #expect(command.objectIDStr == "user-42")
        #expect(command.entries.strValues == [KeyValue(key: "name", value: "alice"), KeyValue(key: "role", value: "admin")])
        let obj = command.entries.objData
        #expect(obj.entriesStr["name"]?.data == Data("alice".utf8))
        #expect(obj.entriesStr["name"]?.type == .byte)
        #expect(obj.entriesStr["role"]?.data == Data("admin".utf8))
        #expect(obj.entries.isEmpty)
    }

    @Test("aliases reach the same commands")
    func aliases() throws {
        _ = try parse(["object", "ss", "-c", "users", "0", "--object-id-str", "a"], as: ObjectSetStrCommand.self)
        _ = try parse(["object", "s", "-c", "users", "0", "7"], as: ObjectSetCommand.self)
        _ = try parse(["object", "m", "0", "7"], as: ObjectMergeCommand.self)
        _ = try parse(["object", "g", "0", "7"], as: ObjectGetCommand.self)
        _ = try parse(["object", "gs", "0", "--object-id-str", "a"], as: ObjectGetStrCommand.self)
        _ = try parse(["object", "gsk", "0", "--object-id-str", "a", "--key-str", "k"], as: ObjectGetStrKeyCommand.self)
        _ = try parse(["object", "lss", "0", "--object-id-str", "a"], as: ObjectListStrCommand.self)
        _ = try parse(["object", "list-str", "0", "5"], as: ObjectListStrCommand.self)
        _ = try parse(["object", "del", "0", "5"], as: ObjectDeleteCommand.self)
        _ = try parse(["object", "rm", "0", "--object-id-str", "a"], as: ObjectDeleteCommand.self)
        _ = try parse(["object", "ls", "0"], as: ObjectListCommand.self)
        _ = try parse(["object", "l", "0"], as: ObjectListCommand.self)
        for alias in ["capabilities", "caps", "cap", "features"] {
            _ = try parse([alias], as: CapabilitiesCommand.self)
        }
        _ = try parse(["stats"], as: StatsCommand.self)
        _ = try parse(["ctx", "set", "prod"], as: ContextSetCommand.self)
        _ = try parse(["context", "update", "prod"], as: ContextSetCommand.self)
        _ = try parse(["ctx", "g"], as: ContextGetCommand.self)
        _ = try parse(["context", "select", "prod"], as: ContextSelectCommand.self)
    }

    @Test("global options are accepted on every command")
    func globalOptions() throws {
        let get = try parse(["object", "get", "-g", "http://10.0.0.1:9000", "--context", "prod", "-o", "yaml", "0", "9", "-k", "3"],
                            as: ObjectGetCommand.self)
        #expect(get.global.grpcURL == "http://10.0.0.1:9000")
        #expect(get.global.context == "prod")
        #expect(get.global.format() == .yaml)
        #expect(get.key == 3)
        let stats = try parse(["stats", "--output", "json"], as: StatsCommand.self)
        #expect(stats.global.format() == .json)
        let get2 = try parse(["ctx", "get"], as: ContextGetCommand.self)
        #expect(get2.global.format() == .table)
        #expect(get2.global.format(default: .yaml) == .yaml)
    }

    @Test("-b keys must be u32; values split at the first '='")
    func byteValues() throws {
        let command = try parse(["object", "set", "-c", "c", "0", "1", "-b", "1=hello=world", "-b", "4294967295=", "-s", "k=-dash"],
                                as: ObjectSetCommand.self)
        #expect(command.entries.byteValues == [
            EntryOptions.NumericEntry(key: 1, value: "hello=world"),
            EntryOptions.NumericEntry(key: 4_294_967_295, value: ""),
        ])
        #expect(command.entries.strValues == [KeyValue(key: "k", value: "-dash")])
        #expect(command.entries.objData.entries[1]?.data == Data("hello=world".utf8))

        for bad in ["x=1", "-1=a", "4294967296=a", "=a"] {
            let failure = try #require(usageFailure(["object", "set", "-c", "c", "0", "1", "-b", bad]))
            #expect(failure.code == 2, "\(bad)")
            #expect(failure.message.contains("-b"), "\(failure.message)")
        }
    }

    @Test("K=V without '=' is a usage error")
    func missingEquals() throws {
        let failure = try #require(usageFailure(["object", "setstr", "0", "--object-id-str", "a", "-s", "novalue"]))
        #expect(failure.code == 2)
        #expect(failure.message.contains("K=V"))
        #expect(throws: ValidationError.self) { try KeyValue.parse("abc", option: "-s") }
        #expect(try KeyValue.parse("a=b=c", option: "-s") == KeyValue(key: "a", value: "b=c"))
        #expect(try KeyValue.parse("a=", option: "-s") == KeyValue(key: "a", value: ""))
    }

    @Test("exactly-one and at-most-one rules exit 2")
    func exclusivity() throws {
        let cases: [[String]] = [
            ["object", "merge", "0", "5", "--object-id-str", "a"],
            ["object", "merge", "0"],
            ["object", "delete", "0"],
            ["object", "liststr", "0", "5", "--object-id-str", "a"],
            ["object", "get", "0", "5", "-k", "1", "--key-str", "a"],
            ["object", "getstr", "0", "--object-id-str", "a", "-k", "1", "--key-str", "a"],
            ["object", "getstr", "0"],
            ["object", "getstrkey", "0", "--object-id-str", "a"],
            ["object", "set", "0"],
            ["object", "set", "2147483648", "1"],
            ["object", "get", "0", "-5"],
            ["object", "list", "0", "--kind", "weird"],
            ["object", "nope"],
            ["capabilities", "--json", "-o", "yaml"],
            ["object", "list", "0", "--cursor", "!!!"],
            ["ctx", "set", "--gateway", "ftp://x:1"],
        ]
        for arguments in cases {
            let failure = usageFailure(arguments)
            #expect(failure?.code == 2, "\(arguments)")
        }
    }

    @Test("--json is an alias of --output json on capabilities and object list")
    func jsonAlias() throws {
        let caps = try parse(["caps", "--json"], as: CapabilitiesCommand.self)
        #expect(try caps.global.format(json: caps.json) == .json)
        let list = try parse(["object", "ls", "0", "--json", "-n", "2", "-f", "user", "--all", "--kind", "string"], as: ObjectListCommand.self)
        #expect(try list.global.format(json: list.json) == .json)
        let request = list.request(cursor: nil)
        #expect(request.limit == 2)
        #expect(request.objectIDPrefix == "user")
        #expect(request.kind == .string)
        #expect(list.all)
        let plain = try parse(["caps", "-o", "json", "--json"], as: CapabilitiesCommand.self)
        #expect(try plain.global.format(json: plain.json) == .json)
    }

    @Test("Zenoh flags are rejected with a hint to use --grpc-url")
    func zenohRejected() throws {
        for flag in ["-z", "--zenoh-peer", "--peer"] {
            let failure = try #require(usageFailure(["capabilities", flag, "tcp/127.0.0.1:7447"]))
            #expect(failure.code == 2)
            #expect(failure.message.contains("--grpc-url"))
        }
    }

    @Test("exit codes: usage 2, help 0, explicit codes kept, other errors 1")
    func exitCodes() throws {
        #expect(ClientCommands.exitCode(for: ValidationError("bad")) == 2)
        #expect(ClientCommands.exitCode(for: ExitCode.failure) == 1)
        #expect(ClientCommands.exitCode(for: ExitCode(6)) == 6)
        #expect(ClientCommands.exitCode(for: CleanExit.helpRequest()) == 0)
        #expect(ClientCommands.exitCode(for: CLIFailure(code: "INTERNAL", message: "x")) == 1)
        #expect(usageFailure(["object", "get", "--bogus"])?.code == 2)
    }

    @Test("class: -c, else default_class, else a usage error naming both")
    func classResolution() throws {
        var context = ResolvedContext(name: "default", settings: ContextSettings())
        #expect(try ClassOption.parse(["-c", "users"]).resolve(in: context) == "users")
        let option = try ClassOption.parse([])
        context.settings.defaultClass = "orders"
        #expect(try option.resolve(in: context) == "orders")
        context.settings.defaultClass = nil
        do {
            _ = try option.resolve(in: context)
            Issue.record("expected a usage error")
        } catch let error as ValidationError {
            #expect(error.message.contains("-c/--cls-id"))
            #expect(error.message.contains("default_class"))
            #expect(ClientCommands.exitCode(for: error) == 2)
        }
    }

    @Test("the gateway comes from -g, else the context; bad -g is usage, https is exit 1")
    func gatewayResolution() throws {
        let context = ResolvedContext(name: "default", settings: ContextSettings())
        #expect(try GlobalOptions.parse([]).gateway(in: context) == GatewayEndpoint(host: .ipv4("127.0.0.1"), port: 8081))
        #expect(try GlobalOptions.parse(["-g", "localhost:9000"]).gateway(in: context)
            == GatewayEndpoint(host: .dns("localhost"), port: 9000))
        let noPort = try GlobalOptions.parse(["-g", "localhost"])
        #expect(throws: ValidationError.self) { try noPort.gateway(in: context) }
        let tls = try GlobalOptions.parse(["--grpc-url", "https://gw.example:443"])
        do {
            _ = try tls.gateway(in: context)
            Issue.record("expected a failure")
        } catch let failure as CLIFailure {
            #expect(failure.code == "UNIMPLEMENTED")
            #expect(failure.message.contains("TLS"))
        }
    }
}

@Suite("Gateway URLs")
struct GatewayEndpointTests {
    @Test func forms() throws {
        #expect(try GatewayEndpoint.parse("http://127.0.0.1:8081") == GatewayEndpoint(host: .ipv4("127.0.0.1"), port: 8081))
        #expect(try GatewayEndpoint.parse("http://127.0.0.1:8081/") == GatewayEndpoint(host: .ipv4("127.0.0.1"), port: 8081))
        #expect(try GatewayEndpoint.parse("127.0.0.1:8081") == GatewayEndpoint(host: .ipv4("127.0.0.1"), port: 8081))
        #expect(try GatewayEndpoint.parse("HTTP://gw.local:80") == GatewayEndpoint(host: .dns("gw.local"), port: 80))
        #expect(try GatewayEndpoint.parse("http://gw.local") == GatewayEndpoint(host: .dns("gw.local"), port: 80))
        #expect(try GatewayEndpoint.parse("http://[::1]:8081") == GatewayEndpoint(host: .ipv6("::1"), port: 8081))
        #expect(try GatewayEndpoint.parse("[::1]:8081").description == "http://[::1]:8081")
        #expect(try GatewayEndpoint.parse("1.2.3.400:1") == GatewayEndpoint(host: .dns("1.2.3.400"), port: 1))
    }

    @Test func rejects() {
        #expect(throws: GatewayEndpoint.ParseError.tlsUnsupported("https://x:1")) { try GatewayEndpoint.parse("https://x:1") }
        for bad in ["", "gw", "http://", "http://x:0", "http://x:65536", "http://x:80/api", "grpc://x:1", "::1:80", "[::1"] {
            #expect(throws: GatewayEndpoint.ParseError.self, "\(bad)") { try GatewayEndpoint.parse(bad) }
        }
    }
}
