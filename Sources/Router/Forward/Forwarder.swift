import Foundation
import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import OaaSProto

/// `RouterService.Forward` (spec §7.1): runs one unary RPC on the node that owns its (class, partition), for
/// clients that keep no route table.
///
/// A refusal by the router itself (hop limit, streaming or unknown method, unknown class or partition, no ready
/// shard) is the Forward call's own status. Whatever the target node answers, failures included, comes back in the
/// `ForwardResponse` (`code`, `message`, `response`, `metadata`).
struct Forwarder: Sendable {
    let hub: RouteHub
    let pool: NodeClientPool
    /// Peer URL → the client of that peer router.
    let peers: [String: GRPCClient<DataPathClientTransport>]
    let config: RouterConfig
    let metrics: RouterMetrics
    let logger: Logger

    func forward(_ request: Oaas_Router_ForwardRequest, callerTimeout: Duration?) async throws(OaaSError) -> Oaas_Router_ForwardResponse {
        let label = ForwardMethod.named(request.method)?.path ?? "unknown"
        do {
            let response = try await route(request, callerTimeout: callerTimeout)
            metrics.forward(method: label, code: Self.codeName(response.code))
            return response
        } catch {
            metrics.forward(method: label, code: error.rpcCodeName)
            throw error
        }
    }

    /// The gRPC code name of a `ForwardResponse.code` (0 is OK).
    static func codeName(_ code: Int32) -> String {
        guard code != 0 else { return "OK" }
        guard let status = Status.Code(rawValue: Int(code)), let rpcCode = RPCError.Code(status) else { return "UNKNOWN" }
        return OaaSError.name(of: rpcCode)
    }

    private func route(_ request: Oaas_Router_ForwardRequest, callerTimeout: Duration?) async throws(OaaSError) -> Oaas_Router_ForwardResponse {
        guard request.hopCount <= config.maxHops else {
            throw OaaSError(.unavailable, "hop limit exceeded: hop_count \(request.hopCount) > \(config.maxHops)")
        }
        guard let method = ForwardMethod.named(request.method) else {
            throw OaaSError(.unimplemented, "method '\(request.method)' cannot be forwarded (unary methods of oprc.DataService, oprc.OprcFunction and oaas.invocation.AsyncInvocation only)")
        }
        guard !method.streaming else {
            throw OaaSError(.unimplemented, "streaming method '\(method.path)' cannot be forwarded")
        }
        let location = try method.locate(request.request)
        let clsID = request.clsID.isEmpty ? location.clsID : request.clsID
        let snapshot = await hub.snapshot
        let target: RouteTarget
        if let clsID, !clsID.isEmpty {
            target = try snapshot.target(clsID: clsID, partitionID: request.hasPartitionID ? request.partitionID : (location.partitionID ?? 0))
        } else if location.clsID == nil {
            target = try snapshot.anyReadyNode()
        } else {
            throw OaaSError(.invalidArgument, "cls_id required")
        }
        // OPRC_ROUTER_FORWARD_TIMEOUT_MS is the default: a deadline the caller sent (on the Forward call itself or in
        // the metadata to pass on) wins, the shorter of the two if both came.
        let timeout = [callerTimeout, ForwardMetadata.timeout(request.metadata["grpc-timeout"])]
            .compactMap { $0 }.min() ?? config.forwardTimeout
        switch target {
        case .node(let address):
            return try await callNode(address, method: method, request: request, timeout: timeout)
        case .peer(let url):
            return try await callPeer(url, request: request, timeout: timeout)
        }
    }

    private func callNode(_ address: String, method: ForwardMethod, request: Oaas_Router_ForwardRequest,
                          timeout: Duration) async throws(OaaSError) -> Oaas_Router_ForwardResponse {
        let client = try pool.client(for: address)
        var options = CallOptions.defaults
        options.timeout = timeout
        let descriptor = MethodDescriptor(fullyQualifiedService: method.service, method: method.method)
        do {
            return try await client.unary(
                request: ClientRequest(message: request.request, metadata: ForwardMetadata.metadata(from: request.metadata)),
                descriptor: descriptor, serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(),
                options: options
            ) { response in
                var result = Oaas_Router_ForwardResponse()
                switch response.accepted {
                case .success(let contents):
                    ForwardMetadata.map(from: contents.metadata, into: &result.metadata)
                    ForwardMetadata.map(from: contents.trailingMetadata, into: &result.metadata)
                    switch contents.message {
                    case .success(let bytes): result.response = bytes
                    case .failure(let error): result.fail(with: error)
                    }
                case .failure(let error):
                    result.fail(with: error)
                }
                return result
            }
        } catch let error as RPCError {
            // The node was unreachable or the deadline passed: still the target's outcome.
            logger.debug("forward failed", metadata: ["address": "\(address)", "error": "\(error)"])
            var result = Oaas_Router_ForwardResponse()
            result.fail(with: error)
            return result
        } catch {
            var result = Oaas_Router_ForwardResponse()
            result.code = Int32(RPCError.Code.unknown.rawValue)
            result.message = "\(error)"
            return result
        }
    }

    private func callPeer(_ url: String, request: Oaas_Router_ForwardRequest, timeout: Duration) async throws(OaaSError) -> Oaas_Router_ForwardResponse {
        guard let client = peers[url] else { throw OaaSError(.unavailable, "peer router \(url) is not connected") }
        var onward = request
        onward.hopCount += 1
        var options = CallOptions.defaults
        options.timeout = timeout
        do {
            return try await Oaas_Router_RouterService.Client(wrapping: client).forward(onward, options: options)
        } catch let error as RPCError {
            // The peer refused (its own hop limit, no route, ...): that is this call's outcome too.
            throw OaaSError(rpcError: error)
        } catch {
            throw OaaSError(.unavailable, "peer router \(url): \(error)")
        }
    }
}

extension Oaas_Router_ForwardResponse {
    mutating func fail(with error: RPCError) {
        code = Int32(error.code.rawValue)
        message = error.message
        ForwardMetadata.map(from: error.metadata, into: &metadata)
    }
}
