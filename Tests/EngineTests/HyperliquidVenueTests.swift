import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// The Hyperliquid market and venue against a fake server speaking the real protocol (real HTTP on loopback),
/// which verifies every signature the way the exchange does.
@Suite("Hyperliquid market and venue", .serialized)
struct HyperliquidVenueTests {
    static let key = "0x0123456789012345678901234567890123456789012345678901234567890123"
    static let now: Int64 = 1_763_769_600_000 + 90_000  // mid-candle

    struct Harness {
        let fake: FakeHyperliquid
        let market: HyperliquidMarketProvider
        let exchange: HyperliquidExchange
        let signer: HyperliquidSigner
        let clock: SteppingClock
        let nonceFile: String
    }

    static func policy(timeout: Duration = .seconds(5), retries: Int = 1) -> ProviderPolicy {
        ProviderPolicy(
            timeout: timeout,
            retry: .init(maxRetries: retries, backoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
            healthcheck: .init(isEnabled: false, interval: .seconds(60)),
            capabilities: [:]
        )
    }

    /// `timeout` is generous by default: under the full suite the in-process fake can be held back for seconds,
    /// and a timed-out read is retried, which the request counts here would see. The timeout test sets its own.
    static func withVenue(
        timeout: Duration = .seconds(60),
        deadMansSwitch: Duration? = nil,
        planPath: String? = nil,
        _ body: @Sendable (Harness) async throws -> Void
    ) async throws {
        let fake = FakeHyperliquid()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await fake.makeApplication().test(.live) { client in
                let port = try #require(client.port)
                let clock = SteppingClock(now: now)
                let api = HyperliquidAPI(
                    baseURL: "http://127.0.0.1:\(port)",
                    httpClient: httpClient,
                    policy: policy(timeout: timeout),
                    limiter: WeightLimiter(clock: clock),
                    clock: clock
                )
                let market = HyperliquidMarketProvider(
                    id: "hl",
                    symbols: ["BTC", "ETH"],
                    api: api,
                    intraday: CandleInterval("3m")!,
                    context: CandleInterval("4h")!
                )
                let signer = try HyperliquidSigner(privateKeyHex: key)
                let nonceFile = NSTemporaryDirectory() + "arena-nonce-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: nonceFile) }
                let exchange = try HyperliquidExchange(
                    id: "hyperliquid",
                    api: api,
                    signer: signer,
                    market: market,
                    mainAddress: nil,
                    vaultAddress: nil,
                    isMainnet: false,
                    nonces: NonceSource(path: nonceFile, clock: clock),
                    clock: clock,
                    deadMansSwitch: deadMansSwitch,
                    planPath: planPath,
                    unknownOutcomeSettle: .milliseconds(300),
                    logger: Logger(label: "test")
                )
                try await body(
                    Harness(
                        fake: fake,
                        market: market,
                        exchange: exchange,
                        signer: signer,
                        clock: clock,
                        nonceFile: nonceFile
                    )
                )
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    static func entry(cloid: String = "ab" + String(repeating: "cd", count: 31)) -> OrderRequest {
        OrderRequest(
            cloid: cloid,
            trader: "live",
            symbol: "BTC",
            isBuy: true,
            size: 0.0123456,
            kind: .marketIOC,
            limitPrice: nil,
            triggerPrice: nil,
            slippageBps: 50,
            isReduceOnly: false,
            leverage: 3,
            plan: .init(stopLoss: 98_000, takeProfit: 104_000, confidence: 0.7, riskUSD: 20, invalidationCondition: "x")
        )
    }

    @Test func market_buildsSnapshotsFromContextsAndClosedCandles_andCachesWithinTheirLife() async throws {
        try await Self.withVenue { venue in
            let snapshot = try await venue.market.snapshot(symbols: ["BTC", "ETH"], now: Self.now)
            let btc = try #require(snapshot.symbols["BTC"])
            #expect(btc.markPrice == 100_000)
            #expect(btc.fundingRate == 0.0000125)
            #expect(btc.openInterest == 1234.5)
            #expect(btc.intraday.prices.count == ReplayMarketProvider.seriesLength)
            // Only closed candles: the newest shown closed at or before now, and the candle still forming (served
            // 20 % off by the fake) is in no price or indicator.
            #expect(btc.asOf <= Self.now)
            let interval: Int64 = 180_000
            let lastClosedOpen = Self.now - Self.now % interval - interval
            #expect(
                btc.intraday.prices.last
                    == FakeHyperliquid.candleClose(base: 100_000, open: lastClosedOpen, interval: interval)
            )
            #expect(btc.intraday.prices.allSatisfy { $0 < 101_000 }, "\(btc.intraday.prices)")
            #expect(btc.intraday.ema20.allSatisfy { $0 < 101_000 })
            #expect(btc.context.ema20 < 101_000)
            try snapshot.validate(symbols: ["BTC", "ETH"], now: Self.now, maxStaleness: 120_000)
            let first = venue.fake.infoTypes
            #expect(first.filter { $0 == "metaAndAssetCtxs" }.count == 1)
            #expect(first.filter { $0 == "candleSnapshot" }.count == 4)
            // Within the context TTL and before the next candle closes, nothing is fetched again.
            _ = try await venue.market.snapshot(symbols: ["BTC", "ETH"], now: Self.now + 1_000)
            #expect(venue.fake.infoTypes.count == first.count)
            // Much later the data is refreshed (and a snapshot older than its interval would fail closed).
            _ = try await venue.market.snapshot(symbols: ["BTC"], now: Self.now + 400_000)
            #expect(venue.fake.infoTypes.count > first.count)
        }
    }

    @Test func entry_isSignedByTheKey_roundedToTheAssetRules_andDecoded() async throws {
        try await Self.withVenue { venue in
            let result = try await venue.exchange.submit([Self.entry()])
            #expect(result.first?.status == .filled)
            #expect(result.first?.filledSize == 0.01235)
            let received = venue.fake.received
            // Leverage first (isolated, 3×), then the order; every body signed by our key.
            #expect(received.map(\.type) == ["updateLeverage", "order"])
            #expect(received.allSatisfy { $0.signer == venue.signer.address })
            let order = try #require(received.last?.body)
            #expect(order.contains(#""s":"0.01235""#))  // 5 size decimals
            #expect(order.contains(#""p":"100500""#))  // mark + 50 bps, 5 significant figures
            #expect(order.contains(#""t":{"limit":{"tif":"Ioc"}}"#))
            #expect(order.contains(#""c":"0xabcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd""#))
            #expect(order.contains(#""isCross":false"#) == false)
            #expect(received.first?.body.contains(#""isCross":false,"leverage":3"#) == true)
        }
    }

    /// A market entry's IOC price is the tighter of the mark's slippage bound and the bound of the price risk
    /// approved: the venue can never fill it beyond what was checked.
    @Test func boundedMarketEntry_isSentAtTheApprovedBound() async throws {
        try await Self.withVenue { venue in
            var order = Self.entry()
            order.limitPrice = 99_800  // approved at 99,300 + 50 bps; the mark has moved up to 100,000 since
            _ = try await venue.exchange.submit([order])
            let sent = try #require(venue.fake.received.last?.body)
            #expect(sent.contains(#""p":"99800""#), "\(sent)")
            // A bound looser than the mark's own keeps the mark's.
            order.cloid = "ef" + String(repeating: "cd", count: 31)
            order.limitPrice = 101_000
            _ = try await venue.exchange.submit([order])
            #expect(try #require(venue.fake.received.last?.body).contains(#""p":"100500""#))
        }
    }

    /// The fills of one closing order (it crossed two resting orders) make one trade, with the size summed, the
    /// price averaged by size, both fees, the opening order's fee as the entry fee, and the funding paid on the
    /// coin while the position was open (from `userFunding`).
    @Test func closedTrades_mergeTheFillsOfOneOrder_andCarryTheEntryFee() async throws {
        try await Self.withVenue { venue in
            venue.fake.set(
                fills: #"""
                    [{"coin":"BTC","px":"100000.0","sz":"0.02","side":"B","time":1000,"dir":"Open Long","closedPnl":"0.0","oid":11,"tid":101,"fee":"0.9"},
                     {"coin":"BTC","px":"101000.0","sz":"0.005","side":"A","time":5000,"dir":"Close Long","closedPnl":"5.0","oid":12,"tid":102,"fee":"0.2"},
                     {"coin":"BTC","px":"102000.0","sz":"0.015","side":"A","time":5001,"dir":"Close Long","closedPnl":"30.0","oid":12,"tid":103,"fee":"0.7"}]
                    """#,
                // Paid while open (0.4 on BTC); after the close and on another coin: not this trade's.
                funding: #"""
                    [{"time":2000,"hash":"0x1","delta":{"type":"funding","coin":"BTC","usdc":"-0.4","szi":"0.02","fundingRate":"0.0001"}},
                     {"time":3000,"hash":"0x2","delta":{"type":"funding","coin":"ETH","usdc":"-9.0","szi":"1.0","fundingRate":"0.0001"}},
                     {"time":9000,"hash":"0x3","delta":{"type":"funding","coin":"BTC","usdc":"-7.0","szi":"0.02","fundingRate":"0.0001"}}]
                    """#
            )
            let trades = try await venue.exchange.closedTrades(trader: "live")
            #expect(trades.count == 1)
            let trade = try #require(trades.first)
            #expect(abs(trade.quantity - 0.02) < 1e-12)
            #expect(abs(trade.exitPrice - 101_750) < 1e-6)
            #expect(abs(trade.entryPrice - 100_000) < 1e-6)
            #expect(abs(trade.exitFee - 0.9) < 1e-12)
            #expect(abs(trade.entryFee - 0.9) < 1e-12)
            #expect(abs(trade.fundingPaid - 0.4) < 1e-12)
            #expect(abs(trade.netPnL - (35 - 1.8 - 0.4)) < 1e-9)
            #expect(trade.entryOrderID == 11 && trade.exitOrderID == 12 && trade.tradeID == 102)
            #expect(trade.entryTime == 1000 && trade.exitTime == 5001)
        }
    }

    @Test func aWrongSigner_isRejectedByTheVenue() async throws {
        try await Self.withVenue { venue in
            venue.fake.expect(signer: "0x14791697260e4c9a71f18484c9f997b308e59326")
            await #expect(throws: HyperliquidError.self) { _ = try await venue.exchange.submit([Self.entry()]) }
            #expect(venue.fake.positions.isEmpty)
            venue.fake.expect(signer: venue.signer.address)
            let accepted = try await venue.exchange.submit([Self.entry()])
            #expect(accepted.first?.status == .filled)
        }
    }

    @Test func perOrderErrors_andTopLevelErrors_areFailures() async throws {
        try await Self.withVenue { venue in
            venue.fake.script(
                .json(#"{"status":"ok","response":{"type":"default"}}"#),
                .json(
                    #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"Insufficient margin to place order. asset=0"}]}}}"#
                )
            )
            let rejected = try await venue.exchange.submit([Self.entry()])
            #expect(rejected.first?.status == .rejected)
            #expect(rejected.first?.reason == .insufficientMargin)
            venue.fake.script(
                .json(#"{"status":"err","response":"L1 error: User or API Wallet 0x1 does not exist."}"#)
            )
            await #expect(throws: HyperliquidError.self) {
                _ = try await venue.exchange.submit([Self.entry(cloid: "ee" + String(repeating: "00", count: 31))])
            }
        }
    }

    @Test(arguments: [
        ("Order must have minimum value of $10.", ReasonCode.exchangeError),
        ("Insufficient margin to place order. asset=0", ReasonCode.insufficientMargin),
        ("Reduce only order would increase position.", ReasonCode.exchangeError),
        ("Post only order would have immediately matched, bbo was 99999.0@100001.0", ReasonCode.exchangeError),
        ("Order could not immediately match against any resting orders. asset=0", ReasonCode.exchangeError),
        ("Price must be divisible by tick size. asset=0", ReasonCode.exchangeError),
        ("Order price too far from oracle", ReasonCode.exchangeError),
    ])
    func eachDocumentedOrderError_isARejectedOrderWithItsMessage(message: String, reason: ReasonCode) async throws {
        try await Self.withVenue { venue in
            venue.fake.script(
                .json(#"{"status":"ok","response":{"type":"default"}}"#),
                .json(#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"\#(message)"}]}}}"#)
            )
            let result = try await venue.exchange.submit([Self.entry()])
            #expect(result.first?.status == .rejected)
            #expect(result.first?.reason == reason)
            #expect(result.first?.message == message)
            #expect(venue.fake.positions.isEmpty)
        }
    }

    @Test func rateLimitedSubmit_backsOff_andSendsOnce() async throws {
        try await Self.withVenue { venue in
            venue.fake.script(.json(#"{"status":"ok","response":{"type":"default"}}"#), .status(429, "rate limited"))
            let result = try await venue.exchange.submit([Self.entry()])
            #expect(result.first?.status == .filled)
            let orders = venue.fake.received.filter { $0.type == "order" }
            // The 429 was refused before the book: the retry (new nonce) is the only order placed.
            #expect(orders.count == 2)
            #expect(Set(orders.map(\.nonce)).count == 2)
            #expect(abs((venue.fake.positions["BTC"]?.size ?? 0) - 0.01235) < 1e-12)
        }
    }

    @Test func statuses_decodeEveryShapeTheVenueSends() throws {
        let tpsl = try HyperliquidResponses.orderStatuses(
            try JSONSerialization.jsonObject(
                with: Data(
                    #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"filled":{"totalSz":"0.00022","avgPx":"87102.0","oid":272900270573}},"waitingForTrigger","waitingForTrigger"]}}}"#
                        .utf8
                )
            ),
            count: 3
        )
        #expect(
            tpsl == [
                .filled(oid: 272_900_270_573, totalSize: 0.00022, averagePrice: 87102), .waiting("waitingForTrigger"),
                .waiting("waitingForTrigger"),
            ]
        )
        // One status for a batch of three: a pre-validation error for the whole batch.
        let batch = try HyperliquidResponses.orderStatuses(
            try JSONSerialization.jsonObject(
                with: Data(
                    #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"Order has invalid price."}]}}}"#
                        .utf8
                )
            ),
            count: 3
        )
        #expect(batch == Array(repeating: .error("Order has invalid price."), count: 3))
        #expect(
            try HyperliquidResponses.cancelStatuses(
                try JSONSerialization.jsonObject(
                    with: Data(
                        #"{"status":"ok","response":{"type":"cancel","data":{"statuses":["success",{"error":"Order was never placed, already canceled, or filled."}]}}}"#
                            .utf8
                    )
                )
            ) == [nil, "Order was never placed, already canceled, or filled."]
        )
    }

    @Test func timedOutSubmit_isResolvedByCloid_andNeverBlindlyResent() async throws {
        try await Self.withVenue(timeout: .milliseconds(300)) { venue in
            // Processed, but the answer comes too late: the client must ask, not resend.
            venue.fake.script(
                .json(#"{"status":"ok","response":{"type":"default"}}"#),
                .slowButProcessed(
                    .seconds(1),
                    #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"filled":{"totalSz":"0.01","avgPx":"100500.0","oid":991}}]}}}"#
                )
            )
            let result = try await venue.exchange.submit([Self.entry()])
            #expect(result.first?.status == .filled)
            #expect(result.first?.orderID == 991)
            #expect(venue.fake.received.filter { $0.type == "order" }.count == 1)
            #expect(venue.fake.infoTypes.contains("orderStatus"))

            // Not processed (a 502 before the book saw it): the venue does not know the cloid, so it is sent again.
            venue.fake.script(.status(502, "bad gateway"))
            let second = try await venue.exchange.submit([Self.entry(cloid: "12" + String(repeating: "34", count: 31))])
            #expect(second.first?.status == .filled)
            #expect(venue.fake.received.filter { $0.type == "order" }.count == 3)
            // The record keeps that it went out twice.
            #expect(second.first?.message?.contains("sent 2 times") == true, "\(second)")

            // Reaches the book after its request failed: the first look-up does not know it, the second (after a
            // short wait) does, and nothing is sent again. (The fake's book learns it from the first look-up on, so
            // the count does not depend on how fast this machine is.)
            let lookups = venue.fake.infoTypes.filter { $0 == "orderStatus" }.count
            venue.fake.script(.processedAfterFirstLookup)
            let third = try await venue.exchange.submit([Self.entry(cloid: "56" + String(repeating: "78", count: 31))])
            #expect(third.first?.status == .filled)
            #expect(third.first?.orderID == 991)
            #expect(venue.fake.received.filter { $0.type == "order" }.count == 4)
            #expect(venue.fake.infoTypes.filter { $0 == "orderStatus" }.count == lookups + 2)
        }
    }

    @Test func nonces_increaseStrictly_acrossARestart_evenWhenTheClockGoesBack() async throws {
        let path = NSTemporaryDirectory() + "arena-nonce-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock(now: 1_700_000_000_000)
        let first = NonceSource(path: path, clock: clock)
        let a = try await first.next()
        let b = try await first.next()
        #expect(b > a)
        clock.set(1_600_000_000_000)
        let restarted = NonceSource(path: path, clock: clock)
        let c = try await restarted.next()
        #expect(c > b)
    }

    static let btcWithoutTriggers =
        #"{"assetPositions":[{"type":"oneWay","position":{"coin":"BTC","szi":"0.01","entryPx":"100500.0","leverage":{"type":"isolated","value":3},"liquidationPx":"70000.0","marginUsed":"335.0","positionValue":"1000.0","unrealizedPnl":"-5.0"}}],"marginSummary":{"accountValue":"1000.0","totalNtlPos":"1000.0","totalRawUsd":"1000.0","totalMarginUsed":"335.0"},"withdrawable":"665.0","time":1}"#

    /// The engine's tick keeps the dead-man's switch armed whatever the cycles do (re-armed every third of its
    /// interval), and when it has fired — or on the first tick after a restart — puts the stop and the target back
    /// from the entry plans, which survive the restart on disk.
    @Test func keepAlive_rearmsTheSwitch_andRestoresStopAndTargetFromThePersistedPlans() async throws {
        let planPath = NSTemporaryDirectory() + "arena-plans-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: planPath) }
        try await Self.withVenue(deadMansSwitch: .seconds(90), planPath: planPath) { venue in
            _ = try await venue.exchange.submit([Self.entry()])
            #expect(FileManager.default.fileExists(atPath: planPath))
            // The venue shows the long with no trigger order at all (the switch cancelled them).
            venue.fake.set(clearinghouse: Self.btcWithoutTriggers, openOrders: "[]")
            func triggers(after count: Int) -> [String] {
                venue.fake.received.dropFirst(count).filter { $0.type == "order" }.map(\.body)
            }

            // The first tick after a start arms the switch and puts protection back.
            var count = venue.fake.received.count
            let first = try await venue.exchange.keepAlive(traders: ["live"], now: Self.now)
            #expect(first.rearmed)
            #expect(first.replaced == ["BTC stop", "BTC target"])
            #expect(triggers(after: count).count == 2)
            // Within a third of the interval: nothing is sent.
            count = venue.fake.received.count
            let quiet = try await venue.exchange.keepAlive(traders: ["live"], now: Self.now + 29_000)
            #expect(quiet == KeepAliveReport())
            #expect(venue.fake.received.count == count)
            // After a third: armed again, protection left alone.
            let again = try await venue.exchange.keepAlive(traders: ["live"], now: Self.now + 30_000)
            #expect(again.rearmed && !again.switchFired && again.replaced.isEmpty)
            #expect(venue.fake.received.last?.type == "scheduleCancel")
            // Ticks stopped past the deadline (a stalled engine): the switch fired, protection comes back.
            count = venue.fake.received.count
            let late = try await venue.exchange.keepAlive(traders: ["live"], now: Self.now + 30_000 + 90_000)
            #expect(late.switchFired && late.rearmed)
            #expect(late.replaced == ["BTC stop", "BTC target"])
            let sent = triggers(after: count)
            #expect(sent.contains { $0.contains(#""triggerPx":"98000","tpsl":"sl""#) })
            #expect(sent.contains { $0.contains(#""triggerPx":"104000","tpsl":"tp""#) })

            // A restart: a new venue on the same plan file knows the plan and puts protection back at once.
            let restarted = try HyperliquidExchange(
                id: "hyperliquid",
                api: venue.exchange.api,
                signer: venue.signer,
                market: venue.market,
                mainAddress: nil,
                vaultAddress: nil,
                isMainnet: false,
                nonces: NonceSource(path: venue.nonceFile, clock: venue.clock),
                clock: venue.clock,
                deadMansSwitch: .seconds(90),
                planPath: planPath,
                logger: Logger(label: "test")
            )
            #expect(await restarted.plan("BTC")?.plan.stopLoss == 98_000)
            let afterRestart = try await restarted.keepAlive(traders: ["live"], now: Self.now + 200_000)
            #expect(afterRestart.rearmed)
            #expect(afterRestart.replaced == ["BTC stop", "BTC target"])
        }
    }

    @Test func maintenance_armsTheSwitch_replacesAMissingStop_andReportsWhatStaysUnprotected() async throws {
        try await Self.withVenue(deadMansSwitch: .seconds(120)) { venue in
            _ = try await venue.exchange.submit([Self.entry()])
            // The venue now shows a BTC long without any trigger order, and an ETH long nobody planned.
            venue.fake.set(
                clearinghouse:
                    #"{"assetPositions":[{"type":"oneWay","position":{"coin":"BTC","szi":"0.01","entryPx":"100500.0","leverage":{"type":"isolated","value":3},"liquidationPx":"70000.0","marginUsed":"335.0","positionValue":"1000.0","unrealizedPnl":"-5.0"}},{"type":"oneWay","position":{"coin":"ETH","szi":"0.1","entryPx":"4000.0","leverage":{"type":"isolated","value":2},"liquidationPx":"2100.0","marginUsed":"200.0","positionValue":"400.0","unrealizedPnl":"0.0"}}],"marginSummary":{"accountValue":"1000.0","totalNtlPos":"1400.0","totalRawUsd":"1000.0","totalMarginUsed":"535.0"},"withdrawable":"465.0","time":1}"#
            )
            let account = try await venue.exchange.account(trader: "live")
            #expect(account.positions["BTC"]?.stopLoss == nil)
            #expect(abs(account.equity - 1000) < 1e-9)
            let unprotected = try await venue.exchange.maintain(trader: "live", account: account)
            #expect(unprotected == ["ETH"])
            let sent = venue.fake.received
            let schedule = try #require(sent.first { $0.type == "scheduleCancel" })
            #expect(schedule.body.contains(#""time":\#(Self.now + 120_000)"#))
            // The stop and the target come back from the entry's plan.
            let restop = try #require(sent.first { $0.type == "order" && $0.body.contains(#""tpsl":"sl""#) })
            #expect(restop.body.contains(#""trigger":{"isMarket":true,"triggerPx":"98000","tpsl":"sl"}"#))
            #expect(restop.body.contains(#""r":true"#))
            #expect(sent.contains { $0.type == "order" && $0.body.contains(#""triggerPx":"104000","tpsl":"tp""#) })
            #expect(sent.allSatisfy { $0.signer == venue.signer.address })

            // Risk: an unprotected position blocks entries (exits still pass).
            var inputs = DecisionCycle.inputs(
                state: CycleHarness.state(),
                now: Self.now,
                takerFeeRate: 0.00045,
                sharpe: 0
            )
            inputs.unprotectedSymbols = unprotected
            let context = CyclePlanner.riskContext(
                limits: CycleHarness.limits,
                symbols: ["BTC", "ETH"],
                assets: AssetInfo.catalog,
                account: TraderAccount(cash: 10_000, positions: [:], realizedPnL: 0, feesPaid: 0),
                prices: ["BTC": 100_000, "ETH": 4_000],
                now: Self.now,
                inputs: inputs
            )
            let decision = try DecisionParser.parse(CycleHarness.answer(CycleHarness.entry()))
            let verdicts = RiskPolicy.evaluate(decision, context: context)
            #expect(verdicts.first?.reasons.contains(.stopMissing) == true)
        }
    }
}

@Suite("Engine on a Hyperliquid venue", .serialized)
struct HyperliquidEngineTests {
    /// Two providers that resolve to one account (here the same key, no main or vault address) would share its
    /// positions, orders and nonces: the engine refuses to start, naming both.
    @Test func twoProvidersOnTheSameAccount_areRefusedAtLoad() async throws {
        let scratch = try TestPaths.makeScratch("hl-same-account")
        let etc = scratch.appendingPathComponent("etc")
        try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("etc"), to: etc)
        let exchange = etc.appendingPathComponent("exchange.yaml")
        var yaml = try String(contentsOf: exchange, encoding: .utf8)
        let block = try #require(yaml.range(of: "  hyperliquid:\n")).lowerBound
        yaml += "\n" + String(yaml[block...]).replacingOccurrences(of: "  hyperliquid:\n", with: "  hyperliquid-2:\n")
        try yaml.write(to: exchange, atomically: true, encoding: .utf8)
        let manager = etc.appendingPathComponent("manager.yaml")
        let text = try String(contentsOf: manager, encoding: .utf8)
            .replacingOccurrences(
                of: "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: paper",
                with: "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: hyperliquid"
            )
            .replacingOccurrences(of: "exchange_provider: paper", with: "exchange_provider: hyperliquid-2")
        try text.write(to: manager, atomically: true, encoding: .utf8)
        let configuration = try EngineFixtures.configuration(
            scratch: scratch,
            path: etc.appendingPathComponent("arena.yaml"),
            environment: ["HYPERLIQUID_PRIVATE_KEY": HyperliquidVenueTests.key]
        )
        #expect(Set(configuration.enabledTraders.map(\.exchangeProvider)) == ["hyperliquid", "hyperliquid-2"])
        do {
            let assembly = try await EngineAssembly.make(
                configuration: configuration,
                logger: EngineFixtures.quietLogger()
            )
            try await assembly.httpClient.shutdown()
            Issue.record("the engine started with two providers on one account")
        } catch {
            #expect(
                "\(error)".contains("'hyperliquid' and 'hyperliquid-2' trade the same Hyperliquid account"),
                "\(error)"
            )
        }
    }

    @Test func engine_runsABaselineTraderOnTheFakeVenue_signingEveryOrder() async throws {
        let fake = FakeHyperliquid()
        fake.expect(signer: try HyperliquidSigner(privateKeyHex: HyperliquidVenueTests.key).address)
        try await fake.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            let scratch = try TestPaths.makeScratch("hl-engine")
            let etc = scratch.appendingPathComponent("etc")
            try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("etc"), to: etc)
            // The buy-and-hold trader moves to the Hyperliquid venue and market (both at the fake); the others stay.
            let manager = etc.appendingPathComponent("manager.yaml")
            var text = try String(contentsOf: manager, encoding: .utf8)
            text = text.replacingOccurrences(
                of:
                    "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: paper\n    market_provider: replay",
                with:
                    "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: hyperliquid\n    market_provider: hyperliquid"
            )
            try text.write(to: manager, atomically: true, encoding: .utf8)
            for file in ["exchange.yaml", "market.yaml"] {
                let url = etc.appendingPathComponent(file)
                let yaml = try String(contentsOf: url, encoding: .utf8)
                    .replacingOccurrences(
                        of: "    type: hyperliquid\n",
                        with: "    type: hyperliquid\n    base_url: http://127.0.0.1:\(port)\n"
                    )
                try yaml.write(to: url, atomically: true, encoding: .utf8)
            }
            let configuration = try ConfigLoader(
                environment: TestPaths.scratchRuntime(scratch).merging([
                    "HYPERLIQUID_PRIVATE_KEY": HyperliquidVenueTests.key, "ARENA_CLOCK_MODE": "wall",
                ]) { $1 },
                baseDirectory: TestPaths.packageRoot.path
            ).load(path: etc.appendingPathComponent("arena.yaml").path)
            var logger = Logger(label: "test")
            logger.logLevel = .error
            // The paper traders need the replay data's time; this test only runs the live one.
            var live = configuration
            live.manager.traders = configuration.manager.traders.filter { $0.id == "baseline-hold" }
            let assembly = try await EngineAssembly.make(configuration: live, logger: logger)
            // One tick before any cycle already arms the dead-man's switch: it does not wait for a trader.
            try await assembly.manager.prepare()
            let start = WallClock().now()
            await assembly.manager.tick(now: start)
            #expect(fake.received.map(\.type) == ["scheduleCancel"])
            // The account is not read on every one-second tick (request weight stays for orders): once per 15 s.
            let reads = fake.infoTypes.filter { $0 == "clearinghouseState" }.count
            for second in 1...10 { await assembly.manager.tick(now: start + Int64(second) * 1000) }
            #expect(fake.infoTypes.filter { $0 == "clearinghouseState" }.count == reads)
            await assembly.manager.tick(now: start + 15_000)
            #expect(fake.infoTypes.filter { $0 == "clearinghouseState" }.count == reads + 1)
            try await assembly.manager.runOnce()
            try await assembly.journal.close()
            try await assembly.httpClient.shutdown()

            let signer = try HyperliquidSigner(privateKeyHex: HyperliquidVenueTests.key)
            let sent = fake.received
            // The venue's own book: a long BTC position with a reduce-only stop and target resting.
            let position = try #require(fake.positions["BTC"])
            #expect(position.size > 0)
            #expect(fake.book.count == 2)
            #expect(fake.book.allSatisfy { $0.coin == "BTC" && !$0.isBuy && abs($0.size - position.size) < 1e-12 })
            #expect(Set(fake.book.map(\.isTakeProfit)) == [true, false])
            #expect(sent.contains { $0.type == "scheduleCancel" })
            let orders = sent.filter { $0.type == "order" }
            #expect(!orders.isEmpty)
            #expect(sent.allSatisfy { $0.signer == signer.address })
            // Entry, then its stop and target once filled; the journal recorded the cycle.
            let records = try JournalReplay.records(
                journal: JournalDirectory(root: live.journal.path),
                trader: "baseline-hold"
            )
            #expect(records.count == 1)
            // A live account's capital is what the venue holds (1,000 USD here), not the configured allocation.
            #expect(records.first?.inputs?.inceptionCapital == 1000)
            #expect(records.first?.outcome == .completed)
            #expect(records.first?.results.first?.status == .filled)
            let nonces = sent.map(\.nonce)
            #expect(nonces == nonces.sorted() && Set(nonces).count == nonces.count)
        }
    }
}

@Suite("Request weight and hot standby")
struct MarketPlumbingTests {
    @Test func weightLimiter_keepsAMinuteUnderTheBudget() async throws {
        let clock = SteppingClock(now: 0)
        let limiter = WeightLimiter(budget: 1200, window: .seconds(60), clock: clock)
        for _ in 0..<60 { try await limiter.acquire(20) }
        #expect(clock.waits.isEmpty)
        // The 61st request of weight 20 must wait until the first one leaves the minute.
        try await limiter.acquire(20)
        #expect(clock.waits == [60_001])
        #expect(await limiter.used <= 1200)
    }

    @Test func standby_usesTheNextMember_whenTheFirstIsStaleOrMissing() async throws {
        let now = CycleHarness.now
        let stale = CycleHarness.market(asOf: now - 3_600_000)
        let missing = CycleHarness.market(symbols: ["BTC"])
        let fresh = CycleHarness.market()
        let chain = StandbyMarketProvider(id: "chain", members: [stale, missing, fresh], maxStaleness: 600_000)
        let snapshot = try await chain.snapshot(symbols: ["BTC", "ETH"], now: now)
        #expect(snapshot.symbols.keys.sorted() == ["BTC", "ETH"])
        #expect(snapshot.symbols["BTC"]?.asOf == now)
        let broken = StandbyMarketProvider(id: "chain", members: [stale, missing], maxStaleness: 600_000)
        await #expect(throws: MarketDataError.self) {
            _ = try await broken.snapshot(symbols: ["BTC", "ETH"], now: now)
        }
    }
}

@Suite("Market hot standby in the engine", .serialized)
struct StandbyEngineTests {
    /// Runs one tick of the shipped buy-and-hold trader with `market_provider: [hyperliquid, replay]`, the
    /// Hyperliquid member served by `fake`; returns the BTC snapshot the cycle recorded.
    func recordedBTC(_ fake: FakeHyperliquid) async throws -> SymbolSnapshot? {
        let snapshot = Mutex<SymbolSnapshot?>(nil)
        try await fake.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            let scratch = try TestPaths.makeScratch("standby")
            let etc = scratch.appendingPathComponent("etc")
            try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("etc"), to: etc)
            let manager = etc.appendingPathComponent("manager.yaml")
            try String(contentsOf: manager, encoding: .utf8)
                .replacingOccurrences(
                    of:
                        "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: paper\n    market_provider: replay",
                    with:
                        "  - id: baseline-hold\n    name: Buy and hold BTC\n    exchange_provider: paper\n    market_provider: [hyperliquid, replay]"
                )
                .write(to: manager, atomically: true, encoding: .utf8)
            let market = etc.appendingPathComponent("market.yaml")
            try String(contentsOf: market, encoding: .utf8)
                .replacingOccurrences(
                    of: "    type: hyperliquid\n",
                    with: "    type: hyperliquid\n    base_url: http://127.0.0.1:\(port)\n"
                )
                .write(to: market, atomically: true, encoding: .utf8)
            var configuration = try ConfigLoader(
                environment: TestPaths.scratchRuntime(scratch),
                baseDirectory: TestPaths.packageRoot.path
            ).load(path: etc.appendingPathComponent("arena.yaml").path)
            configuration.manager.traders = configuration.manager.traders.filter { $0.id == "baseline-hold" }
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let assembly = try await EngineAssembly.make(
                configuration: configuration,
                logger: logger,
                clockOverride: ManualClock(now: EngineFixtures.start)
            )
            try await assembly.manager.runOnce()
            try await assembly.journal.close()
            try await assembly.httpClient.shutdown()
            let records = try JournalReplay.records(
                journal: JournalDirectory(root: configuration.journal.path),
                trader: "baseline-hold"
            )
            #expect(records.first?.outcome == .completed)
            snapshot.withLock { $0 = records.first?.market?.symbols["BTC"] }
        }
        return snapshot.withLock { $0 }
    }

    @Test func aStaleFirstMember_handsOverToTheSecond() async throws {
        let live = FakeHyperliquid()
        let fresh = try #require(try await recordedBTC(live))
        // Hyperliquid answered: its mark is the fake's.
        #expect(fresh.markPrice == 100_000)

        let stopped = FakeHyperliquid()
        stopped.lagCandles(by: 86_400_000)
        let fallback = try #require(try await recordedBTC(stopped))
        // The feed stopped a day ago: the replay member answered, with the bundled candle's close.
        #expect(fallback.markPrice != 100_000)
        #expect(fallback.asOf <= EngineFixtures.start && fallback.asOf > EngineFixtures.start - 600_000)
    }
}
