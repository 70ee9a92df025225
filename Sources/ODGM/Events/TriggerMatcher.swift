import OaaSCore
import OaaSProto

/// Which targets a change or a finished invocation fires (spec §6.1).
enum TriggerMatcher {
    /// Data triggers: numeric key `k` → `data_trigger[k]`, string key `s` → `data_trigger_str[s]`
    /// (exact match); the action picks `on_create`, `on_update` or `on_delete`.
    static func targets(for change: EntryChange, in config: Oprc_ObjectEvent) -> [Oprc_TriggerTarget] {
        let trigger: Oprc_DataTrigger?
        switch change.key {
        case .numeric(let key): trigger = config.dataTrigger[key]
        case .string(let key): trigger = config.dataTriggerStr[key]
        }
        guard let trigger else { return [] }
        switch change.action {
        case .create: return trigger.onCreate
        case .update: return trigger.onUpdate
        case .delete: return trigger.onDelete
        }
    }

    /// Function triggers: `on_complete` after an OKAY InvokeObj of `fn`, `on_error` after anything else.
    static func targets(fn: String, succeeded: Bool, in config: Oprc_ObjectEvent) -> [Oprc_TriggerTarget] {
        guard let trigger = config.funcTrigger[fn] else { return [] }
        return succeeded ? trigger.onComplete : trigger.onError
    }

    /// True if the config holds any data trigger: the cheap test that lets most mutations skip matching.
    static func hasDataTriggers(_ config: Oprc_ObjectEvent?) -> Bool {
        guard let config else { return false }
        return !config.dataTrigger.isEmpty || !config.dataTriggerStr.isEmpty
    }
}
