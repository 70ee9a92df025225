import Foundation
import Logging

/// Where and how a function runtime serves (data-plane spec §10).
public struct FunctionConfiguration: Sendable {
    /// Listen address, an IP literal (`HTTP_HOST`, +ours; default `0.0.0.0`).
    public var host: String
    /// Listen port (`HTTP_PORT`, default 8080); 0 picks a free port (see ``FunctionServer/listeningPort``).
    public var port: Int
    /// The DataService endpoint for object state (`ODGM_SERVICE`). Without it object calls fail
    /// with UNAVAILABLE and stateless functions work as usual.
    public var odgmService: ServiceAddress?
    /// Largest request the runtime accepts and largest DataService message it sends or receives.
    public var maxMessageBytes: Int
    /// Level of the app's logger (`LOG_LEVEL`, default info).
    public var logLevel: Logger.Level

    public static let defaultPort = 8080
    /// Matches ODGM's default receive limit (`ODGM_MAX_MESSAGE_BYTES`), so whatever ODGM forwards fits.
    public static let defaultMaxMessageBytes = 16 * 1024 * 1024

    public init(
        host: String = "0.0.0.0",
        port: Int = FunctionConfiguration.defaultPort,
        odgmService: ServiceAddress? = nil,
        maxMessageBytes: Int = FunctionConfiguration.defaultMaxMessageBytes,
        logLevel: Logger.Level = .info
    ) {
        self.host = host
        self.port = port
        self.odgmService = odgmService
        self.maxMessageBytes = maxMessageBytes
        self.logLevel = logLevel
    }

    /// Reads `HTTP_HOST`, `HTTP_PORT`, `ODGM_SERVICE` and `LOG_LEVEL`. Every bad value is reported
    /// at once, each naming its variable; empty values count as unset.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> FunctionConfiguration {
        var configuration = FunctionConfiguration()
        var problems: [String] = []
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        if let raw = value("HTTP_HOST") {
            if isIPAddress(raw) {
                configuration.host = raw
            } else {
                problems.append("HTTP_HOST: '\(raw)' is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::)")
            }
        }
        if let raw = value("HTTP_PORT") {
            if let port = Int(raw.trimmingCharacters(in: .whitespaces)), (0...65535).contains(port) {
                configuration.port = port
            } else {
                problems.append("HTTP_PORT: '\(raw)' is not a port number (0...65535)")
            }
        }
        if let raw = value("ODGM_SERVICE") {
            do {
                configuration.odgmService = try ServiceAddress(parsing: raw)
            } catch {
                problems.append("ODGM_SERVICE: \(error.message)")
            }
        }
        if let raw = value("LOG_LEVEL") {
            if let level = parseLevel(raw) {
                configuration.logLevel = level
            } else {
                problems.append("LOG_LEVEL: '\(raw)' is not one of trace, debug, info, notice, warning, error, critical")
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return configuration
    }

    /// A level name; `warn` means warning, and in the reference's filter form
    /// (`debug,target=info`) the first bare level counts.
    static func parseLevel(_ raw: String) -> Logger.Level? {
        for part in raw.split(separator: ",") where !part.contains("=") {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            return name == "warn" ? .warning : Logger.Level(rawValue: name)
        }
        return nil
    }

    /// Whether `host` is an IPv4 or IPv6 literal: the server binds those only, since a name would
    /// need a resolver at bind time.
    public static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") {
            return host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(part) ?? 256) <= 255
        }
    }
}

/// Bad configuration, one line per bad setting, each naming it. Processes exit with code 2 on it
/// (control-plane spec §1).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    public var description: String { problems.joined(separator: "\n") }
}
