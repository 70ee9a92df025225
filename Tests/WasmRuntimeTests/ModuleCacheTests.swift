import Foundation
import OaaSProto
import Testing
import WasmRuntime

/// The module cache: a failed load is remembered for `failedModuleTTL`, so a broken URL costs one fetch and
/// compile per TTL, not one per call; a deploy retries at once.
@Suite struct ModuleCacheTests {
    static let broken = "(module"
    static let fixed = #"(module (func (export "invoke") (result i32) (i32.const 2)))"#

    @Test func aFailedRemoteLoadIsFetchedOncePerTTL() async throws {
        let requests = RequestLog()
        try await HTTPModuleTests.withServer([:], requests: requests) { base in
            let url = base + "/nope.wasm"
            let runner = makeRunner(settings: WasmRunnerSettings(failedModuleTTL: .milliseconds(400)))
            for _ in 0..<5 {
                let response = try await runner.invoke(fnCall(), functionKey: "gone", route: wasmRoute(url))
                #expect(response.status == .systemError)
                #expect(text(response) == "wasm function 'gone': fetching wasm module \(url) answered HTTP 404")
            }
            #expect(requests.count("/nope.wasm") == 1)
            #expect(await runner.moduleState(url: url) == .failed("fetching wasm module \(url) answered HTTP 404"))
            try await Task.sleep(for: .milliseconds(500))
            #expect(await runner.moduleState(url: url) == .absent)
            let again = try await runner.invoke(fnCall(), functionKey: "gone", route: wasmRoute(url))
            #expect(again.status == .systemError)
            #expect(requests.count("/nope.wasm") == 2)
        }
    }

    @Test func aFixedModuleFileIsPickedUpOnceTheFailureExpires() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("later.wat", Self.broken)
        let runner = makeRunner(settings: WasmRunnerSettings(failedModuleTTL: .milliseconds(300)))
        let first = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(first.status == .systemError)
        _ = try modules.write("later.wat", Self.fixed)
        // Within the TTL the remembered failure answers, with the same text.
        let cached = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(cached.status == .systemError)
        #expect(text(cached) == text(first))
        try await Task.sleep(for: .milliseconds(400))
        let recovered = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(recovered.status == .appError)
        #expect(await runner.moduleState(url: url) == .loaded)
    }

    @Test func withoutATTLEveryCallRetries() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("retry.wat", Self.broken)
        let runner = makeRunner(settings: WasmRunnerSettings(failedModuleTTL: .zero))
        let broken = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(broken.status == .systemError)
        #expect(await runner.moduleState(url: url) == .absent)
        _ = try modules.write("retry.wat", Self.fixed)
        let fixed = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(fixed.status == .appError)
    }

    @Test func aDeployRetriesARememberedFailureAtOnce() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("deployed.wat", Self.broken)
        let runner = makeRunner(settings: WasmRunnerSettings(failedModuleTTL: .seconds(60)))
        let broken = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(broken.status == .systemError)
        _ = try modules.write("deployed.wat", Self.fixed)
        var collection = Oprc_CreateCollectionRequest()
        collection.name = "shop"
        var route = wasmRoute(url)
        route.url = "wasm://shop.fn"
        collection.invocations.fnRoutes = ["fn": route]
        let failures = await runner.preloadInBackground(collection).value
        #expect(failures.isEmpty)
        #expect(await runner.moduleState(url: url) == .loaded)
        let fixed = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(fixed.status == .appError)
    }

    @Test func concurrentFirstCallsShareOneFetch() async throws {
        let requests = RequestLog()
        let source = try HTTPModuleTests.exampleText("echo")
        try await HTTPModuleTests.withServer(["/echo.wat": source], requests: requests) { base in
            let runner = makeRunner()
            let url = base + "/echo.wat"
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        text(try await runner.invoke(fnCall(payload: "call \(index)"), functionKey: "echo", route: wasmRoute(url)))
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(answers == Set((0..<8).map { "call \($0)" }))
            #expect(requests.count("/echo.wat") == 1)
        }
    }
}
