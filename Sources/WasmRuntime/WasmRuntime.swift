/// In-process WASM functions (data-plane spec §9.6): the engine behind ODGM's `WasmFunctionRunner`.
enum WasmRuntimeModule {}
