import Foundation
import OaaSProto

/// RFC 3339 timestamps as PM writes them (UTC, milliseconds) and reads them (with or without fractions).
enum Timestamps {
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    static func now() -> String { format(Date()) }

    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }

    static func proto(_ date: Date) -> Oaas_Common_Timestamp {
        var timestamp = Oaas_Common_Timestamp()
        let seconds = date.timeIntervalSince1970.rounded(.down)
        timestamp.seconds = Int64(seconds)
        timestamp.nanos = Int32(((date.timeIntervalSince1970 - seconds) * 1e9).rounded(.down))
        return timestamp
    }

    /// Unix milliseconds (the spec revision clock).
    static func unixMilliseconds(_ date: Date = Date()) -> UInt64 {
        UInt64(max(date.timeIntervalSince1970 * 1000, 0))
    }
}
