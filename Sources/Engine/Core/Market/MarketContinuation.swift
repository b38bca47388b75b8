/// The series of a journaled market snapshot that were written as continuations of the previous snapshot in the
/// trader's journal (a backtest's journal: consecutive cycles see the same series moved on by a candle or not at
/// all). A continued series is written `{"append":[…],"shift":k}`: the previous record's same series (same symbol)
/// with its first k values dropped and these appended. "Previous" is the nearest earlier record of the trader
/// that has a market; the first record with a market in each journal file is written whole, so a file resolves on
/// its own and a reader that goes through a trader's files in order resolves every record.
package struct MarketContinuation: Sendable, Equatable {
    /// A snapshot's series, by where they stand in it.
    package enum Series: String, Sendable, CaseIterable {
        case prices, ema20, macd, rsi7, rsi14
        case contextMacd = "context.macd"
        case contextRSI14 = "context.rsi14"
    }

    /// Per symbol, the shift of each continued series (its `append` values stand in the snapshot meanwhile).
    package var shifts: [String: [Series: Int]] = [:]

    package init(shifts: [String: [Series: Int]] = [:]) {
        self.shifts = shifts
    }

    /// The shift `k` that writes `values` as `previous` without its first `k` values and a shorter tail appended,
    /// the smallest such (the most values shared); nil when they share none (written whole). Values compare by
    /// their bits, so the continuation reads back exactly.
    package static func shift(from previous: [Double], to values: [Double]) -> Int? {
        previous.withUnsafeBufferPointer { previous in
            values.withUnsafeBufferPointer { values in
                let count = previous.count
                // The first shift that keeps no more values than `values` has.
                var shift = max(0, count - values.count)
                while shift < count {
                    let kept = count - shift
                    var index = 0
                    while index < kept, previous[shift + index].bitPattern == values[index].bitPattern { index += 1 }
                    if index == kept { return shift }
                    shift += 1
                }
                return nil
            }
        }
    }

    package enum Failure: Error, Equatable, CustomStringConvertible {
        /// A continued series with no earlier record (or no such symbol in it) to continue.
        case nothingToContinue(symbol: String, series: String)
        /// A shift past the previous series' length.
        case shiftTooFar(symbol: String, series: String, shift: Int, count: Int)

        package var description: String {
            switch self {
            case .nothingToContinue(let symbol, let series):
                "market \(symbol) \(series) continues an earlier record's, and none before it in this journal has "
                    + "\(symbol) (read the trader's journal files in order, from the first line of a file)"
            case .shiftTooFar(let symbol, let series, let shift, let count):
                "market \(symbol) \(series) drops \(shift) values of an earlier record's \(count)"
            }
        }
    }
}

extension MarketSnapshot {
    /// The snapshot with its continued series made whole against `previous` (the nearest earlier snapshot of the
    /// trader's journal).
    package mutating func resolve(_ continuation: MarketContinuation, previous: MarketSnapshot?) throws {
        // In a fixed order: a failure names the same series every time.
        for symbol in continuation.shifts.keys.sorted() {
            guard let shifts = continuation.shifts[symbol], var snapshot = symbols[symbol],
                let first = MarketContinuation.Series.allCases.first(where: { shifts[$0] != nil })
            else { continue }
            // Looked up once per symbol: each lookup copied the earlier symbol's snapshot out of its table.
            guard let earlier = previous?.symbols[symbol] else {
                throw MarketContinuation.Failure.nothingToContinue(symbol: symbol, series: first.rawValue)
            }
            for series in MarketContinuation.Series.allCases {
                guard let shift = shifts[series] else { continue }
                let before = earlier[series]
                guard shift >= 0, shift < before.count else {
                    throw MarketContinuation.Failure.shiftTooFar(
                        symbol: symbol,
                        series: series.rawValue,
                        shift: shift,
                        count: before.count
                    )
                }
                snapshot[series] = Array(before[shift...]) + snapshot[series]
            }
            symbols[symbol] = snapshot
        }
    }
}

extension SymbolSnapshot {
    subscript(series: MarketContinuation.Series) -> [Double] {
        get {
            switch series {
            case .prices: intraday.prices
            case .ema20: intraday.ema20
            case .macd: intraday.macd
            case .rsi7: intraday.rsi7
            case .rsi14: intraday.rsi14
            case .contextMacd: context.macd
            case .contextRSI14: context.rsi14
            }
        }
        set {
            switch series {
            case .prices: intraday.prices = newValue
            case .ema20: intraday.ema20 = newValue
            case .macd: intraday.macd = newValue
            case .rsi7: intraday.rsi7 = newValue
            case .rsi14: intraday.rsi14 = newValue
            case .contextMacd: context.macd = newValue
            case .contextRSI14: context.rsi14 = newValue
            }
        }
    }
}

/// Resolves a trader's journal records in order (`CycleRecord.readLine`): each record's continued series against
/// the nearest earlier record with a market.
package struct MarketChain: Sendable {
    private var previous: MarketSnapshot?

    package init() {}

    /// `record` made whole (a record with continued series and nothing before it to continue throws).
    package mutating func resolve(_ record: inout CycleRecord, _ continuation: MarketContinuation?) throws {
        if let continuation, !continuation.shifts.isEmpty {
            try record.market?.resolve(continuation, previous: previous)
        }
        if let market = record.market { previous = market }
    }
}
