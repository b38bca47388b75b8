import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import Shared

/// `engine fetch-candles` against the fake Hyperliquid over HTTP: paging by the 5,000-candle window, a gap in
/// what the venue serves, a failed request retried, only closed candles, merging with a file already there, and
/// the funding history paged 500 at a time.
@Suite("Market history from Hyperliquid", .serialized)
struct MarketHistoryTests {
    /// 2025-07-14T00:00:00Z.
    static let start: Int64 = 1_752_451_200_000
    static let minute: Int64 = 60_000

    func withFake(
        gap: Range<Int64>? = nil,
        failing: Int = 0,
        history: Bool = true,
        _ body: @Sendable (FakeHyperliquid, HyperliquidHistory, Int) async throws -> Void
    ) async throws {
        let fake = FakeHyperliquid()
        if history { fake.serveHistory(gap: gap, failing: failing) }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await fake.makeApplication().test(.live) { client in
                let port = try #require(client.port)
                let api = HyperliquidAPI(
                    baseURL: "http://127.0.0.1:\(port)",
                    httpClient: httpClient,
                    policy: ProviderPolicy(
                        timeout: .seconds(10),
                        retry: .init(maxRetries: 2, backoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
                        healthcheck: .init(isEnabled: false, interval: .seconds(60)),
                        capabilities: [:]
                    ),
                    limiter: WeightLimiter(),
                    clock: WallClock()
                )
                try await body(fake, HyperliquidHistory(api: api), port)
            }
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    @Test func candles_arePagedByTheWindow_withAGapReported_andAFailureRetried() async throws {
        // 12,000 minutes, half a minute more at the end (a candle still forming there), 30 candles missing.
        let gap = (Self.start + 7_000 * Self.minute)..<(Self.start + 7_030 * Self.minute)
        try await withFake(gap: gap, failing: 1) { fake, history, _ in
            var reached: [Int64] = []
            let end = Self.start + 12_000 * Self.minute + 30_000
            let candles = try await history.candles(
                symbol: "BTC",
                interval: CandleInterval("1m")!,
                from: Self.start,
                to: end,
                progress: { reached.append($0) }
            )
            #expect(candles.count == 12_000 - 30)
            #expect(candles.first?.openTime == Self.start)
            // The candle opened at 12,000 min closes after `end`: not history yet.
            #expect(candles.last?.openTime == Self.start + 11_999 * Self.minute)
            #expect(zip(candles, candles.dropFirst()).allSatisfy { $0.openTime < $1.openTime })
            let gaps = HyperliquidHistory.gaps(candles, interval: CandleInterval("1m")!)
            #expect(gaps == [.init(first: gap.lowerBound, last: gap.upperBound - Self.minute, count: 30)])
            // Three windows of at most 5,000 candles, the first asked twice (it failed once).
            let requests = fake.historyRequests.filter { $0.type == "candleSnapshot" }
            #expect(requests.count == 3)
            #expect(requests.map(\.start) == [0, 5_000, 10_000].map { Self.start + $0 * Self.minute })
            #expect(reached.count == 3 && reached.last == end)
            let prices = try #require(candles.first)
            #expect(prices.close == FakeHyperliquid.candleClose(base: 100_000, open: Self.start, interval: Self.minute))
            #expect(prices.volume == 10.5)
        }
    }

    @Test func merging_keepsOneCandlePerTime_andTheFileReadsBack() throws {
        let interval = CandleInterval("1m")!
        func candle(_ index: Int64, close: Double) -> Candle {
            Candle(
                openTime: Self.start + index * Self.minute,
                open: close,
                high: close + 0.5,
                low: close - 0.25,
                close: close,
                volume: 0.001
            )
        }
        let stored = (0..<10).map { candle($0, close: 100) }
        let fetched = (5..<20).map { candle($0, close: 101.125) } + [candle(30, close: 7)]
        let merged = HyperliquidHistory.merge(existing: stored, fetched: fetched)
        #expect(merged.count == 21)
        #expect(merged[4].close == 100 && merged[5].close == 101.125)
        #expect(HyperliquidHistory.gaps(merged, interval: interval).map(\.count) == [10])
        let scratch = try TestPaths.makeScratch("history")
        let path = scratch.appendingPathComponent("hyperliquid_BTC_1m.csv").path
        try CandleCSV.render(merged).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try CandleCSV.load(path: path) == merged)
        let rates: [(time: Int64, rate: Double)] = [(1, -0.0000125), (2, 0.0001), (3, 0)]
        let fundingPath = scratch.appendingPathComponent("hyperliquid_BTC_funding_1h.csv").path
        try FundingCSV.render(rates).write(toFile: fundingPath, atomically: true, encoding: .utf8)
        let read = try FundingCSV.load(path: fundingPath)
        #expect(read.map(\.time) == [1, 2, 3] && read.map(\.rate) == [-0.0000125, 0.0001, 0])
    }

    /// Funding files are read from their bytes like candle files: CRLF and blank lines pass, a bad row is named by
    /// its line, a non-finite rate is refused.
    @Test func fundingFile_badRowsAreNamedByLine() throws {
        let scratch = try TestPaths.makeScratch("funding")
        let path = scratch.appendingPathComponent("hyperliquid_BTC_funding_1h.csv").path
        try "funding_time_ms,funding_rate\r\n1,0.0001\r\n\n2,-1.25e-05,extra\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        let read = try FundingCSV.load(path: path)
        #expect(read.map(\.time) == [1, 2] && read.map(\.rate) == [0.0001, -1.25e-05])
        for (text, line) in [
            ("funding_time_ms,funding_rate\n1,0.0001\n2,x\n", 3), ("funding_time_ms,funding_rate\n1,inf\n", 2),
            ("funding_time_ms,funding_rate\n1\n", 2), ("funding_time_ms,funding_rate\n1.5,0.1\n", 2),
        ] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: CandleCSV.Failure(path: path, line: line, reason: "malformed row"), "\(text)") {
                try FundingCSV.load(path: path)
            }
        }
    }

    @Test func funding_isPaged500AtATime() async throws {
        try await withFake { fake, history, _ in
            let end = Self.start + 30 * 86_400_000
            let rates = try await history.funding(symbol: "ETH", from: Self.start, to: end)
            #expect(rates.count == 720)
            #expect(rates.first?.time == Self.start && rates.last?.time == end - 3_600_000)
            #expect(zip(rates, rates.dropFirst()).allSatisfy { $1.time - $0.time == 3_600_000 })
            let requests = fake.historyRequests.filter { $0.type == "fundingHistory" }
            // 500, then 220, then an empty page past the end is not asked: the second page reached `end`.
            #expect(requests.count >= 2 && requests.count <= 3)
            #expect(requests.first?.start == Self.start)
        }
    }

    /// The command end to end: files merged into a data directory, gaps printed, a second run adds nothing.
    @Test func command_writesMergesAndReports() async throws {
        let gap = (Self.start + 100 * Self.minute)..<(Self.start + 103 * Self.minute)
        try await withFake(gap: gap) { _, _, port in
            let scratch = try TestPaths.makeScratch("fetch-candles")
            let data = scratch.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            // A file already there, overlapping the range.
            let path = data.appendingPathComponent("hyperliquid_BTC_5m.csv").path
            let old = (0..<10).map { index in
                let open = Self.start - 5 * 5 * Self.minute + Int64(index) * 5 * Self.minute
                return Candle(openTime: open, open: 1, high: 1, low: 1, close: 1, volume: 1)
            }
            try CandleCSV.render(old).write(toFile: path, atomically: true, encoding: .utf8)
            let arguments = [
                "fetch-candles", "--config", TestPaths.shipped.appendingPathComponent("arena.yaml").path,
                "--symbols", "btc,ETH", "--interval", "5m", "--from", "2025-07-14", "--to", "2025-07-15",
                "--data", data.path, "--funding", "--base-url", "http://127.0.0.1:\(port)",
            ]
            let first = try ProcessRunner.run("engine", arguments, directory: TestPaths.packageRoot)
            #expect(first.status == 0, "\(first.stderr)")
            // 288 five-minute candles in the day; the five old ones before it stay; the gap (3 minutes inside
            // one 5-minute candle: the candle opened at 100 min is missing) is reported.
            let btc = try CandleCSV.load(path: path)
            #expect(btc.count == 5 + 288 - 1)
            #expect(first.stdout.contains("BTC 5m: 287 fetched, 282 new, 292 in"))
            #expect(first.stdout.contains("1 gap, 1 candle missing"))
            let eth = try CandleCSV.load(path: data.appendingPathComponent("hyperliquid_ETH_5m.csv").path)
            #expect(eth.count == 287)
            let funding = try FundingCSV.load(path: data.appendingPathComponent("hyperliquid_ETH_funding_1h.csv").path)
            #expect(funding.count == 24)
            let again = try ProcessRunner.run("engine", arguments, directory: TestPaths.packageRoot)
            #expect(again.status == 0)
            #expect(again.stdout.contains("BTC 5m: 287 fetched, 0 new, 292 in"))
            #expect(try CandleCSV.load(path: path) == btc)

            let bad = try ProcessRunner.run(
                "engine",
                ["fetch-candles", "--symbols", "BTC", "--interval", "7m", "--from", "2025-07-14"],
                directory: TestPaths.packageRoot
            )
            #expect(bad.status == 1)
            #expect(bad.stderr.hasPrefix("engine fetch-candles: --interval: \"7m\" is not one of"))
        }
    }

    /// A live market provider with `record_dir` appends the closed candles it fetches: the one still forming is
    /// left out (the fake prices it 20 % off), a later fetch adds only what is new, and a torn last line left by a
    /// crash is cut before anything is appended.
    @Test func liveProvider_recordsClosedCandlesOnly_andNothingTwice() async throws {
        try await withFake(history: false) { _, history, _ in
            let scratch = try TestPaths.makeScratch("record-candles")
            let interval = CandleInterval("3m")!
            let path = scratch.appendingPathComponent("hyperliquid_BTC_3m.csv").path
            // A file from an earlier run, its last line torn by a crash.
            let earlier = Self.start - 500 * interval.milliseconds
            try (CandleCSV.header + "\n\(earlier),1,1,1,1,1\n\(earlier + interval.milliseconds),1,1,")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let recorder = CandleRecorder(directory: scratch.path, logger: Logger(label: "test"))
            let provider = HyperliquidMarketProvider(
                id: "hl",
                symbols: ["BTC"],
                api: history.api,
                intraday: interval,
                context: CandleInterval("4h")!,
                recorder: recorder
            )
            let now = Self.start + 90_000  // half-way through the candle opened at `start`
            _ = try await provider.snapshot(symbols: ["BTC"], now: now)
            var candles = try CandleCSV.load(path: path)
            #expect(candles.first?.openTime == earlier)
            // The torn line is gone; then 149 closed candles, the newest opened one interval before `start`.
            #expect(candles.count == 1 + 149)
            #expect(candles.last?.openTime == Self.start - interval.milliseconds)
            for candle in candles.dropFirst() {
                let expected = FakeHyperliquid.candleClose(
                    base: 100_000,
                    open: candle.openTime,
                    interval: interval.milliseconds
                )
                #expect(candle.close == expected, "the forming candle was recorded")
            }
            // Two candles later: only those two are added.
            _ = try await provider.snapshot(symbols: ["BTC"], now: now + 2 * interval.milliseconds)
            candles = try CandleCSV.load(path: path)
            #expect(candles.count == 1 + 151)
            #expect(candles.last?.openTime == Self.start + interval.milliseconds)
            #expect(Set(candles.map(\.openTime)).count == candles.count)
            // The context interval's closed candles are recorded too, in their own file.
            let context = try CandleCSV.load(path: scratch.appendingPathComponent("hyperliquid_BTC_4h.csv").path)
            #expect(!context.isEmpty)
            #expect(await recorder.recorded == 151 + context.count)
        }
    }
}
