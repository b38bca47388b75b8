/// `llm.yaml`: model providers, model aliases and the daily budget.
package struct LLMConfiguration: Sendable {
    package enum ProviderKind: String, Sendable, CaseIterable {
        /// OpenAI-compatible chat completions (OpenAI, DeepSeek, OpenRouter, ZenMux, vLLM, Ollama, …).
        case openai
        /// Anthropic Messages API.
        case anthropic
        /// Deterministic in-process policies (buy-and-hold, EMA cross): the leaderboard's yardsticks.
        case baseline
    }

    package enum CostTier: String, Sendable, CaseIterable {
        case free, low, medium, high
    }

    package struct Provider: Sendable {
        package let id: String
        package let kind: ProviderKind
        package let baseURL: String?
        package let apiKey: Secret
        package let policy: ProviderPolicy

        /// Whether calls need a key: every remote provider does, except a local server that says otherwise.
        package let requiresAPIKey: Bool
        /// The API version header some providers need (Anthropic's `anthropic-version`).
        package var apiVersion: String? = nil

        package init(
            id: String,
            kind: ProviderKind,
            baseURL: String?,
            apiKey: Secret,
            policy: ProviderPolicy,
            requiresAPIKey: Bool,
            apiVersion: String? = nil
        ) {
            self.id = id
            self.kind = kind
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.policy = policy
            self.requiresAPIKey = requiresAPIKey
            self.apiVersion = apiVersion
        }
    }

    package struct Model: Sendable {
        package let alias: String
        package let provider: String
        package let modelName: String
        package let temperature: Double
        package let maxCompletionTokens: Int
        package let topP: Double?
        package let priority: Int
        package let costTier: CostTier
        package let inputUSDPerMillionTokens: Double
        package let outputUSDPerMillionTokens: Double
        package let fallbacks: [String]
        /// Set on an alias of `type: consensus` (which has no provider of its own).
        package var consensus: Consensus? = nil

        package init(
            alias: String,
            provider: String,
            modelName: String,
            temperature: Double,
            maxCompletionTokens: Int,
            topP: Double?,
            priority: Int,
            costTier: CostTier,
            inputUSDPerMillionTokens: Double,
            outputUSDPerMillionTokens: Double,
            fallbacks: [String]
        ) {
            self.alias = alias
            self.provider = provider
            self.modelName = modelName
            self.temperature = temperature
            self.maxCompletionTokens = maxCompletionTokens
            self.topP = topP
            self.priority = priority
            self.costTier = costTier
            self.inputUSDPerMillionTokens = inputUSDPerMillionTokens
            self.outputUSDPerMillionTokens = outputUSDPerMillionTokens
            self.fallbacks = fallbacks
        }
    }

    /// A model alias of `type: consensus`: its members are asked the same prompt at once and their answers are
    /// combined per symbol by `rule` (`ConsensusCombiner`).
    package struct Consensus: Sendable, Equatable {
        package enum Rule: String, Sendable, CaseIterable {
            /// The signal more than half of the valid answers give.
            case majority
            /// The signal with the largest share of the valid answers' weight, at least `threshold` of it.
            case weighted
            /// The signal every valid answer gives.
            case unanimous
            /// The decision of the most confident member (at least `threshold` confident).
            case highestConfidence = "highest_confidence"
        }

        package var members: [String]
        package var rule: Rule
        /// Per member (1 when not given).
        package var weights: [String: Double]
        /// `weighted`: the share of weight the winning signal needs (default 0.5); `highest_confidence`: the
        /// confidence it needs (default 0).
        package var threshold: Double
        /// Valid answers needed within the decision timeout, else the cycle fails closed (`CONSENSUS_NO_QUORUM`).
        package var minMembers: Int

        package init(
            members: [String],
            rule: Rule,
            weights: [String: Double] = [:],
            threshold: Double? = nil,
            minMembers: Int? = nil
        ) {
            self.members = members
            self.rule = rule
            self.weights = weights
            self.threshold = threshold ?? (rule == .weighted ? 0.5 : 0)
            self.minMembers = minMembers ?? min(2, members.count)
        }

        package func weight(_ member: String) -> Double { weights[member] ?? 1 }
    }

    package struct Budget: Sendable {
        package let dailyTokenLimit: Int?
        package let dailyUSDLimit: Double?
        package let alertThresholdPct: Double
        /// Where the day's spending is kept, so a restart does not reset it.
        package var statePath: String

        package init(dailyTokenLimit: Int?, dailyUSDLimit: Double?, alertThresholdPct: Double, statePath: String) {
            self.dailyTokenLimit = dailyTokenLimit
            self.dailyUSDLimit = dailyUSDLimit
            self.alertThresholdPct = alertThresholdPct
            self.statePath = statePath
        }
    }

    /// How a trader's model chain is walked (`ModelRouter`).
    package struct Routing: Sendable {
        /// Consecutive failures of the model in use before the next one in the chain is used.
        package let failoverAfter: Int
        /// How long after a switch (or the last probe) the primary is asked again.
        package let recoveryProbeInterval: Duration
        /// The primary's success rate is measured over this trailing window…
        package let successWindow: Duration
        /// …and must be above this (percent) before the router moves back to it.
        package let recoverySuccessRatePct: Double

        package init(
            failoverAfter: Int,
            recoveryProbeInterval: Duration,
            successWindow: Duration,
            recoverySuccessRatePct: Double
        ) {
            self.failoverAfter = failoverAfter
            self.recoveryProbeInterval = recoveryProbeInterval
            self.successWindow = successWindow
            self.recoverySuccessRatePct = recoverySuccessRatePct
        }
    }

    /// The digest cache: identical requests (provider, model, parameters, messages) are answered once.
    package struct Cache: Sendable {
        package let isEnabled: Bool
        package let ttl: Duration
        package let maxEntries: Int
        /// Append-only file the cache is kept in across restarts; nil keeps it in memory only.
        package var path: String?

        package init(isEnabled: Bool, ttl: Duration, maxEntries: Int, path: String?) {
            self.isEnabled = isEnabled
            self.ttl = ttl
            self.maxEntries = maxEntries
            self.path = path
        }
    }

    package let providers: [String: Provider]
    package let models: [String: Model]
    package var budget: Budget
    package let routing: Routing
    package var cache: Cache

    /// What model `alias` lacks to be called: the environment variable (else the key path) of its provider's key
    /// when the provider needs one and it is empty; nil when it can be called, or is unknown.
    package func missingKey(of alias: String) -> String? {
        guard let model = models[alias], let provider = providers[model.provider], provider.requiresAPIKey,
            provider.apiKey.isEmpty
        else { return nil }
        return provider.apiKey.variable ?? "api_key of provider '\(provider.id)'"
    }

    /// `members`, `rule`, `weights`, `threshold`, `min_members` of a consensus alias.
    static func readConsensus(_ section: MappingReader) -> Consensus? {
        let members = section.stringList("members", required: true) ?? []
        let rule = section.choice("rule", default: Consensus.Rule?.none, required: true)
        var weights: [String: Double] = [:]
        if let weightSection = section.mapping("weights") {
            for name in weightSection.keys {
                if let weight = weightSection.double(name, range: 0...1_000_000) { weights[name] = weight }
            }
            weightSection.finish()
        }
        let threshold = section.double("threshold", range: 0...1)
        let minMembers = section.int("min_members", range: 1...max(1, members.count))
        if members.count < 2 {
            section.log.error(
                section.file,
                section.keyPath("members"),
                "a consensus needs at least 2 members",
                line: section.lineOf("members")
            )
        }
        if Set(members).count != members.count {
            section.log.error(
                section.file,
                section.keyPath("members"),
                "a member is listed twice",
                line: section.lineOf("members")
            )
        }
        for name in weights.keys.sorted() where !members.contains(name) {
            section.log.error(
                section.file,
                section.keyPath("weights.\(name)"),
                "'\(name)' is not a member",
                line: section.lineOf("weights")
            )
        }
        guard let rule, members.count >= 2 else { return nil }
        return Consensus(members: members, rule: rule, weights: weights, threshold: threshold, minMembers: minMembers)
    }

    static func read(from reader: MappingReader) -> LLMConfiguration {
        var providers: [String: Provider] = [:]
        for (id, section) in reader.namedMappings("providers", required: true) {
            let kind = section.choice("type", default: ProviderKind?.none, required: true)
            let policy = ProviderPolicy.read(from: section)
            let baseURL = section.string("base_url")
            let apiKey = section.secret("api_key")
            // A local server (Ollama, llama.cpp) may run without a key; remote ones must not.
            let requiresKey = section.bool("requires_api_key", default: kind != .baseline)
            let apiVersion = section.string("api_version")
            if (kind == .openai || kind == .anthropic) && baseURL == nil {
                section.log.error(
                    section.file,
                    section.keyPath("base_url"),
                    "required for a \(kind?.rawValue ?? "") provider",
                    line: section.line
                )
            }
            section.finish()
            if let kind, let policy {
                providers[id] = Provider(
                    id: id,
                    kind: kind,
                    baseURL: baseURL,
                    apiKey: apiKey,
                    policy: policy,
                    requiresAPIKey: requiresKey,
                    apiVersion: apiVersion
                )
            }
        }
        var models: [String: Model] = [:]
        for (alias, section) in reader.namedMappings("models", required: true) {
            if let type = section.string("type") {
                guard type == "consensus" else {
                    section.log.error(
                        section.file,
                        section.keyPath("type"),
                        "\"\(type)\" is not a model type (the only one is consensus; a single model has none)",
                        line: section.lineOf("type")
                    )
                    section.finish()
                    continue
                }
                if let consensus = readConsensus(section) {
                    var model = Model(
                        alias: alias,
                        provider: "",
                        modelName: "",
                        temperature: 0,
                        maxCompletionTokens: 1,
                        topP: nil,
                        priority: section.int("priority", default: 100, range: 0...10_000),
                        costTier: section.choice("cost_tier", default: CostTier.medium) ?? .medium,
                        inputUSDPerMillionTokens: 0,
                        outputUSDPerMillionTokens: 0,
                        fallbacks: []
                    )
                    model.consensus = consensus
                    models[alias] = model
                }
                section.finish()
                continue
            }
            let provider = section.string("provider", required: true)
            let modelName = section.string("model_name", required: true)
            let prices = readPrices(section)
            let model = Model(
                alias: alias,
                provider: provider ?? "",
                modelName: modelName ?? "",
                temperature: section.double("temperature", default: 0.2, range: 0...2),
                maxCompletionTokens: section.int("max_completion_tokens", default: 2048, range: 1...1_000_000),
                topP: section.double("top_p", range: 0...1),
                priority: section.int("priority", default: 100, range: 0...10_000),
                costTier: section.choice("cost_tier", default: CostTier.medium) ?? .medium,
                inputUSDPerMillionTokens: prices.input,
                outputUSDPerMillionTokens: prices.output,
                fallbacks: section.stringList("fallbacks") ?? []
            )
            section.finish()
            if provider != nil, modelName != nil { models[alias] = model }
        }
        var budget = Budget(
            dailyTokenLimit: nil,
            dailyUSDLimit: nil,
            alertThresholdPct: 80,
            statePath: Self.defaultBudgetPath
        )
        if let section = reader.mapping("budget") {
            budget = Budget(
                dailyTokenLimit: section.int("daily_token_limit", range: 0...Int.max),
                dailyUSDLimit: section.double("daily_usd_limit", range: 0...1_000_000_000),
                alertThresholdPct: section.double("alert_threshold_pct", default: 80, range: 0...100),
                statePath: section.string("state_path", default: Self.defaultBudgetPath)
            )
            section.finish()
        }
        let routingSection = reader.mapping("routing")
        let routing = Routing(
            failoverAfter: routingSection?.int("failover_after", default: 3, range: 1...100) ?? 3,
            recoveryProbeInterval: routingSection?.duration(
                "recovery_probe_interval",
                default: .seconds(600),
                minimum: .seconds(1)
            ) ?? .seconds(600),
            successWindow: routingSection?.duration("success_window", default: .seconds(3600), minimum: .seconds(1))
                ?? .seconds(3600),
            recoverySuccessRatePct: routingSection?.double("recovery_success_rate_pct", default: 99, range: 0...100)
                ?? 99
        )
        routingSection?.finish()
        let cacheSection = reader.mapping("cache")
        let cachePath = cacheSection?.string("path", default: Self.defaultCachePath) ?? Self.defaultCachePath
        let cache = Cache(
            isEnabled: cacheSection?.bool("enabled", default: true) ?? true,
            ttl: cacheSection?.duration("ttl", default: .seconds(7 * 86_400), minimum: .seconds(1))
                ?? .seconds(7 * 86_400),
            maxEntries: cacheSection?.int("max_entries", default: 10_000, range: 1...10_000_000) ?? 10_000,
            path: cachePath.isEmpty ? nil : cachePath
        )
        cacheSection?.finish()
        reader.finish()
        return LLMConfiguration(providers: providers, models: models, budget: budget, routing: routing, cache: cache)
    }

    static let defaultBudgetPath = "state/llm-budget.json"
    static let defaultCachePath = "state/llm-cache.jsonl"

    private static func readPrices(_ section: MappingReader) -> (input: Double, output: Double) {
        // A model without a price counts as free; the budget then limits it by tokens only.
        guard let prices = section.mapping("cost_per_million_tokens") else { return (0, 0) }
        defer { prices.finish() }
        return (
            prices.double("input", default: 0, range: 0...1_000_000),
            prices.double("output", default: 0, range: 0...1_000_000)
        )
    }
}

extension LLMConfiguration.Model {
    /// The price of a call in US dollars.
    package func costUSD(promptTokens: Int, completionTokens: Int) -> Double {
        (Double(promptTokens) * inputUSDPerMillionTokens + Double(completionTokens) * outputUSDPerMillionTokens)
            / 1_000_000
    }

    /// Blended price used to rank models by cost (input and output weighted equally).
    package var blendedUSDPerMillionTokens: Double { (inputUSDPerMillionTokens + outputUSDPerMillionTokens) / 2 }
}
