import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Spec §4.1: the correlation id is the request's `X-Correlation-ID`, else its `X-Request-ID`, else a new UUIDv4.
/// It is echoed on the response and put in the logger metadata of everything the request does.
struct CorrelationMiddleware<Context: RequestContext>: RouterMiddleware {
    static var metadataKey: String { "correlation_id" }
    static var header: HTTPField.Name { HTTPField.Name("X-Correlation-ID") ?? .via }
    static var requestIdHeader: HTTPField.Name { HTTPField.Name("X-Request-ID") ?? .via }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.usable(request.headers[Self.header]) ?? Self.usable(request.headers[Self.requestIdHeader]) ?? UUID().uuidString.lowercased()
        var context = context
        context.logger[metadataKey: Self.metadataKey] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// Client ids are kept when short and printable, so they cannot forge log lines or headers.
    private static func usable(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value.utf8.count <= 128,
              value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x21 && $0.value < 0x7F })
        else { return nil }
        return value
    }
}

extension RequestContext {
    /// The request's correlation id (set by ``CorrelationMiddleware``).
    var correlationId: String {
        logger[metadataKey: CorrelationMiddleware<Self>.metadataKey].map { "\($0)" } ?? UUID().uuidString.lowercased()
    }
}
