import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import Shared

/// Trader health: a trader that keeps failing closed is paused (alerted) until an operator resumes it or the engine
/// restarts; stale market data, a venue failing its orders and a position without a stop raise alerts. The
/// counts and pauses live in the manager's store; this type decides.
package struct TraderHealth: Sendable {
    let store: ManagerStore
    /// Every trader's configuration by id.
    let configurations: [String: TraderConfiguration]
    /// Where operator alerts go.
    let alerts: (any AlertSink)?
    let logger: Logger

    /// Consecutive failed-closed cycles of a trader that pause it.
    static let failureAlertAfter = 3

    /// Where `engine resume TRADER` leaves its requests: `<state directory>/resume/<trader>`.
    package static func resumeDirectory(statePath: String) -> String {
        ((statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("resume")
    }

    /// Picks up resume requests for paused traders.
    func handleResumeRequests() async {
        guard let statePath = store.path else { return }
        let directory = Self.resumeDirectory(statePath: statePath)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory), !names.isEmpty else {
            return
        }
        for name in names {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            if store.resume(name) {
                logger.notice("trader resumed by an operator", metadata: ["trader": "\(name)"])
            }
        }
    }

    /// Reviews a finished cycle: a trader that failed closed `failureAlertAfter` cycles in a row, or more than
    /// 10 % of its last cycles (at least 20), is paused until `engine resume` or a restart, and an alert says
    /// so; a position left without a stop raises an alert too.
    func review(_ record: CycleRecord, trader: String) async {
        let state = store.state(trader)
        let failed = record.outcome == .failedClosed
        let (rate, count) = store.recordOutcome(trader, failed: failed)
        var why: String?
        if failed, state.consecutiveFailures >= Self.failureAlertAfter {
            why = "failed closed \(state.consecutiveFailures) cycles in a row"
        } else if failed, count >= 20, rate > 0.10 {
            why = String(format: "failed closed %.0f %% of its last %d cycles", rate * 100, count)
        }
        if let why {
            let detail = "\(why) (last: \(record.reason?.rawValue ?? "?"): \(record.error ?? ""))"
            if store.suspend(trader, reason: detail) {
                logger.error("trader paused", metadata: ["trader": "\(trader)", "why": "\(detail)"])
                await alerts?.raise(
                    key: "trader_failing:\(trader)",
                    message: "trader \(trader) \(detail); paused until `engine resume \(trader)` or a restart"
                )
            }
        }
        let configuration = configurations[trader]
        // Venue errors: orders the venue refused for its own reasons (not risk, not margin), and cycles whose
        // orders met an error, over the venue's last 100 orders.
        if let venue = configuration?.exchangeProvider, !record.orders.isEmpty {
            var failures = record.results.map { $0.status == .rejected && $0.reason == .exchangeError }
            if record.error != nil, record.outcome == .completed { failures.append(true) }
            let (rate, count) = store.recordOrders(venue: venue, failures: failures)
            if count >= 20, rate > 0.05 {
                await alerts?.raise(
                    key: "exchange_errors:\(venue)",
                    message: String(format: "venue %@: %.0f %% of the last %d orders failed", venue, rate * 100, count)
                )
            }
        }
        guard let alerts else { return }
        if record.reason == .staleMarketData, let market = configuration?.marketProvider {
            await alerts.raise(
                key: "market_stale:\(market)",
                message: "market data from \(market) is stale or missing for \(trader): \(record.error ?? "")"
            )
        }
        if let unprotected = record.inputs?.unprotectedSymbols, !unprotected.isEmpty {
            await alerts.raise(
                key: "stop_missing:\(trader)",
                message:
                    "trader \(trader) holds positions without a stop (\(unprotected.joined(separator: ", "))); entries refused"
            )
        }
    }
}
