import Foundation
import Synchronization

/// A bearer token kept in a file and re-read when the file changes.
///
/// The kubelet rotates projected service-account tokens by swapping a symlinked directory, so the check follows
/// symlinks and compares the resolved path, inode, size and modification time. As a backstop (a rewrite within the
/// file system's timestamp resolution keeps all four), the file is also re-read once `maxAge` has passed.
public final class TokenFile: Sendable {
    public let path: String
    let maxAge: Duration

    private struct Fingerprint: Equatable {
        var resolvedPath: String
        var inode: UInt64?
        var size: UInt64?
        var modified: Date?
    }

    private struct Cached {
        var token: String
        var fingerprint: Fingerprint
        var readAt: ContinuousClock.Instant
    }

    private let cache = Mutex<Cached?>(nil)

    public init(path: String, maxAge: Duration = .seconds(60)) {
        self.path = path
        self.maxAge = maxAge
    }

    /// The current token; re-reads the file if it changed since the last read.
    public func token() throws -> String {
        let fingerprint = Self.fingerprint(of: path)
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), cached.fingerprint == fingerprint, now - cached.readAt < maxAge {
            return cached.token
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeError.configuration("cannot read token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw KubeError.configuration("token file \(path) is empty") }
        cache.withLock { $0 = Cached(token: token, fingerprint: fingerprint, readAt: now) }
        return token
    }

    private static func fingerprint(of path: String) -> Fingerprint {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let attributes = (try? FileManager.default.attributesOfItem(atPath: resolved)) ?? [:]
        return Fingerprint(
            resolvedPath: resolved,
            inode: unsigned(attributes[.systemFileNumber]),
            size: unsigned(attributes[.size]),
            modified: attributes[.modificationDate] as? Date
        )
    }

    /// File attributes come back as different integer types on different platforms.
    private static func unsigned(_ value: Any?) -> UInt64? {
        switch value {
        case let value as UInt64: return value
        case let value as Int: return UInt64(exactly: value)
        case let value as UInt: return UInt64(value)
        case let value as Int64: return UInt64(exactly: value)
        case let value as NSNumber: return value.uint64Value
        default: return nil
        }
    }
}
