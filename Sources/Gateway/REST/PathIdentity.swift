import OaaSCore
import OaaSProto

/// Where an object lives, from the path (spec §8.2). String ids are passed on raw: the
/// ``GatewayObjectStore`` normalizes and validates them, and counts them once.
struct ObjectAddress: Sendable {
    var cls: String
    var partition: UInt32
    var numericID: UInt64
    var stringID: String?

    var display: String { stringID ?? String(numericID) }

    /// `partition_id` of the messages that carry it as int32 (a reference quirk).
    var signedPartition: Int32 {
        get throws(OaaSError) {
            guard let value = Int32(exactly: partition) else {
                throw OaaSError(.invalidArgument, "partition_id \(partition) exceeds the int32 range of this call")
            }
            return value
        }
    }

    var singleObjectRequest: Oprc_SingleObjectRequest {
        var request = Oprc_SingleObjectRequest()
        request.clsID = cls
        request.partitionID = partition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID }
        return request
    }

    func setObjectRequest(_ object: Oprc_ObjData) throws(OaaSError) -> Oprc_SetObjectRequest {
        var request = Oprc_SetObjectRequest()
        request.clsID = cls
        request.partitionID = try signedPartition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID }
        request.object = object
        return request
    }

    func singleKeyRequest(_ key: EntryKey) -> Oprc_SingleKeyRequest {
        var request = Oprc_SingleKeyRequest()
        request.clsID = cls
        request.partitionID = partition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID }
        switch key {
        case .numeric(let key): request.key = key
        case .string(let key): request.keyStr = key
        }
        return request
    }

    func setKeyRequest(_ key: EntryKey, value: Oprc_ValData) throws(OaaSError) -> Oprc_SetKeyRequest {
        var request = Oprc_SetKeyRequest()
        request.clsID = cls
        request.partitionID = try signedPartition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID }
        switch key {
        case .numeric(let key): request.key = key
        case .string(let key): request.keyStr = key
        }
        request.value = value
        return request
    }

    /// The body's identity fields are replaced: the path is authoritative.
    func identify(_ batch: Oprc_BatchSetValuesRequest) -> Oprc_BatchSetValuesRequest {
        var request = batch
        request.clsID = cls
        request.partitionID = partition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID } else { request.clearObjectIDStr() }
        return request
    }

    var listValuesRequest: Oprc_ListValuesRequest {
        var request = Oprc_ListValuesRequest()
        request.clsID = cls
        request.partitionID = partition
        request.objectID = numericID
        if let stringID { request.objectIDStr = stringID }
        return request
    }
}

/// Path segment rules of spec §8.2. Every segment is percent-decoded first.
enum PathIdentity {
    static func cls(_ raw: String?) throws(OaaSError) -> String {
        guard let raw, let decoded = percentDecode(raw) else {
            throw OaaSError(.invalidArgument, "class segment is not valid percent-encoded UTF-8")
        }
        return decoded
    }

    /// `{pid}` must be a u32.
    static func partition(_ raw: String?) throws(OaaSError) -> UInt32 {
        guard let raw, let decoded = percentDecode(raw), isDigits(decoded), let value = UInt32(decoded) else {
            throw OaaSError(.invalidArgument, "partition_id '\(raw ?? "")' is not a u32")
        }
        return value
    }

    /// `objects/{oid}`: a canonical decimal (`[1-9][0-9]*`, ≤ u64 max) is numeric, anything else a string id.
    static func objectID(_ raw: String?, forceString: Bool) throws(OaaSError) -> (numeric: UInt64, string: String?) {
        guard let raw, let decoded = percentDecode(raw) else {
            throw OaaSError(.invalidObjectId, "object id segment '\(raw ?? "")' is not valid percent-encoded UTF-8")
        }
        if !forceString, isCanonicalDecimal(decoded), let value = UInt64(decoded) {
            return (value, nil)
        }
        return (0, decoded)
    }

    /// `entries/{key}`: `0` or a canonical decimal ≤ u32 max is numeric, anything else the exact string key.
    static func entryKey(_ raw: String?, forceString: Bool) throws(OaaSError) -> EntryKey {
        guard let raw, let decoded = percentDecode(raw) else {
            throw OaaSError(.invalidArgument, "entry key segment '\(raw ?? "")' is not valid percent-encoded UTF-8")
        }
        if !forceString, decoded == "0" || isCanonicalDecimal(decoded), let value = UInt32(decoded) {
            return .numeric(value)
        }
        return .string(decoded)
    }

    static func isDigits(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    static func isCanonicalDecimal(_ text: some StringProtocol) -> Bool {
        isDigits(text) && text.utf8.first != UInt8(ascii: "0")
    }

    /// Decodes `%XX` escapes; nil for a malformed escape or a result that is not UTF-8.
    static func percentDecode(_ text: some StringProtocol) -> String? {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) else {
                    return nil
                }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
