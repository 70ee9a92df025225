/// The `grpc-timeout` header: at most 8 ASCII digits and a unit (H, M, S, m, u, n).
public enum GRPCTimeout {
    public static func parse(_ value: String) -> Duration? {
        guard let unit = value.last, value.count >= 2, value.count <= 9 else { return nil }
        let digits = value.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(digits) else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }

    /// The finest unit whose amount fits in 8 digits; negative durations are sent as 0.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return "0n" }
        let nanos = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        let limit = 99_999_999.0
        let units: [(Double, Character)] = [(1, "n"), (1e3, "u"), (1e6, "m"), (1e9, "S"), (60e9, "M"), (3600e9, "H")]
        for (scale, unit) in units {
            let amount = (nanos / scale).rounded(.up)
            if amount <= limit { return "\(Int64(amount))\(unit)" }
        }
        return "\(Int64(limit))H"
    }
}
