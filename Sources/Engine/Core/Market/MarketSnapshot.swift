/// What a trader sees of one symbol at one moment: every value its prompt is built from.
/// Series are ordered oldest to newest. Recorded in the journal as is, so a cycle can be replayed exactly.
package struct SymbolSnapshot: Sendable, Equatable, Codable {
    package var symbol: String
    /// Close time of the newest closed intraday candle (Unix ms); nothing later is visible.
    package var asOf: Int64
    package var price: Double
    package var markPrice: Double
    package var fundingRate: Double?
    package var openInterest: Double?
    package var ema20: Double
    package var macd: Double
    package var rsi7: Double
    package var intraday: Series
    package var context: Context

    package struct Series: Sendable, Equatable, Codable {
        package var prices: [Double]
        package var ema20: [Double]
        package var macd: [Double]
        package var rsi7: [Double]
        package var rsi14: [Double]

        package init(
            prices: [Double],
            ema20: [Double],
            macd: [Double],
            rsi7: [Double],
            rsi14: [Double]
        ) {
            self.prices = prices
            self.ema20 = ema20
            self.macd = macd
            self.rsi7 = rsi7
            self.rsi14 = rsi14
        }
    }

    package struct Context: Sendable, Equatable, Codable {
        package var ema20: Double
        package var ema50: Double
        package var atr3: Double
        package var atr14: Double
        package var volume: Double
        package var averageVolume: Double
        package var macd: [Double]
        package var rsi14: [Double]

        package init(
            ema20: Double,
            ema50: Double,
            atr3: Double,
            atr14: Double,
            volume: Double,
            averageVolume: Double,
            macd: [Double],
            rsi14: [Double]
        ) {
            self.ema20 = ema20
            self.ema50 = ema50
            self.atr3 = atr3
            self.atr14 = atr14
            self.volume = volume
            self.averageVolume = averageVolume
            self.macd = macd
            self.rsi14 = rsi14
        }
    }

    package init(
        symbol: String,
        asOf: Int64,
        price: Double,
        markPrice: Double,
        fundingRate: Double? = nil,
        openInterest: Double? = nil,
        ema20: Double,
        macd: Double,
        rsi7: Double,
        intraday: Series,
        context: Context
    ) {
        self.symbol = symbol
        self.asOf = asOf
        self.price = price
        self.markPrice = markPrice
        self.fundingRate = fundingRate
        self.openInterest = openInterest
        self.ema20 = ema20
        self.macd = macd
        self.rsi7 = rsi7
        self.intraday = intraday
        self.context = context
    }
}

/// Snapshots of every requested symbol, taken together.
package struct MarketSnapshot: Sendable, Equatable, Codable {
    package var takenAt: Int64
    package var symbols: [String: SymbolSnapshot]

    /// The oldest `asOf` across symbols: the age of the staleest data the trader would act on.
    package var oldestAsOf: Int64? { symbols.values.map(\.asOf).min() }

    package init(takenAt: Int64, symbols: [String: SymbolSnapshot]) {
        self.takenAt = takenAt
        self.symbols = symbols
    }
}

package enum MarketDataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A symbol has no data at this time (not in the provider, or before its first candle).
    case missing(symbols: [String])
    /// The newest data is older than allowed.
    case stale(symbol: String, ageMilliseconds: Int64, limitMilliseconds: Int64)
    case unavailable(String)

    package var description: String {
        switch self {
        case .missing(let symbols): "no market data for \(symbols.joined(separator: ", "))"
        case .stale(let symbol, let age, let limit): "\(symbol) data is \(age / 1000) s old (limit \(limit / 1000) s)"
        case .unavailable(let reason): "market data unavailable: \(reason)"
        }
    }
}

/// A source of market snapshots. Implementations never return data from the future of `now`.
package protocol MarketProvider: Sendable {
    var id: String { get }
    var symbols: [String] { get }
    func snapshot(symbols: [String], now: Int64) async throws -> MarketSnapshot
    /// Mark prices and funding rates only (what the paper venue needs every tick), each with the time it is as of.
    func marks(now: Int64) async throws -> MarketMarks
}

/// What a market says the price of each symbol is, cheaply: the mark, the funding rate in force, and the time the
/// mark is as of (so a consumer can apply the same staleness rule as to a snapshot).
package struct MarketMarks: Sendable, Equatable {
    package var prices: [String: Double]
    package var funding: [String: Double]
    package var asOf: [String: Int64]

    package init(prices: [String: Double] = [:], funding: [String: Double] = [:], asOf: [String: Int64] = [:]) {
        self.prices = prices
        self.funding = funding
        self.asOf = asOf
    }

    /// Every one of `symbols` has a mark at most `maxStaleness` old at `now`.
    package func isFresh(symbols: [String], now: Int64, maxStaleness: Int64) -> Bool {
        symbols.allSatisfy { symbol in
            prices[symbol] != nil && asOf[symbol].map { now - $0 <= maxStaleness } == true
        }
    }

    /// `other`'s marks for the symbols this one lacks.
    package mutating func fill(from other: MarketMarks) {
        // Into nothing (a venue with one market: every tick of a backtest) it is `other` itself, when all its
        // funding and times belong to symbols it prices; no tables built.
        if prices.isEmpty, funding.isEmpty, asOf.isEmpty,
            other.funding.keys.allSatisfy({ other.prices[$0] != nil }),
            other.asOf.keys.allSatisfy({ other.prices[$0] != nil })
        {
            self = other
            return
        }
        for (symbol, price) in other.prices where prices[symbol] == nil {
            prices[symbol] = price
            asOf[symbol] = other.asOf[symbol]
            if let rate = other.funding[symbol] { funding[symbol] = rate }
        }
    }
}

extension MarketProvider {
    package func marks(now: Int64) async throws -> MarketMarks {
        let snapshot = try await snapshot(symbols: symbols, now: now)
        return MarketMarks(
            prices: snapshot.symbols.mapValues(\.markPrice),
            funding: snapshot.symbols.compactMapValues(\.fundingRate),
            asOf: snapshot.symbols.mapValues(\.asOf)
        )
    }
}

extension MarketSnapshot {
    /// Fails closed when a symbol is missing or older than `maxStaleness`.
    package func validate(symbols requested: [String], now: Int64, maxStaleness: Int64) throws(MarketDataError) {
        let missing = requested.filter { self.symbols[$0] == nil }
        if !missing.isEmpty { throw .missing(symbols: missing) }
        for symbol in requested {
            guard let snapshot = self.symbols[symbol] else { continue }
            let age = now - snapshot.asOf
            if age > maxStaleness {
                throw .stale(symbol: symbol, ageMilliseconds: age, limitMilliseconds: maxStaleness)
            }
        }
    }
}
