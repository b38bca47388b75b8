import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Market data: candles, indicators, replay")
struct MarketTests {
    static let dataDirectory = TestPaths.packageRoot.appendingPathComponent("data/market").path
    static let referenceDirectory = TestPaths.fixtures.appendingPathComponent("indicators").path

    struct ReferenceRow {
        let openTime: Int64
        let close: Double
        let values: [String: Double]
    }

    static func reference(_ name: String) throws -> [ReferenceRow] {
        let text = try String(contentsOfFile: "\(referenceDirectory)/\(name)", encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var values: [String: Double] = [:]
            for (key, field) in zip(header, fields) { values[key] = Double(field) }
            return ReferenceRow(openTime: Int64(fields[0]) ?? 0, close: values["close"] ?? 0, values: values)
        }
    }

    static func close(_ ours: Double?, _ theirs: Double?, scale: Double) -> Bool {
        guard let ours, let theirs else { return ours == nil && theirs == nil }
        let tolerance = max(1e-6 * abs(theirs), 1e-6 * scale)
        return abs(ours - theirs) <= tolerance
    }

    /// Every indicator against TA-Lib on the bundled candles (or the test fixtures' own), to 1e-6 relative.
    @Test(arguments: ["hyperliquid_BTC_3m", "hyperliquid_ETH_4h", "hyperliquid_DOGE_1h"])
    func indicators_matchTALib(file: String) throws {
        var candlePath = "\(Self.dataDirectory)/\(file).csv"
        if !FileManager.default.fileExists(atPath: candlePath) {
            candlePath = TestPaths.fixtures.appendingPathComponent("market/\(file).csv").path
        }
        let candles = try CandleCSV.load(path: candlePath)
        let table = ReplayMarketProvider.IndicatorTable(candles: candles, interval: 1)
        let rows = try Self.reference("\(file).indicators.csv")
        #expect(rows.count > 100)
        let indexByTime = Dictionary(uniqueKeysWithValues: candles.enumerated().map { ($1.openTime, $0) })
        var checked = 0
        for row in rows {
            let index = try #require(indexByTime[row.openTime])
            #expect(candles[index].close == row.close)
            let scale = row.close
            let ours: [String: Double?] = [
                "ema20": table.ema20[index], "ema50": table.ema50[index], "macd": table.macd[index]?.macd,
                "macd_signal": table.macd[index]?.signal, "macd_hist": table.macd[index]?.histogram,
                "rsi7": table.rsi7[index], "rsi14": table.rsi14[index], "atr3": table.atr3[index],
                "atr14": table.atr14[index], "volume_sma20": table.volumeAverage[index],
            ]
            for (name, value) in ours {
                let expected = row.values[name]
                let scaleForColumn = name.hasPrefix("rsi") ? 100 : name == "volume_sma20" ? (expected ?? 1) : scale
                if !Self.close(value, expected, scale: scaleForColumn) {
                    Issue.record(
                        "\(file) \(row.openTime) \(name): ours \(String(describing: value)), TA-Lib \(String(describing: expected))"
                    )
                    return
                }
                checked += 1
            }
        }
        #expect(checked == rows.count * 10)
    }

    func provider(symbols: [String] = ["BTC", "ETH"]) throws -> ReplayMarketProvider {
        try ReplayMarketProvider.load(
            configuration: .init(
                id: "replay",
                kind: .replay,
                policy: ExchangeConfiguration.placeholderPolicy,
                symbols: symbols,
                maxStaleness: .seconds(600),
                dataDirectory: Self.dataDirectory,
                intradayInterval: "3m",
                contextInterval: "4h",
                isTestnet: false,
                members: []
            )
        )
    }

    @Test func replay_neverShowsACandleThatHasNotClosed() throws {
        let market = try provider(symbols: ["BTC"])
        let candles = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_BTC_3m.csv")
        let interval: Int64 = 180_000
        // Walk a day of clock times, including the exact close instant and one millisecond before it.
        let start = candles[400].openTime
        var now = start
        while now < start + 86_400_000 {
            for probe in [now, now + interval - 1, now + interval] {
                guard let snapshot = market.snapshot(symbol: "BTC", now: probe) else {
                    Issue.record("no snapshot at \(probe)")
                    return
                }
                #expect(snapshot.asOf <= probe)
                let index = try #require(candles.firstIndex { $0.openTime + interval == snapshot.asOf })
                #expect(snapshot.price == candles[index].close)
                // The next candle is not closed at `probe`.
                if index + 1 < candles.count { #expect(candles[index + 1].openTime + interval > probe) }
            }
            now += 7 * 60_000 + 13_000
        }
    }

    @Test func replay_snapshotCarriesTenPointSeriesAndContext() async throws {
        let market = try provider()
        let candles = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_BTC_3m.csv")
        let now = candles[500].openTime + 180_000
        let snapshot = try await market.snapshot(symbols: ["BTC", "ETH"], now: now)
        let btc = try #require(snapshot.symbols["BTC"])
        #expect(btc.intraday.prices.count == 10)
        #expect(btc.intraday.prices.last == candles[500].close)
        #expect(btc.intraday.prices.first == candles[491].close)
        #expect(btc.context.macd.count == 10)
        #expect(btc.fundingRate != nil)
        #expect(btc.asOf == now)
        try snapshot.validate(symbols: ["BTC", "ETH"], now: now, maxStaleness: 600_000)
    }

    @Test func staleOrMissingData_failsValidation() async throws {
        let market = try provider(symbols: ["BTC"])
        let end = try #require(market.latestCompleteTime())
        let late = try await market.snapshot(symbols: ["BTC"], now: end + 3_600_000)
        #expect(throws: MarketDataError.stale(symbol: "BTC", ageMilliseconds: 3_600_000, limitMilliseconds: 600_000)) {
            try late.validate(symbols: ["BTC"], now: end + 3_600_000, maxStaleness: 600_000)
        }
        let missing = try await market.snapshot(symbols: ["BTC", "XRP"], now: end)
        #expect(throws: MarketDataError.missing(symbols: ["XRP"])) {
            try missing.validate(symbols: ["BTC", "XRP"], now: end, maxStaleness: 600_000)
        }
        let before = try await market.snapshot(symbols: ["BTC"], now: 1_000)
        #expect(before.symbols.isEmpty)
    }

    @Test func csv_rejectsMalformedAndUnorderedRows() {
        #expect(throws: CandleCSV.Failure.self) { try CandleCSV.parse("time,o\n1,2\n", path: "x") }
        #expect(throws: CandleCSV.Failure.self) {
            try CandleCSV.parse("open_time_ms,open,high,low,close,volume\n1,2,3,1,2,5\n1,2,3,1,2,5\n", path: "x")
        }
        #expect(throws: CandleCSV.Failure.self) {
            try CandleCSV.parse("open_time_ms,open,high,low,close,volume\n1,2,x,1,2,5\n", path: "x")
        }
    }
}
