/// One trader: a strategy container with its own data source, venue, prompts, model, risk limits and capital.
package struct TraderConfiguration: Sendable {
    package enum OrderStyle: String, Sendable, CaseIterable {
        case marketIOC = "market_ioc"
        case limitIOC = "limit_ioc"
    }

    package let id: String
    package let name: String
    package var exchangeProvider: String
    package var marketProvider: String
    package let orderStyle: OrderStyle
    package let marketIOCSlippageBps: Double
    package let promptTemplate: String
    package var executorPromptTemplate: String
    package let model: String
    package let fallbackModels: [String]
    package var decisionInterval: Duration
    package let allocationPct: Double
    package let autoStart: Bool
    /// Symbols this trader may trade; empty means every symbol of its market provider.
    package var symbols: [String]
    package let riskParams: RiskParameters
    /// Set when the trader cannot run in this environment (for example its model's API key is not set).
    package internal(set) var disabledReason: String?
    /// Where the trader was declared, for diagnostics.
    package let keyPath: String

    package var isEnabled: Bool { disabledReason == nil }

    package init(
        id: String,
        name: String,
        exchangeProvider: String,
        marketProvider: String,
        orderStyle: OrderStyle,
        marketIOCSlippageBps: Double,
        promptTemplate: String,
        executorPromptTemplate: String,
        model: String,
        fallbackModels: [String],
        decisionInterval: Duration,
        allocationPct: Double,
        autoStart: Bool,
        symbols: [String],
        riskParams: RiskParameters,
        disabledReason: String?,
        keyPath: String
    ) {
        self.id = id
        self.name = name
        self.exchangeProvider = exchangeProvider
        self.marketProvider = marketProvider
        self.orderStyle = orderStyle
        self.marketIOCSlippageBps = marketIOCSlippageBps
        self.promptTemplate = promptTemplate
        self.executorPromptTemplate = executorPromptTemplate
        self.model = model
        self.fallbackModels = fallbackModels
        self.decisionInterval = decisionInterval
        self.allocationPct = allocationPct
        self.autoStart = autoStart
        self.symbols = symbols
        self.riskParams = riskParams
        self.disabledReason = disabledReason
        self.keyPath = keyPath
    }

    /// Trader ids are used as API model ids and as directory names, so they are restricted.
    package static func isValidID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            } && id != "." && id != ".."
    }

    static func read(from reader: MappingReader) -> TraderConfiguration? {
        let id = reader.string("id", required: true)
        if let id, !isValidID(id) {
            reader.log.error(
                reader.file,
                reader.keyPath("id"),
                "\"\(id)\" is not a valid trader id (letters, digits, '.', '_', '-'; at most 128)",
                line: reader.lineOf("id")
            )
        }
        let trader = TraderConfiguration(
            id: id ?? "",
            name: reader.string("name") ?? id ?? "",
            exchangeProvider: reader.string("exchange_provider", required: true) ?? "",
            // A list is a hot-standby chain: the first provider, then the next when it fails or goes stale.
            marketProvider: MarketConfiguration.standbyID(reader.stringOrList("market_provider", required: true) ?? []),
            orderStyle: reader.choice("order_style", default: OrderStyle.marketIOC) ?? .marketIOC,
            marketIOCSlippageBps: reader.double("market_ioc_slippage_bps", default: 75, range: 0...1000),
            promptTemplate: reader.string("prompt_template", required: true) ?? "",
            executorPromptTemplate: reader.string("executor_prompt_template", required: true) ?? "",
            model: reader.string("model", required: true) ?? "",
            fallbackModels: reader.stringList("fallback_models") ?? [],
            decisionInterval: reader.duration("decision_interval", required: true, minimum: .seconds(1))
                ?? .seconds(180),
            allocationPct: reader.double("allocation_pct", required: true, exclusiveMinimum: 0) ?? 0,
            autoStart: reader.bool("auto_start", default: true),
            symbols: reader.stringList("symbols") ?? [],
            riskParams: reader.mapping("risk_params", required: true).map(RiskParameters.read) ?? .closed,
            disabledReason: nil,
            keyPath: reader.path
        )
        if trader.allocationPct > 100 {
            reader.log.error(
                reader.file,
                reader.keyPath("allocation_pct"),
                "must be at most 100, got \(trader.allocationPct)",
                line: reader.lineOf("allocation_pct")
            )
        }
        reader.finish()
        return id == nil ? nil : trader
    }
}

/// Per-trader risk limits. Percentages are percent numbers (5 means 5 %); confidence is 0–100.
package struct RiskParameters: Sendable, Equatable {
    package let maxPositions: Int
    package let maxPositionSizeUSD: Double
    package let maxMarginUsagePct: Double
    package let majorCoinLeverage: Double
    package let altcoinLeverage: Double
    package let minRiskRewardRatio: Double
    package let minConfidence: Double
    package let maxRiskPerTradePct: Double
    package let stopLossEnabled: Bool
    package let takeProfitEnabled: Bool
    package let maxDailyLossPct: Double
    package let maxDrawdownPct: Double
    package let cooldownAfterClose: Duration
    package let sharpePauseThreshold: Double?
    package let pauseDurationOnBreach: Duration
    package let dailyLLMUSDLimit: Double?
    package let maxNewPositionsPerCycle: Int

    package init(
        maxPositions: Int,
        maxPositionSizeUSD: Double,
        maxMarginUsagePct: Double,
        majorCoinLeverage: Double,
        altcoinLeverage: Double,
        minRiskRewardRatio: Double,
        minConfidence: Double,
        maxRiskPerTradePct: Double,
        stopLossEnabled: Bool,
        takeProfitEnabled: Bool,
        maxDailyLossPct: Double,
        maxDrawdownPct: Double,
        cooldownAfterClose: Duration,
        sharpePauseThreshold: Double?,
        pauseDurationOnBreach: Duration,
        dailyLLMUSDLimit: Double?,
        maxNewPositionsPerCycle: Int
    ) {
        self.maxPositions = maxPositions
        self.maxPositionSizeUSD = maxPositionSizeUSD
        self.maxMarginUsagePct = maxMarginUsagePct
        self.majorCoinLeverage = majorCoinLeverage
        self.altcoinLeverage = altcoinLeverage
        self.minRiskRewardRatio = minRiskRewardRatio
        self.minConfidence = minConfidence
        self.maxRiskPerTradePct = maxRiskPerTradePct
        self.stopLossEnabled = stopLossEnabled
        self.takeProfitEnabled = takeProfitEnabled
        self.maxDailyLossPct = maxDailyLossPct
        self.maxDrawdownPct = maxDrawdownPct
        self.cooldownAfterClose = cooldownAfterClose
        self.sharpePauseThreshold = sharpePauseThreshold
        self.pauseDurationOnBreach = pauseDurationOnBreach
        self.dailyLLMUSDLimit = dailyLLMUSDLimit
        self.maxNewPositionsPerCycle = maxNewPositionsPerCycle
    }

    /// Limits that allow nothing: used only when the section failed to load, which is already an error.
    static let closed = RiskParameters(
        maxPositions: 0,
        maxPositionSizeUSD: 0,
        maxMarginUsagePct: 0,
        majorCoinLeverage: 1,
        altcoinLeverage: 1,
        minRiskRewardRatio: .infinity,
        minConfidence: 100,
        maxRiskPerTradePct: 0,
        stopLossEnabled: true,
        takeProfitEnabled: true,
        maxDailyLossPct: 0,
        maxDrawdownPct: 0,
        cooldownAfterClose: .zero,
        sharpePauseThreshold: nil,
        pauseDurationOnBreach: .zero,
        dailyLLMUSDLimit: 0,
        maxNewPositionsPerCycle: 0
    )

    static func read(from reader: MappingReader) -> RiskParameters {
        defer { reader.finish() }
        return RiskParameters(
            maxPositions: reader.int("max_positions", required: true, range: 1...50) ?? 0,
            maxPositionSizeUSD: reader.double("max_position_size_usd", required: true, exclusiveMinimum: 0) ?? 0,
            maxMarginUsagePct: reader.double("max_margin_usage_pct", required: true, range: 0...100) ?? 0,
            majorCoinLeverage: reader.double("major_coin_leverage", required: true, range: 1...125) ?? 1,
            altcoinLeverage: reader.double("altcoin_leverage", required: true, range: 1...125) ?? 1,
            minRiskRewardRatio: reader.double("min_risk_reward_ratio", default: 0, range: 0...100),
            minConfidence: reader.double("min_confidence", default: 0, range: 0...100),
            maxRiskPerTradePct: reader.double("max_risk_per_trade_pct", default: 100, range: 0...100),
            stopLossEnabled: reader.bool("stop_loss_enabled", default: true),
            takeProfitEnabled: reader.bool("take_profit_enabled", default: true),
            maxDailyLossPct: reader.double("max_daily_loss_pct", default: 100, range: 0...100),
            maxDrawdownPct: reader.double("max_drawdown_pct", default: 100, range: 0...100),
            cooldownAfterClose: reader.duration("cooldown_after_close", default: .zero),
            sharpePauseThreshold: reader.double("sharpe_pause_threshold", range: -10...10),
            pauseDurationOnBreach: reader.duration("pause_duration_on_breach", default: .seconds(3600)),
            dailyLLMUSDLimit: reader.double("daily_llm_usd_limit", range: 0...1_000_000),
            maxNewPositionsPerCycle: reader.int("max_new_positions_per_cycle", default: 3, range: 1...50)
        )
    }
}
