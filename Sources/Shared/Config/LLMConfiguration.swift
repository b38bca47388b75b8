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
    }

    package struct Budget: Sendable {
        package let dailyTokenLimit: Int?
        package let dailyUSDLimit: Double?
        package let alertThresholdPct: Double
    }

    package let providers: [String: Provider]
    package let models: [String: Model]
    package let budget: Budget

    static func read(from reader: MappingReader) -> LLMConfiguration {
        var providers: [String: Provider] = [:]
        for (id, section) in reader.namedMappings("providers", required: true) {
            let kind = section.choice("type", default: ProviderKind?.none, required: true)
            let policy = ProviderPolicy.read(from: section)
            let baseURL = section.string("base_url")
            let apiKey = section.secret("api_key")
            // A local server (Ollama, llama.cpp) may run without a key; remote ones must not.
            let requiresKey = section.bool("requires_api_key", default: kind != .baseline)
            section.declare("api_version")
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
                    requiresAPIKey: requiresKey
                )
            }
        }
        var models: [String: Model] = [:]
        for (alias, section) in reader.namedMappings("models", required: true) {
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
        var budget = Budget(dailyTokenLimit: nil, dailyUSDLimit: nil, alertThresholdPct: 80)
        if let section = reader.mapping("budget") {
            budget = Budget(
                dailyTokenLimit: section.int("daily_token_limit", range: 0...Int.max),
                dailyUSDLimit: section.double("daily_usd_limit", range: 0...1_000_000_000),
                alertThresholdPct: section.double("alert_threshold_pct", default: 80, range: 0...100)
            )
            section.finish()
        }
        reader.finish()
        return LLMConfiguration(providers: providers, models: models, budget: budget)
    }

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
