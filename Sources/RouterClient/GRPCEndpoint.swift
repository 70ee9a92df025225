import GRPCCore
import GRPCTransports

/// A node or router address as nodes announce it: `http://host:port`, `https://host:port` or `host:port`
/// (port 80/443 when absent; a path is ignored).
package struct GRPCEndpoint: Sendable, Hashable, CustomStringConvertible {
    package let host: String
    package let port: Int
    package let secure: Bool

    package init?(url: String) {
        var rest = Substring(url)
        var secure = false
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
        } else if rest.hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
            secure = true
        } else if rest.contains("://") {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = rest
        var port = secure ? 443 : 80
        if rest.hasPrefix("[") {
            // [v6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let parsed = Int(rest[rest.index(after: colon)...]) else { return nil }
            host = rest[..<colon]
            port = parsed
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.secure = secure
    }

    package var description: String { "\(secure ? "https" : "http")://\(host):\(port)" }

    /// A client for this endpoint on this process's gRPC engine; run it (`runConnections`) before or while calling it.
    package func makeClient() throws -> GRPCClient<DataPathClientTransport> {
        var tuning = ClientTuning()
        // Nodes and routers come back within seconds after a restart; do not wait minutes between attempts.
        tuning.reconnectInitial = .milliseconds(100)
        tuning.reconnectMax = .seconds(5)
        let transport = try DataPathClientTransport.make(
            host: host, port: port, tls: secure, kind: .processDefault, tuning: tuning)
        return GRPCClient(transport: transport)
    }
}
