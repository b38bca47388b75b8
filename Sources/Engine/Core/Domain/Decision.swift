/// What a model may ask for one symbol in one cycle (schemas/decision.schema.json).
package struct Decision: Sendable, Equatable, Codable {
    package enum Signal: String, Sendable, Codable, CaseIterable {
        case buyToEnter = "buy_to_enter"
        case sellToEnter = "sell_to_enter"
        case hold
        case closePosition = "close_position"

        package var isEntry: Bool { self == .buyToEnter || self == .sellToEnter }
    }

    package var symbol: String
    package var signal: Signal
    package var leverage: Int?
    package var positionSizeUSD: Double?
    package var stopLoss: Double?
    package var takeProfit: Double?
    /// 0..1.
    package var confidence: Double
    package var riskUSD: Double?
    package var invalidationCondition: String?
    package var reasoning: String?

    package enum CodingKeys: String, CodingKey {
        case symbol, signal, leverage
        case positionSizeUSD = "position_size_usd"
        case stopLoss = "stop_loss"
        case takeProfit = "take_profit"
        case confidence
        case riskUSD = "risk_usd"
        case invalidationCondition = "invalidation_condition"
        case reasoning
    }

    /// +1 for a long entry, −1 for a short entry, 0 otherwise.
    package var direction: Double {
        switch signal {
        case .buyToEnter: 1
        case .sellToEnter: -1
        default: 0
        }
    }

    package init(
        symbol: String,
        signal: Signal,
        leverage: Int? = nil,
        positionSizeUSD: Double? = nil,
        stopLoss: Double? = nil,
        takeProfit: Double? = nil,
        confidence: Double,
        riskUSD: Double? = nil,
        invalidationCondition: String? = nil,
        reasoning: String? = nil
    ) {
        self.symbol = symbol
        self.signal = signal
        self.leverage = leverage
        self.positionSizeUSD = positionSizeUSD
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.confidence = confidence
        self.riskUSD = riskUSD
        self.invalidationCondition = invalidationCondition
        self.reasoning = reasoning
    }
}

/// Why the engine did not do something. Stable strings: they are journaled, exported and counted.
package enum ReasonCode: String, Sendable, Codable, CaseIterable, Comparable {
    case confidenceBelowMin = "CONFIDENCE_BELOW_MIN"
    case riskRewardBelowMin = "RISK_REWARD_BELOW_MIN"
    case leverageAboveCap = "LEVERAGE_ABOVE_CAP"
    case positionSizeAboveMax = "POSITION_SIZE_ABOVE_MAX"
    case positionSizeInvalid = "POSITION_SIZE_INVALID"
    case marginUsageAboveMax = "MARGIN_USAGE_ABOVE_MAX"
    case maxPositionsReached = "MAX_POSITIONS_REACHED"
    case maxNewPositionsPerCycle = "MAX_NEW_POSITIONS_PER_CYCLE"
    case positionExists = "POSITION_EXISTS"
    case noPositionToClose = "NO_POSITION_TO_CLOSE"
    case stopLossInvalid = "STOP_LOSS_INVALID"
    case takeProfitInvalid = "TAKE_PROFIT_INVALID"
    case liquidationBeforeStop = "LIQUIDATION_BEFORE_STOP"
    case riskPerTradeAboveMax = "RISK_PER_TRADE_ABOVE_MAX"
    case unknownSymbol = "UNKNOWN_SYMBOL"
    case cooldownActive = "COOLDOWN_ACTIVE"
    case dailyLossLimit = "DAILY_LOSS_LIMIT"
    case drawdownLimit = "DRAWDOWN_LIMIT"
    case traderPaused = "TRADER_PAUSED"
    case staleMarketData = "STALE_MARKET_DATA"
    case budgetExhausted = "BUDGET_EXHAUSTED"
    case llmOutputInvalid = "LLM_OUTPUT_INVALID"
    case llmUnavailable = "LLM_UNAVAILABLE"
    case insufficientMargin = "INSUFFICIENT_MARGIN"
    case exchangeError = "EXCHANGE_ERROR"
    case accountUnavailable = "ACCOUNT_UNAVAILABLE"
    case promptInvalid = "PROMPT_INVALID"
    case stopMissing = "STOP_MISSING"
    /// The cycle's order intents could not be made durable before sending: nothing was sent.
    case journalUnavailable = "JOURNAL_UNAVAILABLE"
    /// An entry approved at the cycle's snapshot price fails a check at the venue's mark read just before sending
    /// (the market moved while the model thought): nothing was sent for it. The check's own reasons follow.
    case priceMoved = "PRICE_MOVED"
    /// An operator closed the trader's positions (`engine flatten`).
    case operatorFlatten = "OPERATOR_FLATTEN"
    /// Fewer members of a consensus model than its `min_members` answered validly in time: nothing new was done.
    case consensusNoQuorum = "CONSENSUS_NO_QUORUM"

    package static func < (lhs: ReasonCode, rhs: ReasonCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Venue facts about a tradable asset.
package struct AssetInfo: Sendable, Equatable, Codable {
    package var symbol: String
    package var maxLeverage: Int
    package var sizeDecimals: Int

    /// BTC and ETH use the trader's major-coin leverage cap; everything else the altcoin cap.
    package var isMajor: Bool { symbol == "BTC" || symbol == "ETH" }

    /// Maintenance margin as a fraction of notional: half the initial margin at maximum leverage, as on
    /// Hyperliquid.
    package var maintenanceMarginRate: Double { 1 / (2 * Double(maxLeverage)) }

    /// Perpetuals listed on Hyperliquid with their maximum leverage and size decimals. Used by the paper
    /// exchange and by risk when the venue does not say otherwise.
    package static let catalog: [String: AssetInfo] = [
        "BTC": .init(symbol: "BTC", maxLeverage: 40, sizeDecimals: 5),
        "ETH": .init(symbol: "ETH", maxLeverage: 25, sizeDecimals: 4),
        "SOL": .init(symbol: "SOL", maxLeverage: 20, sizeDecimals: 2),
        "DOGE": .init(symbol: "DOGE", maxLeverage: 10, sizeDecimals: 0),
        "HYPE": .init(symbol: "HYPE", maxLeverage: 10, sizeDecimals: 2),
        "XRP": .init(symbol: "XRP", maxLeverage: 20, sizeDecimals: 0),
        "BNB": .init(symbol: "BNB", maxLeverage: 10, sizeDecimals: 3),
    ]

    /// Isolated-margin liquidation price for an entry at `price` with `leverage`, direction +1 long / −1 short:
    /// the price at which margin plus PnL equals the maintenance requirement.
    package func liquidationPrice(entry price: Double, leverage: Double, direction: Double) -> Double {
        let maintenance = maintenanceMarginRate
        return direction > 0
            ? price * (1 - 1 / leverage) / (1 - maintenance)
            : price * (1 + 1 / leverage) / (1 + maintenance)
    }

    package init(symbol: String, maxLeverage: Int, sizeDecimals: Int) {
        self.symbol = symbol
        self.maxLeverage = maxLeverage
        self.sizeDecimals = sizeDecimals
    }
}
