import ArenaCore
import Foundation

/// The paper exchange's whole state and rules, as a value: deterministic for a given sequence of calls and
/// price path, and `Codable` so the account survives restarts.
///
/// Margin is isolated per position. Fees: taker on market, IOC and triggered orders, maker on resting limit
/// fills. A position is liquidated when its mark crosses the liquidation price; its margin is lost.
package struct SimLedger: Sendable, Codable, Equatable {
    package struct Account: Sendable, Codable, Equatable {
        package var trader: TraderAccount
        package var restingOrders: [RestingOrder] = []
        package var closedTrades: [ClosedTrade] = []
        package var fills: Int = 0
        /// The last rebalance whose transfer this account received (absent before the first).
        package var lastRebalance: Int?
    }

    package struct RestingOrder: Sendable, Codable, Equatable {
        package var orderID: Int64
        package var request: OrderRequest
    }

    package var takerFeeRate: Double
    package var makerFeeRate: Double
    /// Slippage applied to taker fills, as a fraction of the mark.
    package var slippageRate: Double
    package var accounts: [String: Account] = [:]
    package var marks: [String: Double] = [:]
    package var assets: [String: AssetInfo]
    /// The latest answer per cloid, for a resent cloid (answered, not acted on again) and for `lookup` after a
    /// restart (`CycleRecovery`, which asks about the last cycle's orders only). Only the newest
    /// `resultCapacity` cloids are kept, so the state saved after every fill stays small however long the account
    /// trades.
    package var results: [String: OrderResult] = [:]
    /// The cloids of `results`, oldest first. Absent in a state saved before the bound: its cloids then count as
    /// the oldest, in sorted order.
    private var resultOrder: [String]?
    /// At least this many of the newest cloids are remembered (up to a quarter more between trims).
    package static let resultCapacity = 4_096
    package var nextOrderID: Int64 = 1
    package var nextTradeID: Int64 = 1
    /// The last funding hour applied per symbol.
    package var fundingHour: [String: Int64] = [:]
    package var now: Int64 = 0

    package init(
        takerFeeBps: Double,
        makerFeeBps: Double,
        slippageBps: Double,
        assets: [String: AssetInfo] = AssetInfo.catalog
    ) {
        self.takerFeeRate = takerFeeBps / 10_000
        self.makerFeeRate = makerFeeBps / 10_000
        self.slippageRate = slippageBps / 10_000
        self.assets = assets
    }

    /// Changes whenever a fill, a funding payment, a trigger, a cancel or a liquidation changes an account; mark
    /// moves alone leave it as it is. Costs one pass over the accounts, not a copy of the ledger.
    package var ledgerFingerprint: [Double] {
        var values: [Double] = []
        values.reserveCapacity(accounts.count * 5)
        for account in accounts.values {
            values += [
                account.trader.cash, Double(account.fills), Double(account.closedTrades.count),
                Double(account.restingOrders.count), Double(account.trader.positions.count),
            ]
        }
        return values
    }

    /// Opens a trader's paper account with `capital` once; later calls leave it as it is.
    package mutating func openAccount(trader: String, capital: Double) {
        if accounts[trader] == nil {
            accounts[trader] = Account(
                trader: TraderAccount(cash: capital, positions: [:], realizedPnL: 0, feesPaid: 0)
            )
        }
    }

    /// Moves `amount` into (positive) or out of (negative) a trader's cash for rebalance `rebalance`, once: a
    /// rebalance already applied to the account is ignored, so replaying the rebalance journal after a crash is
    /// safe. Returns false when nothing moved. The caller keeps withdrawals within the free cash.
    @discardableResult
    package mutating func transfer(trader: String, amount: Double, rebalance: Int) -> Bool {
        guard var account = accounts[trader], (account.lastRebalance ?? 0) < rebalance else { return false }
        account.trader.cash += amount
        account.lastRebalance = rebalance
        accounts[trader] = account
        return true
    }

    // MARK: Orders

    package mutating func submit(_ request: OrderRequest) -> OrderResult {
        if let first = results[request.cloid] { return first }
        let result = execute(request)
        remember(result, for: request.cloid)
        return result
    }

    private mutating func allocateOrderID() -> Int64 {
        defer { nextOrderID += 1 }
        return nextOrderID
    }

    private mutating func execute(_ request: OrderRequest) -> OrderResult {
        let orderID = allocateOrderID()
        func reject(_ reason: ReasonCode, _ message: String) -> OrderResult {
            OrderResult(
                cloid: request.cloid,
                status: .rejected,
                orderID: orderID,
                filledSize: 0,
                averagePrice: 0,
                fee: 0,
                reason: reason,
                message: message
            )
        }
        guard accounts[request.trader] != nil else { return reject(.exchangeError, "no account") }
        guard let mark = marks[request.symbol], let asset = assets[request.symbol] else {
            return reject(.unknownSymbol, "no market for \(request.symbol)")
        }
        guard request.size > 0, request.size.isFinite else { return reject(.positionSizeInvalid, "size must be > 0") }
        let position = accounts[request.trader]?.trader.positions[request.symbol]
        var size = request.size
        if request.isReduceOnly {
            guard let position, (position.quantity > 0) != request.isBuy else {
                return reject(.noPositionToClose, "reduce-only order with nothing to reduce")
            }
            size = min(size, abs(position.quantity))
        } else if let position, (position.quantity > 0) != request.isBuy {
            return reject(.positionExists, "an opposite position is open; close it first")
        } else if request.leverage < 1 || request.leverage > Double(asset.maxLeverage) {
            return reject(.leverageAboveCap, "leverage \(request.leverage) outside 1…\(asset.maxLeverage)")
        }
        var sized = request
        sized.size = size
        switch request.kind {
        case .marketIOC:
            // The venue's own slippage, never beyond the order's protection, and never beyond its bound (the price
            // risk approved ± slippage): a mark past the bound fills nothing.
            var price = mark * (1 + (request.isBuy ? 1 : -1) * min(slippageRate, request.slippageBps / 10_000))
            if let bound = request.limitPrice {
                guard Self.crosses(isBuy: request.isBuy, limit: bound, mark: mark) else {
                    return Self.uncrossed(request, orderID: orderID, "the mark is beyond the approved bound \(bound)")
                }
                price = request.isBuy ? min(price, bound) : max(price, bound)
            }
            return fill(sized, orderID: orderID, price: price, feeRate: takerFeeRate)
        case .limitIOC:
            guard let limit = request.limitPrice else { return reject(.exchangeError, "limit order without price") }
            guard Self.crosses(isBuy: request.isBuy, limit: limit, mark: mark) else {
                return Self.uncrossed(request, orderID: orderID, nil)
            }
            return fill(sized, orderID: orderID, price: mark, feeRate: takerFeeRate)
        case .limitGTC, .limitALO:
            guard let limit = request.limitPrice else { return reject(.exchangeError, "limit order without price") }
            if Self.crosses(isBuy: request.isBuy, limit: limit, mark: mark) {
                if request.kind == .limitALO { return reject(.exchangeError, "ALO order would cross") }
                return fill(sized, orderID: orderID, price: mark, feeRate: takerFeeRate)
            }
            return rest(sized, orderID: orderID)
        case .stopLoss, .takeProfit:
            guard request.isReduceOnly, request.triggerPrice != nil else {
                return reject(.exchangeError, "trigger orders must be reduce-only with a trigger price")
            }
            return rest(sized, orderID: orderID)
        }
    }

    /// An IOC that did not cross: cancelled, nothing filled.
    private static func uncrossed(_ request: OrderRequest, orderID: Int64, _ why: String?) -> OrderResult {
        OrderResult(
            cloid: request.cloid,
            status: .cancelled,
            orderID: orderID,
            filledSize: 0,
            averagePrice: 0,
            fee: 0,
            reason: nil,
            message: why.map { "IOC did not cross: \($0)" } ?? "IOC did not cross"
        )
    }

    private static func crosses(isBuy: Bool, limit: Double, mark: Double) -> Bool {
        isBuy ? limit >= mark : limit <= mark
    }

    private mutating func rest(_ request: OrderRequest, orderID: Int64) -> OrderResult {
        accounts[request.trader]?.restingOrders.append(RestingOrder(orderID: orderID, request: request))
        if request.kind == .stopLoss {
            accounts[request.trader]?.trader.positions[request.symbol]?.stopOrderID = orderID
        } else if request.kind == .takeProfit {
            accounts[request.trader]?.trader.positions[request.symbol]?.takeProfitOrderID = orderID
        }
        return OrderResult(
            cloid: request.cloid,
            status: .resting,
            orderID: orderID,
            filledSize: 0,
            averagePrice: 0,
            fee: 0,
            reason: nil,
            message: nil
        )
    }

    /// Fills `request` at `price`, opening, adding to or reducing the trader's position.
    private mutating func fill(_ request: OrderRequest, orderID: Int64, price: Double, feeRate: Double) -> OrderResult {
        guard let asset = assets[request.symbol], var account = accounts.removeValue(forKey: request.trader) else {
            return OrderResult(
                cloid: request.cloid,
                status: .rejected,
                orderID: orderID,
                filledSize: 0,
                averagePrice: 0,
                fee: 0,
                reason: .exchangeError,
                message: "no account"
            )
        }
        // Out of the table while it changes, and put back however this returns: with a copy left in the table,
        // appending a closed trade copied every earlier one (a long backtest's fills were quadratic).
        defer { accounts[request.trader] = account }
        let notional = request.size * price
        let fee = notional * feeRate
        let signed = request.isBuy ? request.size : -request.size
        if var position = account.trader.positions[request.symbol], (position.quantity > 0) != request.isBuy {
            // Reducing or closing.
            let closedFraction = request.size / abs(position.quantity)
            let releasedMargin = position.margin * closedFraction
            let pnl = -signed * (price - position.entryPrice)
            account.trader.cash += releasedMargin + pnl - fee
            account.trader.realizedPnL += pnl
            account.trader.feesPaid += fee
            let entryFeeShare = position.entryFee * closedFraction
            let fundingShare = position.fundingPaid * closedFraction
            account.closedTrades.append(
                closeTrade(
                    position,
                    trader: request.trader,
                    quantity: -signed,
                    exitOrderID: orderID,
                    exitPrice: price,
                    entryFee: entryFeeShare,
                    exitFee: fee,
                    fundingPaid: fundingShare,
                    wasLiquidated: false
                )
            )
            position.quantity += signed
            position.margin -= releasedMargin
            position.entryFee -= entryFeeShare
            position.fundingPaid -= fundingShare
            if abs(position.quantity) < 1e-12 {
                account.trader.positions[request.symbol] = nil
                account.restingOrders.removeAll { $0.request.symbol == request.symbol && $0.request.isReduceOnly }
            } else {
                account.trader.positions[request.symbol] = position
            }
        } else {
            // Opening or adding: isolated margin plus the fee must be covered by cash.
            let margin = notional / request.leverage
            guard margin + fee <= account.trader.cash + 1e-9 else {
                return OrderResult(
                    cloid: request.cloid,
                    status: .rejected,
                    orderID: orderID,
                    filledSize: 0,
                    averagePrice: 0,
                    fee: 0,
                    reason: .insufficientMargin,
                    message: "margin \(margin) + fee \(fee) exceeds available cash \(account.trader.cash)"
                )
            }
            account.trader.cash -= margin + fee
            account.trader.feesPaid += fee
            var position =
                account.trader.positions[request.symbol]
                ?? Position(
                    symbol: request.symbol,
                    quantity: 0,
                    entryPrice: price,
                    leverage: request.leverage,
                    margin: 0,
                    liquidationPrice: 0,
                    markPrice: marks[request.symbol] ?? price,
                    stopLoss: request.plan?.stopLoss,
                    takeProfit: request.plan?.takeProfit,
                    openedAt: now,
                    entryOrderID: orderID,
                    confidence: request.plan?.confidence ?? 0,
                    riskUSD: request.plan?.riskUSD ?? 0,
                    invalidationCondition: request.plan?.invalidationCondition ?? "",
                    entryFee: 0,
                    fundingPaid: 0
                )
            let quantity = position.quantity + signed
            position.entryPrice = (position.quantity * position.entryPrice + signed * price) / quantity
            position.quantity = quantity
            position.margin += margin
            position.entryFee += fee
            position.leverage = abs(quantity) * position.entryPrice / position.margin
            position.liquidationPrice = Self.liquidationPrice(position, asset: asset)
            account.trader.positions[request.symbol] = position
        }
        account.fills += 1
        return OrderResult(
            cloid: request.cloid,
            status: .filled,
            orderID: orderID,
            filledSize: request.size,
            averagePrice: price,
            fee: fee,
            reason: nil,
            message: nil
        )
    }

    /// The round trip of (part of) `position`, closed now; takes the next trade id.
    private mutating func closeTrade(
        _ position: Position,
        trader: String,
        quantity: Double,
        exitOrderID: Int64,
        exitPrice: Double,
        entryFee: Double,
        exitFee: Double,
        fundingPaid: Double,
        wasLiquidated: Bool
    ) -> ClosedTrade {
        defer { nextTradeID += 1 }
        return ClosedTrade(
            tradeID: nextTradeID,
            trader: trader,
            symbol: position.symbol,
            quantity: quantity,
            leverage: position.leverage,
            confidence: position.confidence,
            entryOrderID: position.entryOrderID,
            exitOrderID: exitOrderID,
            entryTime: position.openedAt,
            exitTime: now,
            entryPrice: position.entryPrice,
            exitPrice: exitPrice,
            entryFee: entryFee,
            exitFee: exitFee,
            fundingPaid: fundingPaid,
            wasLiquidated: wasLiquidated,
            exitPlan: .init(
                stopLoss: position.stopLoss,
                takeProfit: position.takeProfit,
                confidence: position.confidence,
                riskUSD: position.riskUSD,
                invalidationCondition: position.invalidationCondition
            )
        )
    }

    /// Isolated margin: liquidated where margin + PnL equals the maintenance requirement at that price.
    package static func liquidationPrice(_ position: Position, asset: AssetInfo) -> Double {
        let quantity = abs(position.quantity)
        let maintenance = asset.maintenanceMarginRate
        let perUnitMargin = position.margin / quantity
        return position.direction > 0
            ? (position.entryPrice - perUnitMargin) / (1 - maintenance)
            : (position.entryPrice + perUnitMargin) / (1 + maintenance)
    }

    package mutating func cancel(trader: String, symbol: String) {
        accounts[trader]?.restingOrders.removeAll { $0.request.symbol == symbol }
    }

    /// Puts back each position's stop and target from the plan it was opened with where no resting order holds
    /// them (a close refused after its protection was cancelled). Returns what was put back ("BTC stop") and the
    /// positions left without a stop (their plan has none).
    package mutating func protect(trader: String) -> (replaced: [String], unprotected: [String]) {
        guard let account = accounts[trader] else { return ([], []) }
        var replaced: [String] = []
        var unprotected: [String] = []
        for position in account.trader.positions.values.sorted(by: { $0.symbol < $1.symbol }) {
            let resting = account.restingOrders.filter { $0.request.symbol == position.symbol }
            let legs: [(OrderRequest.Kind, Double?, String)] = [
                (.stopLoss, position.stopLoss, "stop"), (.takeProfit, position.takeProfit, "target"),
            ]
            for (kind, trigger, leg) in legs where !resting.contains(where: { $0.request.kind == kind }) {
                guard let trigger else {
                    if kind == .stopLoss { unprotected.append(position.symbol) }
                    continue
                }
                let result = submit(
                    OrderPlanner.protection(
                        position,
                        trader: trader,
                        kind: kind,
                        trigger: trigger,
                        sequence: Int(nextOrderID)
                    )
                )
                if result.status == .resting {
                    replaced.append("\(position.symbol) \(leg)")
                } else if kind == .stopLoss {
                    unprotected.append(position.symbol)
                }
            }
        }
        return (replaced, unprotected)
    }

    // MARK: Market updates

    /// Whether no account holds a position or a resting order: a market update then changes only the marks, the
    /// clock and the funding hours, and the next update made while still idle sets all three as if none had been
    /// left out (a backtest leaves out the ticks in between: `ArenaManager.quietUntil`).
    package var isIdle: Bool {
        accounts.values.allSatisfy { $0.trader.positions.isEmpty && $0.restingOrders.isEmpty }
    }

    /// Moves the marks to `prices` at time `now`, then applies funding due (from the positions' margin),
    /// liquidates, fires triggers, fills crossed resting limits and liquidates again, in that order, trader by trader in name order (deterministic).
    package mutating func updateMarket(prices: [String: Double], funding: [String: Double], now: Int64) {
        self.now = now
        for (symbol, price) in prices where price > 0 && price.isFinite { marks[symbol] = price }
        applyFunding(funding, now: now)
        // One account (a backtest of one trader): no sorted copy of the names every tick.
        if accounts.count == 1, let only = accounts.keys.first {
            settle(only)
        } else {
            for trader in accounts.keys.sorted() { settle(trader) }
        }
    }

    /// One trader's part of a market update: its positions marked, then liquidations, triggers, fills of crossed
    /// resting limits and liquidations again.
    private mutating func settle(_ trader: String) {
        // Nearly every tick nothing is liquidated and no order fires: the positions are marked in place and both
        // looked at in the same pass, and only when one of them is due do the passes below run (each finds the
        // account again and looks again). When none is due they would change nothing.
        guard let index = accounts.index(forKey: trader) else { return }
        let marks = marks
        let isDue = Self.inPlace(&accounts.values[index]) { account -> Bool in
            var isDue = false
            var position = account.trader.positions.values.startIndex
            while position != account.trader.positions.values.endIndex {
                let held = account.trader.positions.values[position]
                if let mark = marks[held.symbol] {
                    if mark != held.markPrice { account.trader.positions.values[position].markPrice = mark }
                    if Self.isPastLiquidation(held, mark: mark) { isDue = true }
                }
                account.trader.positions.values.formIndex(after: &position)
            }
            return isDue || account.restingOrders.contains { Self.isTriggered($0.request, marks: marks) }
        }
        guard isDue else { return }
        // Liquidation first: a mark that gaps through both the stop and the liquidation price liquidates the
        // position (the loss is its isolated margin; cash never goes negative) instead of filling the stop
        // beyond it.
        liquidate(trader)
        processRestingOrders(trader)
        liquidate(trader)
    }

    /// `body` on a value where it lies. Reading a field of `accounts.values[index]` directly goes through the
    /// getter, which copies the whole account (each of its tables retained, then released) — on every tick of a
    /// backtest, for every check.
    private static func inPlace<Value, Result>(_ value: inout Value, _ body: (inout Value) -> Result) -> Result {
        body(&value)
    }

    /// Hourly funding: a long pays `notional × rate` when the rate is positive, a short receives it.
    private mutating func applyFunding(_ funding: [String: Double], now: Int64) {
        let hour = now / 3_600_000
        // Within the hour every rate was last seen in (nearly every tick) nothing is due and nothing changes.
        guard funding.keys.contains(where: { fundingHour[$0] != hour }) else { return }
        for (symbol, rate) in funding.sorted(by: { $0.key < $1.key }) {
            let last = fundingHour[symbol]
            fundingHour[symbol] = hour
            guard let last, hour > last, let mark = marks[symbol] else { continue }
            for trader in accounts.keys.sorted() {
                guard var account = accounts[trader], var position = account.trader.positions[symbol] else { continue }
                // Isolated margin pays (or receives) it, which moves the liquidation price.
                let payment = position.quantity * mark * rate * Double(hour - last)
                position.margin -= payment
                position.fundingPaid += payment
                if let asset = assets[symbol] {
                    position.liquidationPrice = Self.liquidationPrice(position, asset: asset)
                }
                account.trader.positions[symbol] = position
                accounts[trader] = account
            }
        }
    }

    private mutating func processRestingOrders(_ trader: String) {
        // Nearly every tick no order triggers: look (reading in place) before sorting and copying anything. When
        // none triggers on the account as it is, the pass below would change nothing.
        let marks = marks
        guard let account = accounts.index(forKey: trader),
            Self.inPlace(
                &accounts.values[account],
                { $0.restingOrders.contains { Self.isTriggered($0.request, marks: marks) } }
            )
        else { return }
        let orders = accounts.values[account].restingOrders
        for order in orders.sorted(by: { $0.orderID < $1.orderID }) {
            guard let mark = marks[order.request.symbol],
                accounts[trader]?.restingOrders.contains(where: { $0.orderID == order.orderID }) == true
            else { continue }
            let request = order.request
            guard Self.isTriggered(request, mark: mark) else { continue }
            accounts[trader]?.restingOrders.removeAll { $0.orderID == order.orderID }
            var sized = request
            if request.isReduceOnly {
                guard let position = accounts[trader]?.trader.positions[request.symbol] else { continue }
                sized.size = min(request.size, abs(position.quantity))
            }
            let isTrigger = request.kind == .stopLoss || request.kind == .takeProfit
            var price =
                isTrigger ? mark * (1 + (request.isBuy ? 1 : -1) * slippageRate) : (request.limitPrice ?? mark)
            // A close never fills beyond the liquidation price: past it the position is the liquidation's.
            if request.isReduceOnly, let position = accounts[trader]?.trader.positions[request.symbol],
                position.liquidationPrice > 0
            {
                price =
                    position.direction > 0
                    ? max(price, position.liquidationPrice) : min(price, position.liquidationPrice)
            }
            let result = fill(
                sized,
                orderID: order.orderID,
                price: price,
                feeRate: isTrigger ? takerFeeRate : makerFeeRate
            )
            remember(result, for: request.cloid)
        }
    }

    /// Records `result` as the answer to `cloid`; past `resultCapacity` plus a quarter, the oldest cloids are
    /// forgotten down to `resultCapacity` (trimming in steps keeps the cost per order constant).
    private mutating func remember(_ result: OrderResult, for cloid: String) {
        guard results.updateValue(result, forKey: cloid) == nil else { return }
        var order = resultOrder.take() ?? results.keys.filter { $0 != cloid }.sorted()
        order.append(cloid)
        if order.count > Self.resultCapacity + Self.resultCapacity / 4 {
            let forgotten = order.count - Self.resultCapacity
            for old in order[..<forgotten] { results[old] = nil }
            order.removeFirst(forgotten)
        }
        resultOrder = order
    }

    /// Whether a resting order fires at its symbol's mark (never without one).
    private static func isTriggered(_ request: OrderRequest, marks: [String: Double]) -> Bool {
        guard let mark = marks[request.symbol] else { return false }
        return isTriggered(request, mark: mark)
    }

    private static func isTriggered(_ request: OrderRequest, mark: Double) -> Bool {
        switch request.kind {
        case .stopLoss:
            guard let trigger = request.triggerPrice else { return false }
            // Closing a long sells: the stop fires when the mark falls to the trigger.
            return request.isBuy ? mark >= trigger : mark <= trigger
        case .takeProfit:
            guard let trigger = request.triggerPrice else { return false }
            return request.isBuy ? mark <= trigger : mark >= trigger
        case .limitGTC, .limitALO:
            guard let limit = request.limitPrice else { return false }
            return crosses(isBuy: request.isBuy, limit: limit, mark: mark)
        case .marketIOC, .limitIOC:
            return false
        }
    }

    /// Whether the mark has reached the position's liquidation price.
    private static func isPastLiquidation(_ position: Position, marks: [String: Double]) -> Bool {
        guard let mark = marks[position.symbol] else { return false }
        return isPastLiquidation(position, mark: mark)
    }

    private static func isPastLiquidation(_ position: Position, mark: Double) -> Bool {
        position.direction > 0 ? mark <= position.liquidationPrice : mark >= position.liquidationPrice
    }

    private mutating func liquidate(_ trader: String) {
        // Nearly every tick nothing is liquidated: look (reading in place) before taking the account to change it.
        let marks = marks
        guard let index = accounts.index(forKey: trader),
            Self.inPlace(
                &accounts.values[index],
                { $0.trader.positions.values.contains { Self.isPastLiquidation($0, marks: marks) } }
            ),
            var account = accounts.removeValue(forKey: trader)
        else { return }
        for symbol in account.trader.positions.keys.sorted() {
            guard let position = account.trader.positions[symbol], Self.isPastLiquidation(position, marks: marks)
            else { continue }
            // Closed at the liquidation price; what is left of the isolated margin (the maintenance part) goes to
            // the liquidation as its fee, so the trader loses exactly the margin.
            let orderID = allocateOrderID()
            let exitPrice = position.liquidationPrice
            let gross = position.quantity * (exitPrice - position.entryPrice)
            let penalty = max(0, position.margin + gross)
            account.trader.realizedPnL += gross
            account.trader.feesPaid += penalty
            account.trader.cash += position.margin + gross - penalty
            account.restingOrders.removeAll { $0.request.symbol == symbol }
            account.trader.positions[symbol] = nil
            account.closedTrades.append(
                closeTrade(
                    position,
                    trader: trader,
                    quantity: position.quantity,
                    exitOrderID: orderID,
                    exitPrice: exitPrice,
                    entryFee: position.entryFee,
                    exitFee: penalty,
                    fundingPaid: position.fundingPaid,
                    wasLiquidated: true
                )
            )
        }
        accounts[trader] = account
    }
}
