import Foundation
import FunctionKit

/// `random` (object method): writes N entries with random string keys and random values in one
/// atomic batch. The payload is `{"entries":N}` (default 10, at most 10 000); the answer lists
/// the keys written and the new object version.
enum RandomEntries {
    static let defaultCount = 10
    static let maxCount = 10_000

    struct Request: Decodable {
        var entries: Int?
    }

    struct Answer: Encodable {
        let keys: [String]
        let version: UInt64
    }

    static func register(in app: inout FunctionApp) {
        app.object("random") { call in
            let count = try requestedCount(call)
            var values: [EntryKey: String] = [:]
            var keys: [String] = []
            while keys.count < count {
                let key = "rand-\(hex(bytes: 6))"
                guard values[.string(key)] == nil else { continue }
                values[.string(key)] = hex(bytes: 8)
                keys.append(key)
            }
            let version = try await call.object.batchSet(values)
            return try .ok(json: Answer(keys: keys, version: version))
        }
    }

    private static func requestedCount(_ call: ObjectInvocation) throws -> Int {
        guard !call.payload.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            return defaultCount
        }
        let count = try call.decode(Request.self).entries ?? defaultCount
        guard (1...maxCount).contains(count) else {
            throw FunctionError.invalid("entries must be 1...\(maxCount), got \(count)")
        }
        return count
    }

    private static func hex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
