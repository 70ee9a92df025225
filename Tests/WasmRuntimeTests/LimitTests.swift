import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing
import WasmRuntime

/// Deadlines, memory and output caps, and concurrency.
@Suite struct LimitTests {
    /// A loop that calls the host on every turn: abandoned at the deadline, it stops at its next host call.
    static let politeSpin = """
    (module
      (import "oaas" "partition_id" (func $partition_id (result i32)))
      (func (export "invoke") (result i32)
        (loop $forever
          (drop (call $partition_id))
          (br $forever))
        (i32.const 0)))
    """

    @Test func spinPastTheDeadlineIsDeadlineExceededAtTheDeadline() async throws {
        let runner = makeRunner(settings: WasmRunnerSettings(maxConcurrentGuests: 1))
        let started = ContinuousClock.now
        let context = CallContext(deadline: started + .milliseconds(300))
        // Fuel for about a second of a debug build: far past the deadline, yet the abandoned guest
        // (which cannot be interrupted) ends soon after.
        let route = wasmRoute(exampleURL("spin"), fuel: 6_000_000)
        let error = await thrownError {
            _ = try await runner.invoke(fnCall(context: context), functionKey: "spin", route: route)
        }
        // DEADLINE_EXCEEDED rather than "out of fuel": the caller was answered before the guest ended.
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.message == "wasm function 'spin' did not finish before the deadline")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        // The abandoned guest keeps the only slot until its fuel runs out; then the next call runs.
        let echo = try await runner.invoke(fnCall(payload: "next", context: CallContext(deadline: .now + .seconds(30))),
                                           functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(text(echo) == "next")
    }

    @Test func anAbandonedGuestStopsAtItsNextHostCallAndFreesItsSlot() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("polite.wat", Self.politeSpin)
        let settings = WasmRunnerSettings(maxConcurrentGuests: 1)
        let runner = makeRunner(settings: settings)
        let route = wasmRoute(url, fuel: UInt64.max)
        let error = await thrownError {
            _ = try await runner.invoke(fnCall(context: CallContext(deadline: .now + .milliseconds(200))), functionKey: "spin", route: route)
        }
        #expect(error?.code == .deadlineExceeded)
        // The only slot comes back once the guest has noticed; the next call then runs normally.
        let echo = try await runner.invoke(fnCall(payload: "after", context: CallContext(deadline: .now + .seconds(10))),
                                           functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(text(echo) == "after")
    }

    @Test func aStoreCallPastTheDeadlineIsDeadlineExceeded() async throws {
        let runner = makeRunner()
        let started = ContinuousClock.now
        let error = await thrownError {
            _ = try await runner.invoke(objCall(cls: "slow", id: 1, context: CallContext(deadline: started + .milliseconds(200))),
                                        functionKey: "incr", route: wasmRoute(exampleURL("incr"), stateless: false))
        }
        #expect(error?.code == .deadlineExceeded)
        // The store would have taken 30 s.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func anExpiredDeadlineNeverStartsTheGuest() async throws {
        let store = FakeObjectStore()
        let error = await thrownError {
            _ = try await makeRunner(store).invoke(objCall(id: 1, context: CallContext(deadline: .now - .seconds(1))),
                                                  functionKey: "incr", route: wasmRoute(exampleURL("incr"), stateless: false))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(await store.entries.isEmpty)
    }

    @Test func outputBeyondTheCapIsASystemError() async throws {
        let runner = makeRunner(settings: WasmRunnerSettings(maxOutputBytes: 1000))
        let fits = try await runner.invoke(fnCall(payload: String(repeating: "x", count: 1000)), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(fits.status == .okay)
        let tooLarge = try await runner.invoke(fnCall(payload: String(repeating: "x", count: 1001)), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(tooLarge.status == .systemError)
        #expect(text(tooLarge) == "wasm function 'echo': response exceeds the 1000-byte output limit")
    }

    @Test func memoryGrowthBeyondTheCapFails() async throws {
        let runner = makeRunner(settings: WasmRunnerSettings(maxMemoryBytes: 2 * 65536))
        // echo needs three pages for this payload; the cap allows two, so its memory.grow returns -1.
        let response = try await runner.invoke(fnCall(payload: String(repeating: "y", count: 140_000)), functionKey: "echo", route: wasmRoute(exampleURL("echo")))
        #expect(response.status == .systemError)
        #expect(text(response) == "payload does not fit the guest memory")
    }

    @Test func initialMemoryBeyondTheCapFailsToInstantiate() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("big.wat", #"(module (memory (export "memory") 100) (func (export "invoke") (result i32) (i32.const 0)))"#)
        let runner = makeRunner(settings: WasmRunnerSettings(maxMemoryBytes: 1 << 20))
        let response = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response).contains("while instantiating the module"))
    }

    @Test func manyCallsAtOnceGetIndependentResults() async throws {
        let store = FakeObjectStore()
        let runner = makeRunner(store, settings: WasmRunnerSettings(maxConcurrentGuests: 4))
        let incr = wasmRoute(exampleURL("incr"), stateless: false)
        let echo = wasmRoute(exampleURL("echo"))
        let results = try await withThrowingTaskGroup(of: (Int, String, String).self) { group in
            for index in 0..<40 {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        let response = try await runner.invoke(fnCall(payload: "call-\(index)"), functionKey: "echo", route: echo)
                        return (index, text(response), "call-\(index)")
                    }
                    let response = try await runner.invoke(objCall(id: UInt64(index), payload: "\(index)"), functionKey: "incr", route: incr)
                    return (index, text(response), "\(index)")
                }
            }
            var all: [(Int, String, String)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 40)
        for (index, got, expected) in results {
            #expect(got == expected, "call \(index)")
        }
        for index in stride(from: 1, to: 40, by: 2) {
            #expect(await store.text(object: "n:\(index)", entry: "n:0") == "\(index)")
        }
    }

    @Test func everyCallGetsFreshMemoryAndGlobals() async throws {
        // Bumps a global and a memory cell and answers both; state leaking between calls would show.
        let counter = """
        (module
          (import "oaas" "output_write" (func $output_write (param i32 i32)))
          (memory (export "memory") 1)
          (global $calls (mut i32) (i32.const 48))
          (func (export "invoke") (result i32)
            (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
            (i32.store8 (i32.const 0) (global.get $calls))
            (i32.store8 (i32.const 1) (i32.add (i32.load8_u (i32.const 1)) (i32.const 49)))
            (call $output_write (i32.const 0) (i32.const 2))
            (i32.const 0)))
        """
        let modules = try ModuleDirectory()
        let url = try modules.write("counter.wat", counter)
        let runner = makeRunner()
        for _ in 0..<3 {
            let response = try await runner.invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
            #expect(text(response) == "11")
        }
    }
}
