import Foundation
import SwiftProtobuf
import Synchronization

/// The JSON-relevant shape of one generated message type, found by reflection.
///
/// SwiftProtobuf 1.39 publishes no field table, so the schema is recovered through public API:
/// the generated `decodeMessage(decoder:)` is driven by a probing `Decoder` that offers field numbers
/// and records which typed decode call each number triggers. The overload used tells presence
/// (`inout T` = implicit proto3 scalar, `inout T?` = explicit presence or oneof member), and the
/// generic parameters give nested message types. Names come from encoding a message with only that
/// field set, so they are exactly what SwiftProtobuf's own JSON coder uses.
struct MessageSchema: Sendable {
    enum Shape: Sendable {
        /// A proto3 scalar without presence; `defaultValue` is what SwiftProtobuf leaves out.
        case implicit(defaultValue: JSONNode)
        /// A scalar with explicit presence (proto3 `optional`, oneof member, proto2).
        case optionalScalar
        case message(any Message.Type)
        /// `element` is the message type of the elements, nil for scalars and enums.
        case repeated(element: (any Message.Type)?)
        /// `value` is the message type of the values, nil for scalars and enums. `valuePlaceholder` is a
        /// valid JSON value of the value type, used to check a map key on its own.
        case map(keyType: String, valuePlaceholder: JSONNode, value: (any Message.Type)?)
    }

    struct Field: Sendable {
        var number: Int
        var protoName: String
        var jsonName: String
        var shape: Shape
        /// The proto type of the value (of the elements for repeated fields, of the values for maps),
        /// e.g. `uint64` or `oprc.ObjMeta`, for error messages.
        var typeName: String
    }

    /// Sorted by field number, the order SwiftProtobuf writes them in.
    var fields: [Field]
    private var byName: [String: Int]

    init(fields: [Field]) {
        self.fields = fields.sorted { $0.number < $1.number }
        var byName: [String: Int] = [:]
        for (position, field) in self.fields.enumerated() {
            byName[field.protoName] = position
            byName[field.jsonName] = position
        }
        self.byName = byName
    }

    /// The field a JSON member name denotes; both proto and lowerCamelCase names are accepted.
    func field(named name: String) -> Field? {
        byName[name].map { fields[$0] }
    }

    /// Well-known types have a special JSON form (strings, bare values); they are left to SwiftProtobuf.
    static func hasSpecialJSON(_ type: any Message.Type) -> Bool {
        type.protoMessageName.hasPrefix("google.protobuf.")
    }

    private static let cache = Mutex<[ObjectIdentifier: MessageSchema]>([:])

    static func of(_ type: any Message.Type) -> MessageSchema {
        let key = ObjectIdentifier(type)
        if let cached = cache.withLock({ $0[key] }) { return cached }
        // Built outside the lock; two threads may build the same schema, and both results are equal.
        let schema = build(type)
        cache.withLock { $0[key] = schema }
        return schema
    }

    /// Numbers offered to every type, in addition to those read from its name map; covers all fields
    /// of ordinary messages even if the name map cannot be read.
    static let scannedNumbers = 1...4096

    private static func build<M: Message>(_ type: M.Type) -> MessageSchema {
        var numbers = Set(scannedNumbers)
        numbers.formUnion(nameMapNumbers(type))
        var scan = SchemaProbe(numbers: numbers.sorted(), fill: false)
        var scratch = M()
        // The probe never throws; a failure would only mean fewer known fields.
        try? scratch.decodeMessage(decoder: &scan)

        var fields: [Field] = []
        for (number, found) in scan.shapes.sorted(by: { $0.key < $1.key }) {
            guard let names = names(of: type, number: number) else { continue }
            fields.append(Field(number: number, protoName: names.proto, jsonName: names.json, shape: found.shape, typeName: found.typeName))
        }
        return MessageSchema(fields: fields)
    }

    /// Field numbers listed in the generated `_protobuf_nameMap`. Its storage is internal to
    /// SwiftProtobuf, so this reads it through `Mirror` and yields nothing if the layout changes.
    static func nameMapNumbers(_ type: any Message.Type) -> [Int] {
        guard let named = type as? any _ProtoNameProviding.Type else { return [] }
        let mirror = Mirror(reflecting: named._protobuf_nameMap)
        guard let table = mirror.children.first(where: { $0.label == "numberToNameMap" })?.value as? [Int: Any] else {
            return []
        }
        return Array(table.keys)
    }

    /// Encodes a message with only field `number` set (proto names, then JSON names) and reads back the key.
    private static func names<M: Message>(of type: M.Type, number: Int) -> (proto: String, json: String)? {
        var probe = SchemaProbe(numbers: [number], fill: true)
        var message = M()
        do {
            try message.decodeMessage(decoder: &probe)
        } catch {
            return nil
        }
        func onlyKey(preservingProtoNames: Bool) -> String? {
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = preservingProtoNames
            options.alwaysPrintEnumsAsInts = true
            guard let data = try? message.jsonUTF8Data(options: options),
                  case .object(let members)? = try? JSONNodeParser.parse(data),
                  members.count == 1 else { return nil }
            return members[0].key
        }
        guard let proto = onlyKey(preservingProtoNames: true) else { return nil }
        return (proto, onlyKey(preservingProtoNames: false) ?? proto)
    }
}

/// A `Decoder` that offers a list of field numbers to a generated `decodeMessage(decoder:)` and records
/// the shape of each field from the decode call it makes. With `fill`, it also stores a non-default value,
/// so that the field shows up when the message is encoded.
private struct SchemaProbe: SwiftProtobuf.Decoder {
    private let numbers: [Int]
    private let fill: Bool
    private var position = 0
    private var current = 0
    private(set) var shapes: [Int: (shape: MessageSchema.Shape, typeName: String)] = [:]

    init(numbers: [Int], fill: Bool) {
        self.numbers = numbers
        self.fill = fill
    }

    mutating func handleConflictingOneOf() throws {}

    mutating func nextFieldNumber() throws -> Int? {
        guard position < numbers.count else { return nil }
        current = numbers[position]
        position += 1
        return current
    }

    private mutating func implicit<T>(_ value: inout T, _ sample: T, _ defaultValue: JSONNode, _ typeName: String) {
        shapes[current] = (.implicit(defaultValue: defaultValue), typeName)
        if fill { value = sample }
    }

    private mutating func optional<T>(_ value: inout T?, _ sample: T, _ typeName: String) {
        shapes[current] = (.optionalScalar, typeName)
        if fill { value = sample }
    }

    private mutating func repeated<T>(_ value: inout [T], _ sample: T, _ typeName: String) {
        shapes[current] = (.repeated(element: nil), typeName)
        if fill { value = [sample] }
    }

    private mutating func map(keyType: any FieldType.Type, valueName: String, placeholder: JSONNode, message: (any Message.Type)?) {
        shapes[current] = (.map(keyType: Self.name(of: keyType), valuePlaceholder: placeholder, value: message), valueName)
    }

    /// Proto name of a scalar field type, as used in maps.
    private static func name(of type: any FieldType.Type) -> String {
        let table: [(any FieldType.Type, String)] = [
            (ProtobufFloat.self, "float"), (ProtobufDouble.self, "double"),
            (ProtobufInt32.self, "int32"), (ProtobufInt64.self, "int64"),
            (ProtobufUInt32.self, "uint32"), (ProtobufUInt64.self, "uint64"),
            (ProtobufSInt32.self, "sint32"), (ProtobufSInt64.self, "sint64"),
            (ProtobufFixed32.self, "fixed32"), (ProtobufFixed64.self, "fixed64"),
            (ProtobufSFixed32.self, "sfixed32"), (ProtobufSFixed64.self, "sfixed64"),
            (ProtobufBool.self, "bool"), (ProtobufString.self, "string"), (ProtobufBytes.self, "bytes"),
        ]
        return table.first { $0.0 == type }?.1 ?? "scalar"
    }

    /// A valid JSON value of a scalar type (its default).
    private static func placeholder(for type: any FieldType.Type) -> JSONNode {
        switch name(of: type) {
        case "bool": .bool(false)
        case "string", "bytes": .string("")
        default: zero
        }
    }

    private static let zero = JSONNode.number("0")

    mutating func decodeSingularFloatField(value: inout Float) throws { implicit(&value, 1, Self.zero, "float") }
    mutating func decodeSingularFloatField(value: inout Float?) throws { optional(&value, 1, "float") }
    mutating func decodeRepeatedFloatField(value: inout [Float]) throws { repeated(&value, 1, "float") }
    mutating func decodeSingularDoubleField(value: inout Double) throws { implicit(&value, 1, Self.zero, "double") }
    mutating func decodeSingularDoubleField(value: inout Double?) throws { optional(&value, 1, "double") }
    mutating func decodeRepeatedDoubleField(value: inout [Double]) throws { repeated(&value, 1, "double") }
    mutating func decodeSingularInt32Field(value: inout Int32) throws { implicit(&value, 1, Self.zero, "int32") }
    mutating func decodeSingularInt32Field(value: inout Int32?) throws { optional(&value, 1, "int32") }
    mutating func decodeRepeatedInt32Field(value: inout [Int32]) throws { repeated(&value, 1, "int32") }
    mutating func decodeSingularInt64Field(value: inout Int64) throws { implicit(&value, 1, Self.zero, "int64") }
    mutating func decodeSingularInt64Field(value: inout Int64?) throws { optional(&value, 1, "int64") }
    mutating func decodeRepeatedInt64Field(value: inout [Int64]) throws { repeated(&value, 1, "int64") }
    mutating func decodeSingularUInt32Field(value: inout UInt32) throws { implicit(&value, 1, Self.zero, "uint32") }
    mutating func decodeSingularUInt32Field(value: inout UInt32?) throws { optional(&value, 1, "uint32") }
    mutating func decodeRepeatedUInt32Field(value: inout [UInt32]) throws { repeated(&value, 1, "uint32") }
    mutating func decodeSingularUInt64Field(value: inout UInt64) throws { implicit(&value, 1, Self.zero, "uint64") }
    mutating func decodeSingularUInt64Field(value: inout UInt64?) throws { optional(&value, 1, "uint64") }
    mutating func decodeRepeatedUInt64Field(value: inout [UInt64]) throws { repeated(&value, 1, "uint64") }
    mutating func decodeSingularSInt32Field(value: inout Int32) throws { implicit(&value, 1, Self.zero, "sint32") }
    mutating func decodeSingularSInt32Field(value: inout Int32?) throws { optional(&value, 1, "sint32") }
    mutating func decodeRepeatedSInt32Field(value: inout [Int32]) throws { repeated(&value, 1, "sint32") }
    mutating func decodeSingularSInt64Field(value: inout Int64) throws { implicit(&value, 1, Self.zero, "sint64") }
    mutating func decodeSingularSInt64Field(value: inout Int64?) throws { optional(&value, 1, "sint64") }
    mutating func decodeRepeatedSInt64Field(value: inout [Int64]) throws { repeated(&value, 1, "sint64") }
    mutating func decodeSingularFixed32Field(value: inout UInt32) throws { implicit(&value, 1, Self.zero, "fixed32") }
    mutating func decodeSingularFixed32Field(value: inout UInt32?) throws { optional(&value, 1, "fixed32") }
    mutating func decodeRepeatedFixed32Field(value: inout [UInt32]) throws { repeated(&value, 1, "fixed32") }
    mutating func decodeSingularFixed64Field(value: inout UInt64) throws { implicit(&value, 1, Self.zero, "fixed64") }
    mutating func decodeSingularFixed64Field(value: inout UInt64?) throws { optional(&value, 1, "fixed64") }
    mutating func decodeRepeatedFixed64Field(value: inout [UInt64]) throws { repeated(&value, 1, "fixed64") }
    mutating func decodeSingularSFixed32Field(value: inout Int32) throws { implicit(&value, 1, Self.zero, "sfixed32") }
    mutating func decodeSingularSFixed32Field(value: inout Int32?) throws { optional(&value, 1, "sfixed32") }
    mutating func decodeRepeatedSFixed32Field(value: inout [Int32]) throws { repeated(&value, 1, "sfixed32") }
    mutating func decodeSingularSFixed64Field(value: inout Int64) throws { implicit(&value, 1, Self.zero, "sfixed64") }
    mutating func decodeSingularSFixed64Field(value: inout Int64?) throws { optional(&value, 1, "sfixed64") }
    mutating func decodeRepeatedSFixed64Field(value: inout [Int64]) throws { repeated(&value, 1, "sfixed64") }
    mutating func decodeSingularBoolField(value: inout Bool) throws { implicit(&value, true, .bool(false), "bool") }
    mutating func decodeSingularBoolField(value: inout Bool?) throws { optional(&value, true, "bool") }
    mutating func decodeRepeatedBoolField(value: inout [Bool]) throws { repeated(&value, true, "bool") }
    mutating func decodeSingularStringField(value: inout String) throws { implicit(&value, "x", .string(""), "string") }
    mutating func decodeSingularStringField(value: inout String?) throws { optional(&value, "x", "string") }
    mutating func decodeRepeatedStringField(value: inout [String]) throws { repeated(&value, "x", "string") }
    mutating func decodeSingularBytesField(value: inout Data) throws { implicit(&value, Data([1]), .string(""), "bytes") }
    mutating func decodeSingularBytesField(value: inout Data?) throws { optional(&value, Data([1]), "bytes") }
    mutating func decodeRepeatedBytesField(value: inout [Data]) throws { repeated(&value, Data([1]), "bytes") }

    // Enums are written as integers (spec 8.5), so an implicit enum defaults to 0.
    mutating func decodeSingularEnumField<E: Enum>(value: inout E) throws where E.RawValue == Int {
        implicit(&value, E(rawValue: 1) ?? E(), Self.zero, Self.enumName(E.self))
    }
    mutating func decodeSingularEnumField<E: Enum>(value: inout E?) throws where E.RawValue == Int {
        optional(&value, E(), Self.enumName(E.self))
    }
    mutating func decodeRepeatedEnumField<E: Enum>(value: inout [E]) throws where E.RawValue == Int {
        repeated(&value, E(), Self.enumName(E.self))
    }

    /// Generated enums carry no proto name; the Swift name (`Oprc_ValType`) is close enough for a message.
    private static func enumName(_ type: Any.Type) -> String {
        "enum \(type)"
    }

    mutating func decodeSingularMessageField<M: Message>(value: inout M?) throws {
        shapes[current] = (.message(M.self), M.protoMessageName)
        if fill { value = M() }
    }
    mutating func decodeRepeatedMessageField<M: Message>(value: inout [M]) throws {
        shapes[current] = (.repeated(element: M.self), M.protoMessageName)
        if fill { value = [M()] }
    }
    mutating func decodeSingularGroupField<G: Message>(value: inout G?) throws {
        shapes[current] = (.message(G.self), G.protoMessageName)
        if fill { value = G() }
    }
    mutating func decodeRepeatedGroupField<G: Message>(value: inout [G]) throws {
        shapes[current] = (.repeated(element: G.self), G.protoMessageName)
        if fill { value = [G()] }
    }

    mutating func decodeMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type,
        value: inout _ProtobufMap<KeyType, ValueType>.BaseType
    ) throws {
        map(keyType: KeyType.self, valueName: Self.name(of: ValueType.self), placeholder: Self.placeholder(for: ValueType.self), message: nil)
        if fill { value = [KeyType.proto3DefaultValue: ValueType.proto3DefaultValue] }
    }
    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type,
        value: inout _ProtobufEnumMap<KeyType, ValueType>.BaseType
    ) throws where ValueType.RawValue == Int {
        map(keyType: KeyType.self, valueName: Self.enumName(ValueType.self), placeholder: Self.zero, message: nil)
        if fill { value = [KeyType.proto3DefaultValue: ValueType()] }
    }
    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
        value: inout _ProtobufMessageMap<KeyType, ValueType>.BaseType
    ) throws {
        let placeholder: JSONNode = MessageSchema.hasSpecialJSON(ValueType.self) ? .null : .object([])
        map(keyType: KeyType.self, valueName: ValueType.protoMessageName, placeholder: placeholder, message: ValueType.self)
        if fill { value = [KeyType.proto3DefaultValue: ValueType()] }
    }

    // Extensions have no place in the oprc JSON mapping; they are not recorded.
    mutating func decodeExtensionField(values: inout ExtensionFieldValueSet, messageType: any Message.Type, fieldNumber: Int) throws {}
}
