import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
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

    @Option(
        name: .long,
        help:
            "Counterfactual: send the recorded prompts (re-rendered with --templates) to this model alias and report where its decisions differ."
    )
    var model: String?

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
            guard let time = UTCTime.milliseconds(iso8601: since) else {
                FileHandle.standardError.write(
                    Data("engine replay: --since: \"\(since)\" is not an ISO 8601 time\n".utf8)
                )
                throw ExitCode(1)
            }
            sinceMilliseconds = time
        }
        let replay = JournalReplay(configuration: configuration, templatesDirectory: templates)
        if let model {
            try await counterfactual(
                model: model,
                configuration: configuration,
                replay: replay,
                directory: directory,
                traders: traders,
                since: sinceMilliseconds
            )
            return
        }
        var mismatched = false
        for id in traders {
            do {
                let summary = try replay.replay(journal: directory, trader: id, since: sinceMilliseconds, last: last)
                let status = summary.mismatchedCycles.isEmpty ? "OK" : "DIFFERS"
                print(
                    "\(id): \(status): \(summary.cycles) cycles replayed, \(summary.matched) identical, "
                        + "\(summary.mismatchedCycles.count) different, \(summary.skipped) without a decision step"
                        + (summary.withoutPrompts > 0
                            ? " (\(summary.withoutPrompts) of a baseline's backtest, without prompts: decisions, "
                                + "verdicts and orders compared)" : "")
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

    /// `--model ALIAS`: differences from another model are findings, not failures; the exit status is 1 only
    /// when the model could not be asked at all.
    func counterfactual(
        model: String,
        configuration: ArenaConfiguration,
        replay: JournalReplay,
        directory: JournalDirectory,
        traders: [String],
        since: Int64?
    ) async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await counterfactual(
                model: model,
                configuration: configuration,
                replay: replay,
                directory: directory,
                traders: traders,
                since: since,
                httpClient: httpClient
            )
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private func counterfactual(
        model: String,
        configuration: ArenaConfiguration,
        replay: JournalReplay,
        directory: JournalDirectory,
        traders: [String],
        since: Int64?,
        httpClient: HTTPClient
    ) async throws {
        var logger = Logger(label: "replay")
        logger.logLevel = .warning
        let gateway: ModelGateway
        do {
            gateway = try await EngineAssembly.makeGateway(
                configuration: configuration,
                traders: [],
                httpClient: httpClient,
                metrics: EngineMetrics(),
                logger: logger,
                extraModels: [model]
            )
        } catch {
            FileHandle.standardError.write(Data("engine replay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let schema: String
        do {
            schema = try TraderPipeline.decisionSchema(configuration)
        } catch {
            FileHandle.standardError.write(Data("engine replay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let runner = Counterfactual(
            configuration: configuration,
            gateway: gateway,
            replay: replay,
            alias: model,
            schema: schema,
            rerender: templates != nil
        )
        var failedAll = true
        for id in traders {
            do {
                let summary = try await runner.run(
                    trader: id,
                    records: try JournalReplay.records(journal: directory, trader: id, since: since, last: last)
                )
                let asked = summary.cycles.count
                if summary.failed < asked { failedAll = false }
                print(
                    "\(id) with \(model): \(asked) cycles asked, \(summary.differing) would decide differently, "
                        + "\(asked - summary.differing - summary.failed) the same, \(summary.failed) without an answer; "
                        + "cache hits \(summary.cacheHits)/\(asked), tokens \(summary.promptTokens)+\(summary.completionTokens), "
                        + String(format: "cost $%.4f", summary.costUSD)
                )
                for cycle in summary.cycles.filter({ $0.differs || $0.failure != nil }).prefix(show) {
                    if let failure = cycle.failure, !cycle.differs {
                        print("  \(cycle.cycleID): no answer: \(failure)")
                    } else {
                        print("  \(cycle.cycleID): recorded \(cycle.recorded) | \(model): \(cycle.alternative)")
                    }
                }
            } catch {
                print("\(id): ERROR: \(error)")
            }
        }
        if failedAll { throw ExitCode(1) }
    }
}
