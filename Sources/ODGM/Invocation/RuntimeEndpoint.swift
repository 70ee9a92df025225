/// Where a function runs, from its route URL (data-plane spec §5.2 step 3, §9.6).
public enum RuntimeEndpoint: Hashable, Sendable {
    /// An `oprc.OprcFunction` server: `http://` (h2c) or `https://` (TLS).
    case grpc(GRPCRuntimeTarget)
    /// An in-process WASM module: `wasm://<function_key>`.
    case wasm(functionKey: String)

    public struct InvalidURL: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Parses a route URL. The path, query and fragment of an `http(s)` URL are ignored.
    public init(url: String) throws(InvalidURL) {
        let lowered = url.lowercased()
        if lowered.hasPrefix("wasm://") {
            var key = Substring(url.dropFirst("wasm://".count))
            while key.hasSuffix("/") { key = key.dropLast() }
            guard !key.isEmpty else { throw InvalidURL(description: "route url '\(url)' names no function key") }
            self = .wasm(functionKey: String(key))
            return
        }
        let tls: Bool
        if lowered.hasPrefix("http://") {
            tls = false
        } else if lowered.hasPrefix("https://") {
            tls = true
        } else {
            throw InvalidURL(description: "route url '\(url)' must start with http://, https:// or wasm://")
        }
        let rest = url.drop(while: { $0 != ":" }).dropFirst(3)
        var authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard let (host, port) = Self.split(authority, defaultPort: tls ? 443 : 80), !host.isEmpty else {
            throw InvalidURL(description: "route url '\(url)' has no valid host[:port]")
        }
        self = .grpc(GRPCRuntimeTarget(host: host.lowercased(), port: port, tls: tls))
    }

    /// The `oaas_owner` metric label (spec §11.2): the Service name of an in-cluster host
    /// (`<svc>.<ns>.svc…`), else the whole host; the function key of a WASM route.
    public var owner: String {
        switch self {
        case .wasm(let key):
            return key
        case .grpc(let target):
            let labels = target.host.split(separator: ".", omittingEmptySubsequences: false)
            if labels.count >= 3, labels[2] == "svc", !labels[0].isEmpty { return String(labels[0]) }
            return target.host
        }
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    private static func split(_ authority: Substring, defaultPort: Int) -> (String, Int)? {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard let portText else { return (String(host), defaultPort) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}

/// A function runtime reachable over gRPC.
public struct GRPCRuntimeTarget: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init(host: String, port: Int, tls: Bool) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "https" : "http")://\(shownHost):\(port)"
    }
}
