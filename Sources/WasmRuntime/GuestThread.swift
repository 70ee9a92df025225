import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a guest on a thread of its own. WasmKit executes synchronously and cannot be interrupted
/// from outside, so a guest must never occupy a cooperative-pool thread: the awaiting task stays
/// free to give up at its deadline. An abandoned guest runs on until it ends by itself, runs out of
/// fuel, or makes its next host call (which then aborts it); its slot is held until then.
enum GuestThread {
    /// Guest threads yield the CPU to the node's own work (network, storage), so runaway guests
    /// cannot starve the async runtime that answers their deadlines.
    static let niceIncrement: Int32 = 10

    static func run<Value: Sendable>(
        holding slot: GuestSlots.Slot,
        stackBytes: Int,
        onAbandon: @escaping @Sendable () -> Void,
        _ body: @escaping @Sendable () -> Value
    ) async throws -> Value {
        let result = OneShot<Value>()
        var started = false
        defer { if !started { slot.release() } }
        return try await result.wait(onAbandon: onAbandon) {
            started = true
            let thread = Thread {
                // Named from inside: corelibs Foundation does not apply a name set before start.
                Thread.current.name = "oaas-wasm-guest"
                lowerPriority()
                let value = body()
                slot.release()
                result.deliver(.success(value))
            }
            thread.stackSize = stackBytes
            thread.qualityOfService = .utility
            thread.start()
        }
    }

    /// On Linux the nice value is per thread, so this lowers the calling guest thread only (best
    /// effort; raising a nice value needs no privilege). Elsewhere the thread's QoS does the job.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceIncrement)
        #endif
    }
}
