import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing
import WasmRuntime

/// The example modules of `Examples/wasm`, run from their WAT source against a fake store.
@Suite struct ExampleModuleTests {
    @Test func echoAnswersThePayloadVerbatim() async throws {
        let runner = makeRunner()
        let payload = "héllo {\"a\": [1, 2]}\n"
        let response = try await runner.invoke(fnCall(payload: payload), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(response.status == .okay)
        #expect(text(response) == payload)
        #expect(response.headers.isEmpty)
    }

    @Test func echoGrowsItsMemoryForALargePayload() async throws {
        let runner = makeRunner()
        let payload = String(repeating: "0123456789abcdef", count: 10_000)  // 160 000 bytes: three pages
        let response = try await runner.invoke(fnCall(payload: payload), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(response.status == .okay)
        #expect(response.payload.count == payload.utf8.count)
        #expect(text(response) == payload)
    }

    @Test func echoOfAnEmptyPayloadIsAnEmptyOkay() async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(response.status == .okay)
        #expect(response.payload.isEmpty)
    }

    @Test func incrReadsAndWritesTheObjectsEntry() async throws {
        let store = FakeObjectStore()
        let runner = makeRunner(store)
        let route = wasmRoute(exampleURL("incr"), stateless: false)

        let first = try await runner.invoke(objCall(id: 7), functionKey: "incr", route: route)
        #expect(first.status == .okay)
        #expect(text(first) == "1")
        #expect(await store.text(object: "n:7", entry: "n:0") == "1")

        let second = try await runner.invoke(objCall(id: 7, payload: "41"), functionKey: "incr", route: route)
        #expect(text(second) == "42")
        #expect(await store.text(object: "n:7", entry: "n:0") == "42")

        // Another object, here a string id, has its own counter.
        let other = try await runner.invoke(objCall(str: "user-1", payload: "5"), functionKey: "incr", route: route)
        #expect(text(other) == "5")
        #expect(await store.text(object: "s:user-1", entry: "n:0") == "5")
        #expect(await store.text(object: "n:7", entry: "n:0") == "42")
    }

    @Test func incrReportsBadNumbersWithTheirStatus() async throws {
        let store = FakeObjectStore()
        let runner = makeRunner(store)
        let route = wasmRoute(exampleURL("incr"), stateless: false)

        let badPayload = try await runner.invoke(objCall(id: 1, payload: "ten"), functionKey: "incr", route: route)
        #expect(badPayload.status == .invalidRequest)
        #expect(text(badPayload) == "payload is not a decimal number")

        await store.seed(object: "n:2", entry: "n:0", "abc")
        let badState = try await runner.invoke(objCall(id: 2), functionKey: "incr", route: route)
        #expect(badState.status == .appError)
        #expect(text(badState) == "entry 0 is not a decimal number")
        #expect(await store.text(object: "n:2", entry: "n:0") == "abc")
    }

    @Test func incrPassesTheTriggerDepthAndInvocationIDToTheStore() async throws {
        let store = FakeObjectStore()
        let runner = makeRunner(store)
        let context = CallContext(triggerDepth: 4, invocationID: "inv-42")
        _ = try await runner.invoke(objCall(id: 3, context: context), functionKey: "incr", route: wasmRoute(exampleURL("incr"), stateless: false))
        #expect(await store.triggerDepths == [4, 4])
        #expect(await store.invocationIDs == ["inv-42", "inv-42"])
    }

    @Test func incrInAStatelessCallIsASystemError() async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "incr", route: wasmRoute(exampleURL("incr")))
        #expect(response.status == .systemError)
        #expect(text(response).contains("oaas.entry_get needs an object"))
    }

    @Test func trapIsASystemErrorNamingTheTrap() async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "trap", route: wasmRoute(exampleURL("trap")))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'trap': trapped while running export 'invoke': unreachable")
    }

    @Test func spinIsStoppedByItsFuel() async throws {
        let response = try await makeRunner().invoke(fnCall(), functionKey: "spin", route: wasmRoute(exampleURL("spin"), fuel: 200_000))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'spin': ran out of fuel (wasm_fuel 200000) while running export 'invoke'")
    }

    @Test func spinIsStoppedByTheDefaultFuelWhenTheRouteSetsNone() async throws {
        let runner = makeRunner(settings: WasmRunnerSettings(defaultFuel: 50_000))
        let response = try await runner.invoke(fnCall(), functionKey: "spin", route: wasmRoute(exampleURL("spin")))
        #expect(response.status == .systemError)
        #expect(text(response).contains("ran out of fuel (wasm_fuel 50000)"))
    }
}
