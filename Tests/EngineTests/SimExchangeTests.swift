import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Paper exchange against hand-computed numbers")
struct SimExchangeTests {
    /// Taker 4.5 bps, maker 1.5 bps, 2 bps slippage; BTC max leverage 40 (maintenance 1.25 %).
    func ledger(cash: Double = 10_000) -> SimLedger {
        var ledger = SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2)
        ledger.openAccount(trader: "t1", capital: cash)
        ledger.updateMarket(prices: ["BTC": 100_000], funding: [:], now: 1_000)
        return ledger
    }

    func order(
        _ cloid: String,
        buy: Bool,
        size: Double,
        kind: OrderRequest.Kind = .marketIOC,
        reduceOnly: Bool = false,
        limit: Double? = nil,
        trigger: Double? = nil,
        leverage: Double = 5
    ) -> OrderRequest {
        OrderRequest(
            cloid: cloid,
            trader: "t1",
            symbol: "BTC",
            isBuy: buy,
            size: size,
            kind: kind,
            limitPrice: limit,
            triggerPrice: trigger,
            slippageBps: 50,
            isReduceOnly: reduceOnly,
            leverage: leverage,
            plan: .init(
                stopLoss: 98_000,
                takeProfit: 103_000,
                confidence: 0.7,
                riskUSD: 200,
                invalidationCondition: "x"
            )
        )
    }

    static func near(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool { abs(a - b) <= tolerance }

    /// The paper venue's state file is written as `JSONEncoder` with `.sortedKeys` writes it, byte for byte: a ledger
    /// with fills, a closed trade, resting stops and targets, funding, marks and remembered results.
    @Test func stateFile_isJSONEncodersBytes() throws {
        var l = ledger()
        l.openAccount(trader: "t/2", capital: 5_000.25)
        _ = l.submit(order("a", buy: true, size: 0.1))
        l.updateMarket(prices: ["BTC": 101_234.56789], funding: ["BTC": 0.000_012_5], now: 3_601_000)
        _ = l.submit(order("b", buy: false, size: 0.05, reduceOnly: true))
        _ = l.submit(order("c", buy: false, size: 0.05, kind: .stopLoss, reduceOnly: true, trigger: 97_000.5))
        l.updateMarket(prices: ["BTC": 99_000.125], funding: [:], now: 7_201_000)
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try AtomicFile.jsonBytes(l), as: UTF8.self).contains("closedTrades"))
        #expect(try AtomicFile.jsonBytes(l) == foundation.encode(l))
    }

    @Test func marketOpenAndClose_chargeSlippageAndTakerFees() throws {
        var l = ledger()
        let open = l.submit(order("a", buy: true, size: 0.1))
        #expect(open.status == .filled)
        #expect(Self.near(open.averagePrice, 100_020))
        #expect(Self.near(open.fee, 4.5009))
        let position = try #require(l.accounts["t1"]?.trader.positions["BTC"])
        #expect(Self.near(position.margin, 2000.4))
        #expect(Self.near(l.accounts["t1"]!.trader.cash, 7995.0991))

        l.updateMarket(prices: ["BTC": 101_000], funding: [:], now: 2_000)
        let close = l.submit(order("b", buy: false, size: 0.1, reduceOnly: true))
        #expect(Self.near(close.averagePrice, 100_979.8))
        #expect(Self.near(close.fee, 4.544091))
        let account = try #require(l.accounts["t1"])
        #expect(account.trader.positions.isEmpty)
        #expect(Self.near(account.trader.cash, 10_086.935009))
        let trade = try #require(account.closedTrades.first)
        #expect(Self.near(trade.grossPnL, 95.98))
        #expect(Self.near(trade.netPnL, 95.98 - 4.5009 - 4.544091))
        #expect(Self.near(account.trader.equity, 10_086.935009))
    }

    /// A market entry carries the bound of the price risk approved: it never fills beyond it.
    @Test func boundedMarketEntry_fillsWithinItsBound_orNotAtAll() throws {
        var l = ledger()
        // Venue slippage (2 bps) would fill at 100,020; the bound 100,010 caps it.
        let capped = l.submit(order("a", buy: true, size: 0.1, limit: 100_010))
        #expect(capped.status == .filled)
        #expect(Self.near(capped.averagePrice, 100_010))
        // The mark has run past the bound: nothing fills, nothing is booked.
        var moved = ledger()
        moved.updateMarket(prices: ["BTC": 100_600], funding: [:], now: 2_000)
        let refused = moved.submit(order("b", buy: true, size: 0.1, limit: 100_500))
        #expect(refused.status == .cancelled)
        #expect(refused.filledSize == 0)
        #expect(moved.accounts["t1"]?.trader.positions.isEmpty == true)
        #expect(moved.accounts["t1"]?.trader.cash == 10_000)
        // A short is bounded from below.
        var short = ledger()
        let sold = short.submit(order("c", buy: false, size: 0.1, limit: 99_990))
        #expect(Self.near(sold.averagePrice, 99_990))
    }

    /// A position whose protection is gone (a close refused after cancelling it) gets its stop and target back from
    /// its plan; one opened without a stop is reported.
    @Test func protect_putsBackStopAndTarget_andReportsAPositionWithoutAStop() throws {
        var l = ledger()
        _ = l.submit(order("a", buy: true, size: 0.1))
        #expect(l.accounts["t1"]?.restingOrders.isEmpty == true)
        let outcome = l.protect(trader: "t1")
        #expect(outcome.replaced == ["BTC stop", "BTC target"])
        #expect(outcome.unprotected.isEmpty)
        let resting = try #require(l.accounts["t1"]?.restingOrders)
        #expect(resting.map(\.request.kind) == [.stopLoss, .takeProfit])
        #expect(resting.map(\.request.triggerPrice) == [98_000, 103_000])
        #expect(resting.allSatisfy { $0.request.isReduceOnly && !$0.request.isBuy && $0.request.size == 0.1 })
        // Nothing missing: nothing placed twice.
        #expect(l.protect(trader: "t1").replaced.isEmpty)
        #expect(l.accounts["t1"]?.restingOrders.count == 2)

        var bare = ledger()
        var unplanned = order("b", buy: true, size: 0.1)
        unplanned.plan = nil
        _ = bare.submit(unplanned)
        #expect(bare.protect(trader: "t1").unprotected == ["BTC"])
    }

    @Test func liquidation_atTheIsolatedLiquidationPrice_losesTheMargin() throws {
        var l = ledger()
        _ = l.submit(order("a", buy: true, size: 0.1))
        let position = try #require(l.accounts["t1"]?.trader.positions["BTC"])
        #expect(Self.near(position.liquidationPrice, 80_016 / 0.9875, 1e-6))
        l.updateMarket(prices: ["BTC": 81_100], funding: [:], now: 2_000)
        #expect(l.accounts["t1"]?.trader.positions["BTC"] != nil)
        l.updateMarket(prices: ["BTC": 81_000], funding: [:], now: 3_000)
        let account = try #require(l.accounts["t1"])
        #expect(account.trader.positions.isEmpty)
        #expect(Self.near(account.trader.cash, 7995.0991))
        #expect(account.closedTrades.first?.wasLiquidated == true)
        #expect(Self.near(account.closedTrades.first?.netPnL ?? 0, -2000.4 - 4.5009))
    }

    /// Every tick marks each position of every account, leaves resting orders that do not fire where they are,
    /// and a venue's account and closed trades read in one call are what the two reads give, for the paper
    /// exchange and (by the protocol's default) for any other venue; an unknown trader is refused by both.
    @Test func tick_marksEveryAccount_andOneReadGivesAccountAndTrades() async throws {
        var l = ledger()
        l.openAccount(trader: "t2", capital: 5_000)
        l.updateMarket(prices: ["BTC": 100_000, "ETH": 4_000], funding: [:], now: 1_500)
        _ = l.submit(order("a", buy: true, size: 0.1))
        var eth = order("b", buy: false, size: 1, leverage: 2)
        eth.trader = "t2"
        eth.symbol = "ETH"
        eth.plan = .init(stopLoss: 4_400, takeProfit: 3_000, confidence: 0.5, riskUSD: 100, invalidationCondition: "")
        #expect(l.submit(eth).status == .filled)
        #expect(
            l.submit(order("sl", buy: false, size: 0.1, kind: .stopLoss, reduceOnly: true, trigger: 98_000)).status
                == .resting
        )
        _ = l.submit(order("c", buy: true, size: 0.05))
        let resting = try #require(l.accounts["t1"]?.restingOrders)
        l.updateMarket(prices: ["BTC": 99_000, "ETH": 3_900], funding: [:], now: 2_000)
        #expect(l.accounts["t1"]?.trader.positions["BTC"]?.markPrice == 99_000)
        #expect(l.accounts["t2"]?.trader.positions["ETH"]?.markPrice == 3_900)
        #expect(l.accounts["t1"]?.restingOrders == resting)
        l.updateMarket(prices: ["BTC": 97_000], funding: [:], now: 3_000)
        // The stop fires and closes its 0.1 of the 0.15 held; the rest is marked.
        #expect(l.results["sl"]?.status == .filled)
        #expect(Self.near(l.accounts["t1"]?.trader.positions["BTC"]?.quantity ?? 0, 0.05))
        #expect(l.accounts["t1"]?.trader.positions["BTC"]?.markPrice == 97_000)
        #expect(l.accounts["t2"]?.trader.positions["ETH"]?.markPrice == 3_900)

        let exchange = SimExchange(id: "sim", ledger: l, statePath: nil)
        let refusing = RefusingCloses(inner: exchange)
        for venue in [exchange as any ExchangeProvider, refusing] {
            for trader in ["t1", "t2"] {
                let (account, trades) = try await venue.accountAndClosedTrades(trader: trader)
                #expect(account == (try exchange.account(trader: trader)))
                #expect(trades == (exchange.closedTrades(trader: trader)))
            }
            await #expect(throws: ExchangeError.self) { _ = try await venue.accountAndClosedTrades(trader: "t9") }
        }
        #expect(try await exchange.accountAndClosedTrades(trader: "t1").trades.count == 1)
    }

    @Test func stopLossTrigger_firesWhenTheMarkCrosses_andCancelsTheTakeProfit() throws {
        var l = ledger()
        _ = l.submit(order("a", buy: true, size: 0.1))
        #expect(
            l.submit(order("sl", buy: false, size: 0.1, kind: .stopLoss, reduceOnly: true, trigger: 98_000)).status
                == .resting
        )
        #expect(
            l.submit(order("tp", buy: false, size: 0.1, kind: .takeProfit, reduceOnly: true, trigger: 103_000)).status
                == .resting
        )
        l.updateMarket(prices: ["BTC": 98_500], funding: [:], now: 2_000)
        #expect(l.accounts["t1"]?.trader.positions["BTC"] != nil)
        l.updateMarket(prices: ["BTC": 97_900], funding: [:], now: 3_000)
        let account = try #require(l.accounts["t1"])
        #expect(account.trader.positions.isEmpty)
        #expect(account.restingOrders.isEmpty)
        let trade = try #require(account.closedTrades.first)
        #expect(Self.near(trade.exitPrice, 97_880.42))
        #expect(Self.near(trade.grossPnL, -213.958))
        #expect(l.results["sl"]?.status == .filled)
    }

    @Test func takeProfitTrigger_firesInTheFavourableDirection() throws {
        var l = ledger()
        _ = l.submit(order("a", buy: true, size: 0.1))
        _ = l.submit(order("tp", buy: false, size: 0.1, kind: .takeProfit, reduceOnly: true, trigger: 103_000))
        l.updateMarket(prices: ["BTC": 103_500], funding: [:], now: 2_000)
        let trade = try #require(l.accounts["t1"]?.closedTrades.first)
        #expect(Self.near(trade.exitPrice, 103_500 * 0.9998))
    }

    @Test func funding_isChargedHourlyToLongsAndPaidToShorts() throws {
        var l = ledger()
        l.openAccount(trader: "t2", capital: 10_000)
        _ = l.submit(order("a", buy: true, size: 0.1))
        var short = order("b", buy: false, size: 0.1)
        short.trader = "t2"
        _ = l.submit(short)
        let longCash = l.accounts["t1"]!.trader.cash
        let shortCash = l.accounts["t2"]!.trader.cash
        l.updateMarket(prices: ["BTC": 100_000], funding: ["BTC": 0.0001], now: 3_600_000)
        l.updateMarket(prices: ["BTC": 100_000], funding: ["BTC": 0.0001], now: 3_600_000 + 1_000)
        #expect(Self.near(l.accounts["t1"]!.trader.cash, longCash))
        let longMargin = l.accounts["t1"]!.trader.positions["BTC"]!.margin
        let longLiquidation = l.accounts["t1"]!.trader.positions["BTC"]!.liquidationPrice
        let longEquity = l.accounts["t1"]!.trader.equity
        let shortEquity = l.accounts["t2"]!.trader.equity
        l.updateMarket(prices: ["BTC": 100_000], funding: ["BTC": 0.0001], now: 7_200_000)
        // Funding comes out of (or into) the isolated margin, not the cash, and moves the liquidation price.
        let long = l.accounts["t1"]!.trader.positions["BTC"]!
        #expect(Self.near(l.accounts["t1"]!.trader.cash, longCash))
        #expect(Self.near(l.accounts["t2"]!.trader.cash, shortCash))
        #expect(Self.near(long.margin, longMargin - 1.0))
        #expect(long.liquidationPrice > longLiquidation)
        #expect(Self.near(l.accounts["t1"]!.trader.equity, longEquity - 1.0))
        #expect(Self.near(l.accounts["t2"]!.trader.equity, shortEquity + 1.0))
        #expect(Self.near(long.fundingPaid, 1.0))
    }

    /// One mark that gaps through both the stop and the liquidation price liquidates the position: the loss is its
    /// isolated margin and cash never goes negative (the stop would have filled far beyond it).
    @Test func aGapThroughStopAndLiquidation_liquidates_andCashNeverGoesNegative() throws {
        var l = ledger(cash: 2_100)
        // 10× on 0.2 BTC: 2,000 of margin, liquidation near 90,900; the stop at 98,000 rests.
        _ = l.submit(order("a", buy: true, size: 0.2, leverage: 10))
        _ = l.submit(order("sl", buy: false, size: 0.2, kind: .stopLoss, reduceOnly: true, trigger: 98_000))
        let margin = try #require(l.accounts["t1"]?.trader.positions["BTC"]?.margin)
        let cash = try #require(l.accounts["t1"]?.trader.cash)
        l.updateMarket(prices: ["BTC": 80_000], funding: [:], now: 2_000)
        let account = try #require(l.accounts["t1"])
        #expect(account.trader.positions.isEmpty)
        #expect(account.closedTrades.last?.wasLiquidated == true)
        #expect(account.trader.cash >= 0)
        #expect(Self.near(account.trader.cash, cash))  // the margin is gone, nothing more
        #expect(Self.near(account.closedTrades.last?.netPnL ?? 0, -margin - (account.closedTrades.last?.entryFee ?? 0)))
        #expect(account.restingOrders.isEmpty)
    }

    /// The books balance: equity = inception capital + realized PnL net of fees and funding + unrealized PnL,
    /// through opens, a partial close, funding, a stop and a liquidation.
    @Test func equity_isCapitalPlusRealizedNetPlusUnrealized() throws {
        var l = ledger()
        func check(_ step: String) {
            let account = l.accounts["t1"]!
            let identity =
                10_000 + account.trader.realizedNetPnL(closedTrades: account.closedTrades)
                + account.trader.unrealizedPnL
            #expect(abs(account.trader.equity - identity) < 0.005, "\(step): \(account.trader.equity) vs \(identity)")
        }
        _ = l.submit(order("a", buy: true, size: 0.2))
        check("open")
        l.updateMarket(prices: ["BTC": 101_000], funding: ["BTC": 0.0001], now: 3_600_000)
        l.updateMarket(prices: ["BTC": 101_500], funding: ["BTC": 0.0001], now: 7_200_000)
        check("funding")
        _ = l.submit(order("b", buy: false, size: 0.05, reduceOnly: true))
        check("partial close")
        _ = l.submit(order("sl", buy: false, size: 0.15, kind: .stopLoss, reduceOnly: true, trigger: 99_000))
        l.updateMarket(prices: ["BTC": 98_900], funding: [:], now: 7_300_000)
        check("stop")
        _ = l.submit(order("c", buy: true, size: 0.3, leverage: 20))
        l.updateMarket(prices: ["BTC": 60_000], funding: [:], now: 7_400_000)
        check("liquidation")
        #expect(l.accounts["t1"]!.trader.positions.isEmpty)
    }

    @Test func resentCloid_returnsTheFirstResult_andActsOnce() {
        var l = ledger()
        let first = l.submit(order("same", buy: true, size: 0.1))
        let cash = l.accounts["t1"]!.trader.cash
        let second = l.submit(order("same", buy: true, size: 0.1))
        #expect(first == second)
        #expect(l.accounts["t1"]!.trader.cash == cash)
        #expect(abs(l.accounts["t1"]!.trader.positions["BTC"]!.quantity - 0.1) < 1e-12)
    }

    @Test func rememberedCloids_areBoundedToTheNewest_andSurviveASaveOldAndNew() throws {
        var l = ledger(cash: 1e12)
        let capacity = SimLedger.resultCapacity
        let total = capacity * 2 + 7
        for index in 0..<total { _ = l.submit(order("c\(index)", buy: index % 2 == 0, size: 0.001)) }
        #expect(l.results.count >= capacity)
        #expect(l.results.count <= capacity + capacity / 4)
        #expect(l.results["c0"] == nil)
        for index in (total - capacity)..<total { #expect(l.results["c\(index)"] != nil) }
        // A recent cloid resent is answered from memory, not filled again.
        let fills = l.accounts["t1"]!.fills
        let last = "c\(total - 1)"
        #expect(l.submit(order(last, buy: true, size: 0.001)) == l.results[last])
        #expect(l.accounts["t1"]!.fills == fills)

        // The order of the cloids survives a save: the next trims forget the oldest, not arbitrary ones.
        var reopened = try JSONDecoder().decode(SimLedger.self, from: JSONEncoder().encode(l))
        #expect(reopened == l)
        for index in total..<(total + capacity / 2) { _ = reopened.submit(order("c\(index)", buy: true, size: 0.001)) }
        for index in (total + capacity / 2 - capacity)..<(total + capacity / 2) {
            #expect(reopened.results["c\(index)"] != nil)
        }

        // A state saved before the bound (no order of its cloids) is read, and bounded from its next order on.
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(l)) as? [String: Any])
        object["resultOrder"] = nil
        var old = try JSONDecoder().decode(SimLedger.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.results == l.results)
        for index in 0..<capacity { _ = old.submit(order("n\(index)", buy: true, size: 0.001)) }
        #expect(old.results.count <= capacity + capacity / 4)
        #expect(old.results["n\(capacity - 1)"] != nil)
    }

    @Test func marginAndReduceOnlyAndLeverageChecks() {
        var l = ledger()
        let tooBig = l.submit(order("big", buy: true, size: 1, leverage: 1))
        #expect(tooBig.status == .rejected)
        #expect(tooBig.reason == .insufficientMargin)
        #expect(l.accounts["t1"]!.trader.cash == 10_000)
        #expect(l.submit(order("ro", buy: false, size: 0.1, reduceOnly: true)).reason == .noPositionToClose)
        #expect(l.submit(order("lev", buy: true, size: 0.01, leverage: 41)).reason == .leverageAboveCap)
        _ = l.submit(order("a", buy: true, size: 0.1))
        let clamp = l.submit(order("c", buy: false, size: 1, reduceOnly: true))
        #expect(clamp.status == .filled)
        #expect(abs(clamp.filledSize - 0.1) < 1e-12)
    }

    @Test func limitOrders_restAndFillAtTheLimitWithMakerFee_andALONeverCrosses() throws {
        var l = ledger()
        #expect(l.submit(order("alo", buy: true, size: 0.1, kind: .limitALO, limit: 100_500)).status == .rejected)
        #expect(l.submit(order("ioc", buy: true, size: 0.1, kind: .limitIOC, limit: 99_000)).status == .cancelled)
        #expect(l.isIdle)
        #expect(l.submit(order("gtc", buy: true, size: 0.1, kind: .limitGTC, limit: 99_000)).status == .resting)
        // A resting order alone: the next mark can fill it, so no tick may be left out.
        #expect(!l.isIdle)
        l.updateMarket(prices: ["BTC": 98_900], funding: [:], now: 2_000)
        #expect(!l.isIdle)
        let position = try #require(l.accounts["t1"]?.trader.positions["BTC"])
        #expect(position.entryPrice == 99_000)
        #expect(Self.near(position.entryFee, 0.1 * 99_000 * 0.00015))
    }

    /// While idle, market updates left out change nothing: the next one (made while still idle) gives the ledger
    /// every update would have — marks, clock and funding hours — and what follows is the same too.
    @Test func idleUpdates_leftOut_leaveTheSameLedger() {
        let prices: [Double] = [100_500, 99_000, 97_000, 101_000, 100_200]
        func run(every: Bool) -> SimLedger {
            var l = ledger()
            for (index, price) in prices.enumerated() where every || index == prices.count - 1 {
                #expect(l.isIdle)
                l.updateMarket(prices: ["BTC": price], funding: ["BTC": 0.00002], now: Int64(index + 1) * 1_800_000)
            }
            _ = l.submit(order("a", buy: true, size: 0.1))
            #expect(!l.isIdle)
            l.updateMarket(prices: ["BTC": 100_300], funding: ["BTC": 0.00002], now: 10_900_000)
            l.updateMarket(prices: ["BTC": 100_100], funding: ["BTC": 0.00002], now: 11_000_000)
            return l
        }
        let every = run(every: true)
        let last = run(every: false)
        #expect(every == last)
        // One hour's funding (the next hour's first mark), in both: the idle update left the same funding hour.
        let paid = every.accounts["t1"]?.trader.positions["BTC"]?.fundingPaid ?? 0
        #expect(Self.near(paid, 0.1 * 100_300 * 0.00002), "\(paid)")
    }

    @Test func samePricePath_givesTheSameLedger() {
        func run() -> SimLedger {
            var l = ledger()
            _ = l.submit(order("a", buy: true, size: 0.1))
            _ = l.submit(order("sl", buy: false, size: 0.1, kind: .stopLoss, reduceOnly: true, trigger: 98_000))
            for (index, price) in [100_500.0, 99_000, 97_000, 101_000].enumerated() {
                l.updateMarket(prices: ["BTC": price], funding: ["BTC": 0.00002], now: Int64(index + 1) * 3_600_000)
            }
            return l
        }
        #expect(run() == run())
    }

    @Test func paperAccount_survivesARestart() async throws {
        let directory = try TestPaths.makeScratch("sim")
        let configuration = ExchangeConfiguration.Provider(
            id: "paper",
            kind: .sim,
            policy: ExchangeConfiguration.placeholderPolicy,
            takerFeeBps: 4.5,
            makerFeeBps: 1.5,
            slippageBps: 2,
            statePath: directory.appendingPathComponent("paper.json").path,
            isTestnet: true,
            privateKey: Secret(""),
            mainAddress: nil,
            vaultAddress: nil
        )
        let exchange = try SimExchange.open(configuration: configuration)
        try exchange.openAccount(trader: "t1", capital: 10_000)
        try exchange.updateMarket(prices: ["BTC": 100_000], funding: [:], now: 1_000)
        _ = try exchange.submit([order("a", buy: true, size: 0.1)])
        let before = try exchange.account(trader: "t1")

        let reopened = try SimExchange.open(configuration: configuration)
        let after = try reopened.account(trader: "t1")
        #expect(after == before)
        // The cloid is remembered across the restart too.
        let again = try reopened.submit([order("a", buy: true, size: 0.1)])
        #expect(again.first?.status == .filled)
        #expect(try reopened.account(trader: "t1") == before)
        // Opening the account again does not refund it.
        try reopened.openAccount(trader: "t1", capital: 10_000)
        #expect(try reopened.account(trader: "t1").cash == before.cash)
    }
}

@Suite("Paper exchange persistence")
struct SimPersistenceTests {
    @Test func markMovesAlone_doNotRewriteTheState_butATriggerDoes() async throws {
        let directory = try TestPaths.makeScratch("sim")
        let path = directory.appendingPathComponent("paper.json").path
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: path
        )
        try exchange.openAccount(trader: "t1", capital: 10_000)
        try exchange.updateMarket(prices: ["BTC": 100_000], funding: [:], now: 1_000)
        let order = SimExchangeTests().order("a", buy: true, size: 0.1)
        let stop = SimExchangeTests().order(
            "sl",
            buy: false,
            size: 0.1,
            kind: .stopLoss,
            reduceOnly: true,
            trigger: 98_000
        )
        _ = try exchange.submit([order, stop])
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        try exchange.updateMarket(prices: ["BTC": 99_000], funding: [:], now: 2_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == written)
        try exchange.updateMarket(prices: ["BTC": 97_000], funding: [:], now: 3_000)
        let after = try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(after.accounts["t1"]?.trader.positions.isEmpty == true)
        #expect(after.accounts["t1"]?.closedTrades.count == 1)
    }
}

/// The paper exchange behind a venue that refuses every reduce-only order: a close that fails after its
/// position's protection was cancelled.
struct RefusingCloses: ExchangeProvider {
    let inner: SimExchange
    var id: String { inner.id }
    var takerFeeRate: Double { inner.takerFeeRate }
    func account(trader: String) async throws -> TraderAccount { try inner.account(trader: trader) }
    func submit(_ orders: [OrderRequest]) async throws -> [OrderResult] {
        if orders.contains(where: \.isReduceOnly) { throw ExchangeError.unavailable("closes refused") }
        return try inner.submit(orders)
    }
    func cancel(trader: String, symbol: String) async throws { try inner.cancel(trader: trader, symbol: symbol) }
    func closedTrades(trader: String) async throws -> [ClosedTrade] { inner.closedTrades(trader: trader) }
    func maintain(trader: String, account: TraderAccount) async throws -> [String] {
        try inner.maintain(trader: trader, account: account)
    }
    func lookup(_ order: OrderRequest) async throws -> OrderResult? { inner.lookup(order) }
    func currentMarks(symbols: [String]) async throws -> [String: Double] {
        inner.currentMarks(symbols: symbols)
    }
}

@Suite("Closes that fail")
struct FailedCloseTests {
    /// The close cancels the position's stop and target first; when the venue then refuses the close, the
    /// protection goes back on (from the position's plan) and the failure is reported.
    @Test func aRefusedClose_putsTheProtectionBack() async throws {
        let sim = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        try sim.openAccount(trader: "t1", capital: 10_000)
        try sim.updateMarket(prices: ["BTC": 100_000], funding: [:], now: 1_000)
        let tests = SimExchangeTests()
        let legs = [
            tests.order("entry", buy: true, size: 0.1),
            tests.order("sl", buy: false, size: 0.1, kind: .stopLoss, reduceOnly: true, trigger: 98_000),
            tests.order("tp", buy: false, size: 0.1, kind: .takeProfit, reduceOnly: true, trigger: 103_000),
        ]
        _ = try sim.submit(legs)
        #expect(sim.restingOrders(trader: "t1").count == 2)
        let position = try #require(try sim.account(trader: "t1").positions["BTC"])
        let close = OrderPlanner.close(
            position,
            trader: TraderConfigurationView(id: "t1", slippageBps: 50, usesLimitIOC: false),
            cycle: 2
        )
        var record = CycleRecord(
            traderID: "t1",
            cycle: 2,
            cycleID: "t1-2",
            startedAt: 1_000,
            endedAt: 1_000,
            outcome: .completed,
            modelAsked: "m"
        )
        let failures = await DecisionCycle.sendCloses(
            [close],
            recordingIn: &record,
            exchange: RefusingCloses(inner: sim)
        )
        #expect(failures.count == 1, "\(failures)")
        #expect(record.error?.contains("closes refused") == true)
        #expect(try sim.account(trader: "t1").positions["BTC"] != nil)
        let resting = sim.restingOrders(trader: "t1")
        #expect(resting.map(\.request.kind).sorted { $0.rawValue < $1.rawValue } == [.stopLoss, .takeProfit])
        #expect(Set(resting.map(\.request.triggerPrice)) == [98_000, 103_000])
    }
}

@Suite("Paper exchange durability")
struct SimDurabilityTests {
    /// A fill is saved before it is reported: when the state cannot be written (here a file stands where its
    /// directory should be, as good as a full disk), the order fails and the ledger is as it was — no position, no
    /// cash moved, no result a retry would find — and once the state can be written the same order fills.
    @Test func aFillIsSavedBeforeItIsReported_orNotMadeAtAll() async throws {
        let scratch = try TestPaths.makeScratch("sim-durable")
        let blocker = scratch.appendingPathComponent("state")
        #expect(FileManager.default.createFile(atPath: blocker.path, contents: Data("x".utf8)))
        let statePath = blocker.appendingPathComponent("paper-exchange.json").path
        let sim = SimExchange(id: "paper", ledger: SimExchangeTests().ledger(), statePath: statePath)
        let order = SimExchangeTests().order("a", buy: true, size: 0.1)
        #expect(throws: (any Error).self) { try sim.submit([order]) }
        let account = try sim.account(trader: "t1")
        #expect(account.positions.isEmpty)
        #expect(account.cash == 10_000)
        #expect(sim.lookup(order) == nil)

        try FileManager.default.removeItem(at: blocker)
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        let results = try sim.submit([order])
        #expect(results.first?.status == .filled)
        let saved = try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: statePath)))
        #expect(saved.results["a"]?.status == .filled)
        #expect(saved.accounts["t1"]?.trader.positions["BTC"]?.quantity == 0.1)
    }
}
