;; spin: loops forever without calling the host. Only the fuel limit ends it (the call's deadline
;; answers the caller, but the guest itself runs on until its fuel is gone).
(module
  (func (export "invoke") (result i32)
    (loop $forever
      (br $forever))
    (i32.const 0)))
