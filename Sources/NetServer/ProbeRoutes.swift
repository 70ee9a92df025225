import Foundation
import Hummingbird
import OaaSCore
import Prometheus

/// `/healthz`, `/health`, `/readyz` and `/metrics`: the same on every role (spec §11.1).
public enum ProbeRoutes {
    /// `plainHealth: false` leaves `/health` to the role (PM answers it with a JSON body, control-plane §4.2).
    public static func register(on router: Router<BasicRequestContext>, container: ServiceContainer, plainHealth: Bool = true) {
        let healthy: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        router.get("/healthz", use: healthy)
        if plainHealth { router.get("/health", use: healthy) }
        router.get("/readyz") { _, _ -> Response in
            let reasons = await container.notReadyReasons()
            if reasons.isEmpty {
                return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ready")))
            }
            let body = (try? JSONSerialization.data(withJSONObject: ["ready": false, "reasons": reasons])) ?? Data()
            return Response(status: .serviceUnavailable, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            let text = container.metrics.emitToBuffer()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
