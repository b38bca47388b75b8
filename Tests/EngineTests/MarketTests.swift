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
    /// The funding rate in force at each candle's close, found once in one walk, is the last row at or before the
    /// close — rows before the first candle, between candles, on a close exactly, repeated times, none at all.
    @Test func fundingAtEachClose_isTheLastRowAtOrBeforeIt() {
        var random = SeededRandom(seed: 3)
        for round in 0..<200 {
            let interval: Int64 = 60_000
            var time: Int64 = 1_000_000
            let candles = (0..<random.int(below: 40)).map { _ in
                time += interval * Int64(1 + random.int(below: 3))
                return Candle(openTime: time, open: 1, high: 1, low: 1, close: 1, volume: 1)
            }
            // On the candles' half-minute grid: rows exactly on a close, repeated, between closes.
            var at: Int64 = 1_000_000 + Int64(random.int(below: 7)) * interval / 2
            let funding: [(time: Int64, rate: Double)] = (0..<(round % 7 == 0 ? 0 : random.int(below: 30))).map {
                index in
                at += Int64(random.int(below: 3)) * interval / 2
                return (at, Double(index))
            }
            let table = ReplayMarketProvider.IndicatorTable(candles: candles, interval: interval)
            let series = ReplayMarketProvider.SymbolSeries(intraday: table, context: table, funding: funding)
            for (index, candle) in candles.enumerated() {
                let expected = funding.last { $0.time <= candle.openTime + interval }?.rate
                #expect(series.funding(atCloseOf: index) == expected, "round \(round), candle \(index)")
            }
        }
    }

    /// Candle and funding numbers read without strtod when the digits allow one exact division give strtod's
    /// Double, bit for bit: random decimals of every length and point position (signs, leading and trailing
    /// zeros, more than 15 significant digits, which strtod then reads), and the edges.
    @Test func csvNumbers_readExactlyAsStrtodReadsThem() {
        var random = SeededRandom(seed: 7)
        func read(_ text: String) -> Double? {
            var text = text
            return text.withUTF8 { CandleCSV.double($0) }
        }
        var direct = 0
        var texts = ["0", "-0", "0.0", "-0.000", ".5", "5.", "-", ".", "", "1e5", "+1", "1.2.3", "0x1p3", "9" + "0.1"]
        for _ in 0..<60000 {
            let length = 1 + random.int(below: 20)
            var text = random.int(below: 4) == 0 ? "-" : ""
            text += String((0..<length).map { _ in Character(String(random.int(below: 10))) })
            if random.int(below: 5) > 0 {
                let point = random.int(below: text.count + 1)
                text.insert(".", at: text.index(text.startIndex, offsetBy: point))
            }
            texts.append(text)
        }
        for text in texts {
            var copy = text
            if copy.withUTF8({ CandleCSV.exactDecimal($0) }) != nil { direct += 1 }
            let expected = Double(text).flatMap { $0.isFinite ? $0 : nil }
            #expect(read(text)?.bitPattern == expected?.bitPattern, "\(text)")
        }
        #expect(direct > 20000 && direct < texts.count - 10000, "\(direct) of \(texts.count) read directly")
    }

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

    /// A table built for its role computes only the series a snapshot reads there (the others stay empty), and the
    /// snapshots are the ones full tables give (and a replay market's load gives), every 3-minute close of two
    /// days.
    @Test func tablesForTheirRole_giveTheSameSnapshots() throws {
        let intraday = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_BTC_3m.csv")
        let context = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_BTC_4h.csv")
        typealias Table = ReplayMarketProvider.IndicatorTable
        let full = ReplayMarketProvider.SymbolSeries(
            intraday: Table(candles: intraday, interval: 180_000),
            context: Table(candles: context, interval: 14_400_000),
            funding: []
        )
        let roles = ReplayMarketProvider.SymbolSeries(
            intraday: Table(candles: intraday, interval: 180_000, role: .intraday),
            context: Table(candles: context, interval: 14_400_000, role: .context),
            funding: []
        )
        #expect(roles.intraday.atr14.isEmpty && roles.intraday.ema50.isEmpty && roles.context.rsi7.isEmpty)
        #expect(roles.intraday.rsi7 == full.intraday.rsi7 && roles.context.atr14 == full.context.atr14)
        // A replay market's load builds its tables for their roles: the same snapshots again.
        let market = try provider(symbols: ["BTC"])
        var compared = 0
        for index in stride(from: 1_000, to: 2_000, by: 1) {
            let now = intraday[index].openTime + 180_000
            let expected = ReplayMarketProvider.snapshot(symbol: "BTC", series: full, now: now)
            #expect(ReplayMarketProvider.snapshot(symbol: "BTC", series: roles, now: now) == expected)
            let loaded = market.snapshot(symbol: "BTC", now: now)
            #expect(loaded?.context == expected?.context && loaded?.intraday == expected?.intraday)
            if expected != nil { compared += 1 }
        }
        #expect(compared == 1_000)
    }

    /// The last closed candle, found where the time says on gapless candles and searched otherwise, is the one a
    /// linear scan finds: before the first close, at and one millisecond around every close, inside and after
    /// gaps, past the end, and on a table whose interval is not the spacing of its candles.
    @Test(arguments: [60_000 as Int64, 180_000])
    func lastClosedIndex_matchesALinearScan(interval: Int64) {
        let start: Int64 = 1_700_000_000_000
        // Gapless for 40 candles, then gaps of 1, 2 and 7 missing candles, then regular again.
        var times = (0..<40).map { start + Int64($0) * 60_000 }
        for skip in [2, 3, 8] { times.append(times[times.count - 1] + Int64(skip) * 60_000) }
        times += (1...20).map { times[times.count - 1] + Int64($0) * 60_000 }
        let candles = times.map { Candle(openTime: $0, open: 1, high: 1, low: 1, close: 1, volume: 1) }
        let table = ReplayMarketProvider.IndicatorTable(candles: candles, interval: interval)
        let gapless = ReplayMarketProvider.IndicatorTable(candles: Array(candles.prefix(40)), interval: interval)
        var probes: [Int64] = [.min / 2, start - 1, start, start + interval - 1]
        for time in times { probes += [time + interval - 1, time + interval, time + interval + 1, time + 30_000] }
        probes += [times[times.count - 1] + 10 * interval, .max / 2]
        var found = 0
        for probe in probes {
            for (table, count) in [(table, candles.count), (gapless, 40)] {
                let scanned = (0..<count).last { candles[$0].openTime + interval <= probe }
                #expect(table.lastClosedIndex(at: probe) == scanned, "at \(probe), interval \(interval)")
                if scanned != nil { found += 1 }
            }
        }
        #expect(found > 100)
        #expect(ReplayMarketProvider.IndicatorTable(candles: [], interval: interval).lastClosedIndex(at: start) == nil)
    }

    /// The next close after a time is the earliest across symbols, nil past the end of every series.
    @Test func replay_nextCloseIsTheEarliestAcrossSymbols() throws {
        let market = try provider(symbols: ["BTC", "ETH"])
        let btc = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_BTC_3m.csv")
        let eth = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_ETH_3m.csv")
        let interval: Int64 = 180_000
        for now in [btc[10].openTime, btc[10].openTime + interval, btc[500].openTime + 1, eth[0].openTime - 1] {
            let closes = (btc + eth).map { $0.openTime + interval }.filter { $0 > now }
            #expect(market.nextClose(after: now) == closes.min())
        }
        let end = max(btc[btc.count - 1].openTime, eth[eth.count - 1].openTime) + interval
        #expect(market.nextClose(after: end) == nil)
    }

    /// Filling an empty set of marks takes the other's as they are, but only for the symbols it prices (funding
    /// and times of an unpriced symbol are left out, as when merging); filling a non-empty set keeps its own.
    @Test func marks_fillKeepsOnlyPricedSymbols() {
        var empty = MarketMarks()
        empty.fill(from: .init(prices: ["BTC": 2], funding: ["BTC": 0.1], asOf: ["BTC": 5]))
        #expect(empty == MarketMarks(prices: ["BTC": 2], funding: ["BTC": 0.1], asOf: ["BTC": 5]))
        var partial = MarketMarks()
        partial.fill(from: .init(prices: ["BTC": 2], funding: ["BTC": 0.1, "ETH": 0.2], asOf: ["BTC": 5, "SOL": 6]))
        #expect(partial == MarketMarks(prices: ["BTC": 2], funding: ["BTC": 0.1], asOf: ["BTC": 5]))
        var merged = MarketMarks(prices: ["BTC": 1], funding: [:], asOf: ["BTC": 4])
        merged.fill(from: .init(prices: ["BTC": 2, "ETH": 3], funding: ["BTC": 0.1, "ETH": 0.2], asOf: ["BTC": 5]))
        #expect(merged == MarketMarks(prices: ["BTC": 1, "ETH": 3], funding: ["ETH": 0.2], asOf: ["BTC": 4]))
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

    /// The marks the replay market answers, tick after tick (its previous answer changed in place), are each time
    /// the last closed candle's close and close time and the funding rate in force at that close — forward, back
    /// before the first close (no marks), and forward again.
    @Test func replay_marksAreTheLastClosedCandlesAtEveryTick() async throws {
        let market = try provider(symbols: ["BTC", "ETH"])
        let interval: Int64 = 180_000
        var candles: [String: [Candle]] = [:]
        var funding: [String: [(time: Int64, rate: Double)]] = [:]
        for symbol in ["BTC", "ETH"] {
            candles[symbol] = try CandleCSV.load(path: "\(Self.dataDirectory)/hyperliquid_\(symbol)_3m.csv")
            funding[symbol] = try FundingCSV.load(path: "\(Self.dataDirectory)/hyperliquid_\(symbol)_funding_1h.csv")
        }
        let start = try #require(candles["BTC"]?.first).openTime
        let forward = (0..<400).map { start + Int64($0) * 61_000 }
        var checked = 0
        for now in forward + [start - 1, start + interval - 1] + forward {
            var expected = MarketMarks()
            for symbol in ["BTC", "ETH"] {
                guard let last = candles[symbol]?.last(where: { $0.openTime + interval <= now }) else { continue }
                expected.prices[symbol] = last.close
                expected.asOf[symbol] = last.openTime + interval
                expected.funding[symbol] = funding[symbol]?.last { $0.time <= last.openTime + interval }?.rate
            }
            let marks = try await market.marks(now: now)
            #expect(marks == expected, "at \(now)")
            if !expected.prices.isEmpty { checked += 1 }
            if now < start + interval { #expect(marks.prices.isEmpty) }
        }
        #expect(checked > 700)
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

    /// A long file (here from 1,000 bytes on) is parsed in pieces on every core: the same candles as one pass (CRLF and blank lines
    /// included), and a bad row or two rows out of order anywhere — inside a piece or where two meet — fail
    /// with the error and line number one pass gives. Several files load at once; the first failing one in
    /// order is named.
    @Test func longFiles_parseInPieces_likeOnePass() throws {
        let scratch = try TestPaths.makeScratch("csv-pieces")
        var lines = [CandleCSV.header]
        var time: Int64 = 1_700_000_000_000
        while lines.count < 4000 {
            let price = 30_000 + Double(lines.count % 977) * 0.5
            lines.append("\(time),\(price),\(price + 1.25),\(price - 0.75),\(price + 0.5),\(Double(lines.count) / 8)")
            time += 60_000
            if lines.count % 1000 == 0 { lines.append("") }
        }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        let path = scratch.appendingPathComponent("long.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let whole = try CandleCSV.parse(text, path: path)
        #expect(whole.count > 3900)
        #expect(try CandleCSV.load(paths: [path], piecewise: 1000) == [whole])
        #expect(try CandleCSV.load(path: path) == whole)

        // A malformed value, and a row repeated (out of order), inside pieces, each at its line.
        for (eighth, malformed) in [(1, true), (2, false), (4, true), (5, false), (7, true), (7, false)] {
            var broken = lines
            var line = broken.count * eighth / 8
            if broken[line].isEmpty { line += 1 }
            if malformed {
                broken[line] = broken[line].replacingOccurrences(of: ",", with: ",x")
            } else {
                broken[line] = broken[line - 2].isEmpty ? broken[line - 3] : broken[line - 2]
            }
            let badPath = scratch.appendingPathComponent("bad-\(eighth).csv").path
            try (broken.joined(separator: "\n") + "\n").write(toFile: badPath, atomically: true, encoding: .utf8)
            let reason = malformed ? "malformed row" : "rows are not in increasing time order"
            #expect(throws: CandleCSV.Failure(path: badPath, line: line + 1, reason: reason)) {
                try CandleCSV.load(paths: [badPath], piecewise: 1000)
            }
        }
        // Rows out of order exactly where pieces meet: each piece is in order by itself.
        let bytes = Array(text.utf8)
        let boundary = try #require((bytes.count / 8..<bytes.count).first { bytes[$0] == UInt8(ascii: "\n") })
        let lineAfter = bytes[..<boundary].filter { $0 == UInt8(ascii: "\n") }.count + 1
        var swapped = lines
        swapped[lineAfter] = lines[1]
        let swappedPath = scratch.appendingPathComponent("swapped.csv").path
        try (swapped.joined(separator: "\r\n") + "\r\n").write(toFile: swappedPath, atomically: true, encoding: .utf8)
        #expect(
            throws: CandleCSV.Failure(
                path: swappedPath,
                line: lineAfter + 1,
                reason: "rows are not in increasing time order"
            )
        ) {
            try CandleCSV.load(paths: [swappedPath], piecewise: 1000)
        }

        let missing = scratch.appendingPathComponent("missing.csv").path
        let loaded = try CandleCSV.load(paths: [path, path], piecewise: 1000)
        #expect(loaded == [whole, whole])
        #expect(
            throws: CandleCSV.Failure(
                path: swappedPath,
                line: lineAfter + 1,
                reason: "rows are not in increasing time order"
            )
        ) {
            try CandleCSV.load(paths: [path, swappedPath, missing], piecewise: 1000)
        }
        #expect(throws: CandleCSV.Failure(path: missing, line: 0, reason: "cannot read the file")) {
            try CandleCSV.load(paths: [path, missing, swappedPath], piecewise: 1000)
        }
    }
}
