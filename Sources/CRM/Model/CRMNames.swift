import OaaSModels

/// Naming rules for ClassRuntimes and their children (control-plane spec §8.3, §10.1, §11.2). Every name and label
/// value the CRM writes goes through here so the 63-character limits hold for any unit id.
public enum CRMNames {
    /// Kubernetes name and label-value limit.
    public static let maxNameLength = 63
    /// StatefulSet names stay shorter so pod names and `controller-revision-hash` labels fit in 63.
    public static let maxStatefulSetNameLength = 47

    /// The ClassRuntime name of a unit id: lowercase; characters outside `[a-z0-9-]` become `-`; `-` trimmed from
    /// both ends. Empty or longer than 63 → INVALID_ARGUMENT naming `deployment_unit.id`.
    public static func sanitize(_ unitId: String) throws(CRMError) -> String {
        var result = ""
        for scalar in unitId.lowercased().unicodeScalars {
            result.unicodeScalars.append(isLowerAlnum(scalar) || scalar == "-" ? scalar : "-")
        }
        result = trim(result) { $0 == "-" }
        if result.isEmpty {
            throw .invalidArgument("deployment_unit.id: '\(unitId)' is empty after sanitising")
        }
        if result.count > maxNameLength {
            throw .invalidArgument(
                "deployment_unit.id: '\(unitId)' sanitises to \(result.count) characters (at most \(maxNameLength))")
        }
        return result
    }

    /// A valid label value: `value` itself when it already is one, else invalid characters → `-`, trimmed, cut to 54
    /// characters + `-` + hex8(value), so different inputs keep different labels.
    public static func labelSafe(_ value: String) -> String {
        if value.isEmpty || isLabelValue(value) { return value }
        var replaced = ""
        for scalar in value.unicodeScalars {
            let allowed = isAlnum(scalar) || scalar == "." || scalar == "_" || scalar == "-"
            replaced.unicodeScalars.append(allowed ? scalar : "-")
        }
        var head = trim(replaced) { !isAlnum($0) }
        head = trim(String(head.prefix(54))) { !isAlnum($0) }
        let hash = DeterministicIds.hex8(value)
        return head.isEmpty ? hash : head + "-" + hash
    }

    /// `base-suffix` when it fits in `max`, else its first `max − 9` characters (trailing `-` trimmed) + `-` +
    /// hex8 of the full name: stable, unique per input, and never longer than `max`.
    public static func child(_ base: String, _ suffix: String, max: Int = maxNameLength) -> String {
        let full = base + "-" + suffix
        if full.count <= max { return full }
        let head = trim(String(full.prefix(Swift.max(0, max - 9)))) { $0 == "-" }
        return head + "-" + DeterministicIds.hex8(full)
    }

    /// `^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`
    static func isLabelValue(_ value: String) -> Bool {
        let scalars = Array(value.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last, scalars.count <= maxNameLength,
              isAlnum(first), isAlnum(last)
        else { return false }
        return scalars.allSatisfy { isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    static func isAlnum(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func isLowerAlnum(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func trim(_ text: String, where predicate: (Unicode.Scalar) -> Bool) -> String {
        let scalars = Array(text.unicodeScalars)
        guard let start = scalars.firstIndex(where: { !predicate($0) }),
              let end = scalars.lastIndex(where: { !predicate($0) })
        else { return "" }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[start...end])
        return result
    }
}
