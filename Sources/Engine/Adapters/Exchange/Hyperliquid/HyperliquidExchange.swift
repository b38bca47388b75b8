import ArenaCore
import Foundation
import Logging
import Shared

/// Nonces strictly increasing per signer, across restarts: `max(last + 1, now)`, written to disk (fsynced)
/// before the nonce is used, so a crash can never hand out the same nonce twice.
package actor NonceSource {
    private let path: String?
    private let clock: any ArenaClock
    private var last: UInt64

    package init(path: String?, clock: any ArenaClock) {
        self.path = path
        self.clock = clock
        let stored = path.flatMap { FileManager.default.contents(atPath: $0) }.map {
            String(decoding: $0, as: UTF8.self)
        }
        last = stored.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    package func next() throws -> UInt64 {
        let nonce = max(last + 1, UInt64(max(0, clock.now())))
        if let path {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try AtomicFile.replace(path, with: Data("\(nonce)\n".utf8))
        }
        last = nonce
        return nonce
    }
}

/// Orders and account state on Hyperliquid perps. The account is one trader's: the signer's own, its master's
/// (`main_address`, when an agent/API wallet signs) or a vault/sub-account (`vault_address`). Reads come from
/// `clearinghouseState`, `frontendOpenOrders` (to see TP/SL triggers) and `userFills`. Every order carries its
/// cloid; every per-order status is decoded, and `status: ok` with failed orders is a failure. A submit that
/// times out (or meets a 5xx) has an unknown outcome: it is resolved with `orderStatus` by cloid before
/// anything is sent again — never a blind resend.
package actor HyperliquidExchange: ExchangeProvider {
    package nonisolated let id: String
    package nonisolated let takerFeeRate = 0.00045
    package nonisolated let api: HyperliquidAPI
    package let signer: HyperliquidSigner
    package let market: HyperliquidMarketProvider
    /// The account traded (vault ?? main ?? signer), lowercase.
    package let user: String
    package let vaultAddress: String?
    package let isMainnet: Bool
    package let nonces: NonceSource
    package let clock: any ArenaClock
    package let logger: Logger
    /// Resting orders are cancelled this long after the last cycle unless re-armed; nil: no dead-man's switch.
    package let deadMansSwitch: Duration?
    /// Bound on a market trigger's fill price once triggered (the SDK's default slippage is 5 %).
    package static let triggerSlippage = 0.05

    /// Each coin's entry plan (stop, target, confidence, risk, invalidation) and entry time, persisted at
    /// `planPath` so a restart re-places protection and exports the right exit plan.
    private var plans: [String: StoredPlan] = [:]
    private let planPath: String?
    private var leverageSet: [String: Int] = [:]
    /// When the dead-man's switch was last armed, and the time it fires at unless armed again.
    private var armedAt: Int64?
    private var armedUntil: Int64?
    /// How long to wait before the second `orderStatus` look-up of an order whose outcome is unknown: an order
    /// can reach the book after the request that carried it failed.
    private let unknownOutcomeSettle: Duration
    /// Whether protection was checked since this process started (a restart may follow a fired switch).
    private var hasProtectedSinceStart = false

    package struct StoredPlan: Sendable, Codable, Equatable {
        package var plan: OrderRequest.EntryPlan
        package var openedAt: Int64
        /// The entry's leverage (absent in plans saved before it was kept).
        package var leverage: Double?
    }

    package init(
        id: String,
        api: HyperliquidAPI,
        signer: HyperliquidSigner,
        market: HyperliquidMarketProvider,
        mainAddress: String?,
        vaultAddress: String?,
        isMainnet: Bool,
        nonces: NonceSource,
        clock: any ArenaClock = WallClock(),
        deadMansSwitch: Duration? = .seconds(300),
        planPath: String? = nil,
        unknownOutcomeSettle: Duration = .seconds(2),
        logger: Logger
    ) throws {
        self.unknownOutcomeSettle = unknownOutcomeSettle
        self.id = id
        self.api = api
        self.signer = signer
        self.market = market
        self.vaultAddress = vaultAddress?.lowercased()
        self.user = (vaultAddress ?? mainAddress ?? signer.address).lowercased()
        self.isMainnet = isMainnet
        self.nonces = nonces
        self.clock = clock
        self.deadMansSwitch = deadMansSwitch
        self.planPath = planPath
        self.logger = logger
        if let planPath, let data = FileManager.default.contents(atPath: planPath) {
            do {
                plans = try JSONDecoder().decode([String: StoredPlan].self, from: data)
            } catch {
                throw HyperliquidError.malformed("the entry plans in \(planPath) do not read: \(error)")
            }
        }
    }

    /// The entry plan of `symbol`'s position, as persisted.
    package func plan(_ symbol: String) -> StoredPlan? { plans[symbol] }

    private func remember(_ plan: OrderRequest.EntryPlan, for symbol: String, at time: Int64, leverage: Double) throws {
        plans[symbol] = StoredPlan(plan: plan, openedAt: time, leverage: leverage)
        if let planPath { try AtomicFile.replaceJSON(planPath, with: plans) }
    }

    /// Every tick: the dead-man's switch re-armed once a third of its interval has passed (so two missed re-arms
    /// still leave it armed), and — when it has fired, or on the first tick after a start — every position's stop
    /// and target put back from the entry plans.
    package func keepAlive(traders: [String], now: Int64) async throws -> KeepAliveReport {
        var report = KeepAliveReport()
        if let deadMansSwitch {
            let interval = deadMansSwitch.milliseconds
            report.switchFired = armedUntil.map { now >= $0 } ?? false
            if report.switchFired || armedAt.map({ now - $0 >= interval / 3 }) ?? true {
                try await arm(deadMansSwitch, now: now)
                report.rearmed = true
            }
        }
        if let trader = traders.first, report.switchFired || !hasProtectedSinceStart {
            let outcome = try await protect(trader: trader, try await account(trader: trader))
            hasProtectedSinceStart = true
            report.replaced = outcome.replaced
            report.unprotected = outcome.unprotected
        }
        return report
    }

    private func arm(_ deadMansSwitch: Duration, now: Int64) async throws {
        try await armScheduleCancel(after: deadMansSwitch)
        armedAt = now
        armedUntil = now + max(deadMansSwitch.milliseconds, 5_000)
    }

    /// Re-arms the dead-man's switch, and puts back the stop and target of any position found without them (from
    /// the plan its entry carried). Returns the symbols still without a stop.
    package func maintain(trader: String, account: TraderAccount) async throws -> [String] {
        if let deadMansSwitch { try await arm(deadMansSwitch, now: clock.now()) }
        return try await protect(trader: trader, account).unprotected
    }

    /// Places each position's missing stop and target from its entry plan. A position without a plan (opened
    /// outside the engine, or before plans were kept) and without a stop is reported unprotected.
    private func protect(
        trader: String,
        _ account: TraderAccount
    ) async throws -> (replaced: [String], unprotected: [String]) {
        var replaced: [String] = []
        var unprotected: [String] = []
        for position in account.orderedPositions {
            let plan = plans[position.symbol]?.plan
            let legs: [(OrderRequest.Kind, Double?, Double?, String)] = [
                (.stopLoss, position.stopLoss, plan?.stopLoss, "stop"),
                (.takeProfit, position.takeProfit, plan?.takeProfit, "target"),
            ]
            for (kind, present, planned, leg) in legs where present == nil {
                guard let planned else {
                    if kind == .stopLoss { unprotected.append(position.symbol) }
                    continue
                }
                let order = OrderPlanner.protection(
                    position,
                    trader: trader,
                    kind: kind,
                    trigger: planned,
                    sequence: Int(clock.now() / 1000)
                )
                let result = try? await submit(order)
                if result?.status == .resting || result?.status == .filled {
                    replaced.append("\(position.symbol) \(leg)")
                    logger.warning(
                        "protection put back on a position",
                        metadata: ["symbol": "\(position.symbol)", "leg": "\(leg)", "trigger": "\(planned)"]
                    )
                } else {
                    if kind == .stopLoss { unprotected.append(position.symbol) }
                    logger.error(
                        "protection could not be put back",
                        metadata: [
                            "symbol": "\(position.symbol)", "leg": "\(leg)",
                            "result": "\(result?.message ?? "no answer")",
                        ]
                    )
                }
            }
        }
        return (replaced, unprotected)
    }

    // MARK: Reads

    package func account(trader: String) async throws -> TraderAccount {
        let state = try await api.info(["type": "clearinghouseState", "user": user]) as? [String: Any] ?? [:]
        guard let summary = state["marginSummary"] as? [String: Any], let value = summary.decimal("accountValue") else {
            throw HyperliquidError.malformed("clearinghouseState has no marginSummary.accountValue")
        }
        let triggers = try await openOrders()
        var positions: [String: Position] = [:]
        for entry in state["assetPositions"] as? [[String: Any]] ?? [] {
            guard let position = entry["position"] as? [String: Any], let coin = position["coin"] as? String,
                let size = position.decimal("szi"), size != 0
            else { continue }
            let leverage = (position["leverage"] as? [String: Any])?["value"] as? Int ?? 1
            let entryPrice = position.decimal("entryPx") ?? 0
            let notional = position.decimal("positionValue") ?? abs(size) * entryPrice
            let orders = triggers.filter { $0.coin == coin && $0.isTrigger && $0.reduceOnly }
            let plan = plans[coin]
            positions[coin] = Position(
                symbol: coin,
                quantity: size,
                entryPrice: entryPrice,
                leverage: Double(leverage),
                margin: position.decimal("marginUsed") ?? 0,
                liquidationPrice: position.decimal("liquidationPx") ?? 0,
                markPrice: notional / abs(size),
                stopLoss: orders.first { $0.isStop }?.triggerPrice,
                takeProfit: orders.first { !$0.isStop }?.triggerPrice,
                openedAt: plan?.openedAt ?? 0,
                entryOrderID: 0,
                stopOrderID: orders.first { $0.isStop }.map { Int64($0.oid) },
                takeProfitOrderID: orders.first { !$0.isStop }.map { Int64($0.oid) },
                confidence: plan?.plan.confidence ?? 0,
                riskUSD: plan?.plan.riskUSD ?? 0,
                invalidationCondition: plan?.plan.invalidationCondition ?? "",
                entryFee: 0,
                fundingPaid: -(((position["cumFunding"] as? [String: Any])?.decimal("sinceOpen")) ?? 0)
            )
        }
        // Cash is what the account value leaves after margin and open PnL (the account's own ordered sums).
        var account = TraderAccount(cash: 0, positions: positions, realizedPnL: 0, feesPaid: 0)
        account.cash = value - account.marginUsed - account.unrealizedPnL
        return account
    }

    package struct OpenOrder: Sendable {
        package var coin: String
        package var oid: UInt64
        package var isTrigger: Bool
        package var reduceOnly: Bool
        package var triggerPrice: Double?
        package var orderType: String
        package var cloid: String?

        package var isStop: Bool { orderType.hasPrefix("Stop") }
    }

    package func openOrders() async throws -> [OpenOrder] {
        let rows = try await api.info(["type": "frontendOpenOrders", "user": user]) as? [[String: Any]] ?? []
        return rows.compactMap { row in
            guard let coin = row["coin"] as? String, let oid = (row["oid"] as? NSNumber)?.uint64Value else {
                return nil
            }
            return OpenOrder(
                coin: coin,
                oid: oid,
                isTrigger: row["isTrigger"] as? Bool ?? false,
                reduceOnly: row["reduceOnly"] as? Bool ?? false,
                triggerPrice: row.decimal("triggerPx"),
                orderType: row["orderType"] as? String ?? "",
                cloid: row["cloid"] as? String
            )
        }
    }

    /// Round trips from the account's closing fills (`Close Long` / `Close Short`), oldest first. The entry price
    /// is derived from the fill's closed PnL; the entry time is the last opening fill of the coin before it.
    /// Round trips from `userFills`, oldest first. The fills of one order (a market order crossing several resting
    /// orders fills in parts) make one trade: sizes summed, prices averaged by size, fees and closed PnL summed.
    /// The entry's fee is the opening order's, in proportion to the size closed; the entry time and plan are the
    /// persisted plan's when it belongs to this position; the leverage is the entry's. Funding comes from
    /// `userFunding`: the payments on the coin while the position was open, in proportion to the size closed.
    package func closedTrades(trader: String) async throws -> [ClosedTrade] {
        let fills = (try await api.info(["type": "userFills", "user": user]) as? [[String: Any]] ?? [])
            .sorted { (($0["time"] as? NSNumber)?.int64Value ?? 0) < (($1["time"] as? NSNumber)?.int64Value ?? 0) }
        guard !fills.isEmpty else { return [] }
        let start = fills.compactMap { ($0["time"] as? NSNumber)?.int64Value }.min() ?? 0
        // Each funding payment: (coin, time, USDC paid; positive = paid, as `fundingPaid` counts it).
        let payments: [(coin: String, time: Int64, paid: Double)] =
            (try await api.info(["type": "userFunding", "user": user, "startTime": start]) as? [[String: Any]] ?? [])
            .compactMap { row in
                guard let delta = row["delta"] as? [String: Any], let coin = delta["coin"] as? String,
                    let usdc = delta.decimal("usdc"), let time = (row["time"] as? NSNumber)?.int64Value
                else { return nil }
                return (coin, time, -usdc)
            }
        struct Order {
            var coin: String
            var direction: String
            var oid: Int64
            var tid: Int64
            var firstTime: Int64
            var lastTime: Int64
            var size: Double = 0
            var notional: Double = 0
            var fee: Double = 0
            var closedPnL: Double = 0
            var price: Double { size > 0 ? notional / size : 0 }
        }
        // Fills grouped by order, in the order each order first filled.
        var orders: [Order] = []
        var index: [String: Int] = [:]
        for fill in fills {
            guard let coin = fill["coin"] as? String, let direction = fill["dir"] as? String,
                let size = fill.decimal("sz"), let price = fill.decimal("px"), size > 0
            else { continue }
            let time = (fill["time"] as? NSNumber)?.int64Value ?? 0
            let oid = (fill["oid"] as? NSNumber)?.int64Value ?? 0
            let key = "\(coin)/\(oid)/\(direction)"
            if index[key] == nil {
                index[key] = orders.count
                let tid = (fill["tid"] as? NSNumber)?.int64Value ?? Int64(orders.count + 1)
                orders.append(
                    Order(coin: coin, direction: direction, oid: oid, tid: tid, firstTime: time, lastTime: time)
                )
            }
            let at = index[key]!
            orders[at].size += size
            orders[at].notional += size * price
            orders[at].fee += fill.decimal("fee") ?? 0
            orders[at].closedPnL += fill.decimal("closedPnl") ?? 0
            orders[at].lastTime = time
        }
        var opened: [String: (order: Order, remaining: Double)] = [:]
        /// Funding of the open position already assigned to earlier partial closes.
        var fundingBooked: [String: Double] = [:]
        var trades: [ClosedTrade] = []
        for order in orders {
            if order.direction.hasPrefix("Open") {
                opened[order.coin] = (order, order.size)
                fundingBooked[order.coin] = nil
                continue
            }
            guard order.direction.hasPrefix("Close") || order.direction.contains("Liquidat") else { continue }
            let sign: Double = order.direction.contains("Long") ? 1 : -1
            let entryPrice = order.price - order.closedPnL / (order.size * sign)
            let entry = opened[order.coin]
            var entryFee = 0.0
            var funding = 0.0
            if let entry, entry.order.size > 0 {
                let share = min(1, order.size / entry.order.size)
                entryFee = entry.order.fee * share
                // Funding paid while open; what was paid before an earlier partial close went with that trade.
                let paid = payments.filter {
                    $0.coin == order.coin && $0.time > entry.order.firstTime && $0.time <= order.lastTime
                }
                .reduce(0) { $0 + $1.paid }
                funding = (paid - (fundingBooked[order.coin] ?? 0)) * min(1, order.size / max(entry.remaining, 1e-12))
                fundingBooked[order.coin, default: 0] += funding
                opened[order.coin]?.remaining = max(0, entry.remaining - order.size)
            }
            let plan = plans[order.coin].flatMap { stored in
                stored.openedAt <= order.lastTime && stored.openedAt >= (entry?.order.firstTime ?? 0) - 60_000
                    ? stored : nil
            }
            trades.append(
                ClosedTrade(
                    tradeID: order.tid,
                    trader: id,
                    symbol: order.coin,
                    quantity: order.size * sign,
                    leverage: plan?.leverage ?? 0,
                    confidence: plan?.plan.confidence ?? 0,
                    entryOrderID: entry?.order.oid ?? 0,
                    exitOrderID: order.oid,
                    entryTime: entry?.order.firstTime ?? plan?.openedAt ?? order.firstTime,
                    exitTime: order.lastTime,
                    entryPrice: entryPrice,
                    exitPrice: order.price,
                    entryFee: entryFee,
                    exitFee: order.fee,
                    fundingPaid: funding,
                    wasLiquidated: order.direction.contains("Liquidat"),
                    exitPlan: plan?.plan
                )
            )
        }
        return trades
    }

    // MARK: Writes

    package func submit(_ orders: [OrderRequest]) async throws -> [OrderResult] {
        var results: [OrderResult] = []
        for order in orders {
            results.append(try await submit(order))
        }
        return results
    }

    /// The venue's cloid for ours: `0x` and the first 32 hex digits (16 bytes) of our sha256 cloid.
    package static func venueCloid(_ cloid: String) -> String {
        let hex = cloid.lowercased().filter(\.isHexDigit)
        return "0x" + String((hex + String(repeating: "0", count: 32)).prefix(32))
    }

    package func wire(for order: OrderRequest, now: Int64) async throws -> HyperliquidAction.OrderWire {
        let asset = try await market.asset(order.symbol, now: now)
        let mark = asset.markPrice
        func price(_ value: Double) throws -> String {
            try HyperliquidWire.floatToWire(HyperliquidWire.priceKeepingIntegers(value, szDecimals: asset.szDecimals))
        }
        let size = try HyperliquidWire.floatToWire(HyperliquidWire.size(order.size, szDecimals: asset.szDecimals))
        let bound = order.isBuy ? 1 + order.slippageBps / 10_000 : 1 - order.slippageBps / 10_000
        let type: HyperliquidAction.OrderType
        let limit: Double
        switch order.kind {
        case .marketIOC:
            // The slippage bound from the mark now, never beyond the bound of the price risk approved.
            type = .limit(.ioc)
            let fromMark = mark * bound
            limit = order.limitPrice.map { order.isBuy ? min($0, fromMark) : max($0, fromMark) } ?? fromMark
        case .limitIOC:
            type = .limit(.ioc)
            limit = order.limitPrice ?? mark * bound
        case .limitGTC:
            type = .limit(.gtc)
            limit = order.limitPrice ?? mark
        case .limitALO:
            type = .limit(.alo)
            limit = order.limitPrice ?? mark
        case .stopLoss, .takeProfit:
            guard let trigger = order.triggerPrice else {
                throw HyperliquidError.malformed("a trigger order needs a price")
            }
            type = .trigger(isMarket: true, triggerPrice: try price(trigger), isTakeProfit: order.kind == .takeProfit)
            limit = trigger * (order.isBuy ? 1 + Self.triggerSlippage : 1 - Self.triggerSlippage)
        }
        return HyperliquidAction.OrderWire(
            asset: asset.index,
            isBuy: order.isBuy,
            price: try price(limit),
            size: size,
            isReduceOnly: order.isReduceOnly,
            type: type,
            cloid: Self.venueCloid(order.cloid)
        )
    }

    private func submit(_ order: OrderRequest) async throws -> OrderResult {
        let now = clock.now()
        let asset = try await market.asset(order.symbol, now: now)
        // Entries run isolated at the order's leverage, set once per value.
        if !order.isReduceOnly {
            let leverage = max(1, min(asset.maxLeverage, Int(order.leverage.rounded())))
            if leverageSet[order.symbol] != leverage {
                let signed = try signer.sign(
                    .updateLeverage(asset: asset.index, isCross: false, leverage: leverage),
                    nonce: try await nonces.next(),
                    vaultAddress: vaultAddress,
                    isMainnet: isMainnet
                )
                try HyperliquidResponses.checkOK(try await api.exchange(signed.requestBody, batchLength: 1))
                leverageSet[order.symbol] = leverage
            }
        }
        let wire = try await wire(for: order, now: now)
        let action = HyperliquidAction.order(orders: [wire], grouping: .na)
        var attempt = 0
        var resends = 0
        while true {
            let signed = try signer.sign(
                action,
                nonce: try await nonces.next(),
                vaultAddress: vaultAddress,
                isMainnet: isMainnet
            )
            let outcome: Result<Any, HyperliquidError>
            do {
                outcome = .success(try await api.exchange(signed.requestBody, batchLength: 1))
            } catch {
                outcome = .failure(error)
            }
            let failure: HyperliquidError
            switch outcome {
            case .success(let response):
                let status = try HyperliquidResponses.orderStatuses(response, count: 1)[0]
                var result = Self.result(order, status, fee: takerFeeRate)
                if resends > 0 {
                    // The journal keeps that this order went out more than once.
                    result.message = [
                        result.message,
                        "sent \(resends + 1) times: the venue did not know cloid \(wire.cloid ?? "") after two look-ups",
                    ].compactMap { $0 }.joined(separator: "; ")
                }
                if result.status == .filled || result.status == .resting, let plan = order.plan {
                    try remember(plan, for: order.symbol, at: now, leverage: order.leverage)
                }
                return result
            case .failure(let error):
                failure = error
            }
            let canRetry = attempt < api.policy.retry.maxRetries
            attempt += 1
            if Self.isRateLimit(failure), canRetry {
                // Refused for rate: nothing was done; wait and send again (with a new nonce).
                try await clock.sleep(until: clock.now() + api.policy.retry.backoff.milliseconds * Int64(1 << attempt))
                continue
            }
            guard Self.isUnknownOutcome(failure) else { throw failure }
            // Unknown outcome: ask by cloid before anything is sent again, and once more after a short wait (the
            // order may reach the book after its request failed).
            if let known = try await resolve(wire.cloid ?? "", order: order) { return known }
            try await Task.sleep(for: unknownOutcomeSettle)
            if let known = try await resolve(wire.cloid ?? "", order: order) { return known }
            guard canRetry else {
                throw HyperliquidError.unknownOutcome("\(order.symbol) \(wire.cloid ?? ""): \(failure)")
            }
            logger.warning(
                "order outcome unknown; the venue does not know its cloid after two look-ups, sending again",
                metadata: ["symbol": "\(order.symbol)", "cloid": "\(wire.cloid ?? "")"]
            )
            resends += 1
        }
    }

    package static func isRateLimit(_ error: HyperliquidError) -> Bool {
        if case .http(429, _) = error { return true }
        return false
    }

    /// A submit that may or may not have reached the book.
    package static func isUnknownOutcome(_ error: HyperliquidError) -> Bool {
        switch error {
        case .timeout, .transport: return true
        case .http(let status, _): return status >= 500
        default: return false
        }
    }

    package func lookup(_ order: OrderRequest) async throws -> OrderResult? {
        try await resolve(Self.venueCloid(order.cloid), order: order)
    }

    /// The marks of `metaAndAssetCtxs`, at most the market's context cache old (5 s by default).
    package func currentMarks(symbols: [String]) async throws -> [String: Double] {
        let contexts = try await market.assetContexts(now: clock.now())
        return contexts.filter { symbols.contains($0.key) }.mapValues(\.markPrice)
    }

    /// What the venue knows of an order by cloid: a result, or nil when it never arrived.
    package func resolve(_ cloid: String, order: OrderRequest) async throws -> OrderResult? {
        let answer = try await api.info(["type": "orderStatus", "user": user, "oid": cloid]) as? [String: Any] ?? [:]
        guard answer["status"] as? String == "order", let wrapper = answer["order"] as? [String: Any],
            let details = wrapper["order"] as? [String: Any]
        else { return nil }
        let status = wrapper["status"] as? String ?? ""
        let oid = (details["oid"] as? NSNumber)?.int64Value ?? 0
        let original = details.decimal("origSz") ?? order.size
        let remaining = details.decimal("sz") ?? 0
        let filled = max(0, original - remaining)
        switch status {
        case "open", "triggered":
            return OrderResult(
                cloid: order.cloid,
                status: filled > 0 ? .filled : .resting,
                orderID: oid,
                filledSize: filled,
                averagePrice: details.decimal("limitPx") ?? 0,
                fee: 0
            )
        case "filled":
            return OrderResult(
                cloid: order.cloid,
                status: .filled,
                orderID: oid,
                filledSize: original,
                averagePrice: details.decimal("limitPx") ?? 0,
                fee: original * (details.decimal("limitPx") ?? 0) * takerFeeRate
            )
        default:
            return OrderResult(
                cloid: order.cloid,
                status: .rejected,
                orderID: oid,
                filledSize: filled,
                averagePrice: 0,
                fee: 0,
                reason: .exchangeError,
                message: "order \(status)"
            )
        }
    }

    package static func result(
        _ order: OrderRequest,
        _ status: HyperliquidResponses.OrderStatus,
        fee rate: Double
    )
        -> OrderResult
    {
        switch status {
        case .filled(let oid, let size, let price):
            return OrderResult(
                cloid: order.cloid,
                status: .filled,
                orderID: Int64(oid),
                filledSize: size,
                averagePrice: price,
                fee: size * price * rate
            )
        case .resting(let oid):
            return OrderResult(
                cloid: order.cloid,
                status: .resting,
                orderID: Int64(oid),
                filledSize: 0,
                averagePrice: 0,
                fee: 0
            )
        case .waiting:
            return OrderResult(cloid: order.cloid, status: .resting, orderID: 0, filledSize: 0, averagePrice: 0, fee: 0)
        case .error(let message):
            let reason: ReasonCode = message.hasPrefix("Insufficient margin") ? .insufficientMargin : .exchangeError
            return OrderResult(
                cloid: order.cloid,
                status: .rejected,
                orderID: 0,
                filledSize: 0,
                averagePrice: 0,
                fee: 0,
                reason: reason,
                message: message
            )
        }
    }

    /// Cancels the trader's resting orders on a symbol (its stop and target before a close).
    package func cancel(trader: String, symbol: String) async throws {
        let now = clock.now()
        let asset = try await market.asset(symbol, now: now)
        let orders = try await openOrders().filter { $0.coin == symbol }
        guard !orders.isEmpty else { return }
        let signed = try signer.sign(
            .cancel(orders.map { .init(asset: asset.index, oid: $0.oid) }),
            nonce: try await nonces.next(),
            vaultAddress: vaultAddress,
            isMainnet: isMainnet
        )
        let statuses = try HyperliquidResponses.cancelStatuses(
            try await api.exchange(signed.requestBody, batchLength: orders.count)
        )
        // An order that filled or was cancelled meanwhile is gone either way.
        for case .some(let error) in statuses where !error.hasPrefix("Order was never placed") {
            throw HyperliquidError.rejected(error)
        }
    }

    /// Arms the dead-man's switch: every resting order is cancelled at `now + after` unless armed again.
    package func armScheduleCancel(after: Duration) async throws {
        let time = UInt64(max(0, clock.now() + max(after.milliseconds, 5_000)))
        let signed = try signer.sign(
            .scheduleCancel(time: time),
            nonce: try await nonces.next(),
            vaultAddress: vaultAddress,
            isMainnet: isMainnet
        )
        try HyperliquidResponses.checkOK(try await api.exchange(signed.requestBody, batchLength: 1))
    }
}
