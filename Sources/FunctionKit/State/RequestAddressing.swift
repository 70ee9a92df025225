import OaaSProto

/// DataService requests that name an object: one place to fill in the id, whichever kind it is.
protocol ObjectAddressedRequest {
    var clsID: String { get set }
    var objectID: UInt64 { get set }
    var objectIDStr: String { get set }
}

extension ObjectAddressedRequest {
    mutating func setObject(cls: String, id: ObjectID) {
        clsID = cls
        switch id {
        case .numeric(let value): objectID = value
        case .string(let value): objectIDStr = value
        }
    }
}

/// DataService requests that name one entry.
protocol EntryAddressedRequest {
    var key: UInt32 { get set }
    var keyStr: String { get set }
}

extension EntryAddressedRequest {
    mutating func setKey(_ entry: EntryKey) {
        switch entry {
        case .numeric(let value): key = value
        case .string(let value): keyStr = value
        }
    }
}

extension Oprc_SingleObjectRequest: ObjectAddressedRequest {}
extension Oprc_SetObjectRequest: ObjectAddressedRequest {}
extension Oprc_BatchSetValuesRequest: ObjectAddressedRequest {}
extension Oprc_SingleKeyRequest: ObjectAddressedRequest, EntryAddressedRequest {}
extension Oprc_SetKeyRequest: ObjectAddressedRequest, EntryAddressedRequest {}
