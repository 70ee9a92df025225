import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing
import WasmRuntime

/// The `oaas` host functions, each driven by a small WAT module written for the test.
@Suite struct HostABITests {
    /// Runs `body` (the instructions of `invoke`, ending with an i32 status) with every host import declared.
    static func module(_ body: String, data: String = "") -> String {
        """
        (module
          (import "oaas" "payload_len" (func $payload_len (result i32)))
          (import "oaas" "payload_read" (func $payload_read (param i32)))
          (import "oaas" "option_get" (func $option_get (param i32 i32 i32 i32) (result i32)))
          (import "oaas" "cls_id" (func $cls_id (param i32 i32) (result i32)))
          (import "oaas" "fn_id" (func $fn_id (param i32 i32) (result i32)))
          (import "oaas" "partition_id" (func $partition_id (result i32)))
          (import "oaas" "object_id" (func $object_id (result i64)))
          (import "oaas" "object_id_str" (func $object_id_str (param i32 i32) (result i32)))
          (import "oaas" "output_write" (func $output_write (param i32 i32)))
          (import "oaas" "header_set" (func $header_set (param i32 i32 i32 i32)))
          (import "oaas" "entry_get" (func $entry_get (param i32 i32 i32) (result i32)))
          (import "oaas" "entry_get_str" (func $entry_get_str (param i32 i32 i32 i32) (result i32)))
          (import "oaas" "entry_set" (func $entry_set (param i32 i32 i32) (result i32)))
          (import "oaas" "entry_set_str" (func $entry_set_str (param i32 i32 i32 i32) (result i32)))
          (import "oaas" "entry_delete" (func $entry_delete (param i32) (result i32)))
          (import "oaas" "entry_delete_str" (func $entry_delete_str (param i32 i32) (result i32)))
          (import "oaas" "log" (func $log (param i32 i32)))
          (memory (export "memory") 1)
          \(data)
          (func (export "invoke") (result i32)
            \(body)))
        """
    }

    static func run(_ body: String, data: String = "", call: RuntimeCall = fnCall(), store: FakeObjectStore = FakeObjectStore()) async throws -> Oprc_InvocationResponse {
        let modules = try ModuleDirectory()
        let url = try modules.write("abi.wat", module(body, data: data))
        return try await makeRunner(store).invoke(call, functionKey: "fn", route: wasmRoute(url))
    }

    @Test func optionsAndCallIdentityAreReadable() async throws {
        // option "mode" → 100, cls → 200, fn → 300, then answer "<mode>|<cls>|<fn>".
        let response = try await Self.run("""
            (local $n i32)
            (local.set $n (call $option_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 50)))
            (call $output_write (i32.const 100) (local.get $n))
            (call $output_write (i32.const 10) (i32.const 1))
            (local.set $n (call $cls_id (i32.const 200) (i32.const 50)))
            (call $output_write (i32.const 200) (local.get $n))
            (call $output_write (i32.const 10) (i32.const 1))
            (local.set $n (call $fn_id (i32.const 300) (i32.const 50)))
            (call $output_write (i32.const 300) (local.get $n))
            (i32.const 0)
            """, data: #"(data (i32.const 0) "mode") (data (i32.const 10) "|")"#,
            call: fnCall("greet", cls: "shop", options: ["mode": "fast"]))
        #expect(text(response) == "fast|shop|greet")
    }

    @Test func anAbsentOptionIsMinusOneAndTheCallOptionsIncludeODGMs() async throws {
        // Answers APP_ERROR if "nope" is present, and the invocation id option ODGM adds (§5.4).
        let response = try await Self.run("""
            (local $n i32)
            (if (i32.ne (call $option_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 50)) (i32.const -1))
              (then (return (i32.const 2))))
            (local.set $n (call $option_get (i32.const 10) (i32.const 18) (i32.const 100) (i32.const 50)))
            (call $output_write (i32.const 100) (local.get $n))
            (i32.const 0)
            """, data: #"(data (i32.const 0) "nope") (data (i32.const 10) "oaas-invocation-id")"#,
            call: fnCall(context: CallContext(invocationID: "inv-7")))
        #expect(response.status == .okay)
        #expect(text(response) == "inv-7")
    }

    @Test func getCallsCopyAtMostTheCapacityAndReturnTheFullLength() async throws {
        // cls_id into a 2-byte buffer: "sh" is copied, the rest stays zero, and the length 4 comes back.
        let response = try await Self.run("""
            (local $n i32)
            (local.set $n (call $cls_id (i32.const 100) (i32.const 2)))
            (i32.store8 (i32.const 104) (i32.add (local.get $n) (i32.const 48)))
            (call $output_write (i32.const 100) (i32.const 5))
            (i32.const 0)
            """)
        #expect(text(response) == "sh\u{0}\u{0}4")
    }

    @Test func objectIdsDependOnTheCallKind() async throws {
        let body = """
            (local $n i32)
            (i64.store (i32.const 0) (call $object_id))
            (call $output_write (i32.const 0) (i32.const 8))
            (local.set $n (call $object_id_str (i32.const 100) (i32.const 50)))
            (i32.store (i32.const 8) (local.get $n))
            (call $output_write (i32.const 8) (i32.const 4))
            (if (i32.gt_s (local.get $n) (i32.const 0)) (then (call $output_write (i32.const 100) (local.get $n))))
            (i32.store (i32.const 12) (call $partition_id))
            (call $output_write (i32.const 12) (i32.const 4))
            (i32.const 0)
            """
        func decode(_ response: Oprc_InvocationResponse) -> (Int64, Int32, String, UInt32) {
            let bytes = [UInt8](response.payload)
            let id = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let length = bytes[8..<12].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            let tail = bytes.count - 4
            let partition = bytes[tail...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            return (Int64(bitPattern: id), Int32(bitPattern: length), String(decoding: bytes[12..<tail], as: UTF8.self), partition)
        }
        let stateless = decode(try await Self.run(body, call: fnCall(partition: 3)))
        #expect(stateless.0 == -1 && stateless.1 == -1 && stateless.2 == "" && stateless.3 == 3)
        let numeric = decode(try await Self.run(body, call: objCall(partition: 1, id: 42)))
        #expect(numeric.0 == 42 && numeric.1 == -1 && numeric.3 == 1)
        let string = decode(try await Self.run(body, call: objCall(str: "user-9")))
        #expect(string.0 == 0 && string.1 == 6 && string.2 == "user-9")
    }

    @Test func headersAndStatusShapeTheResponse() async throws {
        let response = try await Self.run("""
            (call $header_set (i32.const 0) (i32.const 12) (i32.const 20) (i32.const 10))
            (call $header_set (i32.const 40) (i32.const 5) (i32.const 50) (i32.const 1))
            (call $output_write (i32.const 60) (i32.const 12))
            (i32.const 2)
            """, data: #"(data (i32.const 0) "content-type") (data (i32.const 20) "text/plain") (data (i32.const 40) "x-try") (data (i32.const 50) "3") (data (i32.const 60) "out of stock")"#)
        #expect(response.status == .appError)
        #expect(response.headers == ["content-type": "text/plain", "x-try": "3"])
        #expect(text(response) == "out of stock")
    }

    @Test func stringEntriesRoundTripAndDelete() async throws {
        let store = FakeObjectStore()
        await store.seed(object: "s:cart-1", entry: "n:5", "five")
        // set "name"="alice", read it back, delete numeric 5, read it again (-1 → status 0 else 2).
        let response = try await Self.run("""
            (local $n i32)
            (drop (call $entry_set_str (i32.const 0) (i32.const 4) (i32.const 10) (i32.const 5)))
            (local.set $n (call $entry_get_str (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 50)))
            (call $output_write (i32.const 100) (local.get $n))
            (drop (call $entry_delete (i32.const 5)))
            (if (i32.ne (call $entry_get (i32.const 5) (i32.const 200) (i32.const 50)) (i32.const -1))
              (then (return (i32.const 2))))
            (drop (call $entry_delete_str (i32.const 20) (i32.const 7)))
            (i32.const 0)
            """, data: #"(data (i32.const 0) "name") (data (i32.const 10) "alice") (data (i32.const 20) "missing")"#,
            call: objCall(str: "cart-1"), store: store)
        #expect(response.status == .okay)
        #expect(text(response) == "alice")
        #expect(await store.text(object: "s:cart-1", entry: "s:name") == "alice")
        #expect(await store.text(object: "s:cart-1", entry: "n:5") == nil)
    }

    @Test func aStoreFailureAbortsTheCallNamingTheHostCall() async throws {
        let response = try await Self.run("""
            (drop (call $entry_get (i32.const 0) (i32.const 0) (i32.const 0)))
            (i32.const 0)
            """, call: objCall(cls: "broken", id: 1))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'fn': oaas.entry_get failed: UNAVAILABLE: store is down")
    }

    @Test func aPointerOutsideTheMemoryAbortsTheCall() async throws {
        let response = try await Self.run("""
            (call $output_write (i32.const 65530) (i32.const 10))
            (i32.const 0)
            """)
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'fn': oaas.output_write: bytes 65530..<65540 lie outside the guest memory (65536 bytes)")
    }

    @Test func invalidUTF8InAKeyAbortsTheCall() async throws {
        let response = try await Self.run("""
            (drop (call $entry_get_str (i32.const 0) (i32.const 2) (i32.const 100) (i32.const 10)))
            (i32.const 0)
            """, data: #"(data (i32.const 0) "\ff\fe")"#, call: objCall(id: 1))
        #expect(response.status == .systemError)
        #expect(text(response).contains("oaas.entry_get_str: the entry key is not valid UTF-8"))
    }

    @Test func aModuleWithoutExportedMemoryCannotUsePointerCalls() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("nomem.wat", """
        (module
          (import "oaas" "output_write" (func $output_write (param i32 i32)))
          (memory 1)
          (func (export "invoke") (result i32) (call $output_write (i32.const 0) (i32.const 1)) (i32.const 0)))
        """)
        let response = try await makeRunner().invoke(fnCall(), functionKey: "fn", route: wasmRoute(url))
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'fn': oaas.output_write needs the module to export its memory as 'memory'")
    }

    @Test func logAndPayloadWorkTogether() async throws {
        let response = try await Self.run("""
            (local $n i32)
            (local.set $n (call $payload_len))
            (call $payload_read (i32.const 100))
            (call $log (i32.const 100) (local.get $n))
            (call $output_write (i32.const 100) (local.get $n))
            (i32.const 0)
            """, call: fnCall(payload: "logged"))
        #expect(response.status == .okay)
        #expect(text(response) == "logged")
    }

    @Test func theFunctionKeyExportWinsOverInvoke() async throws {
        let modules = try ModuleDirectory()
        let url = try modules.write("named.wat", """
        (module
          (func (export "invoke") (result i32) (i32.const 3))
          (func (export "by-fn") (result i32) (i32.const 2))
          (func (export "by-key") (result i32) (i32.const 1)))
        """)
        let runner = makeRunner()
        #expect(try await runner.invoke(fnCall("by-fn"), functionKey: "by-key", route: wasmRoute(url)).status == .invalidRequest)
        #expect(try await runner.invoke(fnCall("by-fn"), functionKey: "other", route: wasmRoute(url)).status == .appError)
        #expect(try await runner.invoke(fnCall("x"), functionKey: "y", route: wasmRoute(url)).status == .systemError)
    }
}
