import Foundation

/// Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1e3`) as numbers, so the enforcer can compare what it
/// would write with what a container already requests (`128Mi` and `134217728` are the same request).
enum KubeQuantity {
    private static let multipliers: [String: Double] = [
        "": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624,
        "Ei": 1_152_921_504_606_846_976,
    ]

    /// The value in base units (cores, bytes); nil when `text` is not a quantity.
    static func value(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace()
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "+" || $0 == "-") }
        let suffix = String(trimmed.dropFirst(number.count))
        guard !number.isEmpty, let base = Double(number), base.isFinite else { return nil }
        if let multiplier = multipliers[suffix] { return base * multiplier }
        // Decimal exponent (`1e3`, `2E6`); a bare `E` is the exa suffix handled above.
        if let first = suffix.first, first == "e" || first == "E", let exponent = Int(suffix.dropFirst()),
           (-30...30).contains(exponent)
        {
            return base * pow(10, Double(exponent))
        }
        return nil
    }

    /// A CPU quantity in millicores, rounded up (`0.5` → 500, `100m` → 100).
    static func millicores(_ text: String) -> Int? {
        value(text).flatMap { NFRMath.ceilInt($0 * 1000) }
    }

    /// A memory quantity in bytes, rounded up.
    static func bytes(_ text: String) -> Int? {
        value(text).flatMap { NFRMath.ceilInt($0) }
    }

    /// What the enforcer writes: millicores as `650m`, bytes as a plain integer.
    static func cpuText(millicores: Int) -> String { "\(millicores)m" }
    static func memoryText(bytes: Int) -> String { String(bytes) }
}
