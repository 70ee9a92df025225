import GRPCCore
import OaaSCore
import OaaSProto

/// One call from ODGM to a function runtime: the request with the options of spec §5.4 already
/// added, and what travels beside it as metadata.
public struct RuntimeCall: Sendable {
    public enum Request: Sendable {
        case fn(Oprc_InvocationRequest)
        case obj(Oprc_ObjectInvocationRequest)
    }

    public var request: Request
    public var invocationID: String
    public var triggerDepth: Int
    public var traceparent: String?
    public var tracestate: String?
    public var deadline: ContinuousClock.Instant

    /// `oaas-invocation-id`, `oaas-trigger-depth` and the trace context (spec §5.4, §10). The
    /// remaining deadline travels as `grpc-timeout` through ``callOptions``.
    public var metadata: Metadata {
        var metadata = Metadata()
        metadata.addString(invocationID, forKey: MetadataKeys.invocationID)
        metadata.addString(String(triggerDepth), forKey: MetadataKeys.triggerDepth)
        if let traceparent { metadata.addString(traceparent, forKey: MetadataKeys.traceparent) }
        if let tracestate { metadata.addString(tracestate, forKey: MetadataKeys.tracestate) }
        return metadata
    }

    /// The remaining time as the call's timeout; no message size limit towards runtimes.
    public var callOptions: CallOptions {
        var options = CallOptions.defaults
        let remaining = deadline - ContinuousClock.now
        options.timeout = remaining > .zero ? remaining : .milliseconds(1)
        options.maxRequestMessageBytes = Int.max
        options.maxResponseMessageBytes = Int.max
        return options
    }

    public var clsID: String {
        switch request {
        case .fn(let request): request.clsID
        case .obj(let request): request.clsID
        }
    }

    public var fnID: String {
        switch request {
        case .fn(let request): request.fnID
        case .obj(let request): request.fnID
        }
    }
}

extension RuntimeCall {
    /// Builds the call for `context`: the invocation id is the context's (async or trigger
    /// delivery), else one a caller put in the options, else a new one; the deadline is the
    /// context's, else `now + defaultTimeout`.
    init(_ request: Request, context: CallContext, defaultTimeout: Duration) {
        var options: [String: String]
        switch request {
        case .fn(let request): options = request.options
        case .obj(let request): options = request.options
        }
        let invocationID = [context.invocationID, options[MetadataKeys.invocationID]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? InvocationIDs.generate()
        let traceparent = context.traceparent ?? options[MetadataKeys.traceparent]
        let tracestate = context.tracestate ?? options[MetadataKeys.tracestate]
        options[MetadataKeys.invocationID] = invocationID
        options[MetadataKeys.triggerDepth] = String(context.triggerDepth)
        if let traceparent { options[MetadataKeys.traceparent] = traceparent }
        if let tracestate { options[MetadataKeys.tracestate] = tracestate }

        switch request {
        case .fn(var request):
            request.options = options
            self.request = .fn(request)
        case .obj(var request):
            request.options = options
            self.request = .obj(request)
        }
        self.invocationID = invocationID
        self.triggerDepth = context.triggerDepth
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.deadline = context.deadline ?? .now + defaultTimeout
    }
}
