;; echo: answers the request payload unchanged. Works as a stateless function and as an object method.
;; Memory layout: bytes 0..63 hold an error message, the payload is copied to offset 64.
(module
  (import "oaas" "payload_len" (func $payload_len (result i32)))
  (import "oaas" "payload_read" (func $payload_read (param i32)))
  (import "oaas" "output_write" (func $output_write (param i32 i32)))

  (memory (export "memory") 1)
  (data (i32.const 0) "payload does not fit the guest memory")

  (func (export "invoke") (result i32)
    (local $len i32)
    (local $needed i32)
    (local.set $len (call $payload_len))
    ;; Grow the memory until 64 + len bytes fit; the host caps growth, so a failed grow is reported.
    (local.set $needed
      (i32.div_u (i32.add (i32.add (local.get $len) (i32.const 64)) (i32.const 65535)) (i32.const 65536)))
    (if (i32.gt_u (local.get $needed) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $needed) (memory.size))) (i32.const -1))
          (then
            (call $output_write (i32.const 0) (i32.const 37))
            (return (i32.const 3))))))
    (call $payload_read (i32.const 64))
    (call $output_write (i32.const 64) (local.get $len))
    (i32.const 0)))
