import ArenaCore
import Foundation
import Shared
import Testing

/// A market snapshot's hand-written journal bytes are exactly what `JSONEncoder` writes from its `Encodable`
/// conformance (sorted keys, unescaped slashes), for random snapshots with every optional present or absent and
/// the awkward numbers.
@Suite struct MarketSnapshotJournalTests {
    static func foundation<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    @Test func randomSnapshots_matchJSONEncoder() throws {
        var random = SeededRandom(seed: 17)
        let awkward: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e-7, 123_456.789, 1e15, 1e16, 1e21, -2.5e-300, .leastNonzeroMagnitude,
        ]
        func number() -> Double {
            random.int(below: 4) == 0
                ? awkward[random.int(below: awkward.count)]
                : (Double(random.next() % 2_000_000_000) - 1e9) / Double(1 + random.int(below: 100_000))
        }
        func series(_ count: Int) -> [Double] { (0..<count).map { _ in number() } }
        let encoder = SortedJSONEncoder()
        for round in 0..<300 {
            var symbols: [String: SymbolSnapshot] = [:]
            for name in ["BTC", "ETH", "SOL", "kPEPE", "A/B \"q\"", "Ü"].prefix(random.int(below: 7)) {
                symbols[name] = SymbolSnapshot(
                    symbol: name,
                    asOf: Int64(random.next() % 2_000_000_000_000) - (round == 7 ? 5_000 : 0),
                    price: number(),
                    markPrice: number(),
                    fundingRate: random.int(below: 2) == 0 ? nil : number(),
                    openInterest: random.int(below: 2) == 0 ? nil : number(),
                    ema20: number(),
                    macd: number(),
                    rsi7: number(),
                    intraday: .init(
                        prices: series(random.int(below: 12)),
                        ema20: series(10),
                        macd: series(random.int(below: 3)),
                        rsi7: series(10),
                        rsi14: series(10)
                    ),
                    context: .init(
                        ema20: number(),
                        ema50: number(),
                        atr3: number(),
                        atr14: number(),
                        volume: number(),
                        averageVolume: number(),
                        macd: series(10),
                        rsi14: series(random.int(below: 11))
                    )
                )
            }
            let snapshot = MarketSnapshot(takenAt: Int64(random.next() % 1_000_000_000_000), symbols: symbols)
            let expected = try Self.foundation(snapshot)
            #expect(try encoder.encode(snapshot) == expected)
            // And reads back as it was, as `JSONDecoder` reads it.
            #expect(try MarketSnapshot.read(from: expected) == snapshot)
            // Inside a record-like container too (the path the journal takes).
            #expect(try encoder.encode(["market": snapshot]) == (try Self.foundation(["market": snapshot])))
        }
    }

    @Test func nonFiniteNumbers_areRefusedAsJSONEncoderRefusesThem() throws {
        let bad = SymbolSnapshot(
            symbol: "BTC",
            asOf: 1,
            price: .nan,
            markPrice: 1,
            ema20: 1,
            macd: 1,
            rsi7: 1,
            intraday: .init(prices: [], ema20: [], macd: [], rsi7: [], rsi14: []),
            context: .init(ema20: 1, ema50: 1, atr3: 1, atr14: 1, volume: 1, averageVolume: 1, macd: [], rsi14: [])
        )
        let snapshot = MarketSnapshot(takenAt: 1, symbols: ["BTC": bad])
        #expect(throws: (any Error).self) { try Self.foundation(snapshot) }
        #expect(throws: (any Error).self) { try SortedJSONEncoder().encode(snapshot) }
    }
}
