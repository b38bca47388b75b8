/// `manager.yaml`: the capital, the traders and how they are monitored.
package struct ManagerConfiguration: Sendable {
    package enum AllocationStrategy: String, Sendable, CaseIterable {
        case `static`
        case performanceBased = "performance_based"
    }

    package struct Monitoring: Sendable {
        package let updateInterval: Duration
        package let alertWebhook: String?
        package let metricsHost: String
        package let metricsPort: Int
    }

    /// The bounds of `performance_based` rebalancing, percent of `total_equity_usd`.
    package struct RebalanceBounds: Sendable, Equatable {
        /// No trader is brought below this share (unless its own losses took it there).
        package var minAllocationPct: Double = 5
        /// No trader is brought above this share.
        package var maxAllocationPct: Double = 50
        /// No trader's capital moves by more than this share in one rebalance.
        package var maxStepPct: Double = 10

        package init(minAllocationPct: Double = 5, maxAllocationPct: Double = 50, maxStepPct: Double = 10) {
            self.minAllocationPct = minAllocationPct
            self.maxAllocationPct = maxAllocationPct
            self.maxStepPct = maxStepPct
        }
    }

    package let totalEquityUSD: Double
    package let reserveEquityPct: Double
    package var allocationStrategy: AllocationStrategy
    package var rebalanceInterval: Duration
    package var rebalanceBounds = RebalanceBounds()
    package var statePath: String
    package let maxConcurrentDecisions: Int
    /// How long in-flight cycles may run on after SIGTERM/SIGINT before they are cancelled (a second signal
    /// cancels them at once).
    package var shutdownGrace: Duration = .seconds(30)
    package let monitoring: Monitoring
    package var traders: [TraderConfiguration]

    static func read(from reader: MappingReader) -> ManagerConfiguration {
        let manager = reader.mapping("manager", required: true)
        let totalEquity = manager?.double("total_equity_usd", required: true, exclusiveMinimum: 0) ?? 0
        let reserve = manager?.double("reserve_equity_pct", default: 0, range: 0...100) ?? 0
        let strategy = manager?.choice("allocation_strategy", default: AllocationStrategy.static) ?? .static
        let rebalance = manager?.duration("rebalance_interval", default: .seconds(3600), minimum: .seconds(60))
        let statePath = manager?.string("state_path", default: "state/manager.json") ?? "state/manager.json"
        let concurrency = manager?.int("max_concurrent_decisions", default: 4, range: 1...256) ?? 4
        let grace = manager?.duration("shutdown_grace", default: .seconds(30), minimum: .zero) ?? .seconds(30)
        let bounds = RebalanceBounds(
            minAllocationPct: manager?.double("min_allocation_pct", default: 5, range: 0...100) ?? 5,
            maxAllocationPct: manager?.double("max_allocation_pct", default: 50, range: 0...100) ?? 50,
            maxStepPct: manager?.double("max_rebalance_step_pct", default: 10, range: 0...100) ?? 10
        )
        manager?.finish()

        let monitoringSection = reader.mapping("monitoring")
        let monitoring = Monitoring(
            updateInterval: monitoringSection?.duration("update_interval", default: .seconds(15), minimum: .seconds(1))
                ?? .seconds(15),
            alertWebhook: monitoringSection?.string("alert_webhook").flatMap { $0.isEmpty ? nil : $0 },
            metricsHost: monitoringSection?.string("metrics_host", default: "127.0.0.1") ?? "127.0.0.1",
            metricsPort: monitoringSection?.int("metrics_port", default: 9464, range: 0...65535) ?? 9464
        )
        monitoringSection?.finish()

        let traders = reader.sequenceOfMappings("traders", required: true).compactMap(TraderConfiguration.read)
        reader.finish()
        return ManagerConfiguration(
            totalEquityUSD: totalEquity,
            reserveEquityPct: reserve,
            allocationStrategy: strategy,
            rebalanceInterval: rebalance ?? .seconds(3600),
            rebalanceBounds: bounds,
            statePath: statePath,
            maxConcurrentDecisions: concurrency,
            shutdownGrace: grace,
            monitoring: monitoring,
            traders: traders
        )
    }
}
