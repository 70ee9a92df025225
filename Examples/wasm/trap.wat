;; trap: executes `unreachable`, which traps; the call answers SYSTEM_ERROR naming the trap.
(module
  (func (export "invoke") (result i32)
    unreachable))
