import Foundation
import Kube
import Logging

/// NFR phase 3 (control-plane spec §12): when the enforcement feature is on, every `OPRC_CRM_ANALYZER_INTERVAL_SECS`
/// each ClassRuntime with `enforcement.mode: enforce` gets the analyzer's function recommendations applied — after
/// stability and cooldown, step-bounded and clamped — with field manager `oprc-crm-enforcer`. ODGM recommendations
/// are never applied. Failures are Events (`NFRApplyFailed`) and `NfrEnforced=False`, never Degraded.
public struct NFREnforcer: CRMLeaderTask {
    public let name = "nfr-enforcer"

    public init() {}

    public func run(context: CRMLeaderContext) async throws {
        var logger = context.logger
        logger[metadataKey: "task"] = "\(name)"
        guard context.config.nfrEnforcementEnabled else {
            logger.info("NFR enforcer off: \(NFRFeatureFlag.issueVariable) / \(NFRFeatureFlag.specVariable) is false")
            return
        }
        let pass = NFREnforcementPass(client: context.client, config: context.config, logger: logger)
        logger.info("NFR enforcer started", metadata: [
            "stability": "\(context.config.enforcementStability)", "cooldown": "\(context.config.enforcementCooldown)",
        ])
        while !Task.isCancelled {
            await pass.runOnce()
            do {
                try await Task.sleep(for: context.config.analyzerInterval)
            } catch {
                return
            }
        }
    }
}

/// The enforcer's state for one leadership term and one tick's work.
struct NFREnforcementPass: Sendable {
    let client: KubeClient
    let config: CRMConfig
    let logger: Logger
    let events: EventRecorder
    let metrics = NFRMetrics()
    let gates = NFRGates()
    let now: @Sendable () -> Date

    init(client: KubeClient, config: CRMConfig, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.config = config
        self.logger = logger
        self.now = now
        events = EventRecorder(client: client, reportingInstance: config.podName,
                               window: config.timings.eventDedupWindow, logger: logger)
    }

    /// What one ClassRuntime's tick did, for its status.
    struct Results: Sendable {
        var applied: [ClassRuntimeStatus.AppliedRecommendation] = []
        var appliedMessages: [String] = []
        var failures: [String] = []
    }

    func runOnce() async {
        let list: KubeList
        do {
            list = try await client.list(.classRuntimes, namespace: config.namespace)
        } catch {
            logger.warning("cannot list ClassRuntimes", metadata: ["error": "\(error)"])
            return
        }
        var live = Set<String>()
        for object in list.items {
            guard !Task.isCancelled else { return }
            guard let runtime = try? ClassRuntime(object: object), !runtime.isBeingDeleted,
                  runtime.enforcementMode == "enforce"
            else { continue }
            live.formUnion(await enforce(runtime))
        }
        await gates.retain(live)
    }

    /// Enforces every (function, dimension) of one ClassRuntime that has a recommendation; returns the gate keys
    /// it used.
    func enforce(_ runtime: ClassRuntime) async -> Set<String> {
        let functions = runtime.containerFunctions
        let recommendations = NFRRecommendationSet.parse(runtime.status?.nfrRecommendations,
                                                         firstFunction: functions.first?.functionKey)
        guard !recommendations.isEmpty else { return [] }
        let template = runtime.actualTemplate(config)
        let namespace = runtime.namespace.isEmpty ? config.namespace : runtime.namespace
        var results = Results()
        var keys = Set<String>()
        for function in functions {
            guard let recommendation = recommendations[function.functionKey] else { continue }
            let key = function.functionKey
            let child = CRMNames.functionChild(cr: runtime.name, functionKey: key)
            var workload: NFRWorkload
            do {
                workload = try await NFRWorkload.load(client: client, namespace: namespace, child: child,
                                                      template: template)
            } catch {
                logger.warning("cannot read the workload", metadata: ["classruntime": "\(runtime.name)",
                                                                      "function": "\(key)", "error": "\(error)"])
                continue
            }
            for dimension in runtime.enforcementDimensions {
                guard let target = recommendation.value(dimension) else { continue }
                let gateKey = "\(runtime.uid ?? runtime.name)/\(key)/\(dimension.rawValue)"
                keys.insert(gateKey)
                await enforce(runtime, function: key, dimension: dimension, target: target, gateKey: gateKey,
                              workload: &workload, results: &results)
            }
        }
        if !results.applied.isEmpty || !results.failures.isEmpty {
            do {
                try await writeStatus(runtime, results)
            } catch {
                logger.warning("cannot write enforcement status", metadata: ["classruntime": "\(runtime.name)",
                                                                            "error": "\(error)"])
            }
        }
        return keys
    }
}
