import ArgumentParser
import Foundation

/// A `--timeout` value: `300s`, `5m`, `1500ms`, `1h`, or plain seconds (`300`, `2.5`).
struct WaitDuration: Equatable, Sendable, CustomStringConvertible {
    var duration: Duration
    var text: String

    static let fiveMinutes = WaitDuration(duration: .seconds(300), text: "300s")

    var description: String { text }

    @Sendable static func parse(_ raw: String) throws -> WaitDuration {
        let text = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        // "ms" is tried before "s" and "m" so that it is not read as minutes or seconds.
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite, value >= 0, value * scale <= 365 * 24 * 3600 else {
            throw ValidationError("invalid --timeout '\(raw)': expected a duration such as 300s, 5m, 1500ms or plain seconds (at most a year)")
        }
        let milliseconds = (value * scale * 1000).rounded()
        return WaitDuration(duration: .milliseconds(Int64(milliseconds)), text: raw.trimmingCharacters(in: .whitespaces))
    }
}

/// How often `--wait`/`--watch` poll PM: every second, or `OAAS_WAIT_INTERVAL_MS` (tests make it short).
enum WaitInterval {
    static let environmentKey = "OAAS_WAIT_INTERVAL_MS"
    static let standard: Duration = .seconds(1)

    static func resolve(_ environment: [String: String]) throws -> Duration {
        guard let raw = environment[environmentKey], !raw.isEmpty else { return standard }
        guard let milliseconds = Int64(raw.trimmingCharacters(in: .whitespaces)), milliseconds > 0,
              milliseconds <= 3_600_000 else {
            throw CLIFailure.usage("invalid \(environmentKey) '\(raw)': expected milliseconds between 1 and 3600000")
        }
        return .milliseconds(milliseconds)
    }
}
