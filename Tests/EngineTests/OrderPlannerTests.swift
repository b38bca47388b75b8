import Testing

@testable import ArenaCore

@Suite("Client order ids")
struct OrderPlannerTests {
    /// A cloid is `0x` and the first 16 bytes of sha256("trader|cycle|symbol|leg"), the same on every run and
    /// machine (a restarted cycle finds its orders by them): values from `sha256sum`, a non-ASCII trader
    /// included (its UTF-8 bytes are hashed).
    @Test func cloid_isTheTruncatedDigestOfItsParts() {
        #expect(
            OrderPlanner.cloid(trader: "llm-1", cycle: 7, symbol: "BTC", leg: "entry")
                == "0x19bab49d83fe347e4bd5b3cf64a22008"
        )
        #expect(
            OrderPlanner.cloid(trader: "trader-é", cycle: 12, symbol: "SOL", leg: "stop")
                == "0xcb94ce249c8379165598a8719864fbf4"
        )
        // The cycle's text as `String(cycle)` writes it, at both ends of its range; a long trader id.
        #expect(
            OrderPlanner.cloid(trader: "trader-ü", cycle: -3, symbol: "ETH", leg: "stop")
                == "0xfcffe550a202638a6d518d4e0aa45ed7"
        )
        #expect(
            OrderPlanner.cloid(
                trader: String(repeating: "a", count: 40),
                cycle: .max,
                symbol: "kPEPE",
                leg: "take_profit"
            )
                == "0x037e2813ff872c85052f4f0d067e52d3"
        )
    }
}
