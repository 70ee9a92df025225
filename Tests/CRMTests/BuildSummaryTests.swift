import Foundation
import OaaSProto
import Testing

@testable import CRM

@Suite("CRM build: §8.3 read mappings")
struct BuildSummaryTests {
    static func runtime(phase: ClassRuntimePhase?, conditions: [ClassRuntimeCondition] = [],
                        deleting: Bool = false, noStatus: Bool = false) throws -> ClassRuntime {
        var cr = try RenderFixtures.classRuntime()
        if !noStatus {
            cr.status = ClassRuntimeStatus(phase: phase, message: "msg", lastUpdated: "2024-05-01T12:00:00Z",
                                           conditions: conditions)
        }
        if deleting { cr.deletionTimestamp = Date(timeIntervalSince1970: 1_800_000_000) }
        return cr
    }

    static let degradedCondition = ClassRuntimeCondition(type: "Degraded", status: "True", reason: "CrashLoop",
                                                         message: "fn-cart-total restarting")

    @Test("summary string, condition and phase per state", arguments: [
        ("available", "Available", Oaas_Runtime_DeploymentCondition.running, Oaas_Runtime_DeploymentPhase.phaseRunning),
        ("progressing", "Progressing", .deploying, .resourceProvisioning),
        ("applying", "Progressing", .deploying, .resourceProvisioning),
        ("degraded", "Degraded (CrashLoop): fn-cart-total restarting", .down, .failed),
        ("deleting", "Deleting", .deleted, .resourceProvisioning),
        ("pending", "Pending", .pending, .resourceProvisioning),
        ("no status", "Pending", .pending, .resourceProvisioning),
        ("deletionTimestamp", "Deleting", .deleted, .resourceProvisioning),
        ("foreign phase", "Unknown", .unknown, .unknown),
        ("foreign phase, Available condition", "Available", .running, .phaseRunning),
    ])
    func mapping(state: String, summary: String, condition: Oaas_Runtime_DeploymentCondition,
                 phase: Oaas_Runtime_DeploymentPhase) throws {
        let cr: ClassRuntime = switch state {
        case "no status": try Self.runtime(phase: nil, noStatus: true)
        case "deletionTimestamp": try Self.runtime(phase: .available, deleting: true)
        case "foreign phase": try Self.runtime(phase: nil)
        case "foreign phase, Available condition":
            try Self.runtime(phase: nil, conditions: [.init(type: "Available", status: "True")])
        case "degraded": try Self.runtime(phase: .degraded, conditions: [Self.degradedCondition])
        default: try Self.runtime(phase: ClassRuntimePhase(rawValue: state))
        }
        #expect(ClassRuntimeSummaries.summaryString(cr) == summary)
        let status = ClassRuntimeSummaries.runtimeStatus(cr)
        #expect(status.condition == condition)
        #expect(status.phase == phase)
        #expect(status.message == summary)
    }

    @Test("summary fields: ids, class key unqualified, env fallback, times, refs, compliance, partitions")
    func summaryFields() throws {
        var cr = try Self.runtime(phase: .available)
        cr.status?.resourceRefs = [.init(kind: "Deployment", name: "d", uid: "u-1"), .init(kind: "Service", name: "s")]
        cr.status?.functions = [FunctionStatusEntry(functionKey: "Cart.total", service: "svc", port: 80,
                                                    predictedUrl: "http://svc/", template: "cloud", ready: true)]
        cr.status?.nfrCompliance = .init(overallStatus: "AtRisk", latencyStatus: "AtRisk", lastChecked: "t")
        let summary = ClassRuntimeSummaries.summary(cr, envName: "crm-env")
        #expect(summary.id == RenderFixtures.unitId)
        #expect(summary.deploymentUnitID == RenderFixtures.unitId)
        #expect(summary.packageName == "shop")
        #expect(summary.classKey == "Cart")
        #expect(summary.targetEnvironment == "oaas-1")
        #expect(!summary.hasClusterName)
        #expect(summary.createdAt == "2023-11-14T22:13:20Z")
        #expect(summary.updatedAt == "2024-05-01T12:00:00Z")
        #expect(summary.partitionCount == 4)
        #expect(summary.status.functions.first?.predictedURL == "http://svc/")
        #expect(summary.status.functions.first?.ready == true)
        #expect(summary.nfrCompliance.overallStatus == "AtRisk")
        #expect(!summary.nfrCompliance.hasThroughputStatus)
        #expect(summary.resourceRefs.map { "\($0.kind)/\($0.name)/\($0.namespace)/\($0.uid)" }
            == ["Deployment/d/oaas-1/u-1", "Service/s/oaas-1/"])
        #expect(!summary.resourceRefs[1].hasUid)

        cr.spec.targetEnv = nil
        cr.spec.odgmConfig = nil
        cr.spec.packageName = nil
        cr.spec.classKey = nil
        let fallback = ClassRuntimeSummaries.summary(cr, envName: "crm-env")
        #expect(fallback.targetEnvironment == "crm-env")
        #expect(fallback.partitionCount == 1)
        #expect(fallback.packageName == "shop")
        #expect(fallback.classKey == "Cart")
    }

    @Test("list filters: package, class (qualified or not), env, status in both vocabularies")
    func filters() throws {
        let cr = try Self.runtime(phase: .degraded, conditions: [Self.degradedCondition])
        func request(_ build: (inout Oaas_Deployment_ListClassRuntimesRequest) -> Void)
            -> Oaas_Deployment_ListClassRuntimesRequest
        {
            var request = Oaas_Deployment_ListClassRuntimesRequest()
            build(&request)
            return request
        }
        let matching: [Oaas_Deployment_ListClassRuntimesRequest] = [
            request { _ in },
            request { $0.packageName = "shop" },
            request { $0.classKey = "Cart" },
            request { $0.classKey = "shop.Cart" },
            request { $0.targetEnv = "oaas-1" },
            request { $0.targetEnv = "crm-env" },
            request { $0.status = "degraded" },
            request { $0.status = "DOWN" },
            request { $0.status = "" },
            request { $0.packageName = "shop"; $0.classKey = "Cart"; $0.status = "Down" },
        ]
        for item in matching { #expect(ClassRuntimeSummaries.matches(cr, item, envName: "crm-env"), "\(item)") }
        let failing: [Oaas_Deployment_ListClassRuntimesRequest] = [
            request { $0.packageName = "other" },
            request { $0.classKey = "Basket" },
            request { $0.classKey = "other.Cart" },
            request { $0.targetEnv = "oaas-2" },
            request { $0.status = "Available" },
            request { $0.status = "RUNNING" },
            request { $0.packageName = "shop"; $0.status = "Pending" },
        ]
        for item in failing { #expect(!ClassRuntimeSummaries.matches(cr, item, envName: "crm-env"), "\(item)") }
    }

    @Test("list sorts by name, then applies offset and limit")
    func paging() throws {
        let base = try RenderFixtures.classRuntime()
        let crs = ["c", "a", "d", "b"].map { name -> ClassRuntime in
            var cr = base
            cr.name = name
            cr.labels[CRMKeys.deploymentId] = name
            return cr
        }
        var request = Oaas_Deployment_ListClassRuntimesRequest()
        #expect(ClassRuntimeSummaries.list(crs, request, envName: "e").map(\.id) == ["a", "b", "c", "d"])
        request.offset = 1
        request.limit = 2
        #expect(ClassRuntimeSummaries.list(crs, request, envName: "e").map(\.id) == ["b", "c"])
        request.limit = 0
        #expect(ClassRuntimeSummaries.list(crs, request, envName: "e").map(\.id) == ["b", "c", "d"])
    }
}
