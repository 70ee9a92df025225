import FunctionKit

/// `count` (object method): increments the string entry `count` and answers `{"count":N}`.
///
/// The read-modify-write uses the object version as a compare-and-swap guard, so concurrent
/// calls on one object never lose an increment.
enum Count {
    static let key: EntryKey = "count"
    static let attempts = 16

    struct Answer: Encodable {
        let count: Int
    }

    static func register(in app: inout FunctionApp) {
        app.object("count") { call in
            for _ in 0..<attempts {
                let current = try await call.object.fetch()
                let value = current?.string(key).flatMap { Int($0) } ?? 0
                do {
                    // Version 0 means "must not exist yet" (data-plane spec §4.3).
                    try await call.object.batchSet([key: String(value + 1)], expectedVersion: current?.version ?? 0)
                    return try .ok(json: Answer(count: value + 1))
                } catch let error as DataServiceError where error.isVersionMismatch {
                    continue  // Another call won the race: read again.
                }
            }
            return .systemError("count: gave up after \(attempts) concurrent-update conflicts")
        }
    }
}
