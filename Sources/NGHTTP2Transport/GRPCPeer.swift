import NIOCore

/// Peers as gRPC names them in contexts: `ipv4:host:port`, `ipv6:[host]:port`, `unix:path`.
enum GRPCPeer {
    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        switch address {
        case .v4:
            return "ipv4:\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6:
            return "ipv6:[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket:
            return "unix:\(address.pathname ?? "")"
        }
    }
}
