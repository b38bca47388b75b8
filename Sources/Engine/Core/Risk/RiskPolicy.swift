import Shared

/// The verdict on one decision: accepted, or rejected with every reason that applies.
package struct RiskVerdict: Sendable, Equatable, Codable {
    package var symbol: String
    package var signal: Decision.Signal
    package var isAccepted: Bool
    package var reasons: [ReasonCode]

    package enum CodingKeys: String, CodingKey {
        case symbol, signal
        case isAccepted = "accepted"
        case reasons
    }

    package init(
        symbol: String,
        signal: Decision.Signal,
        isAccepted: Bool,
        reasons: [ReasonCode]
    ) {
        self.symbol = symbol
        self.signal = signal
        self.isAccepted = isAccepted
        self.reasons = reasons
    }
}

/// Everything risk looks at, as plain values.
package struct RiskContext: Sendable {
    package var limits: RiskParameters
    /// Symbols the trader may trade.
    package var symbols: Set<String>
    package var prices: [String: Double]
    package var assets: [String: AssetInfo]
    package var account: TraderAccount
    package var now: Int64
    /// Per symbol, entries are blocked until this time (after a close).
    package var cooldownUntil: [String: Int64]
    package var isPaused: Bool
    package var isDailyLossLimitHit: Bool
    package var isDrawdownLimitHit: Bool
    /// Open positions the venue holds without a live stop order: no new entry until they are protected.
    package var unprotectedSymbols: [String] = []
    /// Taker fee as a fraction (0.00045 for 4.5 bps), counted in the loss at the stop.
    package var takerFeeRate: Double

    package init(
        limits: RiskParameters,
        symbols: Set<String>,
        prices: [String: Double],
        assets: [String: AssetInfo],
        account: TraderAccount,
        now: Int64,
        cooldownUntil: [String: Int64],
        isPaused: Bool,
        isDailyLossLimitHit: Bool,
        isDrawdownLimitHit: Bool,
        unprotectedSymbols: [String] = [],
        takerFeeRate: Double
    ) {
        self.limits = limits
        self.symbols = symbols
        self.prices = prices
        self.assets = assets
        self.account = account
        self.now = now
        self.cooldownUntil = cooldownUntil
        self.isPaused = isPaused
        self.isDailyLossLimitHit = isDailyLossLimitHit
        self.isDrawdownLimitHit = isDrawdownLimitHit
        self.unprotectedSymbols = unprotectedSymbols
        self.takerFeeRate = takerFeeRate
    }
}

/// Pure fail-closed risk checks. Entries can be blocked while exits still run: closing reduces risk.
package enum RiskPolicy {
    package static func evaluate(_ decisions: [Decision], context: RiskContext) -> [RiskVerdict] {
        var openCount = context.account.positions.count
        var newEntries = 0
        var marginUsed = context.account.marginUsed
        let equity = context.account.equity
        return decisions.map { decision in
            var reasons: [ReasonCode] = []
            let price = context.prices[decision.symbol]
            if !context.symbols.contains(decision.symbol) || price == nil
                || context.assets[decision.symbol] == nil
            {
                reasons.append(.unknownSymbol)
            }
            switch decision.signal {
            case .hold:
                break
            case .closePosition:
                if context.account.positions[decision.symbol] == nil { reasons.append(.noPositionToClose) }
            case .buyToEnter, .sellToEnter:
                guard let price, let asset = context.assets[decision.symbol], reasons.isEmpty else { break }
                reasons += entryReasons(
                    decision,
                    price: price,
                    asset: asset,
                    context: context,
                    equity: equity,
                    marginUsed: marginUsed
                )
                if openCount >= context.limits.maxPositions { reasons.append(.maxPositionsReached) }
                if newEntries >= context.limits.maxNewPositionsPerCycle { reasons.append(.maxNewPositionsPerCycle) }
                if reasons.isEmpty {
                    openCount += 1
                    newEntries += 1
                    marginUsed += (decision.positionSizeUSD ?? 0) / Double(decision.leverage ?? 1)
                }
            }
            let unique = Self.uniqueSorted(reasons)
            return RiskVerdict(
                symbol: decision.symbol,
                signal: decision.signal,
                isAccepted: unique.isEmpty,
                reasons: unique
            )
        }
    }

    /// The reasons sorted, each once (what `Array(Set(reasons)).sorted()` gives, without a set per verdict:
    /// most verdicts have none or one).
    static func uniqueSorted(_ reasons: [ReasonCode]) -> [ReasonCode] {
        guard reasons.count > 1 else { return reasons }
        var sorted = reasons.sorted()
        var kept = 1
        for index in 1..<sorted.count where sorted[index] != sorted[kept - 1] {
            sorted[kept] = sorted[index]
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        return sorted
    }

    private static func entryReasons(
        _ decision: Decision,
        price: Double,
        asset: AssetInfo,
        context: RiskContext,
        equity: Double,
        marginUsed: Double
    ) -> [ReasonCode] {
        let limits = context.limits
        var reasons: [ReasonCode] = []
        let direction = decision.direction
        if context.isDailyLossLimitHit { reasons.append(.dailyLossLimit) }
        if context.isDrawdownLimitHit { reasons.append(.drawdownLimit) }
        if !context.unprotectedSymbols.isEmpty { reasons.append(.stopMissing) }
        if context.isPaused { reasons.append(.traderPaused) }
        if let until = context.cooldownUntil[decision.symbol], context.now < until { reasons.append(.cooldownActive) }
        if context.account.positions[decision.symbol] != nil { reasons.append(.positionExists) }
        // min_confidence is a percent; the model's confidence is 0..1.
        if decision.confidence * 100 < limits.minConfidence { reasons.append(.confidenceBelowMin) }

        let cap = min(asset.isMajor ? limits.majorCoinLeverage : limits.altcoinLeverage, Double(asset.maxLeverage))
        let leverage = Double(decision.leverage ?? 0)
        if leverage < 1 || leverage > cap { reasons.append(.leverageAboveCap) }

        guard let size = decision.positionSizeUSD, size > 0 else { return reasons + [.positionSizeInvalid] }
        if size > limits.maxPositionSizeUSD { reasons.append(.positionSizeAboveMax) }

        let stop = decision.stopLoss
        let target = decision.takeProfit
        let stopValid = stop.map { ($0 - price) * direction < 0 } ?? !limits.stopLossEnabled
        let targetValid = target.map { ($0 - price) * direction > 0 } ?? !limits.takeProfitEnabled
        if !stopValid { reasons.append(.stopLossInvalid) }
        if !targetValid { reasons.append(.takeProfitInvalid) }
        if let stop, let target, stopValid, targetValid {
            let reward = abs(target - price)
            let risk = abs(price - stop)
            if reward / risk < limits.minRiskRewardRatio { reasons.append(.riskRewardBelowMin) }
        }
        if let stop, stopValid, leverage >= 1 {
            let liquidation = asset.liquidationPrice(entry: price, leverage: leverage, direction: direction)
            // The stop must trigger before liquidation: for a long the liquidation price must lie below the stop.
            if (stop - liquidation) * direction <= 0 { reasons.append(.liquidationBeforeStop) }
            let loss = size * abs(price - stop) / price + 2 * size * context.takerFeeRate
            if equity <= 0 || loss / equity * 100 > limits.maxRiskPerTradePct { reasons.append(.riskPerTradeAboveMax) }
        }
        if leverage >= 1 {
            let usage = equity > 0 ? (marginUsed + size / leverage) / equity * 100 : .infinity
            if usage > limits.maxMarginUsagePct { reasons.append(.marginUsageAboveMax) }
        }
        return reasons
    }
}
