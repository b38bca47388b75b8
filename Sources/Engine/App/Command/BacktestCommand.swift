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
            final state, report.json and the equity curve (equity.csv, equity.svg) under --out. Baseline traders run offline; LLM traders call their \
            models (answers already in the digest cache are free; spending counts against the daily budget).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .long,
        help:
            "Start: ISO 8601 (2025-07-20T06:00:00Z) or a date (2025-07-20, 00:00 UTC). Default: the start of the data."
    )
    var from: String?

    @Option(name: .long, help: "End, written like --from. Default: the end of the data.")
    var to: String?

    @Option(name: .long, help: "Only this span before the end (e.g. 7d, 12h); instead of --from.")
    var last: String?

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

    @Flag(name: .long, help: "No progress line (there is none either when stderr is not a terminal).")
    var quiet = false

    @Flag(
        name: .long,
        help: "Let a trader whose decision interval is shorter than the candles decide between two closes."
    )
    var decideBetweenCloses = false

    @Flag(name: .long, help: "Refuse to run when a symbol has no funding data (default: name it, charge none).")
    var requireFunding = false

    @Flag(
        name: .long,
        help: "Tick at every candle close even while every account is flat (slower; the same results)."
    )
    var everyTick = false

    @Option(
        name: .long,
        help: """
            Run twice on the same candles, with the current templates (OUT/current) and with this directory's in \
            place of prompts/ (OUT/compared), and print both reports side by side.
            """
    )
    var compareTemplates: String?

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
            guard let time = Self.time(text) else {
                throw fail(
                    "--\(name): \"\(text)\" is neither an ISO 8601 time (2025-07-20T06:00:00Z) nor a date (2025-07-20)"
                )
            }
            return time
        }
        let fromTime = try time(from, "from")
        let toTime = try time(to, "to")
        if let fromTime, let toTime, fromTime >= toTime { throw fail("--from must be before --to") }
        var span: Int64?
        if let last {
            guard from == nil else { throw fail("--last and --from exclude each other") }
            guard let duration = ConfigDuration.parse(last), duration.milliseconds > 0 else {
                throw fail("--last: \"\(last)\" is not a duration (e.g. 7d, 12h, 90m)")
            }
            span = duration.milliseconds
        }
        if let interval, CandleInterval(interval) == nil {
            throw fail("--interval: \"\(interval)\" is not an interval")
        }
        let symbolList = symbols.map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        }
        if let symbolList, symbolList.isEmpty { throw fail("--symbols is empty") }
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        let tally = BacktestLogTally()
        LoggingSystem.bootstrap { label in BacktestLogHandler(label: label, tally: tally) }
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
        backtestOptions.last = span
        backtestOptions.decidesBetweenCloses = decideBetweenCloses
        backtestOptions.requiresFunding = requireFunding
        backtestOptions.ticksEveryStep = everyTick
        guard let compareTemplates else {
            _ = try await runOne(configuration: configuration, options: backtestOptions, tally: tally, fail: fail)
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: compareTemplates, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw fail("--compare-templates: \(compareTemplates) is not a directory") }
        var current = backtestOptions
        current.output = (out as NSString).appendingPathComponent("current")
        var compared = backtestOptions
        compared.output = (out as NSString).appendingPathComponent("compared")
        compared.templatesDirectory = compareTemplates
        print("== current templates")
        let first = try await runOne(configuration: configuration, options: current, tally: tally, fail: fail)
        print("\n== templates from \(compareTemplates)")
        let second = try await runOne(configuration: configuration, options: compared, tally: tally, fail: fail)
        print("\n" + Backtest.formatComparison(first, second, directory: compareTemplates))
    }

    /// One backtest into `options.output`: run with a progress line, print the report, write report.json and the
    /// equity curve.
    private func runOne(
        configuration: ArenaConfiguration,
        options backtestOptions: Backtest.Options,
        tally: BacktestLogTally,
        fail: (String) -> ExitCode
    ) async throws -> Backtest.Report {
        let out = backtestOptions.output
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let started = ContinuousClock.now
        // A progress line, rewritten in place, only where a person watches it.
        let showsProgress = !quiet && isatty(STDERR_FILENO) == 1
        var report: Backtest.Report
        do {
            report = try await Backtest.run(
                base: configuration,
                options: backtestOptions,
                logger: Logger(label: "backtest"),
                announce: { FileHandle.standardError.write(Data("engine backtest: \($0)\n".utf8)) },
                progress: { fraction, now, cycles in
                    guard showsProgress else { return }
                    let elapsed = (ContinuousClock.now - started).secondsValue
                    let line = Self.progressLine(fraction, now: now, cycles: cycles, elapsed: elapsed)
                    FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
                }
            )
        } catch {
            if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            throw fail("\(error)")
        }
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        report.logCounts = tally.take()
        print(Backtest.format(report, seconds: (ContinuousClock.now - started).secondsValue))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let reportPath = (out as NSString).appendingPathComponent("report.json")
        try AtomicFile.replace(reportPath, with: try encoder.encode(report))
        try AtomicFile.replace(
            (out as NSString).appendingPathComponent("equity.csv"),
            with: Data(BacktestFiles.equityCSV(report).utf8)
        )
        try AtomicFile.replace(
            (out as NSString).appendingPathComponent("equity.svg"),
            with: Data(BacktestFiles.equitySVG(report).utf8)
        )
        print(
            "journal, snapshot and state under \(out); report in \(reportPath); equity curve in equity.csv, equity.svg"
        )
        return report
    }

    /// `--from`/`--to`: an ISO 8601 time, or a plain date meaning 00:00 UTC that day.
    static func time(_ text: String) -> Int64? {
        if let time = UTCTime.milliseconds(iso8601: text) { return time }
        let isDate =
            text.count == 10
            && text.enumerated().allSatisfy { index, character in
                index == 4 || index == 7 ? character == "-" : character.isASCII && character.isNumber
            }
        return isDate ? UTCTime.milliseconds(iso8601: text + "T00:00:00Z") : nil
    }

    /// `backtest  42.0 %  2025-07-20T03:00:00Z  12345 cycles  12 s, about 17 s left`.
    static func progressLine(_ fraction: Double, now: Int64, cycles: Int, elapsed: Double) -> String {
        let left = fraction > 0.01 ? elapsed / fraction * (1 - fraction) : nil
        let eta = left.map { "about \(Self.seconds($0)) left" } ?? "estimating"
        return String(format: "backtest %5.1f %%  ", fraction * 100)
            + "\(UTCTime.iso8601(now))  \(cycles) cycles  \(Self.seconds(elapsed)), \(eta)"
    }

    static func seconds(_ value: Double) -> String {
        let whole = Int(value.rounded())
        return whole < 120 ? "\(whole) s" : "\(whole / 60) min \(whole % 60) s"
    }

    /// The output directory must be new or empty, unless --overwrite (which removes only what a backtest writes).
    private func prepareOutput(fail: (String) -> ExitCode) throws {
        let manager = FileManager.default
        let existing = (try? manager.contentsOfDirectory(atPath: out)) ?? []
        if !existing.isEmpty {
            let ours: Set<String> = [
                "journal", "mcp-data", "state", "report.json", "equity.csv", "equity.svg", "current", "compared",
            ]
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
