import Foundation
import OaaSCore
import OaaSProto

/// Host data calls: the invoked object's entries through ODGM's `ObjectStore`, each a real
/// (durable) call with the guest call's context, so trigger depth and deadline carry over.
extension GuestSession {
    enum EntryKey {
        case numeric(UInt32)
        case string(String)
    }

    /// The entry's bytes, or nil when the entry or the object is absent.
    func getEntry(_ key: EntryKey, for call: String) throws(WasmFailure) -> Data? {
        let single = try keyRequest(key, for: call)
        let response = try storeCall(call, absentIsNil: true) { store, context in
            try await store.getValue(single, context: context)
        }
        guard let response, response.hasValue else { return nil }
        return response.value.data
    }

    func setEntry(_ key: EntryKey, to bytes: [UInt8], for call: String) throws(WasmFailure) {
        let single = try keyRequest(key, for: call)
        var write = Oprc_SetKeyRequest()
        write.clsID = single.clsID
        write.partitionID = Int32(clamping: single.partitionID)
        write.objectID = single.objectID
        if single.hasObjectIDStr { write.objectIDStr = single.objectIDStr }
        write.key = single.key
        if single.hasKeyStr { write.keyStr = single.keyStr }
        write.value.data = Data(bytes)
        write.value.type = .byte
        let request = write
        _ = try storeCall(call, absentIsNil: false) { store, context in
            try await store.setValue(request, context: context)
        }
    }

    /// Deleting an absent entry (or an entry of an absent object) is not an error.
    func deleteEntry(_ key: EntryKey, for call: String) throws(WasmFailure) {
        let single = try keyRequest(key, for: call)
        _ = try storeCall(call, absentIsNil: true) { store, context in
            try await store.deleteValue(single, context: context)
        }
    }

    /// The key on the invoked object, in the call's class and partition.
    private func keyRequest(_ key: EntryKey, for call: String) throws(WasmFailure) -> Oprc_SingleKeyRequest {
        guard let object = request.object else {
            throw .guest("oaas.\(call) needs an object, but function '\(request.fn)' was invoked without one (InvokeFn)")
        }
        var single = Oprc_SingleKeyRequest()
        single.clsID = request.cls
        single.partitionID = request.partition
        switch object {
        case .numeric(let id): single.objectID = id
        case .string(let id): single.objectIDStr = id
        }
        switch key {
        case .numeric(let number): single.key = number
        case .string(let text): single.keyStr = text
        }
        return single
    }

    /// Runs one store call from the guest thread. NOT_FOUND answers nil when `absentIsNil`; a
    /// deadline is the call's deadline; any other failure aborts the guest naming the host call.
    private func storeCall<Value: Sendable>(
        _ call: String,
        absentIsNil: Bool,
        _ operation: @escaping @Sendable (any ObjectStore, CallContext) async throws -> Value
    ) throws(WasmFailure) -> Value? {
        let objects = self.objects
        let context = request.context
        do {
            return try BlockingBridge.run(until: request.deadline) { try await operation(objects, context) }
        } catch let failure as WasmFailure {
            throw failure
        } catch {
            let oaasError = OaaSError.from(error)
            let absent = [OaaSError.Code.noObject, .noEntry, .notFound].contains(oaasError.code)
            if oaasError.code == .deadlineExceeded { throw .deadline }
            if absent && absentIsNil { return nil }
            throw .guest("oaas.\(call) failed: \(oaasError)")
        }
    }
}
