import Foundation
import GRPCCore
import OaaSProto

/// One object `(cls, partition, id)` reached through an ``ObjectClient``.
///
/// Writes return the object version ODGM reports after the call (`oaas-object-version`, 0 if the
/// server sent none). Errors are ``DataServiceError``s; a missing object reads as nil.
public struct ObjectHandle: Sendable {
    let client: ObjectClient
    public let cls: String
    public let partition: UInt32
    public let id: ObjectID

    /// `cls/partition/id`, as in log lines and error messages.
    public var path: String { "\(cls)/\(partition)/\(id)" }

    func describe(_ rpc: String, _ key: EntryKey) -> String {
        "\(rpc) \(path) key '\(key)'"
    }

    /// SetKeyRequest and SetObjectRequest carry the partition as int32 (a reference quirk, spec §3.2).
    func signedPartition(_ operation: String) throws -> Int32 {
        guard let value = Int32(exactly: partition) else {
            throw DataServiceError(
                operation: operation, code: .invalidArgument,
                message: "partition_id \(partition) does not fit the request's int32 field"
            )
        }
        return value
    }

    static func headerVersion<Message>(of response: ClientResponse<Message>) -> UInt64? {
        let key = ContextKeys.objectVersion
        let raw = response.metadata[stringValues: key].first(where: { _ in true })
            ?? response.trailingMetadata[stringValues: key].first(where: { _ in true })
        return raw.flatMap { UInt64($0) }
    }

    /// The version a write returned; throws the call's error if it failed.
    static func version<Message>(of response: ClientResponse<Message>) throws -> UInt64 {
        _ = try response.message
        return headerVersion(of: response) ?? 0
    }
}
