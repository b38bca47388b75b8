import ArgumentParser
import Foundation
import Shared

/// `engine replay`: re-runs recorded cycles and fails on any difference in prompts, decisions, verdicts or
/// order intents.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run journaled cycles (prompts, parsing, risk, orders) and compare with what was recorded."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Journal directory (default: journal.path of the configuration).")
    var journal: String?

    @Option(name: .long, help: "Only this trader.")
    var trader: String?

    @Option(name: .long, help: "Only the last N cycles of each trader.")
    var last: Int?

    @Option(name: .long, help: "Only cycles that started at or after this ISO 8601 time (e.g. 2025-07-15T00:00:00Z).")
    var since: String?

    @Option(name: .long, help: "A directory that replaces prompts/ in template paths (try new templates on history).")
    var templates: String?

    @Option(name: .long, help: "Differences printed per trader.")
    var show: Int = 5

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        let directory = JournalDirectory(root: journal ?? configuration.journal.path)
        let traders = trader.map { [$0] } ?? directory.traders()
        guard !traders.isEmpty else {
            FileHandle.standardError.write(Data("engine replay: no journal in \(directory.root)\n".utf8))
            throw ExitCode(1)
        }
        var sinceMilliseconds: Int64?
        if let since {
            guard let date = ISO8601DateFormatter().date(from: since) else {
                FileHandle.standardError.write(
                    Data("engine replay: --since: \"\(since)\" is not an ISO 8601 time\n".utf8)
                )
                throw ExitCode(1)
            }
            sinceMilliseconds = Int64(date.timeIntervalSince1970 * 1000)
        }
        let replay = JournalReplay(configuration: configuration, templatesDirectory: templates)
        var mismatched = false
        for id in traders {
            do {
                var records = try JournalReplay.records(journal: directory, trader: id)
                if let sinceMilliseconds { records = records.filter { $0.startedAt >= sinceMilliseconds } }
                if let last { records = Array(records.suffix(max(0, last))) }
                let summary = try replay.replay(trader: id, records: records)
                let status = summary.mismatchedCycles.isEmpty ? "OK" : "DIFFERS"
                print(
                    "\(id): \(status): \(summary.cycles) cycles replayed, \(summary.matched) identical, "
                        + "\(summary.mismatchedCycles.count) different, \(summary.skipped) without a decision step"
                )
                if !summary.mismatchedCycles.isEmpty {
                    mismatched = true
                    print(
                        "  cycles that would now differ: \(summary.mismatchedCycles.prefix(20).joined(separator: ", "))"
                    )
                    for difference in summary.differences.prefix(show) {
                        print("  " + difference.description.replacingOccurrences(of: "\n", with: "\n  "))
                    }
                }
            } catch {
                print("\(id): ERROR: \(error)")
                mismatched = true
            }
        }
        if mismatched { throw ExitCode(1) }
    }
}
