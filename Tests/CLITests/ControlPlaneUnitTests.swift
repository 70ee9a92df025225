import ArgumentParser
import Foundation
import OaaSModels
import Testing
@testable import OaaSCLI

private struct AliasRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

@Suite("control-plane pieces without a server")
struct ControlPlaneUnitTests {
    @Test("durations: 300s, 5m, 1500ms, 1h, plain seconds; garbage is a usage error")
    func durations() throws {
        #expect(try WaitDuration.parse("300s").duration == .seconds(300))
        #expect(try WaitDuration.parse("5m").duration == .seconds(300))
        #expect(try WaitDuration.parse("1500ms").duration == .milliseconds(1500))
        #expect(try WaitDuration.parse("1h").duration == .seconds(3600))
        #expect(try WaitDuration.parse("45").duration == .seconds(45))
        #expect(try WaitDuration.parse("2.5").duration == .milliseconds(2500))
        #expect(try WaitDuration.parse(" 10S ").text == "10S")
        for bad in ["", "s", "-5s", "5x", "1e3", "5 m", "99999999h"] {
            #expect(throws: ValidationError.self, "\(bad)") { try WaitDuration.parse(bad) }
        }
        #expect(try WaitInterval.resolve([:]) == .seconds(1))
        #expect(try WaitInterval.resolve(["OAAS_WAIT_INTERVAL_MS": "25"]) == .milliseconds(25))
        #expect(throws: CLIFailure.self) { try WaitInterval.resolve(["OAAS_WAIT_INTERVAL_MS": "0"]) }
    }

    @Test("PM URLs: scheme optional, trailing slash dropped, only http(s)")
    func endpoints() throws {
        #expect(try PMEndpoint.parse("http://127.0.0.1:8080/").base == "http://127.0.0.1:8080")
        #expect(try PMEndpoint.parse("localhost:9000").base == "http://localhost:9000")
        #expect(try PMEndpoint.parse("https://pm.example.com/oaas").base == "https://pm.example.com/oaas")
        #expect(throws: PMEndpoint.ParseError.self) { try PMEndpoint.parse("ftp://x") }
        #expect(throws: PMEndpoint.ParseError.self) { try PMEndpoint.parse("http://") }
        #expect(throws: PMEndpoint.ParseError.self) { try PMEndpoint.parse("http://pm:8080/?x=1") }
        let endpoint = try PMEndpoint.parse("http://pm:8080/base")
        #expect(endpoint.url(["classes", "shop.Cart"], query: [("tag", "a b&c")]) == "http://pm:8080/base/api/v1/classes/shop.Cart?tag=a%20b%26c")
        #expect(endpoint.url(["deployments", "a/b"]) == "http://pm:8080/base/api/v1/deployments/a%2Fb")
    }

    @Test("apply plan: deployments inside a package take its (overridden) name; packages lose their deployments")
    func applyPlan() throws {
        let file = try ManifestFile.decode(Fixtures.shop + "\n---\nkey: extra\nclass_key: Cart\n---\nkey: elsewhere\npackage_name: other\nclass_key: X\n",
                                           path: "shop.yaml")
        let plan = try ApplyPlan.make(file, overridePackage: nil)
        #expect(plan.packages.map(\.name) == ["shop"])
        #expect(plan.packages.first?.deployments.isEmpty == true)
        #expect(plan.deployments.map(\.key) == ["cart", "extra", "elsewhere"])
        #expect(plan.deployments.map(\.packageName) == ["shop", "shop", "other"])

        let renamed = try ApplyPlan.make(file, overridePackage: "shop2")
        #expect(renamed.packages.map(\.name) == ["shop2"])
        #expect(renamed.deployments.map(\.packageName) == ["shop2", "shop2", "other"])

        let two = try ManifestFile.decode("name: a\n---\nname: b\n", path: "two.yaml")
        #expect(throws: CLIFailure.usage("-p/--override-package needs a file with one package; 'two.yaml' has 2")) {
            try ApplyPlan.make(two, overridePackage: "c")
        }
        let onlyDeployments = try ManifestFile.decode(#"[{"key":"a","class_key":"C"}]"#, path: "d.json", format: .json)
        #expect(try ApplyPlan.make(onlyDeployments, overridePackage: "p").deployments.first?.packageName == "p")
    }

    @Test("progress: RUNNING everywhere, DOWN (or failed dispatch) anywhere, DELETED, else in progress")
    func progress() throws {
        let running = FakePM.statusView("k", condition: "RUNNING", envs: [(env: "a", condition: "Running", message: nil),
                                                                         (env: "b", condition: "RUNNING", message: nil)])
        #expect(DeploymentProgress.of(running) == .running)
        let mixed = FakePM.statusView("k", condition: "DEPLOYING", envs: [(env: "a", condition: "Running", message: nil),
                                                                         (env: "b", condition: "Deploying", message: nil)])
        #expect(DeploymentProgress.of(mixed) == .inProgress)
        let down = FakePM.statusView("k", condition: "DOWN", envs: [(env: "a", condition: "Running", message: nil),
                                                                   (env: "b", condition: "Down", message: "CrashLoop")])
        #expect(DeploymentProgress.of(down) == .down(["b: CrashLoop"]))
        let failedDispatch = try FakePM.parse(#"{"condition":"PENDING","envs":[{"env":"a","dispatch":"failed","condition":"Pending","last_error":"CRM said no"}]}"#)
        #expect(DeploymentProgress.of(failedDispatch) == .down(["a: CRM said no"]))
        let downNoEnvs = try FakePM.parse(#"{"condition":"DOWN","envs":[],"status":{"last_error":"no env"}}"#)
        #expect(DeploymentProgress.of(downNoEnvs) == .down(["no env"]))
        #expect(DeploymentProgress.of(try FakePM.parse(#"{"condition":"DELETED","envs":[]}"#)) == .deleted)
        #expect(DeploymentProgress.of(try FakePM.parse(#"{"condition":"PENDING","envs":[]}"#)) == .inProgress)
    }

    @Test("PM error envelopes: details with and without fields; a body without an envelope")
    func errorEnvelope() {
        let body = #"{"error":{"code":"IN_USE","message":"package 'shop' is used","details":[{"field":"deployments","message":"cart"},{"message":"other"},"plain"]}}"#
        let error = PMError(response: PMResponse(status: 409, headers: [], body: Data(body.utf8)))
        #expect(error.code == "IN_USE")
        #expect(error.cliFailure.report == "error: IN_USE: package 'shop' is used\n  - deployments: cart\n  - other\n  - plain\n")
        #expect(CLIFailure.from(error) == error.cliFailure)

        let plain = PMError(response: PMResponse(status: 503, headers: [], body: Data()))
        #expect(plain.cliFailure.report == "error: HTTP_503: PM answered 503: no body\n")
    }

    @Test("every alias of spec §15 reaches its command")
    func aliases() throws {
        let cases: [([String], any ParsableCommand.Type)] = [
            (["package", "apply", "f"], PackageApplyCommand.self), (["pkg", "a", "f"], PackageApplyCommand.self),
            (["p", "create", "f"], PackageApplyCommand.self), (["p", "c", "f"], PackageApplyCommand.self),
            (["package", "get", "n"], PackageGetCommand.self), (["package", "list"], PackageListCommand.self),
            (["package", "d", "n"], PackageDeleteCommand.self), (["package", "rm", "n"], PackageDeleteCommand.self),
            (["package", "r", "n"], PackageDeleteCommand.self),
            (["dep", "apply", "f"], DeployApplyCommand.self), (["de", "status", "k"], DeployStatusCommand.self),
            (["deploy", "list"], DeployListCommand.self), (["deploy", "delete", "k"], DeployDeleteCommand.self),
            (["cls", "list"], ClassListCommand.self), (["c", "get", "a.B"], ClassGetCommand.self),
            (["class"], ClassListCommand.self), (["class", "delete", "a.B"], ClassDeleteCommand.self),
            (["fn", "list"], FunctionListCommand.self), (["f"], FunctionListCommand.self),
            (["function", "get", "a.b"], FunctionGetCommand.self),
            (["cr", "list"], ClassRuntimesListCommand.self), (["runtimes", "l"], ClassRuntimesListCommand.self),
            (["rts"], ClassRuntimesListCommand.self), (["class-runtimes", "get", "x"], ClassRuntimesGetCommand.self),
            (["environments", "list"], EnvListCommand.self), (["envs"], EnvListCommand.self), (["clu"], EnvListCommand.self),
            (["cl", "health", "local", "--refresh"], EnvHealthCommand.self),
        ]
        for (arguments, expected) in cases {
            let parsed = try AliasRoot.parseAsRoot(arguments)
            #expect(ObjectIdentifier(type(of: parsed)) == ObjectIdentifier(expected), "\(arguments)")
        }
        #expect(throws: (any Error).self) { try AliasRoot.parseAsRoot(["class-runtimes", "list", "id", "--status", "x"]) }
    }

    @Test("help renders for the control-plane commands and names their flags")
    func help() {
        let apply = AliasRoot.helpMessage(for: PackageApplyCommand.self)
        for flag in ["--override-package", "--apply-deployments", "--overwrite", "--pm", "--correlation-id", "--output"] {
            #expect(apply.contains(flag), "\(flag)")
        }
        let status = AliasRoot.helpMessage(for: DeployStatusCommand.self)
        #expect(status.contains("--wait") && status.contains("--watch") && status.contains("--timeout"))
        #expect(!AliasRoot.helpMessage(for: ClassRuntimesListCommand.self).isEmpty)
    }
}
