/// OTEL env for functions and ODGM when the unit enables telemetry (control-plane spec §11.3; standard OTel SDK
/// variables). The exporter endpoint comes from the CRM's configuration, the rest from `spec.telemetry`.
enum TelemetryEnv {
    static func entries(_ telemetry: ClassRuntimeSpec.Telemetry?, serviceName: String, context: RenderContext)
        -> [(String, String)]
    {
        guard let telemetry, telemetry.isEnabled else { return [] }
        var env: [(String, String)] = []
        if let endpoint = context.otelEndpoint, !endpoint.isEmpty {
            env.append(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint))
        }
        env.append(("OTEL_SERVICE_NAME", serviceName))
        if telemetry.traces == false {
            env.append(("OTEL_TRACES_SAMPLER", "always_off"))
        } else if let rate = telemetry.samplingRate {
            env.append(("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"))
            env.append(("OTEL_TRACES_SAMPLER_ARG", String(rate)))
        }
        if telemetry.metrics == false { env.append(("OTEL_METRICS_EXPORTER", "none")) }
        if telemetry.logs == false { env.append(("OTEL_LOGS_EXPORTER", "none")) }
        if !telemetry.resourceAttributes.isEmpty {
            let attributes = telemetry.resourceAttributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            env.append(("OTEL_RESOURCE_ATTRIBUTES", attributes.joined(separator: ",")))
        }
        return env
    }
}
