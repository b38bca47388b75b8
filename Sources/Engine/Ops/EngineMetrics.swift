import NIOCore
import Prometheus

/// The engine's Prometheus metrics. Names follow STYLE.md (`engine_…` with the unit as suffix); label values are
/// bounded: configured model aliases, fixed outcome names, route reasons.
final class EngineMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private static func descriptor(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "engine", metricName: metric, unitName: unit, helpText: help)
    }

    /// One model call (or cache hit, or refusal) and what it cost.
    func recordLLMRequest(
        model: String,
        outcome: String,
        latency: Duration?,
        promptTokens: Int,
        completionTokens: Int,
        costUSD: Double
    ) {
        registry.makeCounter(
            descriptor: Self.descriptor("llm_requests", "total", "Model requests by model and outcome"),
            labels: [("model", model), ("outcome", outcome)]
        ).increment()
        if let latency {
            registry.makeDurationHistogram(
                descriptor: Self.descriptor("llm_request", "seconds", "Model request latency"),
                labels: [("model", model)],
                buckets: Self.latencyBuckets
            ).record(latency)
        }
        for (kind, tokens) in [("prompt", promptTokens), ("completion", completionTokens)] where tokens > 0 {
            registry.makeCounter(
                descriptor: Self.descriptor("llm_tokens", "total", "Tokens used by model and kind"),
                labels: [("model", model), ("kind", kind)]
            ).increment(by: Int64(tokens))
        }
        if costUSD > 0 {
            registry.makeCounter(
                descriptor: Self.descriptor("llm_cost_usd", "total", "Model spending in US dollars"),
                labels: [("model", model)]
            ).increment(by: costUSD)
        }
    }

    func recordModelSwitch(reason: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("llm_model_switches", "total", "Changes of the model in use, by reason"),
            labels: [("reason", reason)]
        ).increment()
    }

    func recordAlert(key: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("alerts", "total", "Alerts raised, by kind"),
            labels: [("alert", String(key.prefix { $0 != ":" }))]
        ).increment()
    }

    static let latencyBuckets: [Duration] = [
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
        .seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120),
    ]

    func exposition() -> ByteBuffer {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}
