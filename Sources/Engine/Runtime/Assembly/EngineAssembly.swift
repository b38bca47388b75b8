import ArenaAdapters
import ArenaCore
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Builds the running engine from a loaded configuration: clock, market providers, venues, model clients,
/// templates and the manager. Anything the configuration names but this build cannot run is an error here,
/// before any trader starts.
package struct EngineAssembly {
    package let manager: ArenaManager
    package let httpClient: HTTPClient
    package let journal: JournalWriter
    package let metrics: EngineMetrics
    /// Present when `postgres.dsn` is set: its pool (a Service) and the sink writing to it.
    var database: PostgresDatabase? = nil
    var databaseSink: PostgresSink? = nil
    /// Present when `redis.address` is set.
    var cache: RedisPublisher? = nil

    /// For one-shot runs (`--once`, backtests): writes what the run journaled and exported to PostgreSQL and Redis
    /// now, with the pool running only for this. A store that fails is reported, not fatal: the journal has it all.
    package func flushPersistence(logger: Logger) async -> [String] {
        var problems: [String] = []
        if let database, let databaseSink {
            do {
                try await database.withRunning { _ in try await databaseSink.flush() }
            } catch {
                problems.append("postgres: \(error)")
            }
        }
        if let cache {
            do {
                try await cache.flush()
            } catch {
                problems.append("redis: \(error)")
            }
        }
        for problem in problems { logger.error("persistence not written", metadata: ["error": "\(problem)"]) }
        return problems
    }

    /// The optional stores as services, to run beside the manager.
    package var persistenceServices: [any Service] {
        var services: [any Service] = []
        if let database { services.append(database.client) }
        if let databaseSink { services.append(databaseSink) }
        if let cache { services.append(cache) }
        return services
    }

    package struct Failure: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
        package init(message: String) { self.message = message }
    }

    package static func make(
        configuration: ArenaConfiguration,
        logger: Logger,
        clockOverride: (any ArenaClock)? = nil,
        persistsEveryCycle: Bool = true,
        rendersInProcessPrompts: Bool = true,
        recordsMetrics: Bool = true,
        shutdownSignals: ShutdownSignals? = nil
    )
        async throws -> EngineAssembly
    {
        let traders = configuration.enabledTraders
        let store = try ManagerStore(path: configuration.manager.statePath)

        // One HTTP client for models and venues; one weight budget for every Hyperliquid request (it is per IP).
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let limiter = WeightLimiter()
        do {
            return try await make(
                configuration: configuration,
                logger: logger,
                clockOverride: clockOverride,
                persistsEveryCycle: persistsEveryCycle,
                rendersInProcessPrompts: rendersInProcessPrompts,
                recordsMetrics: recordsMetrics,
                shutdownSignals: shutdownSignals,
                httpClient: httpClient,
                limiter: limiter,
                store: store,
                traders: traders
            )
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
    }

    private static func make(
        configuration: ArenaConfiguration,
        logger: Logger,
        clockOverride: (any ArenaClock)?,
        persistsEveryCycle: Bool,
        rendersInProcessPrompts: Bool,
        recordsMetrics: Bool,
        shutdownSignals: ShutdownSignals?,
        httpClient: HTTPClient,
        limiter: WeightLimiter,
        store: ManagerStore,
        traders: [TraderConfiguration]
    ) async throws -> EngineAssembly {
        // Markets used by enabled traders.
        var markets: [String: any MarketProvider] = [:]
        for id in Set(traders.map(\.marketProvider)) {
            markets[id] = try makeMarket(id, configuration: configuration, httpClient: httpClient, limiter: limiter)
        }

        // Clock.
        let clock: any ArenaClock
        let tickInterval: Int64
        if let clockOverride {
            clock = clockOverride
            tickInterval = 1000
        } else {
            switch configuration.clock.mode {
            case .wall:
                clock = WallClock()
                tickInterval = 1000
            case .replay:
                let start = try replayStart(configuration: configuration, markets: markets)
                let resume = store.state.clockTime
                clock = ReplayClock(start: max(start, resume), speed: configuration.clock.speed)
                tickInterval = Int64(1000 * configuration.clock.speed)
                logger.info(
                    "replay clock",
                    metadata: [
                        "start": "\(PromptContext.iso(max(start, resume)))", "speed": "\(configuration.clock.speed)",
                        "resumed": "\(resume > start)",
                    ]
                )
            }
        }

        // Venues.
        var exchanges: [String: any ExchangeProvider] = [:]
        var hyperliquidAccounts: [String: String] = [:]
        for id in Set(traders.map(\.exchangeProvider)).sorted() {
            guard let provider = configuration.exchange.providers[id] else { continue }
            switch provider.kind {
            case .sim:
                exchanges[id] = try SimExchange.open(configuration: provider)
            case .hyperliquid:
                // Two providers on one account would share its positions, orders and nonces: refused.
                let account = try hyperliquidAccount(provider)
                if let other = hyperliquidAccounts[account] {
                    throw Failure(
                        message:
                            "exchange providers '\(other)' and '\(id)' trade the same Hyperliquid account \(account): their positions, orders and nonces would collide; give each its own key, main_address or vault_address"
                    )
                }
                hyperliquidAccounts[account] = id
                exchanges[id] = try makeHyperliquidExchange(
                    provider,
                    configuration: configuration,
                    traders: traders,
                    markets: markets,
                    httpClient: httpClient,
                    limiter: limiter,
                    logger: logger
                )
            }
        }

        // Models, templates, schema.
        let schema: String
        do {
            schema = try TraderPipeline.decisionSchema(configuration)
        } catch {
            throw Failure(message: error.description)
        }
        let metrics = EngineMetrics(isRecording: recordsMetrics)
        let baseAlerts: any AlertSink =
            if let webhook = configuration.manager.monitoring.alertWebhook {
                WebhookAlertSink(url: webhook, httpClient: httpClient, metrics: metrics, logger: logger)
            } else {
                LoggingAlertSink(logger: logger, metrics: metrics)
            }
        // Telegram and Discord, when configured: alerts go there too, and the manager sends trades and summaries.
        let notifier =
            configuration.manager.notifications.channels.isEmpty
            ? nil
            : Notifier(
                configuration: configuration.manager.notifications,
                httpClient: httpClient,
                metrics: metrics,
                logger: logger
            )
        let alerts: any AlertSink = notifier.map { NotifyingAlertSink(inner: baseAlerts, notifier: $0) } ?? baseAlerts
        var runtimeTraders: [ArenaManager.Trader] = []
        let gateway = try await makeGateway(
            configuration: configuration,
            traders: traders,
            httpClient: httpClient,
            metrics: metrics,
            logger: logger,
            alerts: alerts
        )
        for trader in traders {
            runtimeTraders.append(
                try makeTrader(
                    trader,
                    configuration: configuration,
                    markets: markets,
                    exchanges: exchanges,
                    gateway: gateway,
                    schema: schema,
                    logger: logger,
                    rendersInProcessPrompts: rendersInProcessPrompts
                )
            )
        }
        let journal = JournalWriter(settings: .init(configuration.journal), logger: logger, metrics: metrics)
        do {
            _ = try await journal.recover()
        } catch {
            throw Failure(message: "journal \(configuration.journal.path): \(error)")
        }
        var database: PostgresDatabase?
        var databaseSink: PostgresSink?
        var sinks: [any PersistenceSink] = []
        if configuration.postgres.isEnabled {
            let settings = configuration.postgres
            let pool = try PostgresDatabase(
                dsn: settings.dsn.revealed,
                poolSize: settings.poolSize,
                connectTimeout: settings.connectTimeout,
                operationTimeout: settings.queryTimeout,
                slowQueryThreshold: settings.slowQueryThreshold,
                metrics: metrics,
                logger: logger
            )
            let sink = PostgresSink(
                database: pool,
                journal: JournalDirectory(root: configuration.journal.path),
                traders: traders,
                settings: .init(settings),
                alerts: alerts,
                metrics: metrics,
                logger: logger
            )
            database = pool
            databaseSink = sink
            sinks.append(sink)
        }
        var cache: RedisPublisher?
        if let address = configuration.redis.address {
            let publisher = try RedisPublisher(
                address: address,
                password: configuration.redis.password,
                keyPrefix: configuration.redis.keyPrefix,
                ttl: configuration.ttl,
                alerts: alerts,
                metrics: metrics,
                logger: logger
            )
            cache = publisher
            sinks.append(publisher)
        }
        let manager = ArenaManager(
            traders: runtimeTraders,
            clock: clock,
            tickInterval: tickInterval,
            maxConcurrentDecisions: configuration.manager.maxConcurrentDecisions,
            exchanges: exchanges,
            markets: markets,
            store: store,
            publisher: SnapshotPublisher(
                root: configuration.dataPath,
                keepGenerations: configuration.export.keepGenerations,
                gracePeriod: configuration.export.gracePeriod
            ),
            exportInterval: configuration.export.interval.milliseconds,
            journal: journal,
            persistsEveryCycle: persistsEveryCycle,
            alerts: alerts,
            metrics: metrics,
            sinks: sinks,
            rebalancing: configuration.manager.allocationStrategy == .performanceBased
                ? ArenaManager.Rebalancing(
                    interval: configuration.manager.rebalanceInterval.milliseconds,
                    rebalancer: Rebalancer(
                        bounds: configuration.manager.rebalanceBounds,
                        totalEquityUSD: configuration.manager.totalEquityUSD
                    ),
                    log: RebalanceLog(journalDirectory: configuration.journal.path)
                ) : nil,
            shutdownGrace: configuration.manager.shutdownGrace,
            shutdownSignals: shutdownSignals,
            reserveUSD: configuration.manager.totalEquityUSD * configuration.manager.reserveEquityPct / 100,
            notifier: notifier,
            dailySummaryMinute: configuration.manager.notifications.dailySummaryMinute,
            logger: logger
        )
        return EngineAssembly(
            manager: manager,
            httpClient: httpClient,
            journal: journal,
            metrics: metrics,
            database: database,
            databaseSink: databaseSink,
            cache: cache
        )
    }

    /// A market provider by id: replay files, Hyperliquid's `/info`, or a hot-standby chain of others.
    static func makeMarket(
        _ id: String,
        configuration: ArenaConfiguration,
        httpClient: HTTPClient,
        limiter: WeightLimiter,
        depth: Int = 0
    ) throws -> any MarketProvider {
        guard let provider = configuration.market.providers[id] else {
            throw Failure(message: "unknown market provider '\(id)'")
        }
        switch provider.kind {
        case .replay:
            return try ReplayMarketProvider.load(configuration: provider)
        case .hyperliquid:
            guard let intraday = CandleInterval(provider.intradayInterval),
                let context = CandleInterval(provider.contextInterval)
            else { throw Failure(message: "market provider '\(id)': bad candle interval") }
            return HyperliquidMarketProvider(
                id: id,
                symbols: provider.symbols,
                api: HyperliquidAPI(
                    baseURL: provider.baseURL
                        ?? (provider.isTestnet ? HyperliquidAPI.testnetURL : HyperliquidAPI.mainnetURL),
                    httpClient: httpClient,
                    policy: provider.policy,
                    limiter: limiter,
                    clock: WallClock()
                ),
                intraday: intraday,
                context: context,
                recorder: provider.recordDirectory.map {
                    CandleRecorder(directory: $0, logger: Logger(label: "engine.candle-recorder"))
                }
            )
        case .chain:
            guard depth < 4 else { throw Failure(message: "market provider '\(id)': chains nest too deep") }
            return StandbyMarketProvider(
                id: id,
                members: try provider.members.map {
                    try makeMarket(
                        $0,
                        configuration: configuration,
                        httpClient: httpClient,
                        limiter: limiter,
                        depth: depth + 1
                    )
                },
                maxStaleness: provider.maxStaleness.milliseconds
            )
        }
    }

    /// A Hyperliquid venue: one trader per account (a venue account is not shared), the signer from the
    /// environment's key, nonces persisted beside the manager state, and a market connection for asset rules.
    /// The account a Hyperliquid provider trades: its vault, else its main address, else its key's own address.
    static func hyperliquidAccount(_ provider: ExchangeConfiguration.Provider) throws -> String {
        if let vault = provider.vaultAddress { return vault.lowercased() }
        if let main = provider.mainAddress { return main.lowercased() }
        do {
            return try HyperliquidSigner(privateKeyHex: provider.privateKey.revealed).address.lowercased()
        } catch {
            throw Failure(message: "exchange provider '\(provider.id)': \(error)")
        }
    }

    static func makeHyperliquidExchange(
        _ provider: ExchangeConfiguration.Provider,
        configuration: ArenaConfiguration,
        traders: [TraderConfiguration],
        markets: [String: any MarketProvider],
        httpClient: HTTPClient,
        limiter: WeightLimiter,
        logger: Logger
    ) throws -> HyperliquidExchange {
        let users = traders.filter { $0.exchangeProvider == provider.id }
        guard users.count == 1 else {
            throw Failure(
                message:
                    "exchange provider '\(provider.id)' (hyperliquid) is used by \(users.count) traders (\(users.map(\.id).joined(separator: ", "))); a venue account belongs to one trader: give each its own provider (vault_address or key)"
            )
        }
        let signer: HyperliquidSigner
        do {
            signer = try HyperliquidSigner(privateKeyHex: provider.privateKey.revealed)
        } catch {
            throw Failure(message: "exchange provider '\(provider.id)': \(error)")
        }
        let api = HyperliquidAPI(
            baseURL: provider.baseURL ?? (provider.isTestnet ? HyperliquidAPI.testnetURL : HyperliquidAPI.mainnetURL),
            httpClient: httpClient,
            policy: provider.policy,
            limiter: limiter,
            clock: WallClock()
        )
        let market =
            markets.values.compactMap { $0 as? HyperliquidMarketProvider }.first
            ?? HyperliquidMarketProvider(
                id: provider.id + "-assets",
                symbols: users.flatMap(\.symbols),
                api: api,
                intraday: CandleInterval("3m")!,
                context: CandleInterval("4h")!
            )
        let stateDirectory = (configuration.manager.statePath as NSString).deletingLastPathComponent
        // Nonces and plans are the account's, not the provider's: one file per account.
        let account = try hyperliquidAccount(provider)
        return try HyperliquidExchange(
            id: provider.id,
            api: api,
            signer: signer,
            market: market,
            mainAddress: provider.mainAddress,
            vaultAddress: provider.vaultAddress,
            isMainnet: !provider.isTestnet,
            nonces: NonceSource(
                path: (stateDirectory as NSString).appendingPathComponent("hyperliquid-\(account)-nonce"),
                clock: WallClock()
            ),
            deadMansSwitch: provider.deadMansSwitch.flatMap { $0 > .zero ? $0 : nil },
            planPath: (stateDirectory as NSString).appendingPathComponent("hyperliquid-\(account)-plans.json"),
            logger: logger
        )
    }

    /// The model clients of every model the enabled traders may use, the router with each trader's chain, the
    /// budget and the digest cache.
    package static func makeGateway(
        configuration: ArenaConfiguration,
        traders: [TraderConfiguration],
        httpClient: HTTPClient,
        metrics: EngineMetrics,
        logger: Logger,
        extraModels: [String] = [],
        alerts: (any AlertSink)? = nil
    ) async throws -> ModelGateway {
        let llm = configuration.llm
        let router = ModelRouter(routing: llm.routing, models: llm.models)
        var clients: [String: any LLMClient] = [:]
        for alias in extraModels {
            guard let model = llm.models[alias], let provider = llm.providers[model.provider] else {
                throw Failure(
                    message: "unknown model '\(alias)' (known: \(llm.models.keys.sorted().joined(separator: ", ")))"
                )
            }
            if let variable = llm.missingKey(of: alias) {
                throw Failure(message: "model '\(alias)' needs \(variable), which is not set")
            }
            clients[alias] = try makeClient(model: model, provider: provider, httpClient: httpClient)
        }
        for trader in traders {
            // A consensus trader asks its members (those it can call; the rest count against its quorum).
            if let consensus = llm.models[trader.model]?.consensus {
                for member in consensus.members {
                    guard let model = llm.models[member], let provider = llm.providers[model.provider],
                        llm.missingKey(of: member) == nil
                    else { continue }
                    if clients[member] == nil {
                        clients[member] = try makeClient(model: model, provider: provider, httpClient: httpClient)
                    }
                }
                router.register(trader: trader.id, chain: [trader.model])
                continue
            }
            let chain = ModelRouter.chain(
                primary: trader.model,
                traderFallbacks: trader.fallbackModels,
                models: llm.models,
                remote: { $0.consensus == nil && llm.providers[$0.provider]?.kind != .baseline }
            )
            // A fallback that cannot be called (its key is missing) is left out of the chain.
            var usable: [String] = []
            for alias in chain {
                guard let model = llm.models[alias], let provider = llm.providers[model.provider] else { continue }
                if alias != trader.model, llm.missingKey(of: alias) != nil { continue }
                if clients[alias] == nil {
                    clients[alias] = try makeClient(model: model, provider: provider, httpClient: httpClient)
                }
                usable.append(alias)
            }
            router.register(trader: trader.id, chain: usable)
            if usable.count > 1 {
                logger.info(
                    "model chain",
                    metadata: ["trader": "\(trader.id)", "chain": "\(usable.joined(separator: " → "))"]
                )
            }
        }
        let wall = WallClock()
        let budget: BudgetGuard
        let cache: DigestCache?
        do {
            budget = try BudgetGuard(limits: llm.budget, path: llm.budget.statePath, clock: wall)
            cache = llm.cache.isEnabled ? try DigestCache(configuration: llm.cache, clock: wall) : nil
        } catch {
            throw Failure(message: "\(error)")
        }
        return ModelGateway(
            models: llm.models,
            providers: llm.providers,
            clients: clients,
            router: router,
            budget: budget,
            cache: cache,
            timer: wall,
            metrics: metrics,
            alerts: alerts ?? LoggingAlertSink(logger: logger, metrics: metrics),
            logger: logger
        )
    }

    static func makeClient(
        model: LLMConfiguration.Model,
        provider: LLMConfiguration.Provider,
        httpClient: HTTPClient
    ) throws -> any LLMClient {
        switch provider.kind {
        case .baseline:
            guard let policy = BaselinePolicy(modelName: model.modelName) else {
                let known = BaselinePolicy.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw Failure(
                    message: "model '\(model.alias)': unknown baseline '\(model.modelName)' (known: \(known))"
                )
            }
            return policy
        case .openai:
            return OpenAIChatClient(provider: provider, httpClient: httpClient)
        case .anthropic:
            return AnthropicMessagesClient(
                provider: provider,
                httpClient: httpClient,
                apiVersion: provider.apiVersion ?? AnthropicMessagesClient.defaultAPIVersion
            )
        }
    }

    static func makeTrader(
        _ trader: TraderConfiguration,
        configuration: ArenaConfiguration,
        markets: [String: any MarketProvider],
        exchanges: [String: any ExchangeProvider],
        gateway: ModelGateway,
        schema: String,
        logger: Logger,
        rendersInProcessPrompts: Bool = true
    ) throws -> ArenaManager.Trader {
        guard let market = markets[trader.marketProvider],
            let marketConfiguration = configuration.market.providers[trader.marketProvider],
            let exchange = exchanges[trader.exchangeProvider], let model = configuration.llm.models[trader.model]
        else {
            throw Failure(message: "trader '\(trader.id)': a referenced provider or model is missing")
        }
        let pipeline: TraderPipeline
        do {
            pipeline = try TraderPipeline.make(trader: trader, configuration: configuration, decisionSchema: schema)
        } catch {
            throw Failure(message: error.description)
        }
        let cycle = DecisionCycle(
            pipeline: pipeline,
            market: market,
            maxStaleness: marketConfiguration.maxStaleness.milliseconds,
            exchange: exchange,
            model: model,
            gateway: gateway,
            decisionTimeout: configuration.executor.decisionTimeout,
            assets: AssetInfo.catalog,
            logger: logger,
            // A model that never leaves the process (and no fallback that does) reads no prompt.
            rendersPrompts: rendersInProcessPrompts
                || ([trader.model] + trader.fallbackModels).contains { gateway.isRemote($0) }
        )
        return ArenaManager.Trader(
            configuration: trader,
            cycle: cycle,
            capital: configuration.manager.totalEquityUSD * trader.allocationPct / 100
        )
    }

    /// The configured replay start, or the first moment every replayed symbol has full history.
    static func replayStart(configuration: ArenaConfiguration, markets: [String: any MarketProvider]) throws -> Int64 {
        if let text = configuration.clock.start {
            guard let time = UTCTime.milliseconds(iso8601: text) else {
                throw Failure(message: "clock.start: \"\(text)\" is not an ISO 8601 time")
            }
            return time
        }
        let starts = markets.values.compactMap { ($0 as? ReplayMarketProvider)?.earliestCompleteTime() }
        guard let start = starts.max() else {
            throw Failure(message: "clock.mode replay needs a replay market provider with data")
        }
        return start
    }
}
