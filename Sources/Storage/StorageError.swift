import CLMDB

/// A failure reported by LMDB or by the storage layer itself.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The memory map is full; the environment needs a larger map size.
        case mapFull
        /// Any other LMDB error code.
        case lmdb(Int32)
        /// The environment was closed or is shutting down.
        case closed
        /// A transaction was used outside its lifetime.
        case invalidTransaction
    }

    public let kind: Kind
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    init(code: Int32, operation: String) {
        let text = String(cString: mdb_strerror(code))
        self.kind = code == MDB_MAP_FULL ? .mapFull : .lmdb(code)
        self.message = "\(operation): \(text)"
    }

    public var description: String { message }
}

@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(StorageError) {
    if code != 0 { throw StorageError(code: code, operation: operation()) }
}
