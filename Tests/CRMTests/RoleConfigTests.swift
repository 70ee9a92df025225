import Foundation
import Kube
import OaaSCore
import Testing

@testable import CRM

/// CRMConfig from the environment (control-plane spec §9.1).
@Suite("CRM configuration")
struct RoleConfigTests {
    private func read(_ values: [String: String], directory: String = "/nonexistent") -> (CRMConfig, EnvReader) {
        let env = EnvReader(values)
        return (CRMConfig(env: env, serviceAccountDirectory: directory), env)
    }

    @Test func defaultsFollowTheSpec() {
        let (config, env) = read(["POD_NAME": "crm-0"])
        #expect(env.errors.isEmpty)
        #expect(config.httpPort == 8088 && config.grpcPort == 8088)
        #expect(config.profile == .dev)
        #expect(config.namespace == "default" && config.envName == "default")
        #expect(config.podName == "crm-0")
        #expect(config.odgmEnabled && config.knativeEnabled)
        #expect(!config.hpaEnabled && !config.nfrEnforcementEnabled && !config.leaderElectionEnabled)
        #expect(config.enforcementCooldown == .seconds(120) && config.enforcementStability == .seconds(180))
        #expect(config.enforcementMaxReplicaDeltaPercent == 30)
        #expect(config.maxReplicas == 20 && config.requestCPUPerPodMillis == 500 && config.rpsPerReplica == 500)
        #expect(config.analyzerInterval == .seconds(60) && config.prometheusURL == nil)
        #expect(config.prometheusQueryTimeout == .seconds(5))
        #expect(config.prometheusRange == "10m" && config.prometheusStep == "30s")
        #expect(config.odgmImage == nil && config.odgmPVCSize == "1Gi" && !config.odgmRetainPVC)
        #expect(config.timings.progressDeadline == .seconds(600))
        #expect(config.timings.deleteTimeout == .seconds(300))
        #expect(config.timings.resync == .seconds(600))
        #expect(config.timings.kubeCallTimeout == .seconds(10))
        #expect(config.maxConcurrentReconciles == 4)
        #expect(config.clusterDomain == "cluster.local")
        #expect(config.leaseName == "oaas-crm-leader")
        #expect(config.timings.leaseDuration == .seconds(15) && config.timings.renewDeadline == .seconds(10)
            && config.timings.retryPeriod == .seconds(2))
        #expect(!config.envIsEdge && !config.envIsDatacenter)
        #expect(config.mockClusterAvailability == nil)
    }

    @Test func profilesSetFeatureDefaultsAndExplicitValuesWin() {
        for alias in ["full", "prod", "production", "cloud", "FULL"] {
            let (config, env) = read(["OPRC_CRM_PROFILE": alias])
            #expect(env.errors.isEmpty)
            #expect(config.profile == .full)
            #expect(config.hpaEnabled && config.nfrEnforcementEnabled && config.leaderElectionEnabled)
        }
        let (edge, _) = read(["OPRC_CRM_PROFILE": "edge"])
        #expect(edge.hpaEnabled && !edge.nfrEnforcementEnabled && !edge.leaderElectionEnabled)
        let (overridden, _) = read(["OPRC_CRM_PROFILE": "full", "OPRC_CRM_FEATURES_LEADER_ELECTION": "false",
                                    "OPRC_CRM_FEATURES_HPA": "0"])
        #expect(!overridden.leaderElectionEnabled && !overridden.hpaEnabled)
        #expect(overridden.renderContext().profile == "full")
    }

    @Test func namesPortsAndTemplatesAreRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crm-sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("oaas-7\n".utf8).write(to: directory.appendingPathComponent("namespace"))
        let (fromFile, _) = read([:], directory: directory.path)
        #expect(fromFile.namespace == "oaas-7" && fromFile.envName == "oaas-7")

        let (config, env) = read([
            "HTTP_PORT": "9000", "OPRC_CRM_GRPC_PORT": "9001", "OPRC_CRM_K8S_NAMESPACE": "oaas-1",
            "OPRC_CRM_ENV_NAME": "edge-1", "OAAS_IMAGE": "reg/oaas:1", "OPRC_CRM_TEMPLATES_ODGM_PULL_POLICY": "always",
            "OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV": "A=1,B=x=y", "OPRC_CRM_ODGM_PVC_SIZE": "5Gi",
            "OPRC_CRM_ODGM_STORAGE_CLASS": "fast", "OPRC_CRM_ODGM_RETAIN_PVC": "true",
            "OPRC_ENV_REGION": "eu west", "OPRC_ENV_ZONE": "a", "OPRC_ENV_IS_EDGE": "true",
            "OPRC_MOCK_CLUSTER_AVAILABILITY": "1.5", "OPRC_CRM_PROM_URL": "http://prom:9090",
            "OPRC_CRM_PROM_Q_RPS": "sum(x)", "OPRC_CRM_CLUSTER_DOMAIN": "k8s.internal",
        ], directory: directory.path)
        #expect(env.errors.isEmpty, "\(env.errors)")
        #expect(config.httpPort == 9000 && config.grpcPort == 9001)
        #expect(config.namespace == "oaas-1" && config.envName == "edge-1")
        #expect(config.odgmImage == "reg/oaas:1" && config.odgmPullPolicy == "Always")
        #expect(config.odgmExtraEnv.map(\.0) == ["A", "B"] && config.odgmExtraEnv.map(\.1) == ["1", "x=y"])
        #expect(config.mockClusterAvailability == 1)
        #expect(config.prometheusQueries == ["rps": "sum(x)"])
        #expect(config.environmentLabels["oaas.io/zone"] == "a")
        #expect(config.environmentLabels["oaas.io/region"]?.hasPrefix("eu-west") == true)

        let context = config.renderContext(registeredTemplates: ["dev", "edge", "cloud", "knative"],
                                           router: RouterEndpoint(service: "oaas-router", port: 17447))
        #expect(context.namespace == "oaas-1" && context.envName == "edge-1" && context.clusterDomain == "k8s.internal")
        #expect(context.envIsEdge && context.retainPVC && context.pvcSize == "5Gi" && context.storageClass == "fast")
        #expect(context.registeredTemplates.contains("knative"))
        #expect(context.routerURL == "http://oaas-router.oaas-1.svc.k8s.internal:17447")

        // The CRM's own variable wins over the shared HTTP_PORT.
        let (crmPort, _) = read(["HTTP_PORT": "8080", "OPRC_CRM_HTTP_PORT": "8099"])
        #expect(crmPort.httpPort == 8099 && crmPort.grpcPort == 8099)
        let (template, _) = read(["OAAS_IMAGE": "a", "OPRC_CRM_TEMPLATES_ODGM_IMAGE": "b"])
        #expect(template.odgmImage == "b")
    }

    @Test func badValuesAreReportedOnePerVariable() {
        let (config, env) = read([
            "OPRC_CRM_PROFILE": "huge", "OPRC_CRM_K8S_NAMESPACE": "Not_A_Namespace", "HTTP_PORT": "70000",
            "OPRC_CRM_FEATURES_HPA": "maybe", "OPRC_CRM_PROGRESS_DEADLINE_SECS": "-1",
            "OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV": "NOEQUALS,1BAD=x", "OPRC_CRM_ODGM_PVC_SIZE": "lots",
            "OPRC_CRM_PROM_URL": "prom:9090", "OPRC_CRM_PROM_RANGE": "10 minutes",
            "OPRC_MOCK_CLUSTER_AVAILABILITY": "high", "OPRC_CRM_TEMPLATES_ODGM_PULL_POLICY": "sometimes",
            "OPRC_CRM_MAX_CONCURRENT_RECONCILES": "0", "OPRC_CRM_CLUSTER_DOMAIN": "bad_domain",
        ])
        let variables = [
            "OPRC_CRM_PROFILE", "OPRC_CRM_K8S_NAMESPACE", "HTTP_PORT", "OPRC_CRM_FEATURES_HPA",
            "OPRC_CRM_PROGRESS_DEADLINE_SECS", "OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV", "OPRC_CRM_ODGM_PVC_SIZE",
            "OPRC_CRM_PROM_URL", "OPRC_CRM_PROM_RANGE", "OPRC_MOCK_CLUSTER_AVAILABILITY",
            "OPRC_CRM_TEMPLATES_ODGM_PULL_POLICY", "OPRC_CRM_MAX_CONCURRENT_RECONCILES", "OPRC_CRM_CLUSTER_DOMAIN",
        ]
        for variable in variables {
            #expect(env.errors.contains { $0.hasPrefix(variable + ":") }, "no problem reported for \(variable): \(env.errors)")
        }
        // Defaults are kept, so nothing downstream sees a bad value.
        #expect(config.profile == .dev && config.namespace == "default" && config.httpPort == 8088)
        #expect(config.timings.progressDeadline == .seconds(600))
        #expect(throws: ConfigurationError.self) { try env.validate() }
    }

    @Test func leaseTimingsMustNest() {
        let (_, env) = read(["OPRC_CRM_LEASE_DURATION_SECS": "5", "OPRC_CRM_RENEW_DEADLINE_SECS": "10"])
        #expect(env.errors.contains { $0.hasPrefix("OPRC_CRM_RENEW_DEADLINE_SECS:") })
    }

    @Test func ignoredVariablesWarn() {
        let (config, env) = read(["OPRC_CRM_FEATURES_FSM": "true", "OPRC_CRM_SECURITY_MTLS": "true"])
        #expect(env.errors.isEmpty)
        #expect(config.warnings.count == 2)
    }

    @Test func aMissingKubeconfigIsAConfigurationError() async throws {
        let config = CRMHarness.config()
        #expect(throws: ConfigurationError.self) {
            _ = try CRMRole.makeClient(config: config, environment: ["KUBECONFIG": "/nonexistent/kubeconfig"],
                                       logger: CRMHarness.quietLogger())
        }
    }
}
