import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Logging
import Shared

/// `engine backtest`: configured traders over historical candles, offline and deterministic for baseline
/// policies (LLM traders use their real models through the digest cache and the budget).
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run the configured traders over a candle range on the paper exchange and report the results.",
        discussion: """
            Writes a journal, a snapshot generation (serve it with control-api --data-path OUT/mcp-data), the \
            final state and report.json under --out. Baseline traders run offline; LLM traders call their \
            models (answers already in the digest cache are free; spending counts against the daily budget).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Start (ISO 8601, e.g. 2025-07-20T00:00:00Z). Default: the start of the data.")
    var from: String?

    @Option(name: .long, help: "End (ISO 8601). Default: the end of the data.")
    var to: String?

    @Option(name: .long, help: "Only these symbols, comma-separated (e.g. BTC,ETH).")
    var symbols: String?

    @Option(name: .long, help: "Candle directory (hyperliquid_<SYMBOL>_<interval>.csv); default: market.yaml's.")
    var data: String?

    @Option(name: .long, help: "Intraday candle interval of the data (e.g. 1m); default: market.yaml's.")
    var interval: String?

    @Option(name: .long, help: "Only this trader (repeatable).")
    var trader: [String] = []

    @Option(name: .long, help: "Output directory for the journal, snapshot, state and report.")
    var out: String = "backtest-out"

    @Flag(name: .long, help: "Replace the output directory if it already holds a backtest.")
    var overwrite = false

    @Flag(name: .long, help: "No progress lines on stderr.")
    var quiet = false

    @Flag(
        name: .long,
        help: "Render and journal the prompts of in-process baseline traders too (they decide without reading them)."
    )
    var recordPrompts = false

    func run() async throws {
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("engine backtest: \(message)\n".utf8))
            return ExitCode(1)
        }
        func time(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let time = UTCTime.milliseconds(iso8601: text) else {
                throw fail("--\(name): \"\(text)\" is not an ISO 8601 time (e.g. 2025-07-20T00:00:00Z)")
            }
            return time
        }
        let fromTime = try time(from, "from")
        let toTime = try time(to, "to")
        if let fromTime, let toTime, fromTime >= toTime { throw fail("--from must be before --to") }
        if let interval, CandleInterval(interval) == nil {
            throw fail("--interval: \"\(interval)\" is not an interval")
        }
        let symbolList = symbols.map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        }
        if let symbolList, symbolList.isEmpty { throw fail("--symbols is empty") }
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        try prepareOutput(fail: fail)

        var backtestOptions = Backtest.Options(
            from: fromTime,
            to: toTime,
            symbols: symbolList,
            dataDirectory: data,
            intradayInterval: interval,
            traders: trader.isEmpty ? nil : trader,
            output: out
        )
        backtestOptions.recordsPrompts = recordPrompts
        let started = ContinuousClock.now
        let report: Backtest.Report
        do {
            report = try await Backtest.run(
                base: configuration,
                options: backtestOptions,
                logger: Logger(label: "backtest")
            ) { fraction, now, cycles in
                guard !quiet else { return }
                let elapsed = (ContinuousClock.now - started).components.seconds
                FileHandle.standardError.write(
                    Data(
                        "backtest: \(Int(fraction * 100)) % at \(UTCTime.iso8601(now)), \(cycles) cycles, \(elapsed) s\n"
                            .utf8
                    )
                )
            }
        } catch {
            throw fail("\(error)")
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(Backtest.format(report, seconds: seconds))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let reportPath = (out as NSString).appendingPathComponent("report.json")
        try AtomicFile.replace(reportPath, with: try encoder.encode(report))
        print("journal, snapshot and state under \(out); report in \(reportPath)")
    }

    /// The output directory must be new or empty, unless --overwrite (which removes only what a backtest writes).
    private func prepareOutput(fail: (String) -> ExitCode) throws {
        let manager = FileManager.default
        let existing = (try? manager.contentsOfDirectory(atPath: out)) ?? []
        if !existing.isEmpty {
            let ours: Set<String> = ["journal", "mcp-data", "state", "report.json"]
            guard overwrite else {
                throw fail("\(out) is not empty; choose another --out or pass --overwrite")
            }
            let foreign = existing.filter { !ours.contains($0) }
            guard foreign.isEmpty else {
                throw fail(
                    "\(out) holds files a backtest did not write (\(foreign.sorted().joined(separator: ", "))); not touching it"
                )
            }
            for name in existing { try manager.removeItem(atPath: (out as NSString).appendingPathComponent(name)) }
        }
        try manager.createDirectory(atPath: out, withIntermediateDirectories: true)
    }
}
