import Kube

extension CRMError {
    /// Maps any failure of a request to the gRPC error of control-plane spec §8.1, prefixing `what` (the operation)
    /// so the caller can tell which Kubernetes call failed.
    static func from(_ error: any Error, _ what: String) -> CRMError {
        switch error {
        case let error as CRMError:
            return error
        case let error as KubeError:
            let message = "\(what): \(error)"
            switch error {
            case .unauthorized, .forbidden: return .permissionDenied(message)
            case .invalid, .badRequest: return .invalidArgument(message)
            case .notFound: return .notFound(message)
            // A stale-version or ownership race: the caller may simply try again.
            case .conflict: return .aborted(message)
            case .transport, .server, .gone: return .unavailable(message)
            case .unexpected(let code, _): return code == 429 ? .unavailable(message) : .internalError(message)
            case .decoding, .configuration: return .internalError(message)
            }
        case is CancellationError:
            return .deadlineExceeded("\(what): the request was cancelled (deadline or client gone)")
        default:
            return .internalError("\(what): \(error)")
        }
    }
}

extension KubeError {
    /// The API server produced an HTTP answer (as opposed to being unreachable).
    var serverAnswered: Bool { code != nil && !isTransient }
}
