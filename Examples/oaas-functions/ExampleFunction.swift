import FunctionKit

/// The example functions this binary can serve.
enum ExampleFunction: String, CaseIterable, Sendable {
    case echo, count, random, fail, sleep

    func register(in app: inout FunctionApp) {
        switch self {
        case .echo: Echo.register(in: &app)
        case .count: Count.register(in: &app)
        case .random: RandomEntries.register(in: &app)
        case .fail: Fail.register(in: &app)
        case .sleep: Sleep.register(in: &app)
        }
    }

    /// `echo,count`; nil or `all` selects every function.
    static func parseList(_ raw: String?) throws(InvalidSetting) -> [ExampleFunction] {
        guard let raw, raw.trimmingCharacters(in: .whitespaces).lowercased() != "all" else { return allCases }
        var selected: [ExampleFunction] = []
        for name in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let function = ExampleFunction(rawValue: name) else {
                let known = allCases.map(\.rawValue).joined(separator: ", ")
                throw InvalidSetting("unknown function '\(name)' (known: \(known), or all)")
            }
            if !selected.contains(function) { selected.append(function) }
        }
        guard !selected.isEmpty else { throw InvalidSetting("no function selected") }
        return selected
    }
}
