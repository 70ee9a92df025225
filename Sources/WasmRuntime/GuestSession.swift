import Foundation
import Logging
import OaaSCore
import Synchronization
import WasmKit

/// Set when the waiting task gave up on a guest (deadline or cancellation); the guest's next host
/// call then aborts it.
final class AbandonFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// The state of one guest call: its request, the response it builds, and access to its memory.
/// Confined to the guest's thread, like the WasmKit store it belongs to.
final class GuestSession {
    let request: GuestRequest
    let objects: any ObjectStore
    let maxOutputBytes: Int
    let abandoned: AbandonFlag
    let logger: Logger

    private(set) var output = Data()
    private(set) var wroteOutput = false
    private(set) var headers: [String: String] = [:]
    private var headerBytes = 0

    init(request: GuestRequest, objects: any ObjectStore, maxOutputBytes: Int, abandoned: AbandonFlag, logger: Logger) {
        self.request = request
        self.objects = objects
        self.maxOutputBytes = maxOutputBytes
        self.abandoned = abandoned
        self.logger = logger
    }

    /// Every host call starts here: a guest whose caller gave up stops at its next host call.
    func checkAlive() throws(WasmFailure) {
        if abandoned.isSet || ContinuousClock.now >= request.deadline { throw .deadline }
    }

    // MARK: Response

    func appendOutput(_ bytes: [UInt8]) throws(WasmFailure) {
        try checkOutputRoom(adding: bytes.count)
        output.append(contentsOf: bytes)
        wroteOutput = true
    }

    func setHeader(_ key: String, _ value: String) throws(WasmFailure) {
        let previous = headers[key].map { key.utf8.count + $0.utf8.count } ?? 0
        let added = key.utf8.count + value.utf8.count - previous
        try checkOutputRoom(adding: added)
        headers[key] = value
        headerBytes += added
    }

    private func checkOutputRoom(adding count: Int) throws(WasmFailure) {
        if output.count + headerBytes + count > maxOutputBytes {
            throw .guest("response exceeds the \(maxOutputBytes)-byte output limit")
        }
    }

    // MARK: Guest memory

    /// The exported linear memory of the calling instance.
    func memory(_ caller: borrowing Caller, for call: String) throws(WasmFailure) -> Memory {
        guard let memory = caller.instance?.exports[memory: WasmABI.memoryExport] else {
            throw .guest("oaas.\(call) needs the module to export its memory as '\(WasmABI.memoryExport)'")
        }
        return memory
    }

    func read(_ memory: Memory, at pointer: UInt32, count: UInt32, for call: String) throws(WasmFailure) -> [UInt8] {
        let start = Int(pointer)
        let length = Int(count)
        guard start + length <= memory.byteCount else {
            throw .guest("oaas.\(call): bytes \(start)..<\(start + length) lie outside the guest memory (\(memory.byteCount) bytes)")
        }
        // An empty read must not touch the buffer: a zero-page memory has no base address.
        if length == 0 { return [] }
        return memory.withUnsafeBufferPointer(offset: UInt(start), count: length) { Array($0) }
    }

    func write(_ bytes: some Collection<UInt8>, to memory: Memory, at pointer: UInt32, for call: String) throws(WasmFailure) {
        let start = Int(pointer)
        guard start + bytes.count <= memory.byteCount else {
            throw .guest("oaas.\(call): bytes \(start)..<\(start + bytes.count) lie outside the guest memory (\(memory.byteCount) bytes)")
        }
        if bytes.isEmpty { return }
        memory.withUnsafeMutableBufferPointer(offset: UInt(start), count: bytes.count) { buffer in
            buffer.copyBytes(from: bytes)
        }
    }

    /// Copies `min(value.count, capacity)` bytes and returns the full length, the `*_get` convention.
    func copyOut(_ value: some Collection<UInt8>, to memory: Memory, at pointer: UInt32, capacity: UInt32, for call: String) throws(WasmFailure) -> Int32 {
        try write(value.prefix(Int(capacity)), to: memory, at: pointer, for: call)
        return Int32(clamping: value.count)
    }

    func readText(_ memory: Memory, at pointer: UInt32, count: UInt32, for call: String, what: String) throws(WasmFailure) -> String {
        let bytes = try read(memory, at: pointer, count: count, for: call)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .guest("oaas.\(call): \(what) is not valid UTF-8")
        }
        return text
    }
}
