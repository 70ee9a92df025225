import Foundation
import Synchronization

/// The LMDB environments of one process, each with its single writer, opened once per path.
/// The process's service container owns it and closes everything at shutdown, after the
/// services that used it have stopped.
public final class StorageRegistry: Sendable {
    public struct Handle: Sendable {
        public let environment: Environment
        public let writer: Writer
    }

    private let handles = Mutex<[String: Handle]>([:])

    public init() {}

    /// The environment at `path`, opened with `options` the first time it is asked for.
    public func open(path: String, options: Environment.Options) throws -> Handle {
        let key = (path as NSString).standardizingPath
        return try handles.withLock { handles in
            if let existing = handles[key], !existing.environment.isClosed { return existing }
            let environment = try Environment(path: key, options: options)
            let handle = Handle(environment: environment, writer: Writer(environment: environment))
            handles[key] = handle
            return handle
        }
    }

    /// Commits what is queued, closes every environment, and deletes the scratch (non-durable) ones.
    public func closeAll() {
        let all = handles.withLock { handles in
            defer { handles.removeAll() }
            return Array(handles.values)
        }
        for handle in all {
            handle.writer.stop()
            handle.environment.close()
            if !handle.environment.options.durable {
                try? FileManager.default.removeItem(atPath: handle.environment.path)
            }
        }
    }
}
