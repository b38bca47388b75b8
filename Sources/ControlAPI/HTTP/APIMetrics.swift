import HTTPTypes
import NIOCore
import Prometheus
import Shared

/// The control-api's metrics. Every counter is created up front, so recording a request is one atomic add;
/// label values are the fixed route names and status codes, never anything from the request.
final class APIMetrics: Sendable {
    enum Route: Hashable, Sendable {
        case document(SnapshotDocument)
        case analyticsByModel, rebalances, promptVersions, health, openAPI, metrics, dashboard, notFound
        case methodNotAllowed

        var label: String {
            switch self {
            case .document(let document): document.rawValue
            case .analyticsByModel: "analytics_model"
            case .rebalances: "rebalances"
            case .promptVersions: "prompt_versions"
            case .health: "health"
            case .openAPI: "openapi"
            case .metrics: "metrics"
            case .dashboard: "dashboard"
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            }
        }

        static var all: [Route] {
            SnapshotDocument.allCases.map(Route.document) + [
                .analyticsByModel, .rebalances, .promptVersions, .health, .openAPI, .metrics, .dashboard, .notFound,
                .methodNotAllowed,
            ]
        }
    }

    let registry: PrometheusCollectorRegistry
    private let requests: [Route: Counter]
    private let errors: [Int: Counter]
    let generationLoads: Counter
    let generationLoadFailures: Counter
    let snapshotAge: Gauge
    let redisFailures: Counter
    /// Prepared documents answered on the event loop by `PreparedDocumentHandler` (counted in `requests` too).
    let fastPathAnswers: Counter

    static let errorStatuses = [400, 404, 405, 500, 503]

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var requests: [Route: Counter] = [:]
        for route in Route.all {
            requests[route] = registry.makeCounter(
                descriptor: Self.name("requests", "total", "Requests by route"),
                labels: [("route", route.label)]
            )
        }
        self.requests = requests
        var errors: [Int: Counter] = [:]
        for status in Self.errorStatuses {
            errors[status] = registry.makeCounter(
                descriptor: Self.name("error_responses", "total", "Error responses by status"),
                labels: [("status", String(status))]
            )
        }
        self.errors = errors
        generationLoads = registry.makeCounter(
            descriptor: Self.name("generation_loads", "total", "Snapshot generations loaded")
        )
        generationLoadFailures = registry.makeCounter(
            descriptor: Self.name(
                "generation_load_failures",
                "total",
                "Snapshot generations refused (a malformed document, or a file that is not a regular file within the size limit)"
            )
        )
        snapshotAge = registry.makeGauge(
            descriptor: Self.name("snapshot_age", "seconds", "Age of the generation being served")
        )
        redisFailures = registry.makeCounter(
            descriptor: Self.name("redis_failures", "total", "Redis reads that failed (the files were served)")
        )
        fastPathAnswers = registry.makeCounter(
            descriptor: Self.name(
                "fast_path_answers",
                "total",
                "Prepared documents answered on the event loop, without the router"
            )
        )
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "control_api", metricName: metric, unitName: unit, helpText: help)
    }

    func record(_ route: Route) {
        requests[route]?.increment()
    }

    func recordError(_ status: HTTPResponse.Status) {
        errors[status.code]?.increment()
    }

    func exposition() -> ByteBuffer {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}
