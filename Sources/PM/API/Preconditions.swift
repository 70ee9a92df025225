import Foundation

/// `If-Match` / `If-None-Match` of a write (spec §4.1): ETags are `"<revision>"`.
struct Preconditions: Sendable, Equatable {
    /// Tags of `If-Match` (`*` allowed); nil when absent.
    var ifMatch: [String]?
    /// `If-None-Match: *`: create only.
    var ifNoneMatchAny: Bool

    static let none = Preconditions(ifMatch: nil, ifNoneMatchAny: false)

    init(ifMatch: [String]?, ifNoneMatchAny: Bool) {
        self.ifMatch = ifMatch
        self.ifNoneMatchAny = ifNoneMatchAny
    }

    init(ifMatch: String?, ifNoneMatch: String?) {
        self.ifMatch = ifMatch.map(Self.tags)
        self.ifNoneMatchAny = ifNoneMatch.map(Self.tags)?.contains("*") ?? false
    }

    static func etag(_ revision: UInt64) -> String { "\"\(revision)\"" }

    /// 412 unless `If-Match` is absent, `*`, or names the current revision.
    func check(current revision: UInt64, resource: String) throws(PMError) {
        guard let tags = ifMatch, !tags.contains("*") else { return }
        guard tags.contains(String(revision)) else {
            throw PMError(.preconditionFailed, "\(resource) is at revision \(Self.etag(revision)), not \(tags.map { "\"\($0)\"" }.joined(separator: ", ")) (If-Match)")
        }
    }

    /// The revisions of a header value: quotes and the weak prefix dropped.
    private static func tags(_ header: String) -> [String] {
        header.split(separator: ",").map { raw in
            var tag = raw.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }.filter { !$0.isEmpty }
    }
}
