import ArenaAdapters
import ArenaCore
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Shared

/// `engine fetch-candles`: Hyperliquid's candle (and funding) history into the replay market's CSV files, merged
/// with what the files hold, so a backtest can cover more than the bundled days.
struct FetchCandlesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-candles",
        abstract: "Fetch Hyperliquid candle history (and funding) into the replay market's CSV files.",
        discussion: """
            Pages candleSnapshot (at most 5,000 candles a request) and fundingHistory (500 a request) within the \
            per-IP weight budget, retrying reads like the engine does, and merges into \
            hyperliquid_<SYMBOL>_<interval>.csv and hyperliquid_<SYMBOL>_funding_1h.csv under --data: no duplicate \
            candle, gaps reported. Only closed candles are written. Hyperliquid serves only recent candles (the \
            newest 5,000 per interval): older ranges come back empty and are reported as such.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Symbols, comma-separated (e.g. BTC,ETH).")
    var symbols: String

    @Option(name: .long, help: "Candle interval: 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d.")
    var interval: String = "1m"

    @Option(name: .long, help: "Start: ISO 8601 or a date (2025-07-20, 00:00 UTC).")
    var from: String

    @Option(name: .long, help: "End, written like --from. Default: now.")
    var to: String?

    @Option(name: .long, help: "Directory of the CSV files. Default: the replay market's data_dir in market.yaml.")
    var data: String?

    @Flag(name: .long, help: "Also fetch the funding history of each symbol.")
    var funding = false

    @Option(name: .long, help: "Hyperliquid's address. Default: market.yaml's hyperliquid provider, else mainnet.")
    var baseURL: String?

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    static let intervals = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d"]

    func run() async throws {
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("engine fetch-candles: \(message)\n".utf8))
            return ExitCode(1)
        }
        guard Self.intervals.contains(interval), let candleInterval = CandleInterval(interval) else {
            throw fail("--interval: \"\(interval)\" is not one of \(Self.intervals.joined(separator: " "))")
        }
        let symbolList = symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
            .filter { !$0.isEmpty }
        guard !symbolList.isEmpty else { throw fail("--symbols is empty") }
        guard symbolList.allSatisfy({ $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }) else {
            throw fail("--symbols: letters and digits only (e.g. BTC,ETH)")
        }
        let now = UTCTime.nowMilliseconds()
        guard let start = BacktestCommand.time(from) else {
            throw fail("--from: \"\(from)\" is neither an ISO 8601 time nor a date (2025-07-20)")
        }
        var end = now
        if let to {
            guard let time = BacktestCommand.time(to) else {
                throw fail("--to: \"\(to)\" is neither an ISO 8601 time nor a date (2025-07-20)")
            }
            end = min(time, now)
        }
        guard start < end else { throw fail("--from must be before --to (and before now)") }

        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        let providers = configuration.market.providers.values.sorted { $0.id < $1.id }
        let replay = providers.first { $0.kind == .replay }
        let live = providers.first { $0.kind == .hyperliquid }
        guard let directory = data ?? replay?.dataDirectory else {
            throw fail("no --data and no replay market with a data_dir in market.yaml")
        }
        let address =
            baseURL ?? live?.baseURL
            ?? ((live?.isTestnet ?? false) ? HyperliquidAPI.testnetURL : HyperliquidAPI.mainnetURL)
        let policy = live?.policy ?? Self.defaultPolicy
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let history = HyperliquidHistory(
            api: HyperliquidAPI(
                baseURL: address,
                httpClient: httpClient,
                policy: policy,
                limiter: WeightLimiter(),
                clock: WallClock()
            )
        )
        let showsProgress = !quiet && isatty(STDERR_FILENO) == 1
        do {
            for symbol in symbolList {
                try await fetch(
                    symbol,
                    history: history,
                    interval: candleInterval,
                    range: start..<end,
                    directory: directory,
                    showsProgress: showsProgress
                )
            }
        } catch let exit as ExitCode {
            try? await httpClient.shutdown()
            throw exit
        } catch {
            try? await httpClient.shutdown()
            throw fail("\(error)")
        }
        try await httpClient.shutdown()
    }

    private func fetch(
        _ symbol: String,
        history: HyperliquidHistory,
        interval: CandleInterval,
        range: Range<Int64>,
        directory: String,
        showsProgress: Bool
    ) async throws {
        func progress(_ what: String) -> (Int64) -> Void {
            { reached in
                guard showsProgress else { return }
                let fraction =
                    Double(min(reached, range.upperBound) - range.lowerBound)
                    / Double(range.upperBound - range.lowerBound)
                let line = String(format: "%@ %@ %5.1f %%  ", symbol, what, fraction * 100) + UTCTime.iso8601(reached)
                FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            }
        }
        let path = (directory as NSString).appendingPathComponent("hyperliquid_\(symbol)_\(interval.name).csv")
        let existing = FileManager.default.fileExists(atPath: path) ? try CandleCSV.load(path: path) : []
        let fetched = try await history.candles(
            symbol: symbol,
            interval: interval,
            from: range.lowerBound,
            to: range.upperBound,
            progress: progress(interval.name)
        )
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        let merged = HyperliquidHistory.merge(existing: existing, fetched: fetched)
        let added = merged.count - existing.count
        if !merged.isEmpty { try AtomicFile.replace(path, with: Data(CandleCSV.render(merged).utf8)) }
        let span = merged.first.map {
            "\(UTCTime.iso8601($0.openTime)) → \(UTCTime.iso8601(merged[merged.count - 1].openTime))"
        }
        print(
            "\(symbol) \(interval.name): \(fetched.count) fetched, \(added) new, \(merged.count) in \(path)"
                + (span.map { " (\($0))" } ?? "")
        )
        if fetched.isEmpty {
            print("  nothing served for this range: Hyperliquid keeps only the newest 5,000 candles of an interval")
        }
        let gaps = HyperliquidHistory.gaps(merged, interval: interval)
        if !gaps.isEmpty {
            let missing = gaps.reduce(0) { $0 + $1.count }
            print(
                "  \(gaps.count) gap\(gaps.count == 1 ? "" : "s"), \(missing) candle\(missing == 1 ? "" : "s") missing:"
            )
            for gap in gaps.prefix(10) { print("    \(gap)") }
            if gaps.count > 10 { print("    … and \(gaps.count - 10) more") }
        }
        guard funding else { return }
        let fundingPath = (directory as NSString).appendingPathComponent("hyperliquid_\(symbol)_funding_1h.csv")
        let stored = FileManager.default.fileExists(atPath: fundingPath) ? try FundingCSV.load(path: fundingPath) : []
        let rates = try await history.funding(
            symbol: symbol,
            from: range.lowerBound,
            to: range.upperBound,
            progress: progress("funding")
        )
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        let all = HyperliquidHistory.mergeFunding(existing: stored, fetched: rates)
        if !all.isEmpty { try AtomicFile.replace(fundingPath, with: Data(FundingCSV.render(all).utf8)) }
        print(
            "\(symbol) funding: \(rates.count) fetched, \(all.count - stored.count) new, \(all.count) in \(fundingPath)"
        )
    }

    /// Without a hyperliquid provider in market.yaml: 10 s per request, 4 retries from 500 ms up to 8 s.
    static let defaultPolicy = ProviderPolicy(
        timeout: .seconds(10),
        retry: .init(maxRetries: 4, backoff: .milliseconds(500), maxBackoff: .seconds(8)),
        healthcheck: .init(isEnabled: false, interval: .seconds(60)),
        capabilities: [:]
    )
}
