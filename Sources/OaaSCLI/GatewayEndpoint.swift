import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Where the gateway's gRPC listener is: `http://host:port`, or `host:port` without a scheme.
struct GatewayEndpoint: Equatable, Sendable, CustomStringConvertible {
    enum Host: Equatable, Sendable {
        case ipv4(String)
        case ipv6(String)
        case dns(String)
    }

    enum ParseError: Error, Equatable {
        /// `https://`: TLS to the gateway is not supported by this client.
        case tlsUnsupported(String)
        case invalid(String, reason: String)
    }

    var host: Host
    var port: Int

    var description: String {
        switch host {
        case .ipv4(let h), .dns(let h): "http://\(h):\(port)"
        case .ipv6(let h): "http://[\(h)]:\(port)"
        }
    }

    /// The resolver target for grpc-swift's HTTP/2 transport.
    var target: any ResolvableTarget {
        switch host {
        case .ipv4(let h): .ipv4(address: h, port: port)
        case .ipv6(let h): .ipv6(address: h, port: port)
        case .dns(let h): .dns(host: h, port: port)
        }
    }

    static func parse(_ raw: String) throws(ParseError) -> GatewayEndpoint {
        let text = raw.trimmingCharacters(in: .whitespaces)
        var rest = Substring(text)
        var defaultPort: Int?
        if let schemeEnd = rest.range(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            switch scheme {
            case "http": defaultPort = 80
            case "https": throw .tlsUnsupported(raw)
            default: throw .invalid(raw, reason: "unsupported scheme '\(scheme)'; use http://host:port")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        // Only a bare trailing slash is accepted: the gRPC service lives at the root.
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else {
                throw .invalid(raw, reason: "a gRPC URL has no path")
            }
            rest = rest[..<slash]
        }
        guard !rest.isEmpty else { throw .invalid(raw, reason: "missing host") }

        let hostPart: Substring
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw .invalid(raw, reason: "unterminated IPv6 address")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalid(raw, reason: "unexpected text after ']'") }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
        }

        let port: Int
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw .invalid(raw, reason: "invalid port '\(portPart)'")
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw .invalid(raw, reason: "missing port (expected host:port or http://host:port)")
        }

        let hostText = String(hostPart)
        guard !hostText.isEmpty else { throw .invalid(raw, reason: "missing host") }
        if rest.hasPrefix("[") {
            return GatewayEndpoint(host: .ipv6(hostText), port: port)
        }
        if hostText.contains(":") {
            throw .invalid(raw, reason: "IPv6 addresses must be in brackets, e.g. http://[::1]:8081")
        }
        return GatewayEndpoint(host: isIPv4(hostText) ? .ipv4(hostText) : .dns(hostText), port: port)
    }

    private static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && (UInt8(part) != nil)
        }
    }
}
