import Foundation
import OaaSCore
import OaaSProto
import SwiftProtobuf

/// Where an object lives: what the table output prints as `<cls>/<pid>/<id>`.
struct ObjectAddress: Equatable, Sendable, CustomStringConvertible {
    var cls: String
    var partition: UInt32
    var id: ObjectID

    var description: String { "\(cls)/\(partition)/\(id)" }

    /// `object_id` as a string (decimal for numeric ids), as in the REST list JSON (spec §8.2).
    var structured: [(String, StructuredValue)] {
        [("cls_id", .string(cls)), ("partition_id", .uint(UInt64(partition))), ("object_id", .string(id.description))]
    }
}

/// The output of every client command, without I/O: table text, or the same fields as JSON/YAML.
enum Render {
    /// Encodes a protobuf message per spec §8.5 (shared `ProtoJSON`).
    static func protoJSON(_ message: some Message) throws -> StructuredValue {
        StructuredValue.from(any: try ProtoJSON.jsonObject(message))
    }

    /// Result of `object set`/`setstr`.
    static func written(_ address: ObjectAddress, version: UInt64?, format: OutputFormat) throws -> Data {
        switch format {
        case .table:
            return text("✓ set \(address) (version \(versionText(version)))\n")
        case .json, .yaml:
            let value = StructuredValue.object(address.structured + [("version", version.map { .uint($0) } ?? .null)])
            return text(try value.text(format))
        }
    }

    /// Result of `object delete`; `found == false` only with `--ignore-missing`.
    static func deleted(_ address: ObjectAddress, found: Bool, format: OutputFormat) throws -> Data {
        switch format {
        case .table:
            return text(found ? "✓ deleted \(address)\n" : "✓ \(address) not found (ignored)\n")
        case .json, .yaml:
            return text(try StructuredValue.object(address.structured + [("deleted", .bool(found))]).text(format))
        }
    }

    /// A whole object (`object get` without a key, `object merge`).
    static func object(_ response: Oprc_ObjectResponse, format: OutputFormat) throws -> Data {
        let version: UInt64? = response.hasObjectVersion ? response.objectVersion : nil
        switch format {
        case .table:
            let meta = response.obj.metadata
            let id: ObjectID = meta.hasObjectIDStr ? .string(meta.objectIDStr) : .numeric(meta.objectID)
            let address = ObjectAddress(cls: meta.clsID, partition: meta.partitionID, id: id)
            var out = "meta: \(address) (version \(versionText(version)))\n"
            // Numeric keys first (ascending), then string keys in byte order, as the server lists them.
            for key in response.obj.entries.keys.sorted() {
                if let value = response.obj.entries[key] {
                    out += "\(key): \(lossy(value.data))\n"
                }
            }
            for key in response.obj.entriesStr.keys.sorted(by: byteOrder) {
                if let value = response.obj.entriesStr[key] {
                    out += "\(key): \(lossy(value.data))\n"
                }
            }
            return text(out)
        case .json, .yaml:
            var value = try protoJSON(response.obj)
            if let version {
                value = value.setting("version", to: .uint(version))
            }
            return text(try value.text(format))
        }
    }

    /// One entry (`object get -k/--key-str`, `getstrkey`): the raw bytes in table mode, with no newline.
    /// An absent key is a `NOT_FOUND` failure in every format.
    static func value(_ response: Oprc_ValueResponse, key: EntryKey, format: OutputFormat) throws -> Data {
        guard response.hasValue else {
            throw CLIFailure(code: "NOT_FOUND", message: "key not found: \(key)")
        }
        switch format {
        case .table:
            return response.value.data
        case .json, .yaml:
            return text(try protoJSON(response).text(format))
        }
    }

    /// Entries of `object liststr`: keys (or `k=v`) one per line, or `{entries, version}`.
    static func entries(_ envelopes: [Oprc_ValueEnvelope], version: UInt64?, withValues: Bool, format: OutputFormat) throws -> Data {
        switch format {
        case .table:
            var out = ""
            for envelope in envelopes {
                out += withValues ? "\(envelope.key)=\(lossy(envelope.value.data))\n" : "\(envelope.key)\n"
            }
            return text(out)
        case .json, .yaml:
            let items: [StructuredValue] = envelopes.map { envelope in
                var members: [(String, StructuredValue)] = [
                    ("key", .string(envelope.key)),
                    ("key_kind", .string(envelope.hasNumericKey ? "numeric" : "string")),
                ]
                if withValues {
                    members.append(("value", valData(envelope.value)))
                }
                return .object(members)
            }
            let value = StructuredValue.object([("entries", .array(items)), ("version", version.map { .uint($0) } ?? .null)])
            return text(try value.text(format))
        }
    }

    /// `object list`: lines, a count and the cursor to resume from, or `{objects, count, next_cursor}`.
    static func objectList(_ items: [Oprc_ObjectMetaEnvelope], nextCursor: Data?, format: OutputFormat) throws -> Data {
        let cursor = nextCursor.map(Cursor.encode)
        switch format {
        case .table:
            var out = ""
            for item in items {
                out += "\(listedID(item))  v\(item.version)  entries=\(item.entryCount)\n"
            }
            out += "--- \(items.count) object(s) ---\n"
            if let cursor {
                out += "Next cursor: \(cursor)\n"
            }
            return text(out)
        case .json, .yaml:
            let objects: [StructuredValue] = items.map { item in
                .object([
                    ("object_id", .string(listedID(item))),
                    ("id_kind", .string(item.hasObjectIDStr ? "string" : "numeric")),
                    ("version", .uint(item.version)),
                    ("entry_count", .uint(item.entryCount)),
                ])
            }
            let value = StructuredValue.object([
                ("objects", .array(objects)),
                ("count", .uint(UInt64(items.count))),
                ("next_cursor", cursor.map { .string($0) } ?? .null),
            ])
            return text(try value.text(format))
        }
    }

    static func capabilities(_ response: Oprc_CapabilitiesResponse, format: OutputFormat) throws -> Data {
        let fields: [(String, Bool)] = [
            ("string_ids", response.stringIds),
            ("string_entry_keys", response.stringEntryKeys),
            ("granular_entry_storage", response.granularEntryStorage),
            ("event_pipeline_v2", response.eventPipelineV2),
        ]
        switch format {
        case .table:
            return text("Capabilities:\n" + fields.map { "  \($0.0): \($0.1)\n" }.joined())
        case .json, .yaml:
            return text(try StructuredValue.object(fields.map { ($0.0, .bool($0.1)) }).text(format))
        }
    }

    static func stats(_ response: Oprc_StatsResponse, format: OutputFormat) throws -> Data {
        switch format {
        case .table:
            let rows = response.shards.map { [$0.collection, String($0.partitionID), String($0.shardID), String($0.count)] }
            return text(table(header: ["collection", "partition", "shard", "count"], rows: rows))
        case .json, .yaml:
            let shards: [StructuredValue] = response.shards.map { shard in
                .object([
                    ("collection", .string(shard.collection)),
                    ("partition_id", .uint(UInt64(shard.partitionID))),
                    ("shard_id", .uint(shard.shardID)),
                    ("count", .uint(shard.count)),
                ])
            }
            return text(try StructuredValue.object([("shards", .array(shards))]).text(format))
        }
    }

    // MARK: - Helpers

    /// Columns separated by two spaces, each as wide as its widest cell; no trailing spaces.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.count)
            }
        }
        return all.map { row in
            let line = row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            // Empty trailing cells would otherwise leave padding at the end of the line.
            return String(line.reversed().drop(while: { $0 == " " }).reversed())
        }.joined(separator: "\n") + "\n"
    }

    /// A ValData as in the REST list JSON: `{data: base64, type: int}` (spec §8.5).
    static func valData(_ value: Oprc_ValData) -> StructuredValue {
        .object([("data", .string(value.data.base64EncodedString())), ("type", .int(Int64(value.type.rawValue)))])
    }

    static func listedID(_ item: Oprc_ObjectMetaEnvelope) -> String {
        item.hasObjectIDStr ? item.objectIDStr : String(item.objectID)
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func lossy(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self)
    }

    private static func versionText(_ version: UInt64?) -> String {
        version.map(String.init) ?? "?"
    }

    private static func text(_ string: String) -> Data {
        Data(string.utf8)
    }
}

/// List cursors on the command line: base64url without padding, as in the REST API (spec §8.2).
enum Cursor {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Accepts base64url or standard base64, padded or not.
    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 = base64.replacingOccurrences(of: "=", with: "")
        let remainder = base64.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64)
    }
}
