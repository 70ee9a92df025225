import Foundation
import Logging
import WasmKit

/// The `oaas` import module (ABI table in `WasmRuntime.swift`). Each function checks that the call
/// is still wanted, validates every pointer range against the guest memory, and throws a
/// ``WasmFailure`` that names the host call on misuse; the throw ends the guest.
extension GuestSession {
    func imports(in store: Store) -> Imports {
        var imports = Imports()
        func define(
            _ name: String, _ parameters: [ValueType], _ results: [ValueType] = [],
            _ body: @escaping (borrowing Caller, [Value]) throws -> [Value]
        ) {
            let function = Function(store: store, parameters: parameters, results: results) { [self] caller, arguments in
                try checkAlive()
                return try body(caller, arguments)
            }
            imports.define(module: WasmABI.hostModule, name: name, function)
        }

        // Request
        define("payload_len", [], [.i32]) { [self] _, _ in
            [Self.i32(Int32(clamping: request.payload.count))]
        }
        define("payload_read", [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "payload_read")
            try write(request.payload, to: memory, at: try Self.u32(arguments, 0), for: "payload_read")
            return []
        }
        define("option_get", [.i32, .i32, .i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "option_get")
            let key = try readText(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "option_get", what: "the option key")
            guard let value = request.options[key] else { return [Self.i32(-1)] }
            return [Self.i32(try copyOut(Array(value.utf8), to: memory, at: try Self.u32(arguments, 2), capacity: try Self.u32(arguments, 3), for: "option_get"))]
        }
        define("cls_id", [.i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "cls_id")
            return [Self.i32(try copyOut(Array(request.cls.utf8), to: memory, at: try Self.u32(arguments, 0), capacity: try Self.u32(arguments, 1), for: "cls_id"))]
        }
        define("fn_id", [.i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "fn_id")
            return [Self.i32(try copyOut(Array(request.fn.utf8), to: memory, at: try Self.u32(arguments, 0), capacity: try Self.u32(arguments, 1), for: "fn_id"))]
        }
        define("partition_id", [], [.i32]) { [self] _, _ in
            [.i32(request.partition)]
        }
        define("object_id", [], [.i64]) { [self] _, _ in
            switch request.object {
            case nil: [Value(signed: Int64(-1))]
            case .numeric(let id)?: [.i64(id)]
            case .string?: [.i64(0)]
            }
        }
        define("object_id_str", [.i32, .i32], [.i32]) { [self] caller, arguments in
            guard case .string(let id)? = request.object else { return [Self.i32(-1)] }
            let memory = try memory(caller, for: "object_id_str")
            return [Self.i32(try copyOut(Array(id.utf8), to: memory, at: try Self.u32(arguments, 0), capacity: try Self.u32(arguments, 1), for: "object_id_str"))]
        }

        // Response
        define("output_write", [.i32, .i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "output_write")
            try appendOutput(try read(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "output_write"))
            return []
        }
        define("header_set", [.i32, .i32, .i32, .i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "header_set")
            let key = try readText(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "header_set", what: "the header name")
            let value = try readText(memory, at: try Self.u32(arguments, 2), count: try Self.u32(arguments, 3), for: "header_set", what: "the header value")
            if key.isEmpty { throw WasmFailure.guest("oaas.header_set: the header name is empty") }
            try setHeader(key, value)
            return []
        }

        // State of the invoked object
        define("entry_get", [.i32, .i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "entry_get")
            guard let value = try getEntry(.numeric(try Self.u32(arguments, 0)), for: "entry_get") else { return [Self.i32(-1)] }
            return [Self.i32(try copyOut(value, to: memory, at: try Self.u32(arguments, 1), capacity: try Self.u32(arguments, 2), for: "entry_get"))]
        }
        define("entry_get_str", [.i32, .i32, .i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "entry_get_str")
            let key = try readText(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "entry_get_str", what: "the entry key")
            guard let value = try getEntry(.string(key), for: "entry_get_str") else { return [Self.i32(-1)] }
            return [Self.i32(try copyOut(value, to: memory, at: try Self.u32(arguments, 2), capacity: try Self.u32(arguments, 3), for: "entry_get_str"))]
        }
        define("entry_set", [.i32, .i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "entry_set")
            let value = try read(memory, at: try Self.u32(arguments, 1), count: try Self.u32(arguments, 2), for: "entry_set")
            try setEntry(.numeric(try Self.u32(arguments, 0)), to: value, for: "entry_set")
            return [Self.i32(0)]
        }
        define("entry_set_str", [.i32, .i32, .i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "entry_set_str")
            let key = try readText(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "entry_set_str", what: "the entry key")
            let value = try read(memory, at: try Self.u32(arguments, 2), count: try Self.u32(arguments, 3), for: "entry_set_str")
            try setEntry(.string(key), to: value, for: "entry_set_str")
            return [Self.i32(0)]
        }
        define("entry_delete", [.i32], [.i32]) { [self] _, arguments in
            try deleteEntry(.numeric(try Self.u32(arguments, 0)), for: "entry_delete")
            return [Self.i32(0)]
        }
        define("entry_delete_str", [.i32, .i32], [.i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "entry_delete_str")
            let key = try readText(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "entry_delete_str", what: "the entry key")
            try deleteEntry(.string(key), for: "entry_delete_str")
            return [Self.i32(0)]
        }

        // Diagnostics
        define("log", [.i32, .i32]) { [self] caller, arguments in
            let memory = try memory(caller, for: "log")
            let bytes = try read(memory, at: try Self.u32(arguments, 0), count: try Self.u32(arguments, 1), for: "log")
            let line = String(decoding: bytes.prefix(Self.maxLogLineBytes), as: UTF8.self)
            logger.info("\(line)", metadata: [
                "cls": "\(request.cls)", "fn": "\(request.fn)", "invocation_id": "\(request.invocationID)", "source": "wasm",
            ])
            return []
        }
        return imports
    }

    /// A guest log line longer than this is cut.
    static let maxLogLineBytes = 4096

    private static func u32(_ arguments: [Value], _ index: Int) throws(WasmFailure) -> UInt32 {
        guard index < arguments.count, case .i32(let raw) = arguments[index] else {
            throw .guest("host call received a malformed argument \(index)")
        }
        return raw
    }

    private static func i32(_ value: Int32) -> Value {
        .i32(UInt32(bitPattern: value))
    }
}
