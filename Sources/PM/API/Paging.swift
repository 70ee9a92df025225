import HTTPTypes
import Hummingbird

/// `limit` (default 100, at most 1000) and `offset` of list routes (spec §4.1); the total goes in `X-Total-Count`.
struct Paging: Sendable {
    var limit: Int
    var offset: Int

    static let defaultLimit = 100
    static let maxLimit = 1000
    static var totalHeader: HTTPField.Name { HTTPField.Name("X-Total-Count") ?? .via }

    init(_ query: Query) throws(PMError) {
        limit = try query.integer("limit", range: 1...Int.max) ?? Self.defaultLimit
        limit = min(limit, Self.maxLimit)
        offset = try query.integer("offset", range: 0...Int.max) ?? 0
    }

    func page<T>(_ items: [T]) -> [T] {
        guard offset < items.count else { return [] }
        return Array(items[offset..<min(items.count, offset + limit)])
    }

    static func headers(total: Int) -> HTTPFields {
        var headers = HTTPFields()
        headers[totalHeader] = String(total)
        return headers
    }
}

/// Query parameters with typed, field-naming errors.
struct Query: Sendable {
    private let parameters: [(String, String)]

    init(_ request: Request) {
        parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    func string(_ name: String) -> String? {
        parameters.first { $0.0 == name }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
    }

    func all(_ name: String) -> [String] {
        parameters.filter { $0.0 == name }.map(\.1)
    }

    func integer(_ name: String, range: ClosedRange<Int>) throws(PMError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw PMError.badQuery(name, "'\(raw)' is not an integer \(range.upperBound == Int.max ? "≥ \(range.lowerBound)" : "in \(range)")")
        }
        return value
    }

    func bool(_ name: String, default value: Bool) throws(PMError) -> Bool {
        guard let raw = string(name) else { return value }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw PMError.badQuery(name, "'\(raw)' is not true or false")
        }
    }
}
