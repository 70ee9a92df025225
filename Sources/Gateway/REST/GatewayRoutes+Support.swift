import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OaaSCore
import OaaSProto
import SwiftProtobuf

extension GatewayRoutes {
    // MARK: Request side

    func objectAddress(_ context: BasicRequestContext, _ target: ObjectTarget) throws(OaaSError) -> ObjectAddress {
        let cls = try PathIdentity.cls(context.parameters.get("cls"))
        let partition = try PathIdentity.partition(context.parameters.get("pid"))
        let id = try PathIdentity.objectID(context.parameters.get(target.parameter), forceString: target.forceString)
        return ObjectAddress(cls: cls, partition: partition, numericID: id.numeric, stringID: id.string)
    }

    /// Trace context and deadline of a call (spec §5.4): the client's `x-oprc-timeout-ms` capped
    /// by MAX_TIMEOUT_MS, else REQUEST_TIMEOUT_MS.
    func callContext(_ request: Request) throws(OaaSError) -> CallContext {
        var timeout = config.requestTimeout
        if let raw = request.headers[OprcHeader.timeoutMs] {
            guard PathIdentity.isDigits(raw), let milliseconds = Int64(raw), milliseconds > 0 else {
                throw OaaSError(.invalidArgument, "x-oprc-timeout-ms '\(raw)' is not a positive integer")
            }
            timeout = min(.milliseconds(milliseconds), config.maxTimeout)
        }
        return CallContext(
            traceparent: request.headers[OprcHeader.traceparent],
            tracestate: request.headers[OprcHeader.tracestate],
            deadline: .now + timeout
        )
    }

    /// Reads the whole body, refusing more than MAX_PAYLOAD_BYTES (413) before and while reading.
    func collectBody(_ request: Request) async throws(OaaSError) -> Data {
        let limit = config.maxPayloadBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw Self.tooLarge(limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(limit)
        } catch {
            throw OaaSError(.invalidArgument, "request body could not be read: \(error)")
        }
    }

    /// An ObjData or batch body in the negotiated encoding (spec §8.3).
    func decodeBody<M: SwiftProtobuf.Message>(_ type: M.Type, _ request: Request) async throws(OaaSError) -> M {
        let format = try MediaType.bodyFormat(contentType: request.headers[.contentType])
        let data = try await collectBody(request)
        switch format {
        case .protobuf: return try Self.decodeProtobuf(type, data)
        case .json: return try ProtoJSON.decode(type, from: data)
        }
    }

    static func decodeProtobuf<M: SwiftProtobuf.Message>(_ type: M.Type, _ data: Data) throws(OaaSError) -> M {
        do {
            return try M(serializedBytes: data)
        } catch {
            throw OaaSError(.invalidArgument, "invalid protobuf body (\(M.protoMessageName)): \(error)")
        }
    }

    private static func tooLarge(_ limit: Int) -> OaaSError {
        OaaSError(.payloadTooLarge, "request body exceeds MAX_PAYLOAD_BYTES (\(limit) bytes)")
    }

    // MARK: Response side

    /// 200 with the object (JSON if Accept asks for it, else protobuf) and its version header.
    func objectResponse(_ response: Oprc_ObjectResponse, request: Request) throws(OaaSError) -> Response {
        var headers = HTTPFields()
        if response.hasObjectVersion { headers[OprcHeader.objectVersion] = String(response.objectVersion) }
        if MediaType.wantsJSON(request.headers) {
            return Self.body(try Self.json(response.obj), contentType: MediaType.json, headers: headers)
        }
        let bytes: [UInt8]
        do {
            bytes = try response.obj.serializedBytes()
        } catch {
            throw OaaSError(.internal, "could not encode the object: \(error)")
        }
        return Self.body(bytes, contentType: MediaType.protobuf, headers: headers)
    }

    static func json(_ message: some SwiftProtobuf.Message) throws(OaaSError) -> Data {
        do {
            return try ProtoJSON.encode(message)
        } catch {
            throw OaaSError(.internal, "could not encode \(type(of: message).protoMessageName) as JSON: \(error)")
        }
    }

    static func body(_ bytes: some Sequence<UInt8>, contentType: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func noContent(version: UInt64) -> Response {
        var headers = HTTPFields()
        headers[OprcHeader.objectVersion] = String(version)
        return Response(status: .noContent, headers: headers)
    }
}

/// `x-oprc-val-type` (spec §8.2): `byte` or `crdt_map`.
enum ValueTypeHeader {
    static func parse(_ raw: String?) throws(OaaSError) -> Oprc_ValType? {
        guard let raw else { return nil }
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "byte": return .byte
        case "crdt_map": return .crdtMap
        default: throw OaaSError(.invalidArgument, "x-oprc-val-type '\(raw)' must be byte or crdt_map")
        }
    }

    /// Unknown types read as BYTE (spec §3.1).
    static func name(of type: Oprc_ValType) -> String {
        type == .crdtMap ? "crdt_map" : "byte"
    }
}
