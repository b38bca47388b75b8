import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Shared

/// `engine status`: one line per trader from the latest published generation and the state files — status,
/// equity, open positions, last cycle and its outcome, the model in use, the model spend of the budget's day —
/// and why a trader is paused or halted. Reads files only: works beside a running engine and after it stopped.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print each trader's status from the latest snapshot and the state files."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        let state = try? JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: URL(fileURLWithPath: configuration.manager.statePath))
        )
        let ledger = try? JSONDecoder().decode(
            BudgetGuard.Ledger.self,
            from: Data(contentsOf: URL(fileURLWithPath: configuration.llm.budget.statePath))
        )
        print(Self.report(configuration: configuration, state: state, ledger: ledger, now: UTCTime.nowMilliseconds()))
    }

    /// The text `engine status` prints.
    static func report(
        configuration: ArenaConfiguration,
        state: ManagerState?,
        ledger: BudgetGuard.Ledger?,
        now: Int64
    ) -> String {
        let decoder = SnapshotCoding.makeDecoder()
        let generation = SnapshotReader(root: configuration.dataPath).resolve()
        func read<T: Decodable>(_ name: String, _ type: T.Type) -> T? {
            guard let generation else { return nil }
            let path = (generation.directory as NSString).appendingPathComponent(name)
            return FileManager.default.contents(atPath: path).flatMap { try? decoder.decode(T.self, from: $0) }
        }
        var lines: [String] = []
        let board = read(SnapshotDocument.leaderboard.fileName, LeaderboardDocument.self)
        let positions = read(SnapshotDocument.positions.fileName, PositionsDocument.self)
        if let generation {
            let age = max(0, Double(now) / 1000 - generation.publishedAt.timeIntervalSince1970)
            lines.append(
                "generation \(generation.id) in \(configuration.dataPath), published \(Self.age(age)) ago"
                    + (age > configuration.api.staleAfter.secondsValue ? " (stale: is the engine running?)" : "")
            )
        } else {
            lines.append("no snapshot published yet in \(configuration.dataPath): the engine has not run (or not yet)")
        }
        let day = ledger.map { " (\($0.day))" } ?? ""
        var rows = [["trader", "status", "equity", "positions", "last cycle", "outcome", "model", "spend\(day)"]]
        var notes: [String] = []
        for trader in configuration.manager.traders {
            let entry = board?.leaderboard.first { $0.id == trader.id }
            let traderState = state?.traders[trader.id]
            let held = positions?.accountTotals.first { $0.modelID == trader.id }?.positions.keys.sorted() ?? []
            let status = trader.isEnabled ? (entry?.status ?? (entry == nil ? "–" : "active")) : "disabled"
            let lastCycle = traderState?.lastDecisionAt.map {
                "#\(traderState?.cycle ?? 0) \(UTCTime.iso8601($0))"
            }
            rows.append([
                trader.id, status, entry.map { String(format: "%.2f", $0.equity) } ?? "–",
                held.isEmpty ? "0" : "\(held.count) (\(held.joined(separator: ", ")))", lastCycle ?? "–",
                traderState?.lastOutcome ?? entry?.lastOutcome ?? "–",
                entry?.modelInUse ?? traderState?.lastModel ?? trader.model,
                String(format: "%.4f", ledger?.traders[trader.id]?.usd ?? 0),
            ])
            if let reason = entry?.statusReason { notes.append("  \(trader.id): \(reason)") }
        }
        lines += Backtest.table(header: rows[0], rows: Array(rows.dropFirst()), textColumns: 2)
        lines += notes
        return lines.joined(separator: "\n")
    }

    static func age(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds)) s" : seconds < 7200 ? "\(Int(seconds / 60)) min" : "\(Int(seconds / 3600)) h"
    }
}
