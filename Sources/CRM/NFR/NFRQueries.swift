import Foundation

/// The four PromQL queries the analyzer runs per function (control-plane spec §12), chosen by the template the
/// function actually runs under (✗ ref: by the Knative feature flag).
public struct NFRQuerySet: Sendable, Equatable {
    public var rps: String
    /// Milliseconds.
    public var p99: String
    /// Millicores.
    public var cpu: String
    /// Bytes.
    public var memory: String

    public init(rps: String, p99: String, cpu: String, memory: String) {
        self.rps = rps
        self.p99 = p99
        self.cpu = cpu
        self.memory = memory
    }
}

/// Query templates with the placeholders `{namespace}`, `{name}` (the function child name) and `{pod_regex}`
/// (`<child>-.*`); `OPRC_CRM_PROM_Q_RPS`, `_Q_P99`, `_Q_CPU` and `_Q_MEM` replace them with the same placeholders.
public enum NFRQueries {
    // Knative: the activator's request metrics, labelled by the Knative Service (= configuration) name.
    static let knativeRPS =
        #"sum(rate(activator_request_count{namespace_name="{namespace}",configuration_name="{name}"}[1m]))"#
    static let knativeP99 =
        #"1000*max(histogram_quantile(0.99, sum(rate(activator_request_latencies_bucket{namespace_name="{namespace}",configuration_name="{name}"}[1m])) by (revision_name,le)))"#
    // Other templates: ODGM's runtime-call metrics, labelled `oaas_owner` = function child name (data-plane §11.2).
    static let invocationRPS = #"sum(rate(oaas_invocations_total{namespace="{namespace}",oaas_owner="{name}"}[1m]))"#
    static let invocationP99 =
        #"1000*histogram_quantile(0.99, sum(rate(oaas_invocation_duration_seconds_bucket{namespace="{namespace}",oaas_owner="{name}"}[5m])) by (le))"#
    // Every template: cAdvisor usage of the function's pods.
    static let cpu =
        #"1000*sum(rate(container_cpu_usage_seconds_total{namespace="{namespace}",pod=~"{pod_regex}",container!=""}[5m]))"#
    static let memory = #"sum(container_memory_working_set_bytes{namespace="{namespace}",pod=~"{pod_regex}",container!=""})"#

    /// The templates for `template` (a canonical template name), overrides (keys `rps`, `p99`, `cpu`, `mem`) first.
    public static func templates(template: String, overrides: [String: String] = [:]) -> NFRQuerySet {
        let knative = template == TemplateSelector.knative
        return NFRQuerySet(
            rps: overrides["rps"] ?? (knative ? knativeRPS : invocationRPS),
            p99: overrides["p99"] ?? (knative ? knativeP99 : invocationP99),
            cpu: overrides["cpu"] ?? cpu,
            memory: overrides["mem"] ?? memory)
    }

    /// The concrete queries for the function whose workload is `child` in `namespace`.
    public static func queries(template: String, namespace: String, child: String,
                               overrides: [String: String] = [:]) -> NFRQuerySet {
        let set = templates(template: template, overrides: overrides)
        func fill(_ text: String) -> String { substitute(text, namespace: namespace, name: child) }
        return NFRQuerySet(rps: fill(set.rps), p99: fill(set.p99), cpu: fill(set.cpu), memory: fill(set.memory))
    }

    /// Replaces the placeholders. Names are DNS labels, so they need no PromQL escaping and never contain a
    /// placeholder themselves.
    public static func substitute(_ template: String, namespace: String, name: String) -> String {
        template
            .replacingOccurrences(of: "{pod_regex}", with: "\(name)-.*")
            .replacingOccurrences(of: "{namespace}", with: namespace)
            .replacingOccurrences(of: "{name}", with: name)
    }
}
