import ArenaTestSupport
import Foundation
import Testing

/// The books balance, read from what a real engine exported: in every generation and for every trader, equity is
/// the inception capital (rebalance flows included) plus the realized PnL net of fees and funding plus the
/// unrealized PnL, to the cent; the leaderboard, the newest account-totals row and the positions document show
/// the same equity and the same unrealized PnL; every trade's net PnL is its gross less commissions and funding.
@Suite("The books balance in every exported generation (real engine)", .serialized)
struct BooksTests {
    typealias Object = [String: Any]

    static func read(_ directory: URL, _ name: String) throws -> Object {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? Object, "\(name) is not an object")
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    @Test func everyGeneration_balancesToTheCent() async throws {
        let root = try BinaryTests.scratchConfig()
        // A fast replay: positions open and close, stops fire, funding is paid, many generations are exported.
        let engine = try BinaryTests.startEngine(
            root,
            environment: ["ARENA_CLOCK_SPEED": "6000", "ARENA_LOG_LEVEL": "error"]
        )
        let generations = root.appendingPathComponent("mcp-data/generations")
        func published() -> [URL] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: generations.path)) ?? []
            return names.compactMap(Int.init).sorted().map { generations.appendingPathComponent(String($0)) }
        }
        for _ in 0..<600 where published().count < 12 {
            try await Task.sleep(for: .milliseconds(50))
        }
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationStatus == 0)

        let all = published()
        #expect(all.count >= 10, "only \(all.count) generations")
        var checked = 0
        var tradesChecked = 0
        var sawPositions = false
        for directory in all {
            let leaderboard = try Self.read(directory, "leaderboard.json")["leaderboard"] as? [Object] ?? []
            let totals = try Self.read(directory, "account-totals.json")["accountTotals"] as? [Object] ?? []
            let positions = try Self.read(directory, "positions.json")["accountTotals"] as? [Object] ?? []
            let inception =
                try Self.read(directory, "since-inception-values.json")["sinceInceptionValues"]
                as? [Object] ?? []
            let trades = try Self.read(directory, "trades.json")["trades"] as? [Object] ?? []
            let name = directory.lastPathComponent
            for entry in leaderboard {
                let id = try #require(entry["id"] as? String)
                let equity = try #require(Self.number(entry["equity"]))
                let newest = try #require(
                    totals.filter { $0["model_id"] as? String == id }
                        .max {
                            (Self.number($0["since_inception_hourly_marker"]) ?? 0)
                                < (Self.number($1["since_inception_hourly_marker"]) ?? 0)
                        },
                    "generation \(name): no account-totals row for \(id)"
                )
                let rowEquity = try #require(Self.number(newest["dollar_equity"]))
                let realized = try #require(Self.number(newest["realized_pnl"]))
                let unrealized = try #require(Self.number(newest["total_unrealized_pnl"]))
                let capital = try #require(
                    Self.number(inception.first { $0["model_id"] as? String == id }?["nav_since_inception"])
                )
                let open =
                    (positions.first { $0["model_id"] as? String == id }?["positions"] as? [String: Object])
                    ?? [:]
                let openUnrealized = open.values.reduce(0) { $0 + (Self.number($1["unrealized_pnl"]) ?? 0) }
                let rowPositions = newest["positions"] as? [String: Object] ?? [:]
                let rowUnrealized = rowPositions.values.reduce(0) { $0 + (Self.number($1["unrealized_pnl"]) ?? 0) }
                sawPositions = sawPositions || !open.isEmpty
                let context = "generation \(name), \(id)"
                #expect(
                    abs(rowEquity - equity) < 0.01,
                    "\(context): account-totals \(rowEquity) vs leaderboard \(equity)"
                )
                #expect(
                    abs(unrealized - openUnrealized) < 0.01,
                    "\(context): \(unrealized) vs positions \(openUnrealized)"
                )
                #expect(abs(unrealized - rowUnrealized) < 0.01, "\(context): \(unrealized) vs its own positions")
                #expect(Set(rowPositions.keys) == Set(open.keys), "\(context)")
                #expect(
                    abs(equity - (capital + realized + unrealized)) < 0.01,
                    "\(context): equity \(equity) ≠ capital \(capital) + realized \(realized) + unrealized \(unrealized)"
                )
                checked += 1
            }
            for trade in trades {
                let gross = try #require(Self.number(trade["realized_gross_pnl"]))
                let net = try #require(Self.number(trade["realized_net_pnl"]))
                let fees = try #require(Self.number(trade["total_commission_dollars"]))
                let funding = try #require(Self.number(trade["funding_dollars"]))
                #expect(abs(net - (gross - fees - funding)) < 1e-6, "generation \(name): \(trade["id"] ?? "")")
                tradesChecked += 1
            }
        }
        #expect(checked >= 20)
        #expect(tradesChecked > 0, "no trade was closed in the run")
        #expect(sawPositions)
    }
}
