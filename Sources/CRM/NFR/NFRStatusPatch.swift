import Foundation
import Kube
import Logging

/// Status writes of the analyzer and enforcer: a merge patch of their own fields plus the conditions list, which a
/// merge patch replaces whole — so the patch is conditional on the version it was computed from, and a conflict
/// (the reconciler wrote meanwhile) re-reads the ClassRuntime and recomputes.
enum NFRStatusPatch {
    static let attempts = 3

    /// `body` returns the `status` object to merge for the given CR version, or nil for "nothing to write".
    static func write(
        client: KubeClient, namespace: String, runtime: ClassRuntime, logger: Logger,
        _ body: (ClassRuntime) -> JSONValue?
    ) async throws {
        var current = runtime
        for _ in 0..<attempts {
            guard let status = body(current) else { return }
            var patch: JSONValue = ["status": status]
            if let version = current.resourceVersion {
                patch.setValue(.string(version), at: "metadata", "resourceVersion")
            }
            do {
                try await client.mergePatch(.classRuntimes, namespace: namespace, name: current.name, patch,
                                            subresource: "status")
                return
            } catch let error as KubeError where error.isConflict {
                guard let fresh = try await client.getIfPresent(.classRuntimes, namespace: namespace, name: current.name)
                else { return }
                current = try ClassRuntime(object: fresh)
            } catch let error as KubeError where error.isNotFound {
                return
            }
        }
        logger.info("NFR status write kept conflicting; the next tick retries",
                    metadata: ["classruntime": "\(runtime.name)"])
    }
}
