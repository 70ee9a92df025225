/// In-process WASM functions (data-plane spec §9.6): the engine behind ODGM's `WasmFunctionRunner`,
/// built on WasmKit.
///
/// # Guest ABI (core WebAssembly modules; the component model is not supported in this version)
///
/// A module is named by the route's `wasm_module_url` (`file://` or `http(s)://`; `oci://` is refused).
/// Its bytes may be a binary `.wasm` module or WebAssembly text (`.wat`): anything that does not
/// start with the `\0asm` magic is parsed as WAT, so a module can ship as source.
///
/// **Exports.** A function `() -> i32` named after the function key of the `wasm://<key>` route, else
/// after the call's `fn_id`, else `invoke`. Its result is the response status (`Oprc_ResponseStatus`
/// raw values: 0 OKAY, 1 INVALID_REQUEST, 2 APP_ERROR, 3 SYSTEM_ERROR; anything else is a
/// SYSTEM_ERROR). Host calls that take pointers need the linear memory exported as `memory`.
///
/// **Imports**, all from module `oaas`. Pointers and lengths are `i32` offsets into `memory`; a range
/// outside it aborts the call. A `*_get` call copies `min(length, out_cap)` bytes to `out_ptr` and
/// returns the full length (so a guest can retry with a larger buffer), or -1 when absent.
///
/// | import | signature | meaning |
/// |---|---|---|
/// | `payload_len` | `() -> i32` | request payload length |
/// | `payload_read` | `(ptr)` | copies the whole payload to `ptr` |
/// | `option_get` | `(kptr, klen, out_ptr, out_cap) -> i32` | request option (spec §5.4), -1 absent |
/// | `cls_id`, `fn_id` | `(out_ptr, out_cap) -> i32` | class and function of the call |
/// | `partition_id` | `() -> i32` | partition of the call |
/// | `object_id` | `() -> i64` | numeric object id; 0 for a string-id object; -1 for a stateless call |
/// | `object_id_str` | `(out_ptr, out_cap) -> i32` | string object id, -1 if none |
/// | `output_write` | `(ptr, len)` | appends to the response payload |
/// | `header_set` | `(kptr, klen, vptr, vlen)` | sets a response header (UTF-8) |
/// | `entry_get` | `(key, out_ptr, out_cap) -> i32` | numeric entry (u32 key) of the invoked object, -1 absent |
/// | `entry_get_str` | `(kptr, klen, out_ptr, out_cap) -> i32` | string-keyed entry, -1 absent |
/// | `entry_set` | `(key, vptr, vlen) -> i32` | durable write of a numeric entry; 0 |
/// | `entry_set_str` | `(kptr, klen, vptr, vlen) -> i32` | durable write of a string entry; 0 |
/// | `entry_delete` / `entry_delete_str` | `(key) -> i32` / `(kptr, klen) -> i32` | deletes an entry; 0 |
/// | `log` | `(ptr, len)` | one log line (UTF-8, at info, with the invocation id) |
///
/// Entry calls act on the invoked object through ODGM's `ObjectStore` with the call's trigger depth,
/// trace context, invocation id and deadline, so triggers fire as for any DataService write. In a
/// stateless call (InvokeFn) they abort the call. A store failure other than "absent" aborts the call.
///
/// **Limits.** Fuel per call (`wasm_fuel`, default 1 000 000 000; one unit ≈ one instruction), the
/// call's deadline, a linear-memory cap and an output cap (payload plus headers). Every abort (trap,
/// fuel, missing module or export, ABI misuse) is a SYSTEM_ERROR response naming the cause; deadline
/// expiry is thrown as `DEADLINE_EXCEEDED` (spec §5.4).
public enum WasmABI {
    /// The import module of every host function.
    public static let hostModule = "oaas"
    /// The export called when none is named after the function key or fn id.
    public static let genericExport = "invoke"
    /// The linear memory the host reads and writes.
    public static let memoryExport = "memory"
}
