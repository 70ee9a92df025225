import Foundation
import GRPCCore
import OaaSProto

/// What PM needs from one environment's CRM (control-plane spec §8). Failures are thrown as `GRPCCore.RPCError`
/// (code + message), whatever the transport.
public protocol CRMClient: Sendable {
    func deploy(_ request: Oaas_Deployment_DeployRequest, call: CRMCall) async throws -> Oaas_Deployment_DeployResponse
    func getDeploymentStatus(_ request: Oaas_Deployment_GetDeploymentStatusRequest, call: CRMCall) async throws -> Oaas_Deployment_GetDeploymentStatusResponse
    func deleteDeployment(_ request: Oaas_Deployment_DeleteDeploymentRequest, call: CRMCall) async throws -> Oaas_Deployment_DeleteDeploymentResponse
    func listClassRuntimes(_ request: Oaas_Deployment_ListClassRuntimesRequest, call: CRMCall) async throws -> Oaas_Deployment_ListClassRuntimesResponse
    func getClassRuntime(_ request: Oaas_Deployment_GetClassRuntimeRequest, call: CRMCall) async throws -> Oaas_Deployment_GetClassRuntimeResponse
    func getEnvHealth(_ request: Oaas_Health_CrmEnvRequest, call: CRMCall) async throws -> Oaas_Health_CrmEnvHealth
    /// `oaas.health.HealthService/Check` for the whole server: the fallback of spec §8.3 for CRMs without CrmInfoService.
    func healthCheck(call: CRMCall) async throws -> Oaas_Health_HealthCheckResponse.ServingStatus
}

/// Per-call context sent to a CRM (spec §8.1): the deadline and the request's correlation and trace ids.
public struct CRMCall: Sendable {
    public var correlationId: String
    /// Sent as `grpc-timeout`.
    public var timeout: Duration
    /// W3C trace context of the call (`00-<trace id>-<span id>-<flags>`).
    public var traceparent: String?

    public init(correlationId: String, timeout: Duration, traceparent: String? = nil) {
        self.correlationId = correlationId
        self.timeout = timeout
        self.traceparent = traceparent ?? TraceContext.child(of: nil)
    }

    /// The same call with another deadline (each env has its own timeout).
    public func with(timeout: Duration) -> CRMCall {
        var copy = self
        copy.timeout = timeout
        return copy
    }

    public static let correlationHeader = "x-correlation-id"

    /// `x-correlation-id` and `traceparent`.
    public var metadata: Metadata {
        var metadata = Metadata()
        metadata.addString(correlationId, forKey: Self.correlationHeader)
        if let traceparent { metadata.addString(traceparent, forKey: "traceparent") }
        return metadata
    }

    /// The deadline, failing fast instead of queueing while the connection is down (PM retries itself).
    public var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = false
        return options
    }
}

/// W3C trace context (`traceparent`): PM continues the caller's trace with a new span, or starts one.
public enum TraceContext {
    /// A child of `parent` (same trace id and flags, new span id), or a new sampled trace when `parent` is absent
    /// or malformed.
    public static func child(of parent: String?) -> String {
        let span = randomHex(bytes: 8)
        if let parent, let (trace, flags) = parse(parent) { return "00-\(trace)-\(span)-\(flags)" }
        return "00-\(randomHex(bytes: 16))-\(span)-01"
    }

    /// Trace id and flags of a valid version-00 header.
    static func parse(_ header: String) -> (trace: String, flags: String)? {
        let parts = header.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
              parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        return (String(parts[1]), String(parts[3]))
    }

    private static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        repeat {
            text = (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        } while text.allSatisfy { $0 == "0" }
        return text
    }
}
