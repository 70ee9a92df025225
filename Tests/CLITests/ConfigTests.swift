import Foundation
import Testing
import Yams
@testable import OaaSCLI

/// A fresh directory per test, removed afterwards.
private final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oaas-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ text: String, to name: String) throws -> String {
        let path = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite("Config file")
struct ConfigTests {
    @Test("OAAS_CONFIG_PATH overrides ~/.oaas/config.yml")
    func defaultPath() {
        #expect(ConfigStore.defaultPath(environment: ["OAAS_CONFIG_PATH": "/tmp/x.yml", "HOME": "/home/u"]) == "/tmp/x.yml")
        #expect(ConfigStore.defaultPath(environment: ["OAAS_CONFIG_PATH": "", "HOME": "/home/u"]) == "/home/u/.oaas/config.yml")
        #expect(ConfigStore.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.oaas/config.yml")
    }

    @Test("a missing file is one in-memory context 'default' with the oaas dev URLs")
    func missingFile() throws {
        let dir = try TempDir()
        let store = ConfigStore(path: dir.path("nope/config.yml"))
        let config = try store.load()
        #expect(config == .implicit)
        let context = try config.resolve(named: nil)
        #expect(context.name == "default")
        #expect(context.settings.pmURL == "http://127.0.0.1:8080")
        #expect(context.settings.gatewayURL == "http://127.0.0.1:8081")
        #expect(context.settings.defaultClass == nil)
        #expect(!FileManager.default.fileExists(atPath: store.path), "reading never creates the file")
    }

    @Test("unknown keys are ignored and missing fields take the defaults")
    func lenientLoad() throws {
        let dir = try TempDir()
        let path = try dir.write("""
            current_context: prod
            zenoh_peer: tcp/1.2.3.4:7447
            contexts:
              prod:
                gateway_url: http://10.0.0.5:8081
                default_class: users
                use_grpc: true
              empty:
            """, to: "config.yml")
        let config = try ConfigStore(path: path).load()
        #expect(config.currentContext == "prod")
        let prod = try config.resolve(named: nil)
        #expect(prod.settings == ContextSettings(pmURL: "http://127.0.0.1:8080", gatewayURL: "http://10.0.0.5:8081",
                                                 defaultClass: "users", routerURL: nil))
        #expect(try config.resolve(named: "empty").settings == ContextSettings())
        #expect(throws: CLIFailure.self) { try config.resolve(named: "staging") }
    }

    @Test("save then load round-trips, in snake_case")
    func roundTrip() throws {
        let dir = try TempDir()
        let store = ConfigStore(path: dir.path("sub/dir/config.yml"))
        let config = CLIConfig(currentContext: "a", contexts: [
            "a": ContextSettings(pmURL: "http://pm:1", gatewayURL: "http://gw:2", defaultClass: "true", routerURL: "http://r:3"),
            "b": ContextSettings(),
        ])
        try store.save(config)
        #expect(try store.load() == config)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(text.contains("current_context: a"))
        #expect(text.contains("gateway_url: http://gw:2"))
        #expect(text.contains("default_class: 'true'"), "a string that looks like a bool stays a string")
    }

    @Test("a malformed file fails with its line and is never overwritten")
    func malformed() throws {
        let dir = try TempDir()
        let original = "current_context: a\ncontexts:\n  a: [unclosed\n"
        let path = try dir.write(original, to: "config.yml")
        let store = ConfigStore(path: path)
        do {
            _ = try store.load()
            Issue.record("expected a parse error")
        } catch {
            #expect(error.code == "INVALID_ARGUMENT")
            #expect(error.message.contains("line"))
            #expect(error.message.contains(path))
        }

        let set = try ContextSetCommand.parse(["--gateway", "http://1.2.3.4:5"])
        #expect(throws: CLIFailure.self) { try set.execute(store: store, format: .table) }
        let select = try ContextSelectCommand.parse(["a"])
        #expect(throws: CLIFailure.self) { try select.execute(store: store, format: .table) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    }

    @Test("structural errors name the line")
    func structuralErrors() throws {
        let dir = try TempDir()
        let cases = [
            "- a\n- b\n": "line 1",
            "contexts:\n  - a\n": "line 2",
            "contexts:\n  a: 5\n": "line 2",
            "contexts:\n  a:\n    gateway_url: [1]\n": "line 3",
        ]
        for (text, line) in cases {
            let path = try dir.write(text, to: "c.yml")
            do {
                _ = try ConfigStore(path: path).load()
                Issue.record("expected failure for \(text)")
            } catch {
                #expect(error.message.contains(line), "\(error.message)")
            }
        }
        #expect(try ConfigStore(path: try dir.write("", to: "empty.yml")).load().resolve(named: nil).name == "default")
    }

    @Test("context set: current by default, new names created, first becomes current")
    func contextSet() throws {
        var config = CLIConfig.implicit
        (config, _) = ContextEditing.set(config, name: nil, changes: .init(defaultClass: "users"))
        #expect(config.contexts["default"]?.defaultClass == "users")

        let (withProd, name) = ContextEditing.set(config, name: "prod", changes: .init(gatewayURL: "http://gw:1"))
        #expect(name == "prod")
        #expect(withProd.currentContext == "default", "an existing current context stays current")
        #expect(withProd.contexts["prod"] == ContextSettings(gatewayURL: "http://gw:1"))

        let (fresh, _) = ContextEditing.set(CLIConfig(currentContext: nil, contexts: [:]), name: "x", changes: .init())
        #expect(fresh.currentContext == "x")

        let (cleared, _) = ContextEditing.set(config, name: nil, changes: .init(defaultClass: ""))
        #expect(cleared.contexts["default"]?.defaultClass == nil)
    }

    @Test("context set, get and select round-trip through the file")
    func contextCommands() throws {
        let dir = try TempDir()
        let store = ConfigStore(path: dir.path("config.yml"))

        let set = try ContextSetCommand.parse(["prod", "--gateway", "http://10.1.1.1:8081", "--cls", "users"])
        let setOutput = String(decoding: try set.execute(store: store, format: .table), as: UTF8.self)
        #expect(setOutput.hasPrefix("ctx 'prod' updated\n"))
        #expect(setOutput.contains("  gateway_url: http://10.1.1.1:8081\n"))
        #expect(setOutput.contains("  default_class: users\n"))

        _ = try ContextSelectCommand.parse(["prod"]).execute(store: store, format: .table)
        #expect(try store.load().resolve(named: nil).settings.defaultClass == "users")

        do {
            _ = try ContextSelectCommand.parse(["missing"]).execute(store: store, format: .table)
            Issue.record("expected NOT_FOUND")
        } catch let failure as CLIFailure {
            #expect(failure.code == "NOT_FOUND")
        }

        let yaml = String(decoding: try ContextGetCommand.parse([]).execute(store: store, format: .yaml), as: UTF8.self)
        let parsed = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        #expect(parsed["current_context"] as? String == "prod")
        let contexts = try #require(parsed["contexts"] as? [String: Any])
        let prod = try #require(contexts["prod"] as? [String: Any])
        #expect(prod["gateway_url"] as? String == "http://10.1.1.1:8081")
        #expect(contexts["default"] != nil)

        let json = try ContextGetCommand.parse([]).execute(store: store, format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["current_context"] as? String == "prod")
    }
}
