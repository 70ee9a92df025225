import Foundation

/// Which HTTP/2 engine carries gRPC: ours on libnghttp2 (the default), or grpc-swift's NIO transport as a fallback.
public enum GRPCTransportKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case nghttp2
    case nio

    /// The environment variable that picks the transport for every gRPC server and data-path client of a process.
    public static let environmentKey = "OAAS_GRPC_TRANSPORT"

    public enum ParseError: Error, CustomStringConvertible {
        case unknown(String)
        public var description: String {
            if case .unknown(let value) = self {
                return "\(GRPCTransportKind.environmentKey)=\(value) is not a transport; use nghttp2 or nio"
            }
            return ""
        }
    }

    /// Reads `OAAS_GRPC_TRANSPORT`; unset or empty means nghttp2, anything but the two names is an error.
    public static func from(environment: [String: String]) throws(ParseError) -> GRPCTransportKind {
        try parse(environment[environmentKey] ?? "")
    }

    /// One value of `OAAS_GRPC_TRANSPORT` (case and surrounding blanks ignored; empty means nghttp2).
    public static func parse(_ value: String) throws(ParseError) -> GRPCTransportKind {
        let raw = value.trimmingCharacters(in: .whitespaces).lowercased()
        if raw.isEmpty { return .nghttp2 }
        guard let kind = GRPCTransportKind(rawValue: raw) else { throw .unknown(raw) }
        return kind
    }

    public var description: String { rawValue }
}

extension GRPCTransportKind {
    /// This process's choice from its environment (the launcher has already rejected bad values; nghttp2 otherwise).
    public static let processDefault: GRPCTransportKind =
        (try? from(environment: ProcessInfo.processInfo.environment)) ?? .nghttp2
}
