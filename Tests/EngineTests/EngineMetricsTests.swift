import ArenaAdapters
import ArenaCore
import Foundation
import Testing

/// The engine's Prometheus metrics, and a backtest's, which records none (nothing serves them).
@Suite struct EngineMetricsTests {
    /// Every kind of record, once.
    static func recordEverything(_ metrics: EngineMetrics) {
        let record = AlertTests.record("t1", cycle: 1, id: "t1-1", outcome: .completed)
        metrics.recordLLMRequest(
            model: "m",
            outcome: "ok",
            latency: .milliseconds(120),
            promptTokens: 10,
            completionTokens: 5,
            costUSD: 0.01
        )
        metrics.recordCycle(record, duration: .milliseconds(3), venue: "paper")
        metrics.recordTrader(
            "t1",
            account: TraderAccount(cash: 100, positions: [:], realizedPnL: 0, feesPaid: 0),
            isHalted: false
        )
        metrics.recordNotification(channel: "telegram", outcome: "sent")
        metrics.recordMarketAge(provider: "replay", seconds: 2)
        metrics.recordJournal(queueDepth: 3, fullQueueWaits: 1)
        metrics.recordJournalBlocked(trader: "t1")
        metrics.recordJournalFlush(fsync: .milliseconds(1), lag: .milliseconds(2))
        metrics.recordPersistence(store: "postgres", operation: "insert", duration: .milliseconds(1), failed: false)
        metrics.recordPersistenceDropped(store: "redis")
        metrics.recordPersistenceBacklog(store: "postgres", records: 4, lagSeconds: 1)
        metrics.recordModelSwitch(reason: "failover")
        metrics.recordAlert(key: "kill_switch:t1")
    }

    @Test func aBacktestsMetrics_recordNothing_theEnginesRecordEverything() {
        let live = EngineMetrics()
        Self.recordEverything(live)
        let text = String(buffer: live.exposition())
        for name in [
            "engine_llm_requests", "engine_cycles", "engine_trader_equity", "engine_notifications",
            "engine_journal_queue_depth", "engine_persistence", "engine_llm_model_switches", "engine_alerts",
        ] {
            #expect(text.contains(name), "\(name) missing from:\n\(text)")
        }
        let backtest = EngineMetrics(isRecording: false)
        Self.recordEverything(backtest)
        #expect(backtest.exposition().readableBytes == 0)
    }
}
