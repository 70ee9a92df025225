import Foundation
import Logging

/// Process-wide logging set-up from `LOG_LEVEL` and `LOG_FORMAT` (control-plane spec §1).
public enum LogSetup {
    public enum Format: String, Sendable {
        case json, text
    }

    /// Parses a level name; also accepts the reference's filter form (`debug,openraft=info`) and `warn`.
    public static func parseLevel(_ raw: String) -> Logger.Level? {
        for part in raw.split(separator: ",") where !part.contains("=") {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            if name == "warn" { return .warning }
            return Logger.Level(rawValue: name)
        }
        return nil
    }

    public static func parseFormat(_ raw: String) -> Format? {
        switch raw.lowercased() {
        case "json": .json
        case "text", "plain": .text
        default: nil
        }
    }

    /// Installs the log handler once per process.
    public static func bootstrap(level: Logger.Level, format: Format) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// One JSON object per line on stderr: what log collectors in a cluster expect.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = NSLock()

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = value.description
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        Self.lock.lock()
        FileHandle.standardError.write(data + Data([0x0A]))
        Self.lock.unlock()
    }
}
