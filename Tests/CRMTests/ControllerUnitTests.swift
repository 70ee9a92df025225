import Foundation
import Kube
import Testing

@testable import CRM

/// Pure parts of the controller: the work queue, the phase table, readiness rules and status comparison.
@Suite("CRM controller units")
struct ControllerUnitTests {
    // MARK: WorkQueue

    @Test func queueDeduplicatesAndRunsOneWorkerPerKey() async throws {
        let queue = WorkQueue()
        queue.add("a")
        queue.add("a")
        queue.add("b")
        #expect(queue.count.ready == 2)
        let first = await queue.next()
        #expect(first == "a")
        // Re-added while running: not handed out twice, queued again on done.
        queue.add("a")
        let second = await queue.next()
        #expect(second == "b")
        #expect(queue.count.ready == 0)
        queue.done("a")
        let third = await queue.next()
        #expect(third == "a")
        queue.done("a")
        queue.done("b")
        #expect(queue.count == (0, 0, 0))
    }

    @Test func delayedKeysKeepTheEarliestDueTime() async throws {
        let queue = WorkQueue()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.runScheduler() }
            queue.addAfter("slow", .seconds(30))
            queue.addAfter("slow", .milliseconds(50))  // earlier wins
            queue.addAfter("slow", .seconds(60))  // later is ignored
            let started = ContinuousClock.now
            let key = await queue.next()
            #expect(key == "slow")
            #expect(ContinuousClock.now - started < .seconds(20))  // the 30 s schedule did not win; slack for a loaded machine
            queue.done("slow")
            // An immediate add cancels a pending delayed requeue.
            queue.addAfter("x", .seconds(30))
            queue.add("x")
            #expect(await queue.next() == "x")
            queue.done("x")
            #expect(queue.count.delayed == 0)
            queue.shutdown()
            group.cancelAll()
        }
    }

    @Test func waitingWorkersWakeOnShutdownAndCancellation() async {
        let queue = WorkQueue()
        let waiter = Task { await queue.next() }
        let cancelled = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        queue.shutdown()
        #expect(await waiter.value == nil)
        #expect(await queue.next() == nil)
    }

    @Test func backoffDoublesToTheCap() {
        let steps = (1...8).map { ReconcileState.backoff(.seconds(5), attempt: $0, max: .seconds(300)) }
        #expect(steps == [.seconds(5), .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160),
                          .seconds(300), .seconds(300)])
    }

    // MARK: Phase table

    private func input(
        _ configure: (inout PhaseEvaluator.Input) -> Void
    ) -> PhaseEvaluator.Input {
        var input = PhaseEvaluator.Input(
            generation: 2, previous: ClassRuntimeStatus(phase: .progressing, observedGeneration: 2),
            failure: nil, appliedCount: 0, template: "dev", desiredWorkloads: 2, readyWorkloads: 1, allReady: false,
            notReadyDetail: "Deployment x: 0/1 replicas available", rollingOut: false,
            deploymentDeadlineExceeded: false, podFailure: nil, now: Date(timeIntervalSince1970: 1_000_000),
            progressDeadline: .seconds(600))
        configure(&input)
        return input
    }

    @Test func phaseTable() {
        #expect(PhaseEvaluator.evaluate(input { $0.appliedCount = 3 }).phase == .applying)
        #expect(PhaseEvaluator.evaluate(input { $0.appliedCount = 3 }).reason == "Applying")
        let available = PhaseEvaluator.evaluate(input {
            $0.allReady = true
            $0.readyWorkloads = 2
        })
        #expect(available.phase == .available && available.reason == "Ready" && available.progressingSince == nil)
        #expect(PhaseEvaluator.evaluate(input { _ in }).reason == "ChildNotReady")
        #expect(PhaseEvaluator.evaluate(input { $0.rollingOut = true }).reason == "Rollout")
        #expect(PhaseEvaluator.evaluate(input { $0.previous?.observedGeneration = 1 }).reason == "SpecChanged")
        let failed = PhaseEvaluator.evaluate(input { $0.failure = ("Conflict", "Deployment x: conflict") })
        #expect(failed.phase == .degraded && failed.reason == "Conflict" && failed.observedGeneration == 2)
        let template = PhaseEvaluator.evaluate(input {
            $0.failure = ("TemplateError", "bad")
            $0.previous?.observedGeneration = 1
        })
        #expect(template.observedGeneration == 1)  // nothing was rendered for generation 2
        let crash = PhaseEvaluator.evaluate(input { $0.podFailure = .init(reason: "CrashLoop", message: "pod p") })
        #expect(crash.phase == .degraded && crash.reason == "CrashLoop")
        #expect(PhaseEvaluator.evaluate(input { $0.deploymentDeadlineExceeded = true }).reason == "Timeout")
        let late = PhaseEvaluator.evaluate(input {
            $0.previous?.progressingSince = KubeTime.format(Date(timeIntervalSince1970: 1_000_000 - 601))
        })
        #expect(late.phase == .degraded && late.reason == "Timeout")
        let inTime = PhaseEvaluator.evaluate(input {
            $0.previous?.progressingSince = KubeTime.format(Date(timeIntervalSince1970: 1_000_000 - 599))
        })
        #expect(inTime.phase == .progressing && inTime.progressingSince == KubeTime.format(Date(timeIntervalSince1970: 1_000_000 - 599)))
    }

    @Test func conditionsAreExclusiveAndTransitionTimesMoveOnlyOnFlips() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let t1 = t0.addingTimeInterval(60)
        let nfr = ClassRuntimeCondition(type: "NfrObserved", status: "True", reason: "PrometheusQueryOK")
        let progressing = PhaseEvaluator.conditions(phase: .progressing, reason: "ChildNotReady", message: "m",
                                                    generation: 1, previous: [nfr], now: t0)
        #expect(progressing.filter(\.isTrue).map(\.type) == ["Progressing", "NfrObserved"])
        #expect(progressing.map(\.type) == ["Available", "Progressing", "Degraded", "NfrObserved"])
        let still = PhaseEvaluator.conditions(phase: .applying, reason: "Applying", message: "m2", generation: 2,
                                              previous: progressing, now: t1)
        #expect(still.map(\.lastTransitionTime) == progressing.map(\.lastTransitionTime))
        let available = PhaseEvaluator.conditions(phase: .available, reason: "Ready", message: "ok", generation: 2,
                                                  previous: still, now: t1)
        #expect(available.filter(\.isTrue).map(\.type) == ["Available", "NfrObserved"])
        #expect(available[0].lastTransitionTime == KubeTime.format(t1))
        #expect(available[1].lastTransitionTime == KubeTime.format(t1))
        #expect(available[2].lastTransitionTime == KubeTime.format(t0))  // Degraded stayed False
        let deleting = PhaseEvaluator.conditions(phase: .deleting, reason: "Deleting", message: "", generation: 2,
                                                 previous: available, now: t1)
        #expect(deleting.prefix(3).allSatisfy { !$0.isTrue && $0.reason == "Deleting" })
    }

    @Test func statusComparisonIgnoresTimestampsAndGeneration() {
        let base = ClassRuntimeStatus(
            phase: .available, message: "ok", lastUpdated: "2025-01-01T00:00:00Z", observedGeneration: 1,
            conditions: [ClassRuntimeCondition(type: "Available", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z")])
        var later = base
        later.lastUpdated = "2025-02-01T00:00:00Z"
        later.observedGeneration = 2
        later.conditions[0].lastTransitionTime = "2025-02-01T00:00:00Z"
        #expect(!StatusWriter.differs(base, later))
        later.message = "changed"
        #expect(StatusWriter.differs(base, later))
        #expect(StatusWriter.differs(nil, base))
        let patch = StatusWriter.patch(ClassRuntimeStatus(phase: .available), resourceVersion: "42")
        #expect(patch.value(at: "metadata", "resourceVersion") == "42")
        #expect(patch.value(at: "status", "progressing_since") == .null)
        #expect(patch.value(at: "status", "nfr_recommendations") == nil)  // analyzer fields left alone
    }

    // MARK: Readiness

    @Test func readinessRules() {
        var deployment = KubeObject(.deployments, name: "d", namespace: "n")
        deployment.setValue(2, at: "metadata", "generation")
        deployment.spec = ["replicas": 2]
        deployment.status = ["observedGeneration": 1, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2]
        #expect(ChildReadiness.verdict(.deployments, deployment).rollingOut)
        deployment.status = ["observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 1, "replicas": 2]
        #expect(!ChildReadiness.verdict(.deployments, deployment).ready)
        deployment.status = ["observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2]
        #expect(ChildReadiness.verdict(.deployments, deployment).ready)
        deployment.status = ["observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 1, "replicas": 2,
                             "conditions": [["type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"]]]
        #expect(ChildReadiness.verdict(.deployments, deployment).deadlineExceeded)

        var statefulSet = KubeObject(.statefulSets, name: "s", namespace: "n")
        statefulSet.setValue(1, at: "metadata", "generation")
        statefulSet.spec = ["replicas": 3]
        statefulSet.status = ["observedGeneration": 1, "readyReplicas": 3, "currentRevision": "a", "updateRevision": "b"]
        #expect(!ChildReadiness.verdict(.statefulSets, statefulSet).ready)
        statefulSet.status = ["observedGeneration": 1, "readyReplicas": 3, "currentRevision": "b", "updateRevision": "b"]
        #expect(ChildReadiness.verdict(.statefulSets, statefulSet).ready)

        #expect(!ChildReadiness.verdict(.services, nil).ready)
        #expect(ChildReadiness.verdict(.services, KubeObject(.services, name: "x", namespace: "n")).ready)
    }

    @Test func podFailures() {
        func pod(_ name: String, waiting: String?, restarts: Int64 = 0, finishedAt: String? = nil) -> KubeObject {
            var pod = KubeObject(.pods, name: name, namespace: "n")
            var status: JSONValue = ["name": "function", "restartCount": .int(restarts)]
            if let waiting { status["state"] = ["waiting": ["reason": .string(waiting)]] }
            if let finishedAt { status["lastState"] = ["terminated": ["finishedAt": .string(finishedAt)]] }
            pod.status = ["containerStatuses": [status]]
            return pod
        }
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(ChildReadiness.podFailure([pod("a", waiting: "ErrImagePull")], now: now)?.reason == "ImagePullFailed")
        #expect(ChildReadiness.podFailure([pod("a", waiting: "InvalidImageName")], now: now)?.reason == "ImagePullFailed")
        #expect(ChildReadiness.podFailure([pod("a", waiting: "CrashLoopBackOff")], now: now)?.reason == "CrashLoop")
        // Image pull failures win over crash loops of other pods.
        #expect(ChildReadiness.podFailure([pod("a", waiting: "CrashLoopBackOff"), pod("b", waiting: "ImagePullBackOff")],
                                          now: now)?.reason == "ImagePullFailed")
        let recent = KubeTime.format(now.addingTimeInterval(-60))
        let old = KubeTime.format(now.addingTimeInterval(-3600))
        #expect(ChildReadiness.podFailure([pod("a", waiting: nil, restarts: 5, finishedAt: recent)], now: now)?.reason == "CrashLoop")
        #expect(ChildReadiness.podFailure([pod("a", waiting: nil, restarts: 5, finishedAt: old)], now: now) == nil)
        #expect(ChildReadiness.podFailure([pod("a", waiting: "ContainerCreating")], now: now) == nil)
    }

    @Test func routerEndpointPrefersThePortNamedGRPC() {
        var service = KubeObject(.services, name: "oaas-router", namespace: "n")
        service.spec = ["ports": [["name": "http", "port": 8080], ["name": "grpc", "port": 17447]]]
        #expect(RouterDiscovery.endpoint(service) == RouterEndpoint(service: "oaas-router", port: 17447))
        let routers = RouterDiscovery()
        #expect(routers.update(service))
        #expect(!routers.update(service))
        #expect(routers.primary?.service == "oaas-router")
        #expect(routers.remove("oaas-router"))
        #expect(routers.all.isEmpty)
    }

    @Test func grpcTimeoutParsing() {
        func timeout(_ raw: String) -> Duration? {
            RequestDeadline.timeout(in: crmMetadata(timeout: raw))
        }
        #expect(timeout("10S") == .seconds(10))
        #expect(timeout("250m") == .milliseconds(250))
        #expect(timeout("2M") == .seconds(120))
        #expect(timeout("1H") == .seconds(3600))
        #expect(timeout("500u") == .microseconds(500))
        #expect(timeout("bogus") == nil)
        #expect(timeout("10x") == nil)
    }
}
