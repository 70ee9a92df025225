import Foundation
import NIOCore
import NIOPosix

/// Readiness of an endpoint function: a TCP connection to its gRPC port succeeds.
enum EndpointProbe {
    /// `http://host:port/...` → (host, port); `https` defaults to 443, `http` to 80.
    static func hostAndPort(of url: String) -> (host: String, port: Int)? {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
        let port = components.port ?? (components.scheme == "https" ? 443 : 80)
        return (host, port)
    }

    /// nil when reachable, else why not.
    static func check(_ url: String, timeout: TimeAmount = .seconds(1)) async -> String? {
        guard let (host, port) = hostAndPort(of: url) else { return "'\(url)' is not an http(s)://host:port URL" }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: host, port: port)
                .get()
            try? await channel.close()
            return nil
        } catch {
            return "cannot connect to \(host):\(port): \(error)"
        }
    }
}
