/// What a trader sees of one symbol at one moment: every value its prompt is built from.
/// Series are ordered oldest to newest. Recorded in the journal as is, so a cycle can be replayed exactly.
struct SymbolSnapshot: Sendable, Equatable, Codable {
    var symbol: String
    /// Close time of the newest closed intraday candle (Unix ms); nothing later is visible.
    var asOf: Int64
    var price: Double
    var markPrice: Double
    var fundingRate: Double?
    var openInterest: Double?
    var ema20: Double
    var macd: Double
    var rsi7: Double
    var intraday: Series
    var context: Context

    struct Series: Sendable, Equatable, Codable {
        var prices: [Double]
        var ema20: [Double]
        var macd: [Double]
        var rsi7: [Double]
        var rsi14: [Double]
    }

    struct Context: Sendable, Equatable, Codable {
        var ema20: Double
        var ema50: Double
        var atr3: Double
        var atr14: Double
        var volume: Double
        var averageVolume: Double
        var macd: [Double]
        var rsi14: [Double]
    }
}

/// Snapshots of every requested symbol, taken together.
struct MarketSnapshot: Sendable, Equatable, Codable {
    var takenAt: Int64
    var symbols: [String: SymbolSnapshot]

    /// The oldest `asOf` across symbols: the age of the staleest data the trader would act on.
    var oldestAsOf: Int64? { symbols.values.map(\.asOf).min() }
}

enum MarketDataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A symbol has no data at this time (not in the provider, or before its first candle).
    case missing(symbols: [String])
    /// The newest data is older than allowed.
    case stale(symbol: String, ageMilliseconds: Int64, limitMilliseconds: Int64)
    case unavailable(String)

    var description: String {
        switch self {
        case .missing(let symbols): "no market data for \(symbols.joined(separator: ", "))"
        case .stale(let symbol, let age, let limit): "\(symbol) data is \(age / 1000) s old (limit \(limit / 1000) s)"
        case .unavailable(let reason): "market data unavailable: \(reason)"
        }
    }
}

/// A source of market snapshots. Implementations never return data from the future of `now`.
protocol MarketProvider: Sendable {
    var id: String { get }
    var symbols: [String] { get }
    func snapshot(symbols: [String], now: Int64) async throws -> MarketSnapshot
    /// Mark prices and funding rates only (what the paper venue needs every tick).
    func marks(now: Int64) async throws -> (prices: [String: Double], funding: [String: Double])
}

extension MarketProvider {
    func marks(now: Int64) async throws -> (prices: [String: Double], funding: [String: Double]) {
        let snapshot = try await snapshot(symbols: symbols, now: now)
        return (snapshot.symbols.mapValues(\.markPrice), snapshot.symbols.compactMapValues(\.fundingRate))
    }
}

extension MarketSnapshot {
    /// Fails closed when a symbol is missing or older than `maxStaleness`.
    func validate(symbols requested: [String], now: Int64, maxStaleness: Int64) throws(MarketDataError) {
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
