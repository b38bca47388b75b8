import ArenaCore
import Foundation
import Shared

/// Candle and funding history from Hyperliquid, for the replay market's files (`engine fetch-candles`):
/// `candleSnapshot` paged a window of at most `candlesPerRequest` candles at a time, `fundingHistory` paged by
/// the last time seen, every request under the per-IP weight budget and retried like every read.
package struct HyperliquidHistory: Sendable {
    package let api: HyperliquidAPI

    /// Candles one `candleSnapshot` answer holds at most.
    package static let candlesPerRequest = 5000
    /// Rates one `fundingHistory` answer holds at most.
    package static let fundingPerRequest = 500

    package init(api: HyperliquidAPI) {
        self.api = api
    }

    /// A run of missing candles: the open times of the first and last missing one.
    package struct Gap: Sendable, Equatable, CustomStringConvertible {
        package var first: Int64
        package var last: Int64
        package var count: Int

        package var description: String {
            "\(UTCTime.iso8601(first)) … \(UTCTime.iso8601(last)) (\(count) candle\(count == 1 ? "" : "s"))"
        }
    }

    /// The closed candles of `symbol` opened in `[from, to)` whose close is not after `to`, oldest first.
    /// `progress` gets the time reached after each page.
    package func candles(
        symbol: String,
        interval: CandleInterval,
        from: Int64,
        to: Int64,
        progress: (Int64) -> Void = { _ in }
    ) async throws -> [Candle] {
        let step = interval.milliseconds
        var start = from - ((from % step) + step) % step
        var result: [Candle] = []
        while start < to {
            let end = min(start + Int64(Self.candlesPerRequest) * step, to)
            let response = try await api.info(
                [
                    "type": "candleSnapshot",
                    "req": ["coin": symbol, "interval": interval.name, "startTime": start, "endTime": end - 1],
                ],
                extraWeight: Self.candlesPerRequest / 60
            )
            guard let rows = response as? [[String: Any]] else { throw HyperliquidError.malformed("candleSnapshot") }
            for row in rows {
                guard let open = (row["t"] as? NSNumber)?.int64Value else {
                    throw HyperliquidError.malformed("candleSnapshot: a row without its open time")
                }
                // Only this page's window, and only closed candles: the one forming at `to` is not history yet.
                guard open >= start, open < end, open + step <= to else { continue }
                guard let o = row.decimal("o"), let h = row.decimal("h"), let l = row.decimal("l"),
                    let c = row.decimal("c"), let v = row.decimal("v")
                else { throw HyperliquidError.malformed("candleSnapshot: a row without its prices") }
                result.append(Candle(openTime: open, open: o, high: h, low: l, close: c, volume: v))
            }
            progress(end)
            start = end
        }
        return Self.merge(existing: [], fetched: result)
    }

    /// The funding rates of `symbol` from `from` to `to`, oldest first.
    package func funding(
        symbol: String,
        from: Int64,
        to: Int64,
        progress: (Int64) -> Void = { _ in }
    ) async throws -> [(time: Int64, rate: Double)] {
        var start = from
        var result: [(time: Int64, rate: Double)] = []
        while start < to {
            let response = try await api.info(
                ["type": "fundingHistory", "coin": symbol, "startTime": start, "endTime": to],
                extraWeight: Self.fundingPerRequest / 20
            )
            guard let rows = response as? [[String: Any]] else { throw HyperliquidError.malformed("fundingHistory") }
            var newest: Int64?
            for row in rows {
                guard let time = (row["time"] as? NSNumber)?.int64Value, let rate = row.decimal("fundingRate") else {
                    throw HyperliquidError.malformed("fundingHistory: a row without its time or rate")
                }
                newest = max(newest ?? time, time)
                guard time >= start, time < to else { continue }
                result.append((time, rate))
            }
            // An empty page, or one that did not move forward, is the end of what there is.
            guard let newest, newest >= start else { break }
            progress(newest)
            start = newest + 1
        }
        return Self.mergeFunding(existing: [], fetched: result)
    }

    /// Both sets in time order, one candle per open time (a fetched candle replaces a stored one).
    package static func merge(existing: [Candle], fetched: [Candle]) -> [Candle] {
        var byTime: [Int64: Candle] = [:]
        for candle in existing { byTime[candle.openTime] = candle }
        for candle in fetched { byTime[candle.openTime] = candle }
        return byTime.values.sorted { $0.openTime < $1.openTime }
    }

    package static func mergeFunding(
        existing: [(time: Int64, rate: Double)],
        fetched: [(time: Int64, rate: Double)]
    ) -> [(time: Int64, rate: Double)] {
        var byTime: [Int64: Double] = [:]
        for row in existing { byTime[row.time] = row.rate }
        for row in fetched { byTime[row.time] = row.rate }
        return byTime.keys.sorted().map { ($0, byTime[$0] ?? 0) }
    }

    /// Runs of candles missing between the first and the last one.
    package static func gaps(_ candles: [Candle], interval: CandleInterval) -> [Gap] {
        let step = interval.milliseconds
        var gaps: [Gap] = []
        for (previous, next) in zip(candles, candles.dropFirst()) where next.openTime - previous.openTime > step {
            let missing = Int((next.openTime - previous.openTime) / step) - 1
            guard missing > 0 else { continue }
            gaps.append(Gap(first: previous.openTime + step, last: next.openTime - step, count: missing))
        }
        return gaps
    }
}
