import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing
import WasmRuntime

/// Modules that cannot run: each is a SYSTEM_ERROR naming the cause, never a crash.
@Suite struct ModuleErrorTests {
    @Test func aMissingModuleFileIsASystemError() async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "gone", route: wasmRoute("file:///nonexistent/oaas/gone.wasm"))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'gone': wasm module file '/nonexistent/oaas/gone.wasm' not found")
    }

    @Test func aRouteWithoutModuleURLIsASystemError() async throws {
        var route = wasmRoute("")
        route.clearWasmModuleURL()
        let response = try await makeRunner().invoke(fnCall(), functionKey: "bare", route: route)
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'bare': its route has no wasm_module_url")
    }

    @Test(arguments: [
        ("oci://registry.example.com/fn:1", "oci:// modules are not supported in this version"),
        ("ftp://host/fn.wasm", "must use file://, http:// or https://"),
        ("file://relative/fn.wasm", "must hold an absolute path"),
        ("no-scheme.wasm", "has no scheme"),
    ])
    func unsupportedModuleURLsAreSystemErrors(url: String, expected: String) async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response).contains(expected))
    }

    @Test func badWATIsASystemErrorWithTheParserMessage() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("bad.wat", "(module (func (export \"invoke\") (result i32) (i32.bogus)))")
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response).hasPrefix("wasm function 'fn': wasm module \(url) is not valid WAT:"))
    }

    @Test func bytesThatAreNeitherWasmNorTextAreASystemError() async throws {
        let modules = try ModuleDirectory()
        let file = (modules.path as NSString).appendingPathComponent("junk.wasm")
        try Data([0xFF, 0xFE, 0x00, 0x01]).write(to: URL(fileURLWithPath: file))
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute("file://" + file))
        #expect(response.status == .systemError)
        #expect(text(response).contains("neither a WebAssembly binary nor UTF-8 WAT text"))
    }

    @Test func aTruncatedBinaryIsASystemError() async throws {
        let modules = try ModuleDirectory()
        let file = (modules.path as NSString).appendingPathComponent("short.wasm")
        try Data([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05]).write(to: URL(fileURLWithPath: file))
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute("file://" + file))
        #expect(response.status == .systemError)
        #expect(text(response).contains("is not a valid WebAssembly module"))
    }

    @Test func aModuleFileAboveTheSizeCapIsASystemError() async throws {
        let runner = makeRunner(settings: WasmRunnerSettings(maxModuleBytes: 64))
        let response = try await runner.invoke(fnCall(), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(response.status == .systemError)
        #expect(text(response).contains("above the 64-byte limit"))
    }

    @Test func aModuleWithoutTheExpectedExportIsASystemError() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("other.wat", #"(module (func (export "main") (result i32) (i32.const 0)))"#)
        let response = try await makeRunner().invoke(fnCall("greet"), functionKey: "hello", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'hello': the module exports no function named 'hello', 'greet', 'invoke'")
    }

    @Test func anExportWithTheWrongTypeIsASystemError() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("typed.wat", #"(module (func (export "invoke") (param i32)))"#)
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'fn': export 'invoke' has type (i32) -> (); expected () -> i32")
    }

    @Test func anUnknownImportIsASystemError() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("imports.wat", """
        (module
          (import "oaas" "teleport" (func $teleport))
          (func (export "invoke") (result i32) (call $teleport) (i32.const 0)))
        """)
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response).contains("while instantiating the module"))
        #expect(text(response).contains("teleport"))
    }

    @Test func anOutOfBoundsLoadTrapsWithoutHarmingTheHost() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("oob.wat", """
        (module
          (memory (export "memory") 1)
          (func (export "invoke") (result i32) (i32.load (i32.const 70000))))
        """)
        let runner = makeRunner()
        let response = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'fn': trapped while running export 'invoke': out of bounds memory access")
        let echo = try await runner.invoke(fnCall(payload: "still here"), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(text(echo) == "still here")
    }

    @Test func anUnknownStatusIsASystemError() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("status.wat", #"(module (func (export "invoke") (result i32) (i32.const 9)))"#)
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response).contains("export 'invoke' returned 9, not a response status"))
    }

    @Test func aLoadedModuleIsCachedUntilUnloaded() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("cached.wat", #"(module (func (export "invoke") (result i32) (i32.const 1)))"#)
        let runner = makeRunner()
        try await runner.preload(moduleURL: url)
        try FileManager.default.removeItem(atPath: String(url.dropFirst("file://".count)))
        let cached = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(cached.status == .invalidRequest)
        await runner.unload(moduleURL: url)
        let gone = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(gone.status == .systemError)
        #expect(text(gone).contains("not found"))
    }

    @Test func preloadReportsTheFailuresOfACollection() async throws {
        var collection = Oprc_CreateCollectionRequest()
        collection.name = "shop"
        collection.invocations.fnRoutes = [
            "echo": wasmRoute(exampleURL("echo")),
            "gone": wasmRoute("file:///nonexistent/gone.wat"),
        ]
        let failures = await makeRunner().preloadModules(of: collection)
        #expect(Array(failures.keys) == ["gone"])
        #expect(failures["gone"]?.message.contains("not found") == true)
    }
}
