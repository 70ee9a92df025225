import Foundation
import FunctionKit

/// `sleep` (stateless): waits the milliseconds in the payload (`250` or `{"ms":250}`, at most
/// 10 minutes), then answers `{"slept_ms":N}`. For deadline tests: the wait ends early, and the
/// caller gets DEADLINE_EXCEEDED, when the invocation's deadline passes first.
enum Sleep {
    static let maxMilliseconds = 600_000

    struct Request: Decodable {
        var ms: Int
    }

    struct Answer: Encodable {
        let sleptMilliseconds: Int
        enum CodingKeys: String, CodingKey { case sleptMilliseconds = "slept_ms" }
    }

    static func register(in app: inout FunctionApp) {
        app.stateless("sleep") { call in
            let text = call.payloadText.trimmingCharacters(in: .whitespacesAndNewlines)
            let milliseconds = try Int(text) ?? call.decode(Request.self).ms
            guard (0...maxMilliseconds).contains(milliseconds) else {
                throw FunctionError.invalid("ms must be 0...\(maxMilliseconds), got \(milliseconds)")
            }
            try await Task.sleep(for: .milliseconds(milliseconds))
            return try .ok(json: Answer(sleptMilliseconds: milliseconds))
        }
    }
}
