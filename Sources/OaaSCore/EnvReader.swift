import Foundation

/// Reads typed settings from environment variables and collects every bad value, so that start-up
/// can fail once with one line per bad variable (control-plane spec §1: exit code 2).
public struct EnvReader: Sendable {
    public let values: [String: String]
    /// Prefixes tried before the bare name (the gateway reads `OPRC_GW_<NAME>` first).
    public var prefixes: [String]
    private let problems: ProblemList

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment, prefixes: [String] = []) {
        self.values = values
        self.prefixes = prefixes
        self.problems = ProblemList()
    }

    /// A reader over the same variables that tries `prefix` first and shares the problem list.
    public func withPrefix(_ prefix: String) -> EnvReader {
        var copy = self
        copy.prefixes = [prefix]
        return copy
    }

    public var errors: [String] { problems.items }

    /// Throws one error listing every bad variable seen so far.
    public func validate() throws(ConfigurationError) {
        if !errors.isEmpty { throw ConfigurationError(problems: errors) }
    }

    public func report(_ problem: String) {
        problems.append(problem)
    }

    /// The raw value and the variable it came from.
    public func lookup(_ name: String) -> (name: String, value: String)? {
        for prefix in prefixes {
            if let value = values[prefix + name], !value.isEmpty { return (prefix + name, value) }
        }
        if let value = values[name], !value.isEmpty { return (name, value) }
        return nil
    }

    public func string(_ name: String) -> String? {
        lookup(name)?.value
    }

    public func string(_ name: String, default value: String) -> String {
        lookup(name)?.value ?? value
    }

    public func int<T: FixedWidthInteger & Sendable>(_ name: String, default value: T, range: ClosedRange<T>? = nil) -> T {
        guard let (variable, raw) = lookup(name) else { return value }
        guard let parsed = T(raw.trimmingCharacters(in: .whitespaces)) else {
            report("\(variable): '\(raw)' is not a valid integer")
            return value
        }
        if let range, !range.contains(parsed) {
            report("\(variable): \(parsed) is out of range \(range.lowerBound)...\(range.upperBound)")
            return value
        }
        return parsed
    }

    public func bool(_ name: String, default value: Bool) -> Bool {
        guard let (variable, raw) = lookup(name) else { return value }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            report("\(variable): '\(raw)' is not a boolean (true/false/1/0)")
            return value
        }
    }
}

/// Shared, thread-safe list of configuration problems.
final class ProblemList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    func append(_ item: String) {
        lock.lock()
        storage.append(item)
        lock.unlock()
    }

    var items: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

/// Invalid configuration; each problem names its variable or path.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]
    public init(problems: [String]) {
        self.problems = problems
    }
    public init(_ problem: String) {
        self.problems = [problem]
    }
    public var description: String { problems.joined(separator: "\n") }
}
