import ArgumentParser
import Foundation

/// Flags of every control-plane command (spec §15): where PM is and the correlation id to send.
struct PMOptions: ParsableArguments {
    @Option(name: .customLong("pm"), help: ArgumentHelp("PM URL (default: $OAAS_PM_URL, else the context's pm_url).", valueName: "URL"))
    var pm: String?

    @Option(name: .customLong("correlation-id"), help: ArgumentHelp("Sent to PM as X-Correlation-ID.", valueName: "ID"))
    var correlationID: String?

    func validate() throws {
        if let pm {
            do {
                _ = try PMEndpoint.parse(pm)
            } catch {
                throw ValidationError("invalid --pm '\(pm)': \(error.reason)")
            }
        }
        if let correlationID, correlationID.isEmpty || correlationID.contains(where: { $0.isNewline }) {
            throw ValidationError("--correlation-id must be a non-empty single line")
        }
    }

    /// `--pm`, else `OAAS_PM_URL`, else the context's `pm_url`. The config file is read only when needed,
    /// so `--pm` works even next to a malformed config.
    func endpoint(global: GlobalOptions, environment: [String: String]) throws -> PMEndpoint {
        if let pm {
            do {
                return try PMEndpoint.parse(pm)
            } catch {
                throw ValidationError("invalid --pm '\(pm)': \(error.reason)")
            }
        }
        if let fromEnv = environment[PMEndpoint.environmentKey], !fromEnv.isEmpty {
            do {
                return try PMEndpoint.parse(fromEnv)
            } catch {
                throw CLIFailure(code: "INVALID_ARGUMENT", message: "invalid \(PMEndpoint.environmentKey) '\(fromEnv)': \(error.reason)")
            }
        }
        let context = try global.resolveContext(store: ConfigStore(path: ConfigStore.defaultPath(environment: environment)))
        do {
            return try PMEndpoint.parse(context.settings.pmURL)
        } catch {
            throw CLIFailure(code: "INVALID_ARGUMENT",
                             message: "invalid pm_url '\(context.settings.pmURL)' in context '\(context.name)': \(error.reason)",
                             hint: "fix it with 'oaas context set \(context.name) --pm URL'")
        }
    }
}

/// PM's base URL: `http(s)://host[:port][/prefix]`; a URL without a scheme means `http://`.
struct PMEndpoint: Equatable, Sendable, CustomStringConvertible {
    static let environmentKey = "OAAS_PM_URL"

    struct ParseError: Error, Equatable {
        var reason: String
    }

    /// Without a trailing slash, so `base + "/api/v1/…"` is the route.
    var base: String

    var description: String { base }

    static func parse(_ raw: String) throws(ParseError) -> PMEndpoint {
        var text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw ParseError(reason: "empty URL") }
        if !text.contains("://") { text = "http://" + text }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw ParseError(reason: "not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw ParseError(reason: "unsupported scheme '\(scheme)'; use http:// or https://")
        }
        guard let host = components.host, !host.isEmpty else { throw ParseError(reason: "missing host") }
        if let port = components.port, !(1...65535).contains(port) {
            throw ParseError(reason: "invalid port \(port)")
        }
        guard components.query == nil, components.fragment == nil else {
            throw ParseError(reason: "a PM URL has no query or fragment")
        }
        while text.hasSuffix("/") { text.removeLast() }
        return PMEndpoint(base: text)
    }

    /// `/api/v1/…` with each path segment percent-encoded and the query in the given order.
    func url(_ segments: [String], query: [(String, String)] = []) -> String {
        var url = base + "/api/v1"
        for segment in segments {
            url += "/" + Self.encode(segment)
        }
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        }
        return url
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
