/// A `host:port` endpoint without a scheme, as in `ODGM_SERVICE` (data-plane spec §10).
/// IPv6 literals are written in brackets: `[::1]:8080`.
public struct ServiceAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; the error text says what is wrong (the caller names the setting).
    /// An `http://` prefix is tolerated since some deployments write URLs; other schemes are not,
    /// because the DataService connection is cleartext h2c.
    public init(parsing raw: String) throws(InvalidSetting) {
        var rest = Substring(raw.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
        } else if rest.contains("://") {
            throw InvalidSetting("'\(raw)' must be host:port without a scheme (only cleartext h2c is supported)")
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":") else {
            throw InvalidSetting("'\(raw)' is not host:port (the port is missing)")
        }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw InvalidSetting("'\(raw)' has no host") }
        guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw InvalidSetting("'\(raw)' has no valid port (1...65535)")
        }
        self.init(host: String(host), port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A setting with a bad value; `message` says why, without the setting's name.
public struct InvalidSetting: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
