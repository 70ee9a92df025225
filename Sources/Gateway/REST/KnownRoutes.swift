import HTTPTypes

/// The path templates this module serves and their methods, so that an unmatched request on a
/// known path answers 405 instead of 404. Hummingbird's router sends both cases to one
/// not-found responder and keeps its trie internal, hence this small table.
struct KnownRoutes: Sendable {
    struct Route: Sendable {
        let template: String
        let segments: [Segment]
        var methods: [HTTPRequest.Method]
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case capture
    }

    private(set) var routes: [Route] = []

    mutating func add(_ template: String, _ method: HTTPRequest.Method) {
        if let index = routes.firstIndex(where: { $0.template == template }) {
            routes[index].methods.append(method)
            return
        }
        let segments = template.split(separator: "/").map { part -> Segment in
            part.hasPrefix("{") || part.hasPrefix(":") ? .capture : .literal(String(part))
        }
        routes.append(Route(template: template, segments: segments, methods: [method]))
    }

    /// The route whose template matches `path`, segment by segment (empty segments are skipped,
    /// as the router does).
    func match(_ path: String) -> Route? {
        let parts = path.split(separator: "/")
        return routes.first { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { segment, part in
                switch segment {
                case .capture: true
                case .literal(let literal): literal == part
                }
            }
        }
    }
}
