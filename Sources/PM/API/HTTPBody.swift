import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OaaSModels

/// Request bodies and response encoding of the PM API (spec §4.1).
struct HTTPBody: Sendable {
    let maxBytes: Int

    /// The body as text with the format its Content-Type names: JSON, YAML, or sniffed when there is none or it
    /// is `text/plain`; 415 for anything else, 413 above `PM_MAX_BODY_BYTES`.
    func read(_ request: Request) async throws(PMError) -> (text: String, format: DocumentFormat) {
        let contentType = request.headers[.contentType]
        var format: DocumentFormat?
        if let contentType {
            let essence = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if let named = DocumentFormat(mediaType: contentType) {
                format = named
            } else if !essence.isEmpty, essence != "text/plain" {
                throw PMError(.unsupportedMediaType, "Content-Type '\(contentType)' is not supported; use application/json or application/yaml")
            }
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBytes { throw tooLarge() }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge()
        } catch {
            throw PMError(.badRequest, "request body could not be read: \(error)")
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw PMError(.badRequest, "request body is not valid UTF-8")
        }
        return (text, format ?? DocumentFormat.sniff(text))
    }

    func package(_ request: Request, strict: Bool) async throws(PMError) -> Decoded<OPackage> {
        let (text, format) = try await read(request)
        do {
            return try ModelDecoder(strict: strict).decodePackage(text, format: format)
        } catch {
            throw PMError(error)
        }
    }

    func deployment(_ request: Request, strict: Bool) async throws(PMError) -> Decoded<OClassDeployment> {
        let (text, format) = try await read(request)
        do {
            return try ModelDecoder(strict: strict).decodeDeployment(text, format: format)
        } catch {
            throw PMError(error)
        }
    }

    private func tooLarge() -> PMError {
        PMError(.payloadTooLarge, "request body exceeds PM_MAX_BODY_BYTES (\(maxBytes) bytes)")
    }
}

/// Builds responses: JSON, or YAML when `Accept` prefers it.
enum Reply {
    static let json = "application/json"
    static let yaml = "application/yaml"

    static func document(_ value: DocumentValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], request: Request) -> Response {
        var headers = headers
        if prefersYAML(request.headers[values: .accept]), let text = try? ModelEncoder().yaml(value) {
            headers[.contentType] = yaml
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        headers[.contentType] = json
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: ModelEncoder().json(value))))
    }

    static func error(_ error: PMError, headers extra: HTTPFields = [:]) -> Response {
        let details: DocumentValue? = error.details.isEmpty ? nil : .array(error.details.map {
            .obj(["field": .str($0.field), "message": .str($0.message)])
        })
        let body = DocumentValue.obj(["error": .obj([
            "code": .str(error.code.rawValue),
            "message": .str(error.message),
            "field": .str(error.field),
            "details": details,
        ])])
        var headers = extra
        headers[.contentType] = json
        return Response(status: HTTPResponse.Status(code: error.httpStatus), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: ModelEncoder().json(body))))
    }

    /// True when the highest-weighted of the JSON and YAML types in `Accept` is YAML (ties: the one listed first).
    static func prefersYAML(_ values: [String]) -> Bool {
        var best: (yaml: Bool, q: Double)?
        for entry in values.flatMap({ $0.split(separator: ",") }) {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first else { continue }
            let isYAML = DocumentFormat(mediaType: type) == .yaml
            guard isYAML || type == json else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if q > (best?.q ?? 0) { best = (isYAML, q) }
        }
        return best?.yaml ?? false
    }
}
