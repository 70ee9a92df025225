import Foundation
import OaaSProto

/// An object's state as a DataService Get or Merge returned it.
public struct StoredObject: Sendable {
    /// The object version (data-plane spec §2.2).
    public var version: UInt64
    /// Value bytes of every entry, numeric and string keys alike.
    public var entries: [EntryKey: Data]
    /// The full wire form, including value types and the trigger config.
    public var raw: Oprc_ObjData

    init(_ response: Oprc_ObjectResponse, fallbackVersion: UInt64?) {
        raw = response.obj
        version = response.hasObjectVersion ? response.objectVersion : (fallbackVersion ?? 0)
        var entries: [EntryKey: Data] = [:]
        for (key, value) in response.obj.entries { entries[.numeric(key)] = value.data }
        for (key, value) in response.obj.entriesStr { entries[.string(key)] = value.data }
        self.entries = entries
    }

    /// An entry decoded as UTF-8 (invalid sequences become U+FFFD).
    public func string(_ key: EntryKey) -> String? {
        entries[key].map { String(decoding: $0, as: UTF8.self) }
    }
}
