import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Risk policy")
struct RiskPolicyTests {
    static let limits = RiskParameters(
        maxPositions: 2,
        maxPositionSizeUSD: 5000,
        maxMarginUsagePct: 50,
        majorCoinLeverage: 10,
        altcoinLeverage: 5,
        minRiskRewardRatio: 1.5,
        minConfidence: 60,
        maxRiskPerTradePct: 3,
        stopLossEnabled: true,
        takeProfitEnabled: true,
        maxDailyLossPct: 5,
        maxDrawdownPct: 20,
        cooldownAfterClose: .seconds(600),
        sharpePauseThreshold: nil,
        pauseDurationOnBreach: .seconds(3600),
        dailyLLMUSDLimit: nil,
        maxNewPositionsPerCycle: 3
    )

    func context(
        account: TraderAccount = TraderAccount(cash: 10_000, positions: [:], realizedPnL: 0, feesPaid: 0)
    )
        -> RiskContext
    {
        RiskContext(
            limits: Self.limits,
            symbols: ["BTC", "ETH", "SOL"],
            prices: ["BTC": 100_000, "ETH": 4000, "SOL": 200],
            assets: AssetInfo.catalog,
            account: account,
            now: 1_000_000,
            cooldownUntil: [:],
            isPaused: false,
            isDailyLossLimitHit: false,
            isDrawdownLimitHit: false,
            takerFeeRate: 0.00045
        )
    }

    /// A long BTC entry that passes every rule: risk 1 % of equity, reward:risk 2, 5× leverage.
    static func goodLong(_ symbol: String = "BTC") -> Decision {
        Decision(
            symbol: symbol,
            signal: .buyToEnter,
            leverage: 5,
            positionSizeUSD: 4000,
            stopLoss: 98_000,
            takeProfit: 104_000,
            confidence: 0.7,
            riskUSD: 80,
            invalidationCondition: "x",
            reasoning: nil
        )
    }

    func reasons(_ decision: Decision, _ context: RiskContext? = nil) -> [ReasonCode] {
        RiskPolicy.evaluate([decision], context: context ?? self.context()).first?.reasons ?? []
    }

    @Test func goodEntry_isAccepted() {
        let verdicts = RiskPolicy.evaluate([Self.goodLong()], context: context())
        #expect(verdicts == [RiskVerdict(symbol: "BTC", signal: .buyToEnter, isAccepted: true, reasons: [])])
    }

    @Test func eachRule_rejectsWithItsReasonCode() {
        var d = Self.goodLong()
        d.confidence = 0.59
        #expect(reasons(d) == [.confidenceBelowMin])

        d = Self.goodLong()
        d.takeProfit = 102_000  // reward 2000 vs risk 2000 = 1.0 < 1.5
        #expect(reasons(d) == [.riskRewardBelowMin])

        d = Self.goodLong()
        d.leverage = 11
        #expect(reasons(d).contains(.leverageAboveCap))
        d = Self.goodLong("SOL")
        d.leverage = 6
        d.stopLoss = 196
        d.takeProfit = 208
        d.positionSizeUSD = 1000
        #expect(reasons(d) == [.leverageAboveCap])

        d = Self.goodLong()
        d.positionSizeUSD = 5001
        #expect(reasons(d).contains(.positionSizeAboveMax))

        d = Self.goodLong()
        d.stopLoss = 101_000  // above the price for a long
        #expect(reasons(d) == [.stopLossInvalid])
        d = Self.goodLong()
        d.takeProfit = 99_000
        #expect(reasons(d) == [.takeProfitInvalid])

        d = Self.goodLong()
        d.leverage = 10
        d.stopLoss = 89_000  // liquidation at 10× is about 90,000
        d.takeProfit = 130_000
        d.positionSizeUSD = 1000
        #expect(reasons(d) == [.liquidationBeforeStop])

        d = Self.goodLong()
        d.stopLoss = 90_000  // 10 % of 4000 = 400 > 3 % of 10,000
        d.takeProfit = 120_000
        #expect(reasons(d) == [.riskPerTradeAboveMax])

        d = Self.goodLong()
        d.leverage = 1  // margin 4000 / equity 10,000 = 40 % ... plus an existing 2000 below
        var account = TraderAccount(cash: 8_000, positions: [:], realizedPnL: 0, feesPaid: 0)
        account.positions["ETH"] = position("ETH", margin: 2000)
        #expect(reasons(d, context(account: account)) == [.marginUsageAboveMax])

        #expect(
            reasons(
                Decision(
                    symbol: "XRP",
                    signal: .buyToEnter,
                    leverage: 2,
                    positionSizeUSD: 100,
                    stopLoss: 1,
                    takeProfit: 3,
                    confidence: 1
                )
            ) == [.unknownSymbol]
        )
        #expect(reasons(Decision(symbol: "BTC", signal: .closePosition, confidence: 1)) == [.noPositionToClose])
    }

    @Test func shortEntry_checksTheMirroredSides() {
        let short = Decision(
            symbol: "BTC",
            signal: .sellToEnter,
            leverage: 5,
            positionSizeUSD: 4000,
            stopLoss: 102_000,
            takeProfit: 96_000,
            confidence: 0.8,
            riskUSD: 80
        )
        #expect(reasons(short) == [])
        var wrong = short
        wrong.stopLoss = 99_000
        #expect(reasons(wrong) == [.stopLossInvalid])
    }

    func position(_ symbol: String, margin: Double) -> Position {
        Position(
            symbol: symbol,
            quantity: 1,
            entryPrice: 4000,
            leverage: 2,
            margin: margin,
            liquidationPrice: 2100,
            markPrice: 4000,
            stopLoss: 3900,
            takeProfit: 4300,
            openedAt: 0,
            entryOrderID: 1,
            confidence: 0.7,
            riskUSD: 100,
            invalidationCondition: "",
            entryFee: 0,
            fundingPaid: 0
        )
    }

    @Test func positionLimits_noPyramiding_andMaxPositions() {
        var account = TraderAccount(cash: 9_000, positions: [:], realizedPnL: 0, feesPaid: 0)
        account.positions["BTC"] = position("BTC", margin: 500)
        #expect(reasons(Self.goodLong(), context(account: account)).contains(.positionExists))
        account.positions["ETH"] = position("ETH", margin: 500)
        var sol = Self.goodLong("SOL")
        sol.stopLoss = 196
        sol.takeProfit = 208
        sol.positionSizeUSD = 1000
        #expect(reasons(sol, context(account: account)) == [.maxPositionsReached])
        // A close of an owned position is accepted even when entries are blocked.
        var blocked = context(account: account)
        blocked.isDrawdownLimitHit = true
        #expect(reasons(Decision(symbol: "BTC", signal: .closePosition, confidence: 0.5), blocked) == [])
    }

    @Test func killSwitches_cooldownAndPause_blockEntries() {
        var c = context()
        c.isDailyLossLimitHit = true
        #expect(reasons(Self.goodLong(), c) == [.dailyLossLimit])
        c = context()
        c.isDrawdownLimitHit = true
        #expect(reasons(Self.goodLong(), c) == [.drawdownLimit])
        c = context()
        c.cooldownUntil["BTC"] = c.now + 1
        #expect(reasons(Self.goodLong(), c) == [.cooldownActive])
        c.cooldownUntil["BTC"] = c.now
        #expect(reasons(Self.goodLong(), c) == [])
        c = context()
        c.isPaused = true
        #expect(reasons(Self.goodLong(), c) == [.traderPaused])
    }

    @Test func verdictReasons_areSortedAndEachOnce() {
        // Several rules at once: every reason, sorted, once.
        var c = context()
        c.isDailyLossLimitHit = true
        c.isDrawdownLimitHit = true
        c.isPaused = true
        c.cooldownUntil["BTC"] = c.now + 1
        let all = reasons(Self.goodLong(), c)
        #expect(all == [.dailyLossLimit, .drawdownLimit, .traderPaused, .cooldownActive].sorted())
        // The helper gives what a set of them sorted gives, on random lists with repeats.
        var random = SeededRandom(seed: 11)
        let codes = Array(ReasonCode.allCases)
        for length in 0..<12 {
            for _ in 0..<50 {
                let list = (0..<length).map { _ in codes[random.int(below: min(codes.count, 5))] }
                #expect(RiskPolicy.uniqueSorted(list) == Array(Set(list)).sorted(), "\(list)")
            }
        }
    }

    @Test func secondEntryInACycle_countsTheFirstOnesMargin() {
        var eth = Decision(
            symbol: "ETH",
            signal: .buyToEnter,
            leverage: 2,
            positionSizeUSD: 4000,
            stopLoss: 3900,
            takeProfit: 4200,
            confidence: 0.9,
            riskUSD: 100
        )
        eth.leverage = 2  // 2000 margin; with BTC's 800 → 28 %, fine
        var sol = Decision(
            symbol: "SOL",
            signal: .buyToEnter,
            leverage: 1,
            positionSizeUSD: 3000,
            stopLoss: 196,
            takeProfit: 210,
            confidence: 0.9,
            riskUSD: 45
        )
        sol.leverage = 1  // adds 3000 → 58 % > 50 %, and a third position over max 2
        let verdicts = RiskPolicy.evaluate([Self.goodLong(), eth, sol], context: context())
        #expect(verdicts.map(\.isAccepted) == [true, true, false])
        #expect(verdicts[2].reasons == [.marginUsageAboveMax, .maxPositionsReached])
    }
}
