import ArenaCore
import Foundation
import Shared
import Synchronization

/// Plays bundled or user CSV candles against the clock. At time `now` it shows only candles whose close time
/// (`open + interval`) is not after `now`. Indicators are computed once over each whole file; each value depends
/// only on candles up to its own, so nothing from the future leaks into the past.
/// A class: every tick of a backtest hands it around (a struct of its tables was retained field by field each time).
package final class ReplayMarketProvider: MarketProvider {
    package let id: String
    package let symbols: [String]
    private let series: [String: SymbolSeries]
    /// `series` in the order of `symbols`: each tick of a backtest reads every one (no lookup by name).
    private let ordered: [SymbolSeries?]
    /// The last marks answered (`marks(now:)`).
    private let lastMarks = MarksMemo()

    private final class MarksMemo: Sendable {
        let value = Mutex(MarketMarks())
    }

    /// Points of each intraday series in a prompt (the Alpha Arena prompt showed 10).
    package static let seriesLength = 10

    /// Classes, not structs: a snapshot reads them every cycle, and a struct of arrays is copied (every array
    /// retained) at each read.
    package final class SymbolSeries: Sendable {
        package let intraday: IndicatorTable
        package let context: IndicatorTable
        package let funding: [(time: Int64, rate: Double)]
        /// For each intraday candle, the row of `funding` in force at its close (the last at or before it; -1 for
        /// none), found once in one walk instead of searched on every tick; empty without funding rows (the live
        /// market builds a series per snapshot, without them).
        private let fundingRows: [Int32]

        package init(intraday: IndicatorTable, context: IndicatorTable, funding: [(time: Int64, rate: Double)]) {
            self.intraday = intraday
            self.context = context
            self.funding = funding
            var rows: [Int32] = []
            rows.reserveCapacity(funding.isEmpty ? 0 : intraday.candles.count)
            var row = -1
            for candle in intraday.candles where !funding.isEmpty {
                while row + 1 < funding.count, funding[row + 1].time <= candle.openTime + intraday.interval { row += 1 }
                rows.append(Int32(row))
            }
            fundingRows = rows
        }

        /// The funding rate in force at the close of intraday candle `index`.
        func funding(atCloseOf index: Int) -> Double? {
            guard !fundingRows.isEmpty else { return nil }
            let row = Int(fundingRows[index])
            return row >= 0 ? funding[row].rate : nil
        }
    }

    /// A candle file with its indicators precomputed per row: every one, or those a snapshot reads from a table in
    /// its `Role` (the others left empty).
    package final class IndicatorTable: Sendable {
        /// What a snapshot reads a table for: the intraday series (EMA 20, MACD, RSI 7 and 14) or the longer-term
        /// context (EMA 20 and 50, MACD, RSI 14, ATR 3 and 14, average volume). A million-row intraday table
        /// computed the other four for nothing.
        package enum Role: Sendable {
            case intraday, context

            /// The series numbers (see `series`) a snapshot reads.
            var series: [Int] {
                switch self {
                case .intraday: [0, 2, 3, 4]
                case .context: [0, 1, 2, 4, 5, 6, 7]
                }
            }
        }

        package let interval: Int64
        package let candles: [Candle]
        package let ema20: [Double?]
        package let ema50: [Double?]
        package let macd: [Indicators.MACD?]
        package let rsi7: [Double?]
        package let rsi14: [Double?]
        package let atr3: [Double?]
        package let atr14: [Double?]
        package let volumeAverage: [Double?]

        /// One of the table's series, as computed on its own.
        private enum Series: Sendable {
            case values([Double?])
            case macd([Indicators.MACD?])

            var values: [Double?] {
                if case .values(let values) = self { return values }
                return []
            }

            var macd: [Indicators.MACD?] {
                if case .macd(let values) = self { return values }
                return []
            }
        }

        /// Every series, or those `role` reads.
        package convenience init(candles: [Candle], interval: Int64, role: Role? = nil) {
            let closes = candles.map(\.close)
            let wanted = role?.series ?? Array(0..<8)
            self.init(
                candles: candles,
                interval: interval,
                series: (0..<8).map { wanted.contains($0) ? Self.series($0, candles, closes) : .values([]) }
            )
        }

        private init(candles: [Candle], interval: Int64, series: [Series]) {
            self.interval = interval
            self.candles = candles
            ema20 = series[0].values
            ema50 = series[1].values
            macd = series[2].macd
            rsi7 = series[3].values
            rsi14 = series[4].values
            atr3 = series[5].values
            atr14 = series[6].values
            volumeAverage = series[7].values
        }

        /// The table's series number `index` (0–7, in the order of the properties).
        private static func series(_ index: Int, _ candles: [Candle], _ closes: [Double]) -> Series {
            switch index {
            case 0: .values(Indicators.ema(closes, period: 20))
            case 1: .values(Indicators.ema(closes, period: 50))
            case 2: .macd(Indicators.macd(closes))
            case 3: .values(Indicators.rsi(closes, period: 7))
            case 4: .values(Indicators.rsi(closes, period: 14))
            case 5: .values(Indicators.atr(candles, period: 3))
            case 6: .values(Indicators.atr(candles, period: 14))
            default: .values(Indicators.sma(candles.map(\.volume), period: 20))
            }
        }

        /// The tables of several candle files, the series each one's role reads computed on every core at once (a
        /// million 1-minute candles took 0.3 s one series after the other).
        static func tables(_ files: [(candles: [Candle], interval: Int64, role: Role)]) -> [IndicatorTable] {
            let closes = files.map { $0.candles.map(\.close) }
            let jobs = files.indices.flatMap { file in files[file].role.series.map { (file, $0) } }
            let computed = ParallelRuns.map(count: jobs.count, minimumPerRun: 1) { range in
                range.map { job in Self.series(jobs[job].1, files[jobs[job].0].candles, closes[jobs[job].0]) }
            }
            var series = Array(repeating: Array(repeating: Series.values([]), count: 8), count: files.count)
            for (job, (file, number)) in jobs.enumerated() { series[file][number] = computed[job] }
            return files.indices.map { file in
                IndicatorTable(candles: files[file].candles, interval: files[file].interval, series: series[file])
            }
        }

        /// When candle `index` closes.
        package func close(of index: Int) -> Int64 { candles[index].openTime + interval }

        /// Index of the newest candle closed at `now`, if any.
        package func lastClosedIndex(at now: Int64) -> Int? {
            // Candles without gaps (the usual case) put the answer where the time says: checked against its
            // neighbour, else searched. Every tick of a backtest asks this for every symbol.
            if let first = candles.first, interval > 0, now >= first.openTime + interval {
                let guess = (now - first.openTime - interval) / interval
                if guess < Int64(candles.count) {
                    let index = Int(guess)
                    if candles[index].openTime + interval <= now,
                        index + 1 == candles.count || candles[index + 1].openTime + interval > now
                    {
                        return index
                    }
                }
            }
            var low = 0
            var high = candles.count - 1
            var found: Int?
            while low <= high {
                let middle = (low + high) / 2
                if candles[middle].openTime + interval <= now {
                    found = middle
                    low = middle + 1
                } else {
                    high = middle - 1
                }
            }
            return found
        }
    }

    package enum LoadError: Error, CustomStringConvertible {
        case badInterval(String)
        case file(String)

        package var description: String {
            switch self {
            case .badInterval(let name): "'\(name)' is not a candle interval"
            case .file(let reason): reason
            }
        }
    }

    package init(id: String, symbols: [String], series: [String: SymbolSeries]) {
        self.id = id
        self.symbols = symbols
        self.series = series
        ordered = symbols.map { series[$0] }
    }

    /// Loads `hyperliquid_<SYMBOL>_<interval>.csv` (and `_funding_1h.csv` when present) from `directory`.
    package static func load(configuration: MarketConfiguration.Provider) throws -> ReplayMarketProvider {
        guard let directory = configuration.dataDirectory else { throw LoadError.file("data_dir is not set") }
        guard let intraday = CandleInterval(configuration.intradayInterval) else {
            throw LoadError.badInterval(configuration.intradayInterval)
        }
        guard let context = CandleInterval(configuration.contextInterval) else {
            throw LoadError.badInterval(configuration.contextInterval)
        }
        let symbols = configuration.symbols
        @Sendable func path(_ symbol: String, _ suffix: String) -> String {
            (directory as NSString).appendingPathComponent("hyperliquid_\(symbol)_\(suffix).csv")
        }
        // Every file parsed on every core at once, a long one in pieces (each symbol's two candle files are
        // independent; one after the other they were a tenth of a three-symbol backtest, and a million-row file
        // parsed whole held one core for 0.3 s); the first failure in symbol order is thrown (before any funding
        // file is read). Then the tables' indicator series, all on every core at once (computed inside the reading
        // above, a long file's series ran on one thread).
        let intervals = [intraday, context]
        let files = try CandleCSV.load(
            paths: (0..<symbols.count * 2).map { path(symbols[$0 / 2], intervals[$0 % 2].name) }
        )
        let tables = IndicatorTable.tables(
            files.enumerated().map { job, candles in
                (candles, intervals[job % 2].milliseconds, job % 2 == 0 ? .intraday : .context)
            }
        )
        var series: [String: SymbolSeries] = [:]
        for (position, symbol) in symbols.enumerated() {
            let fundingPath = path(symbol, "funding_1h")
            let funding =
                FileManager.default.fileExists(atPath: fundingPath) ? try FundingCSV.load(path: fundingPath) : []
            series[symbol] = SymbolSeries(
                intraday: tables[position * 2],
                context: tables[position * 2 + 1],
                funding: funding
            )
        }
        return ReplayMarketProvider(id: configuration.id, symbols: symbols, series: series)
    }

    package func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
        // At its size from the start: grown from empty, it was rehashed on the way, every cycle.
        var result = [String: SymbolSnapshot](minimumCapacity: requested.count)
        for symbol in requested {
            if let snapshot = self.snapshot(symbol: symbol, now: now) { result[symbol] = snapshot }
        }
        return MarketSnapshot(takenAt: now, symbols: result)
    }

    /// The snapshot of one symbol at `now`, or nil when there is not enough closed history yet.
    package func snapshot(symbol: String, now: Int64) -> SymbolSnapshot? {
        guard let series = series[symbol] else { return nil }
        return Self.snapshot(symbol: symbol, series: series, now: now)
    }

    /// The snapshot of one symbol's series at `now` (shared with the live Hyperliquid market, which builds the
    /// same series from the candles it fetches).
    package static func snapshot(symbol: String, series: SymbolSeries, now: Int64) -> SymbolSnapshot? {
        let table = series.intraday
        let contextTable = series.context
        guard let index = table.lastClosedIndex(at: now), let contextIndex = contextTable.lastClosedIndex(at: now)
        else { return nil }
        let window = max(0, index - Self.seriesLength + 1)...index
        let contextWindow = max(0, contextIndex - Self.seriesLength + 1)...contextIndex
        guard let ema20 = Self.complete(table.ema20, window),
            let rsi7 = Self.complete(table.rsi7, window),
            let rsi14 = Self.complete(table.rsi14, window),
            let macd = Self.complete(table.macd, window, \.macd),
            let contextMACD = Self.complete(contextTable.macd, contextWindow, \.macd),
            let contextRSI = Self.complete(contextTable.rsi14, contextWindow),
            let contextEMA20 = contextTable.ema20[contextIndex], let contextEMA50 = contextTable.ema50[contextIndex],
            let atr3 = contextTable.atr3[contextIndex], let atr14 = contextTable.atr14[contextIndex],
            let averageVolume = contextTable.volumeAverage[contextIndex],
            let currentEMA20 = ema20.last, let currentMACD = macd.last, let currentRSI7 = rsi7.last
        else { return nil }
        let candle = table.candles[index]
        let asOf = candle.openTime + table.interval
        let funding = series.funding(atCloseOf: index)
        return SymbolSnapshot(
            symbol: symbol,
            asOf: asOf,
            price: candle.close,
            markPrice: candle.close,
            fundingRate: funding,
            openInterest: nil,
            ema20: currentEMA20,
            macd: currentMACD,
            rsi7: currentRSI7,
            intraday: .init(
                prices: window.map { table.candles[$0].close },
                ema20: ema20,
                macd: macd,
                rsi7: rsi7,
                rsi14: rsi14
            ),
            context: .init(
                ema20: contextEMA20,
                ema50: contextEMA50,
                atr3: atr3,
                atr14: atr14,
                volume: contextTable.candles[contextIndex].volume,
                averageVolume: averageVolume,
                macd: contextMACD,
                rsi14: contextRSI
            )
        )
    }

    /// The last closed candle's close and the funding rate in force, without building a snapshot: the cheap
    /// per-tick path. A symbol has a mark from its first closed candle; nothing after `now` is ever read.
    package func marks(now: Int64) async throws -> MarketMarks { marks(at: now) }

    /// `marks(now:)` without suspending.
    package func marks(at now: Int64) -> MarketMarks {
        // Every tick of a backtest asks this: the previous answer's tables are changed where they lie (the same
        // symbols, new values; the tick that used them has let them go) instead of three new tables per tick.
        lastMarks.value.withLock { marks in
            for (symbol, series) in zip(symbols, ordered) {
                guard let series, let index = series.intraday.lastClosedIndex(at: now) else {
                    if marks.prices[symbol] != nil {
                        marks.prices[symbol] = nil
                        marks.asOf[symbol] = nil
                        marks.funding[symbol] = nil
                    }
                    continue
                }
                marks.prices[symbol] = series.intraday.candles[index].close
                marks.asOf[symbol] = series.intraday.close(of: index)
                marks.funding[symbol] = series.funding(atCloseOf: index)
            }
            return marks
        }
    }

    /// The first intraday candle close strictly after `now`, across symbols (the backtest's next market event).
    package func nextClose(after now: Int64) -> Int64? {
        var earliest: Int64?
        for series in ordered {
            guard let table = series?.intraday else { continue }
            let next = (table.lastClosedIndex(at: now) ?? -1) + 1
            guard next < table.candles.count else { continue }
            let close = table.close(of: next)
            earliest = min(earliest ?? close, close)
        }
        return earliest
    }

    /// The last intraday candle close at or before `time`, across symbols.
    package func lastClose(atOrBefore time: Int64) -> Int64? {
        ordered.compactMap { series in
            series.flatMap { series in series.intraday.lastClosedIndex(at: time).map(series.intraday.close(of:)) }
        }.max()
    }

    /// Symbols without a funding file (or with an empty one): nothing charges funding on them.
    package var symbolsWithoutFunding: [String] {
        symbols.filter { series[$0]?.funding.isEmpty ?? true }
    }

    /// Intraday candles of every symbol that close in `range` (for the backtest's progress and speed).
    package func candleCount(in range: ClosedRange<Int64>) -> Int {
        symbols.reduce(0) { total, symbol in
            guard let table = series[symbol]?.intraday else { return total }
            let first = (table.lastClosedIndex(at: range.lowerBound - 1) ?? -1) + 1
            let last = table.lastClosedIndex(at: range.upperBound) ?? -1
            return total + max(0, last - first + 1)
        }
    }

    /// The values of a column's window, or nil while any of them is still warming up.
    private static func complete(_ column: [Double?], _ window: ClosedRange<Int>) -> [Double]? {
        complete(column, window) { $0 }
    }

    private static func complete<Value>(
        _ column: [Value?],
        _ window: ClosedRange<Int>,
        _ number: (Value) -> Double
    ) -> [Double]? {
        var values: [Double] = []
        values.reserveCapacity(window.count)
        for index in window {
            guard let value = column[index] else { return nil }
            values.append(number(value))
        }
        return values
    }

    /// The first time at which every symbol has a full snapshot (the earliest useful replay start).
    package func earliestCompleteTime() -> Int64? {
        symbols.compactMap { symbol -> Int64? in
            guard let table = series[symbol]?.intraday else { return nil }
            return table.candles.indices.lazy.map { table.candles[$0].openTime + table.interval }
                .first { self.snapshot(symbol: symbol, now: $0) != nil }
        }.max()
    }

    /// The close time of the last candle common to every symbol.
    package func latestCompleteTime() -> Int64? {
        symbols.compactMap { series[$0]?.intraday }.map { ($0.candles.last?.openTime ?? 0) + $0.interval }.min()
    }
}
