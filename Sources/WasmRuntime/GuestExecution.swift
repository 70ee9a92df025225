import Foundation
import Logging
import OaaSCore
import OaaSProto
@_spi(Fuzzing) import WasmKit

/// One guest call, run synchronously on the guest thread: a fresh store and instance (so no memory
/// or globals leak between calls), fuel and memory limits, the export called, and its result and
/// traps mapped to a response or a ``WasmFailure``.
struct GuestExecution: Sendable {
    let module: Module
    let engine: Engine
    let request: GuestRequest
    /// Export names tried in order: the function key, the fn id, then `invoke`.
    let exportNames: [String]
    let fuel: UInt64
    let maxMemoryBytes: Int
    let maxOutputBytes: Int
    let objects: any ObjectStore
    let abandoned: AbandonFlag
    let logger: Logger

    func run() -> Result<Oprc_InvocationResponse, WasmFailure> {
        Result { () throws(WasmFailure) in try execute() }
    }

    private func execute() throws(WasmFailure) -> Oprc_InvocationResponse {
        let store = Store(engine: engine)
        store.fuel = Fuel(remaining: fuel)
        // WasmKit offers no public memory cap; its resource limiter is SPI, hence the `@_spi` import.
        store.resourceLimiter = MemoryCap(maxBytes: maxMemoryBytes)
        let session = GuestSession(request: request, objects: objects, maxOutputBytes: maxOutputBytes,
                                   abandoned: abandoned, logger: logger)
        let instance: Instance
        do {
            instance = try module.instantiate(store: store, imports: session.imports(in: store))
        } catch {
            throw failure(error, while: "instantiating the module")
        }
        let (name, function) = try entryPoint(of: instance)
        let results: [Value]
        do {
            results = try function.invoke([])
        } catch {
            throw failure(error, while: "running export '\(name)'")
        }
        guard let first = results.first, case .i32(let raw) = first else {
            throw .guest("export '\(name)' returned no i32 status")
        }
        let code = Int(Int32(bitPattern: raw))
        guard (0...3).contains(code), let status = Oprc_ResponseStatus(rawValue: code) else {
            throw .guest("export '\(name)' returned \(code), not a response status (0 OKAY, 1 INVALID_REQUEST, 2 APP_ERROR, 3 SYSTEM_ERROR)")
        }
        var response = Oprc_InvocationResponse()
        response.status = status
        if session.wroteOutput { response.payload = session.output }
        response.headers = session.headers
        return response
    }

    private static let entryType = FunctionType(parameters: [], results: [.i32])

    private func entryPoint(of instance: Instance) throws(WasmFailure) -> (String, Function) {
        for name in exportNames {
            guard let function = instance.exports[function: name] else { continue }
            guard function.type == Self.entryType else {
                throw .guest("export '\(name)' has type \(Self.describe(function.type)); expected () -> i32")
            }
            return (name, function)
        }
        let names = exportNames.map { "'\($0)'" }.joined(separator: ", ")
        throw .guest("the module exports no function named \(names)")
    }

    /// Maps what WasmKit threw: our own failures pass through (host calls); a trap names its
    /// reason, with running out of fuel called out with the budget.
    private func failure(_ error: any Error, while step: String) -> WasmFailure {
        if let failure = error as? WasmFailure { return failure }
        let text = String(describing: error)
        let firstLine = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? text
        let reason = firstLine.hasPrefix("Trap: ") ? String(firstLine.dropFirst("Trap: ".count)) : firstLine
        if reason == "out of fuel" {
            return .guest("ran out of fuel (wasm_fuel \(fuel)) while \(step)")
        }
        if error is Trap {
            return .guest("trapped while \(step): \(reason)")
        }
        return .module("failed while \(step): \(reason)")
    }

    private static func describe(_ type: FunctionType) -> String {
        let parameters = type.parameters.map { "\($0)" }.joined(separator: ", ")
        let results = type.results.map { "\($0)" }.joined(separator: ", ")
        return "(\(parameters)) -> (\(results))"
    }
}
