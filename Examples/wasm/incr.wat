;; incr: an object method with state. Reads numeric entry 0 of the invoked object as a decimal number
;; (absent = 0), adds the payload's decimal number (empty payload = 1), writes the sum back to entry 0
;; through the host (a durable write) and answers the new value.
;; A payload that is not a decimal number answers INVALID_REQUEST (1); a stored value that is not one
;; answers APP_ERROR (2).
;; Memory layout: 0..63 messages, 64..127 stored value, 128..191 payload, 192..223 formatted sum.
(module
  (import "oaas" "payload_len" (func $payload_len (result i32)))
  (import "oaas" "payload_read" (func $payload_read (param i32)))
  (import "oaas" "entry_get" (func $entry_get (param i32 i32 i32) (result i32)))
  (import "oaas" "entry_set" (func $entry_set (param i32 i32 i32) (result i32)))
  (import "oaas" "output_write" (func $output_write (param i32 i32)))

  (memory (export "memory") 1)
  (data (i32.const 0) "payload is not a decimal number")       ;; 31 bytes
  (data (i32.const 32) "entry 0 is not a decimal number")      ;; 31 bytes

  ;; The unsigned decimal at [ptr, ptr+len), or -1 if it is empty, too long or has a non-digit.
  (func $parse (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (local $acc i64)
    (local $c i32)
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 18)))
      (then (return (i64.const -1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57)))
          (then (return (i64.const -1))))
        (local.set $acc
          (i64.add (i64.mul (local.get $acc) (i64.const 10))
                   (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Writes $value in decimal so that it ends at offset 224; returns where it starts.
  (func $format (param $value i64) (result i32)
    (local $pos i32)
    (local.set $pos (i32.const 224))
    (loop $digit
      (local.set $pos (i32.sub (local.get $pos) (i32.const 1)))
      (i32.store8 (local.get $pos)
        (i32.wrap_i64 (i64.add (i64.rem_u (local.get $value) (i64.const 10)) (i64.const 48))))
      (local.set $value (i64.div_u (local.get $value) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $value) (i64.const 0))))
    (local.get $pos))

  (func (export "invoke") (result i32)
    (local $len i32)
    (local $current i64)
    (local $delta i64)
    (local $start i32)
    ;; The stored value; -1 means the entry is absent.
    (local.set $len (call $entry_get (i32.const 0) (i32.const 64) (i32.const 64)))
    (if (i32.ne (local.get $len) (i32.const -1))
      (then
        (if (i32.gt_u (local.get $len) (i32.const 64))
          (then
            (call $output_write (i32.const 32) (i32.const 31))
            (return (i32.const 2))))
        (local.set $current (call $parse (i32.const 64) (local.get $len)))
        (if (i64.lt_s (local.get $current) (i64.const 0))
          (then
            (call $output_write (i32.const 32) (i32.const 31))
            (return (i32.const 2))))))
    ;; The increment: the payload's number, 1 when the payload is empty.
    (local.set $len (call $payload_len))
    (local.set $delta (i64.const 1))
    (if (local.get $len)
      (then
        (if (i32.gt_u (local.get $len) (i32.const 64))
          (then
            (call $output_write (i32.const 0) (i32.const 31))
            (return (i32.const 1))))
        (call $payload_read (i32.const 128))
        (local.set $delta (call $parse (i32.const 128) (local.get $len)))
        (if (i64.lt_s (local.get $delta) (i64.const 0))
          (then
            (call $output_write (i32.const 0) (i32.const 31))
            (return (i32.const 1))))))
    (local.set $start (call $format (i64.add (local.get $current) (local.get $delta))))
    (drop (call $entry_set (i32.const 0) (local.get $start) (i32.sub (i32.const 224) (local.get $start))))
    (call $output_write (local.get $start) (i32.sub (i32.const 224) (local.get $start)))
    (i32.const 0)))
