import ArenaCore
import Foundation
import Shared

/// Live market data from Hyperliquid's `/info`: `metaAndAssetCtxs` (mark, mid, oracle, funding, open interest,
/// `szDecimals`, `maxLeverage`) and `candleSnapshot` for the intraday and context intervals, turned into the same
/// snapshot the replay market gives (indicators from the same code). Contexts are cached for `contextTTL`, and
/// candles until the next candle of their interval closes, so a cycle costs few requests; fetches run
/// concurrently (at most `concurrency` at once) under the per-IP weight budget. A snapshot's `asOf` is the
/// older of the context fetch and the candles' currency, so stale data fails closed in the cycle.
package actor HyperliquidMarketProvider: MarketProvider {
    package nonisolated let id: String
    package nonisolated let symbols: [String]
    package let api: HyperliquidAPI
    package let intraday: CandleInterval
    package let context: CandleInterval
    package let contextTTL: Int64
    package let concurrency: Int
    /// Appends the closed candles fetched to the replay market's files (`record_dir`), when set.
    package let recorder: CandleRecorder?
    /// Candles fetched per series (the indicators need their warm-up).
    package static let candleCount = 120

    package struct AssetContext: Sendable, Equatable {
        package var index: Int
        package var szDecimals: Int
        package var maxLeverage: Int
        package var markPrice: Double
        package var midPrice: Double?
        package var oraclePrice: Double
        package var funding: Double
        package var openInterest: Double
    }

    private var contexts: [String: AssetContext] = [:]
    private var contextsFetchedAt: Int64?
    private var candles: [String: (fetchedAt: Int64, candles: [Candle])] = [:]

    package init(
        id: String,
        symbols: [String],
        api: HyperliquidAPI,
        intraday: CandleInterval,
        context: CandleInterval,
        contextTTL: Duration = .seconds(5),
        concurrency: Int = 4,
        recorder: CandleRecorder? = nil
    ) {
        self.id = id
        self.symbols = symbols
        self.api = api
        self.intraday = intraday
        self.context = context
        self.contextTTL = contextTTL.milliseconds
        self.concurrency = concurrency
        self.recorder = recorder
    }

    /// Mark, funding, open interest and asset rules per coin (refreshed when older than `contextTTL`).
    package func assetContexts(now: Int64) async throws -> [String: AssetContext] {
        if let fetched = contextsFetchedAt, now - fetched < contextTTL, !contexts.isEmpty { return contexts }
        let response = try await api.info(["type": "metaAndAssetCtxs"])
        guard let pair = response as? [Any], pair.count == 2, let meta = pair[0] as? [String: Any],
            let universe = meta["universe"] as? [[String: Any]], let ctxs = pair[1] as? [[String: Any]],
            universe.count == ctxs.count
        else { throw HyperliquidError.malformed("metaAndAssetCtxs is not [meta, contexts] of equal length") }
        var table: [String: AssetContext] = [:]
        for (index, asset) in universe.enumerated() {
            guard let name = asset["name"] as? String, asset["isDelisted"] as? Bool != true else { continue }
            let ctx = ctxs[index]
            guard let mark = ctx.decimal("markPx"), let oracle = ctx.decimal("oraclePx") else { continue }
            table[name] = AssetContext(
                index: index,
                szDecimals: asset["szDecimals"] as? Int ?? 0,
                maxLeverage: asset["maxLeverage"] as? Int ?? 1,
                markPrice: mark,
                midPrice: ctx.decimal("midPx"),
                oraclePrice: oracle,
                funding: ctx.decimal("funding") ?? 0,
                openInterest: ctx.decimal("openInterest") ?? 0
            )
        }
        contexts = table
        contextsFetchedAt = now
        return table
    }

    package func marks(now: Int64) async throws -> MarketMarks {
        let table = try await assetContexts(now: now)
        let fetchedAt = contextsFetchedAt ?? now
        var marks = MarketMarks()
        for symbol in symbols {
            guard let asset = table[symbol] else { continue }
            marks.prices[symbol] = asset.markPrice
            marks.funding[symbol] = asset.funding
            marks.asOf[symbol] = fetchedAt
        }
        return marks
    }

    package func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
        let table = try await assetContexts(now: now)
        let fetchedAt = contextsFetchedAt ?? now
        // Fetch what is due, a few at a time.
        var due: [(String, CandleInterval)] = []
        for symbol in requested {
            for interval in [intraday, context] where isDue(symbol, interval, now: now) {
                due.append((symbol, interval))
            }
        }
        var index = 0
        while index < due.count {
            let batch = due[index..<min(due.count, index + concurrency)]
            index += batch.count
            let fetched = try await withThrowingTaskGroup(of: (String, [Candle]).self) { group in
                for (symbol, interval) in batch {
                    group.addTask { [api] in
                        (Self.key(symbol, interval), try await Self.fetchCandles(api, symbol, interval, now: now))
                    }
                }
                var results: [(String, [Candle])] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (key, series) in fetched { candles[key] = (now, series) }
            if let recorder {
                for (symbol, interval) in batch {
                    guard let series = candles[Self.key(symbol, interval)]?.candles else { continue }
                    await recorder.record(symbol: symbol, interval: interval, candles: series, now: now)
                }
            }
        }
        var result: [String: SymbolSnapshot] = [:]
        for symbol in requested {
            guard let asset = table[symbol], let intradayCandles = candles[Self.key(symbol, intraday)]?.candles,
                let contextCandles = candles[Self.key(symbol, context)]?.candles
            else { continue }
            let series = ReplayMarketProvider.SymbolSeries(
                intraday: .init(candles: intradayCandles, interval: intraday.milliseconds, role: .intraday),
                context: .init(candles: contextCandles, interval: context.milliseconds, role: .context),
                funding: []
            )
            guard var snapshot = ReplayMarketProvider.snapshot(symbol: symbol, series: series, now: now) else {
                continue
            }
            // The candles are current until the next one should have closed; the contexts as of their fetch.
            snapshot.asOf = min(fetchedAt, snapshot.asOf + intraday.milliseconds)
            snapshot.markPrice = asset.markPrice
            snapshot.price = asset.midPrice ?? asset.markPrice
            snapshot.fundingRate = asset.funding
            snapshot.openInterest = asset.openInterest
            result[symbol] = snapshot
        }
        return MarketSnapshot(takenAt: now, symbols: result)
    }

    /// Asset rules for order sizing: index, size decimals, maximum leverage.
    package func asset(_ symbol: String, now: Int64) async throws -> AssetContext {
        guard let asset = try await assetContexts(now: now)[symbol] else {
            throw HyperliquidError.malformed("\(symbol) is not listed")
        }
        return asset
    }

    private static func key(_ symbol: String, _ interval: CandleInterval) -> String { "\(symbol)/\(interval.name)" }

    /// A series is fetched again once a newer candle should have closed since the last fetch.
    private func isDue(_ symbol: String, _ interval: CandleInterval, now: Int64) -> Bool {
        guard let entry = candles[Self.key(symbol, interval)] else { return true }
        let lastClose = (entry.candles.last?.openTime ?? 0) + interval.milliseconds
        return now >= lastClose + interval.milliseconds && now > entry.fetchedAt
    }

    private static func fetchCandles(
        _ api: HyperliquidAPI,
        _ symbol: String,
        _ interval: CandleInterval,
        now: Int64
    )
        async throws -> [Candle]
    {
        let start = now - Int64(candleCount + 1) * interval.milliseconds
        let response = try await api.info([
            "type": "candleSnapshot",
            "req": ["coin": symbol, "interval": interval.name, "startTime": start, "endTime": now],
        ])
        guard let rows = response as? [[String: Any]] else { throw HyperliquidError.malformed("candleSnapshot") }
        let candles = rows.compactMap { row -> Candle? in
            guard let open = (row["t"] as? NSNumber)?.int64Value, let o = row.decimal("o"), let h = row.decimal("h"),
                let l = row.decimal("l"), let c = row.decimal("c"), let v = row.decimal("v")
            else { return nil }
            return Candle(openTime: open, open: o, high: h, low: l, close: c, volume: v)
        }.sorted { $0.openTime < $1.openTime }
        // The newest row may be the candle still forming; the replay logic shows only closed ones.
        return candles
    }
}

/// Hot standby: the first member whose snapshot has every symbol fresh answers; the next one is used when it
/// fails or goes stale.
package struct StandbyMarketProvider: MarketProvider {
    package let id: String
    package let members: [any MarketProvider]
    package let maxStaleness: Int64

    package var symbols: [String] { members.first?.symbols ?? [] }

    package func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
        var lastError: (any Error)?
        for member in members {
            do {
                let snapshot = try await member.snapshot(symbols: requested, now: now)
                try snapshot.validate(symbols: requested, now: now, maxStaleness: maxStaleness)
                return snapshot
            } catch {
                lastError = error
            }
        }
        throw lastError ?? MarketDataError.missing(symbols: requested)
    }

    /// The marks of the first member whose marks are all fresh, by the same rule as `snapshot`: a stale member
    /// never marks the paper venue (its positions would be valued, and its triggers fired, at old prices).
    package func marks(now: Int64) async throws -> MarketMarks {
        var lastError: (any Error)?
        for member in members {
            do {
                let marks = try await member.marks(now: now)
                if marks.isFresh(symbols: member.symbols, now: now, maxStaleness: maxStaleness) { return marks }
                lastError = MarketDataError.unavailable("\(member.id): marks older than \(maxStaleness / 1000) s")
            } catch {
                lastError = error
            }
        }
        throw lastError ?? MarketDataError.missing(symbols: symbols)
    }

    package init(id: String, members: [any MarketProvider], maxStaleness: Int64) {
        self.id = id
        self.members = members
        self.maxStaleness = maxStaleness
    }
}
