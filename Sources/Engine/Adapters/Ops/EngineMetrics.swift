import ArenaCore
import NIOCore
import Prometheus
import Synchronization

/// The engine's Prometheus metrics. Names follow docs/ARCHITECTURE.md ("Conventions") (`engine_…` with the unit as suffix); label values are
/// bounded: configured model aliases, fixed outcome names, route reasons.
package final class EngineMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// Metric handles by name and label values: the registry builds a name and takes its lock on every
    /// `make…` call, which cost several percent of a backtest when done per cycle.
    private let handles = Mutex<[String: AnyObject]>([:])
    /// The handles every cycle or tick records (its outcome, rejections, model request, market age, journal
    /// queue, the trader's gauges), by typed key: building `handle`'s text key for them was 7 % of a backtest's
    /// trading loop.
    private let cycleHandles = Mutex(CycleHandles())

    /// The handle under `key` in `table`, made and kept on first use.
    private static func memo<Key: Hashable, Metric>(
        _ table: inout [Key: Metric],
        _ key: Key,
        _ make: () -> Metric
    ) -> Metric {
        if let hit = table[key] { return hit }
        let made = make()
        table[key] = made
        return made
    }

    /// The handle in `slot`, made and kept on first use.
    private static func memo<Metric>(_ slot: inout Metric?, _ make: () -> Metric) -> Metric {
        if let hit = slot { return hit }
        let made = make()
        slot = made
        return made
    }

    private struct CycleHandles: Sendable {
        struct Outcome: Hashable {
            let outcome: CycleRecord.Outcome
            let reason: ReasonCode?
        }

        struct Request: Hashable {
            let model: String
            let outcome: String
        }

        var decision: DurationHistogram?
        var cycles: [Outcome: Counter] = [:]
        var rejections: [ReasonCode: Counter] = [:]
        var requests: [Request: Counter] = [:]
        var latency: [String: DurationHistogram] = [:]
        var marketAge: [String: Gauge] = [:]
        var journalDepth: Gauge?
        var journalWaits: Gauge?
        var traders: [String: TraderGauges] = [:]
    }

    private struct TraderGauges: Sendable {
        var equity: Gauge
        var exposure: Gauge
        var halted: Gauge
        var paused: Gauge
    }

    /// False where nothing serves the metrics (a backtest: `engine backtest` starts no `/metrics` endpoint): every
    /// `record…` returns at once — they were 3 % of a backtest's trading loop — and the registry stays empty.
    package let isRecording: Bool

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), isRecording: Bool = true) {
        self.registry = registry
        self.isRecording = isRecording
    }

    private func handle<Metric: AnyObject>(
        _ descriptor: MetricNameDescriptor,
        _ labels: [(String, String)],
        make: () -> Metric
    ) -> Metric {
        var key = descriptor.metricName
        key += "\u{1F}"
        key += descriptor.unitName ?? ""
        for (name, value) in labels {
            key += "\u{1F}"
            key += name
            key += "="
            key += value
        }
        return handles.withLock { table in
            if let hit = table[key] as? Metric { return hit }
            let made = make()
            table[key] = made
            return made
        }
    }

    private func gauge(descriptor: MetricNameDescriptor, labels: [(String, String)] = []) -> Gauge {
        handle(descriptor, labels) { registry.makeGauge(descriptor: descriptor, labels: labels) }
    }

    private func counter(descriptor: MetricNameDescriptor, labels: [(String, String)] = []) -> Counter {
        handle(descriptor, labels) { registry.makeCounter(descriptor: descriptor, labels: labels) }
    }

    private func histogram(
        descriptor: MetricNameDescriptor,
        labels: [(String, String)] = [],
        buckets: [Duration]
    ) -> DurationHistogram {
        handle(descriptor, labels) {
            registry.makeDurationHistogram(descriptor: descriptor, labels: labels, buckets: buckets)
        }
    }

    private static func descriptor(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "engine", metricName: metric, unitName: unit, helpText: help)
    }

    /// One model call (or cache hit, or refusal) and what it cost.
    package func recordLLMRequest(
        model: String,
        outcome: String,
        latency: Duration?,
        promptTokens: Int,
        completionTokens: Int,
        costUSD: Double
    ) {
        guard isRecording else { return }
        cycleHandles.withLock { cached in
            let key = CycleHandles.Request(model: model, outcome: outcome)
            let requests = Self.memo(&cached.requests, key) {
                counter(
                    descriptor: Self.descriptor("llm_requests", "total", "Model requests by model and outcome"),
                    labels: [("model", model), ("outcome", outcome)]
                )
            }
            requests.increment()
            guard let latency else { return }
            let latencies = Self.memo(&cached.latency, model) {
                histogram(
                    descriptor: Self.descriptor("llm_request", "seconds", "Model request latency"),
                    labels: [("model", model)],
                    buckets: Self.latencyBuckets
                )
            }
            latencies.record(latency)
        }
        for (kind, tokens) in [("prompt", promptTokens), ("completion", completionTokens)] where tokens > 0 {
            counter(
                descriptor: Self.descriptor("llm_tokens", "total", "Tokens used by model and kind"),
                labels: [("model", model), ("kind", kind)]
            ).increment(by: Int64(tokens))
        }
        if costUSD > 0 {
            counter(
                descriptor: Self.descriptor("llm_cost_usd", "total", "Model spending in US dollars"),
                labels: [("model", model)]
            ).increment(by: costUSD)
        }
    }

    /// One decision cycle: its wall time, outcome, risk rejections by reason, orders and venue errors.
    package func recordCycle(_ record: CycleRecord, duration: Duration, venue: String) {
        guard isRecording else { return }
        cycleHandles.withLock { cached in
            let decision = Self.memo(&cached.decision) {
                histogram(
                    descriptor: Self.descriptor("decision", "seconds", "Decision cycle wall time"),
                    labels: [],
                    buckets: Self.latencyBuckets
                )
            }
            decision.record(duration)
            let key = CycleHandles.Outcome(outcome: record.outcome, reason: record.reason)
            let cycles = Self.memo(&cached.cycles, key) {
                counter(
                    descriptor: Self.descriptor("cycles", "total", "Decision cycles by outcome and reason"),
                    labels: [("outcome", record.outcome.rawValue), ("reason", record.reason?.rawValue ?? "none")]
                )
            }
            cycles.increment()
            for verdict in record.verdicts where !verdict.isAccepted {
                for reason in verdict.reasons {
                    let rejections = Self.memo(&cached.rejections, reason) {
                        counter(
                            descriptor: Self.descriptor(
                                "risk_rejections",
                                "total",
                                "Decisions rejected by risk, by reason"
                            ),
                            labels: [("reason", reason.rawValue)]
                        )
                    }
                    rejections.increment()
                }
            }
        }
        for result in record.results {
            counter(
                descriptor: Self.descriptor("orders", "total", "Orders sent, by venue and status"),
                labels: [("venue", venue), ("status", result.status.rawValue)]
            ).increment()
        }
        if record.error != nil, record.outcome == .completed {
            counter(
                descriptor: Self.descriptor("exchange_errors", "total", "Venue errors during a cycle, by venue"),
                labels: [("venue", venue)]
            ).increment()
        }
    }

    /// A trader's equity, exposure and state after a tick.
    package func recordTrader(_ id: String, account: TraderAccount, isHalted: Bool, isPaused: Bool = false) {
        guard isRecording else { return }
        let gauges = traderGauges(id)
        gauges.equity.set(account.equity)
        gauges.exposure.set(account.orderedPositions.reduce(0) { $0 + $1.notional })
        gauges.halted.set(isHalted ? 1.0 : 0.0)
        gauges.paused.set(isPaused ? 1.0 : 0.0)
    }

    /// A trader's three gauges, looked up once per tick by its id alone (every tick records every trader: in a
    /// backtest, every candle).
    private func traderGauges(_ id: String) -> TraderGauges {
        cycleHandles.withLock { cached in
            Self.memo(&cached.traders, id) {
                TraderGauges(
                    equity: gauge(
                        descriptor: Self.descriptor("trader_equity", "usd", "Trader equity"),
                        labels: [("trader", id)]
                    ),
                    exposure: gauge(
                        descriptor: Self.descriptor(
                            "trader_exposure",
                            "usd",
                            "Notional of the trader's open positions"
                        ),
                        labels: [("trader", id)]
                    ),
                    halted: gauge(
                        descriptor: Self.descriptor(
                            "trader_halted",
                            "",
                            "1 while a kill switch stops the trader's entries"
                        ),
                        labels: [("trader", id)]
                    ),
                    paused: gauge(
                        descriptor: Self.descriptor(
                            "trader_paused",
                            "",
                            "1 while the trader's entries are paused (Sharpe breach, engine pause, engine halt-entries)"
                        ),
                        labels: [("trader", id)]
                    )
                )
            }
        }
    }

    /// A notification's fate, by channel (`delivered`, `failed`, `dropped`).
    package func recordNotification(channel: String, outcome: String) {
        guard isRecording else { return }
        counter(
            descriptor: Self.descriptor("notifications", "total", "Notifications by channel and outcome"),
            labels: [("channel", channel), ("outcome", outcome)]
        ).increment()
    }

    /// Age of the market data a cycle used, by market provider.
    package func recordMarketAge(provider: String, seconds: Double) {
        guard isRecording else { return }
        cycleHandles.withLock { cached in
            let age = Self.memo(&cached.marketAge, provider) {
                gauge(
                    descriptor: Self.descriptor(
                        "market_data_age",
                        "seconds",
                        "Age of the oldest value in the last snapshot"
                    ),
                    labels: [("provider", provider)]
                )
            }
            age.set(seconds)
        }
    }

    package func recordJournal(queueDepth: Int, fullQueueWaits: Int) {
        guard isRecording else { return }
        cycleHandles.withLock { cached in
            Self.memo(&cached.journalDepth) {
                gauge(
                    descriptor: Self.descriptor("journal_queue_depth", "records", "Cycle records waiting for the disk")
                )
            }.set(Double(queueDepth))
            Self.memo(&cached.journalWaits) {
                gauge(
                    descriptor: Self.descriptor(
                        "journal_full_queue_waits",
                        "total",
                        "Times the loop waited for a full queue"
                    )
                )
            }.set(Double(fullQueueWaits))
        }
    }

    /// A trader's cycle not started because records of its earlier cycles are not durable yet (a failing disk).
    package func recordJournalBlocked(trader: String) {
        guard isRecording else { return }
        counter(
            descriptor: Self.descriptor(
                "journal_blocked_cycles",
                "total",
                "Cycles not started while the journal could not be written"
            ),
            labels: [("trader", trader)]
        ).increment()
    }

    /// A journal batch made durable: the time its fsyncs took, and how long its oldest record waited from the
    /// append until it was on disk (the journal's lag).
    package func recordJournalFlush(fsync: Duration, lag: Duration) {
        guard isRecording else { return }
        histogram(
            descriptor: Self.descriptor("journal_fsync", "seconds", "Time to fsync one journal batch"),
            buckets: Self.storeBuckets
        ).record(fsync)
        histogram(
            descriptor: Self.descriptor("journal_lag", "seconds", "From append to durable, oldest record of a batch"),
            buckets: Self.latencyBuckets
        ).record(lag)
    }

    /// One round trip to PostgreSQL or Redis, by store and operation (a fixed set of names).
    package func recordPersistence(store: String, operation: String, duration: Duration, failed: Bool) {
        guard isRecording else { return }
        histogram(
            descriptor: Self.descriptor("persistence_round_trip", "seconds", "PostgreSQL and Redis round trips"),
            labels: [("store", store), ("operation", operation)],
            buckets: Self.storeBuckets
        ).record(duration)
        if failed {
            counter(
                descriptor: Self.descriptor("persistence_failures", "total", "Failed PostgreSQL and Redis operations"),
                labels: [("store", store), ("operation", operation)]
            ).increment()
        }
    }

    /// Cycles not taken by a full persistence queue (they are read back from the journal later).
    package func recordPersistenceDropped(store: String) {
        guard isRecording else { return }
        counter(
            descriptor: Self.descriptor("persistence_queue_overflows", "total", "Cycles left to journal catch-up"),
            labels: [("store", store)]
        ).increment()
    }

    /// Cycles waiting for a store and how long it has been behind (0 when current).
    package func recordPersistenceBacklog(store: String, records: Int, lagSeconds: Double) {
        guard isRecording else { return }
        gauge(
            descriptor: Self.descriptor("persistence_backlog", "records", "Cycles waiting to be written"),
            labels: [("store", store)]
        ).set(Double(records))
        gauge(
            descriptor: Self.descriptor("persistence_lag", "seconds", "Time since the store last took a write"),
            labels: [("store", store)]
        ).set(lagSeconds)
    }

    package static let storeBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    package func recordModelSwitch(reason: String) {
        guard isRecording else { return }
        counter(
            descriptor: Self.descriptor("llm_model_switches", "total", "Changes of the model in use, by reason"),
            labels: [("reason", reason)]
        ).increment()
    }

    package func recordAlert(key: String) {
        guard isRecording else { return }
        counter(
            descriptor: Self.descriptor("alerts", "total", "Alerts raised, by kind"),
            labels: [("alert", String(key.prefix { $0 != ":" }))]
        ).increment()
    }

    package static let latencyBuckets: [Duration] = [
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
        .seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120),
    ]

    package func exposition() -> ByteBuffer {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}
