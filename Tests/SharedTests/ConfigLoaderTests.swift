import ArenaTestSupport
import Foundation
import Testing

@testable import Shared

@Suite("Configuration loading")
struct ConfigLoaderTests {
    let fixture: ConfigFixture

    init() throws {
        fixture = try ConfigFixture()
    }

    func load(environment: [String: String] = [:]) throws(ConfigError) -> ArenaConfiguration {
        try ConfigLoader(environment: environment, baseDirectory: fixture.root.path).load(path: fixture.arenaPath)
    }

    /// Loads and returns the error lines, failing the test if the load succeeds.
    func errors(environment: [String: String] = [:]) -> [String] {
        do {
            _ = try load(environment: environment)
            Issue.record("the configuration loaded, but it should have been refused")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    /// Runtime paths are taken from the base directory, whatever the process's current directory is (tests run in
    /// parallel and never change it); absolute paths and a setting left empty stay as written.
    @Test func baseDirectory_makesRelativeRuntimePathsAbsolute() throws {
        let root = fixture.root.path
        let configuration = try load(environment: [
            "ARENA_JOURNAL_PATH": "/srv/arena/journal"
        ])
        #expect(configuration.dataPath == "\(root)/mcp-data")
        #expect(configuration.journal.path == "/srv/arena/journal")
        #expect(configuration.executor.decisionSchemaPath == "\(root)/schemas/decision.schema.json")
        #expect(!configuration.executor.templates.isEmpty)
        for template in configuration.executor.templates.values {
            #expect(template.path.hasPrefix("\(root)/prompts/"), "\(template.path)")
        }
        #expect(configuration.manager.statePath == "\(root)/state/manager.json")
        #expect(configuration.llm.budget.statePath == "\(root)/state/llm-budget.json")
        #expect(configuration.llm.cache.path == "\(root)/state/llm-cache.jsonl")
        // A path left empty on purpose (a memory-only cache) stays empty.
        #expect(ConfigLoader.resolve("", relativeTo: root) == "")
        #expect(configuration.exchange.providers["paper"]?.statePath == "\(root)/state/paper-exchange.json")
        let replay = configuration.market.providers.values.compactMap(\.dataDirectory)
        #expect(!replay.isEmpty && replay.allSatisfy { $0 == "\(root)/data/market" }, "\(replay)")
        // Without a base directory the paths stay as written (relative to wherever the binary runs); the templates
        // are made absolute here so that the load does not depend on this process's directory.
        try fixture.edit("executor.yaml") {
            $0.replacingOccurrences(of: "path: prompts/", with: "path: \(root)/prompts/")
        }
        let asWritten = try ConfigLoader(environment: [:]).load(path: fixture.arenaPath)
        #expect(asWritten.dataPath == "mcp-data")
        #expect(asWritten.manager.statePath == "state/manager.json")
    }

    /// A dead-man's switch shorter than the engine can keep re-arming from its tick is refused at load; 0 is off.
    @Test(arguments: [("10s", true), ("29s", true), ("30s", false), ("0s", false)])
    func deadMansSwitch_shorterThanTheTickCanKeepArmed_isRefused(value: String, refused: Bool) throws {
        try fixture.edit("exchange.yaml") {
            $0.replacingOccurrences(
                of: "    type: hyperliquid\n",
                with: "    type: hyperliquid\n    dead_mans_switch: \(value)\n"
            )
        }
        if refused {
            let lines = errors()
            #expect(lines.contains { $0.contains("dead_mans_switch") && $0.contains("at least 30s") }, "\(lines)")
        } else {
            let configuration = try load()
            #expect(configuration.exchange.providers["hyperliquid"]?.deadMansSwitch == ConfigDuration.parse(value))
        }
    }

    @Test func shippedConfiguration_loadsWithBaselineTradersEnabled() throws {
        let configuration = try load()
        #expect(configuration.traders.count >= 3)
        let enabled = configuration.enabledTraders.map(\.id)
        #expect(enabled.contains("baseline-hold"))
        #expect(enabled.contains("baseline-ema"))
        #expect(configuration.exchange.providers["paper"]?.kind == .sim)
        #expect(configuration.market.providers["replay"]?.kind == .replay)
        #expect(configuration.manager.totalEquityUSD == 10000)
        // The anchored risk block is shared by both baseline traders.
        let hold = try #require(configuration.traders.first { $0.id == "baseline-hold" })
        let ema = try #require(configuration.traders.first { $0.id == "baseline-ema" })
        #expect(hold.riskParams == ema.riskParams)
        #expect(hold.decisionInterval == .seconds(180))
    }

    @Test func llmTrader_withoutItsKey_isDisabledWithOneWarning() throws {
        let configuration = try load()
        let trader = try #require(configuration.traders.first { $0.id == "deepseek-momentum" })
        #expect(!trader.isEnabled)
        // One warning per disabled trader: the DeepSeek trader and the consensus trader (both members keyless).
        #expect(configuration.warnings.count == 2)
        let warning = try #require(configuration.warnings.first { $0.description.contains("deepseek-momentum") })
        #expect(warning.description.contains("DEEPSEEK_API_KEY is not set"))
        let consensus = try #require(configuration.warnings.first { $0.description.contains("consensus-duo") })
        #expect(
            consensus.description.contains(
                "DEEPSEEK_API_KEY (member 'deepseek-chat'), DASHSCOPE_API_KEY (member 'qwen3-max') not set: fewer than 2 members of consensus 'deepseek-qwen' can be asked"
            )
        )
    }

    @Test func consensusTrader_needsMinMembersKeys() throws {
        let one = try load(environment: ["DEEPSEEK_API_KEY": "sk-1"])
        #expect(one.traders.first { $0.id == "consensus-duo" }?.isEnabled == false)
        #expect(one.warnings.map(\.description).joined().contains("DASHSCOPE_API_KEY (member 'qwen3-max') not set"))
        let both = try load(environment: ["DEEPSEEK_API_KEY": "sk-1", "DASHSCOPE_API_KEY": "sk-2"])
        #expect(both.traders.first { $0.id == "consensus-duo" }?.isEnabled == true)
        #expect(
            both.llm.models["deepseek-qwen"]?.consensus
                == .init(members: ["deepseek-chat", "qwen3-max"], rule: .unanimous, minMembers: 2)
        )
    }

    @Test func rule_consensusModels_areChecked() throws {
        try fixture.edit("llm.yaml") {
            $0.replacingOccurrences(
                of: "    members: [deepseek-chat, qwen3-max]\n    rule: unanimous\n",
                with: "    members: [deepseek-chat, qwen3-maxx, deepseek-chat]\n    rule: most\n    weights: {gpt: 2}\n"
            )
            .replacingOccurrences(of: "  ema-cross:\n", with: "  odd:\n    type: ensemble\n  ema-cross:\n")
        }
        let lines = errors()
        #expect(lines.contains { $0.contains("models.deepseek-qwen.members: a member is listed twice") })
        #expect(
            lines.contains {
                $0.contains(
                    "models.deepseek-qwen.rule: \"most\" is not one of: majority, weighted, unanimous, highest_confidence"
                )
            }
        )
        #expect(lines.contains { $0.contains("models.deepseek-qwen.weights.gpt: 'gpt' is not a member") })
        #expect(lines.contains { $0.contains("models.odd.type: \"ensemble\" is not a model type") })
    }

    @Test func llmTrader_withItsKey_isEnabled_andTheKeyNeverPrints() throws {
        let configuration = try load(environment: [
            "DEEPSEEK_API_KEY": "sk-very-secret-value", "DASHSCOPE_API_KEY": "sk-other-secret-value",
        ])
        #expect(configuration.enabledTraders.contains { $0.id == "deepseek-momentum" })
        #expect(configuration.warnings.isEmpty)
        let key = try #require(configuration.llm.providers["deepseek"]?.apiKey)
        #expect(key.revealed == "sk-very-secret-value")
        #expect("\(key)" == "<redacted>")
        #expect(!String(describing: configuration.llm).contains("sk-very-secret-value"))
        #expect(!String(reflecting: key).contains("sk-very-secret-value"))
    }

    // MARK: Golden rules

    @Test func rule_unknownModel_isRefusedWithSuggestion() throws {
        try fixture.edit("manager.yaml") { $0.replacingOccurrences(of: "model: ema-cross", with: "model: ema-crosss") }
        let lines = errors()
        #expect(
            lines.contains {
                $0.contains("manager.yaml: traders[1].model: unknown model 'ema-crosss'")
                    && $0.contains("did you mean 'ema-cross'")
            }
        )
    }

    @Test func rule_unknownExchangeAndMarketProviders_areRefused() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(
                of:
                    "exchange_provider: paper\n    market_provider: replay\n    order_style: market_ioc\n    market_ioc_slippage_bps: 25\n    prompt_template: alpha-arena-system\n    executor_prompt_template: alpha-arena-user\n    model: buy-and-hold",
                with:
                    "exchange_provider: papr\n    market_provider: live\n    order_style: market_ioc\n    market_ioc_slippage_bps: 25\n    prompt_template: alpha-arena-system\n    executor_prompt_template: alpha-arena-user\n    model: buy-and-hold"
            )
        }
        let lines = errors()
        #expect(lines.contains { $0.contains("traders[0].exchange_provider: unknown exchange provider 'papr'") })
        #expect(lines.contains { $0.contains("traders[0].market_provider: unknown market provider 'live'") })
    }

    @Test func marketProviderList_isAHotStandbyChain_andItsMembersAreChecked() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(
                of:
                    "    market_provider: replay\n    order_style: market_ioc\n    market_ioc_slippage_bps: 25\n    prompt_template: alpha-arena-system\n    executor_prompt_template: alpha-arena-user\n    model: buy-and-hold",
                with:
                    "    market_provider: [hyperliquid, replay]\n    order_style: market_ioc\n    market_ioc_slippage_bps: 25\n    prompt_template: alpha-arena-system\n    executor_prompt_template: alpha-arena-user\n    model: buy-and-hold"
            )
        }
        let configuration = try load()
        let trader = try #require(configuration.traders.first)
        #expect(trader.marketProvider == "hyperliquid|replay")
        let chain = try #require(configuration.market.providers["hyperliquid|replay"])
        #expect(chain.kind == .chain)
        #expect(chain.members == ["hyperliquid", "replay"])
        // The stricter member's staleness limit holds for the chain.
        #expect(chain.maxStaleness == .seconds(120))

        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "[hyperliquid, replay]", with: "[hyperliquid, replya]")
        }
        #expect(
            errors().contains {
                $0.contains("traders[0].market_provider: unknown market provider 'replya' in the standby list")
                    && $0.contains("did you mean 'replay'")
            }
        )
    }

    @Test func rule_unknownTemplate_isRefused() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(
                of: "executor_prompt_template: alpha-arena-user\n    model: deepseek-chat",
                with: "executor_prompt_template: nope\n    model: deepseek-chat"
            )
        }
        #expect(errors().contains { $0.contains("traders[2].executor_prompt_template: unknown template 'nope'") })
    }

    @Test func rule_unknownLLMProvider_isRefused() throws {
        try fixture.edit("llm.yaml") { $0.replacingOccurrences(of: "provider: deepseek", with: "provider: deepseak") }
        #expect(
            errors().contains { $0.contains("llm.yaml: models.deepseek-chat.provider: unknown provider 'deepseak'") }
        )
    }

    @Test func rule_overAllocation_isRefused() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "reserve_equity_pct: 10", with: "reserve_equity_pct: 15")
        }
        let lines = errors()
        #expect(
            lines.contains {
                $0.contains(
                    "manager.yaml: traders: the traders' allocation_pct add up to 90 %, more than 100 − reserve_equity_pct = 85 %"
                )
            }
        )
    }

    @Test func rule_rebalanceBounds_areChecked() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "allocation_strategy: static", with: "allocation_strategy: performance_based")
                .replacingOccurrences(of: "min_allocation_pct: 5", with: "min_allocation_pct: 40")
                .replacingOccurrences(of: "max_allocation_pct: 50", with: "max_allocation_pct: 30")
        }
        let lines = errors()
        #expect(lines.contains { $0.contains("manager.min_allocation_pct: is 40 %, above max_allocation_pct (30 %)") })
        // Four traders (two disabled later for their missing keys, but configured to start) at 40 % each: 160 % > 90 %.
        #expect(
            lines.contains {
                $0.contains(
                    "manager.min_allocation_pct: 40 % for each of 4 traders is more than 100 − reserve_equity_pct = 90 %"
                )
            }
        )
    }

    @Test(arguments: ["timeout", "retry", "healthcheck", "capabilities"])
    func rule_providerWithoutPolicyKey_isRefused(key: String) throws {
        let text = try fixture.read("exchange.yaml")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Remove the key from the paper provider only (the first occurrence).
        var removed = false
        let edited = lines.filter { line in
            if !removed && line.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):") {
                removed = true
                return false
            }
            return true
        }.joined(separator: "\n")
        try fixture.write("exchange.yaml", edited)
        #expect(
            errors().contains {
                $0.contains("exchange.yaml: providers.paper.\(key): every provider must declare '\(key)'")
            }
        )
    }

    @Test func rule_templateWithoutVersionHeader_isRefused() throws {
        let path = fixture.path("prompts/user/alpha_arena.mustache")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try String(text.drop(while: { $0 != "\n" }).dropFirst()).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            errors().contains {
                $0.contains("templates.alpha-arena-user.path")
                    && $0.contains("does not start with a 'Version:' header line")
            }
        )
    }

    @Test func rule_templateVersionMismatch_isRefusedInStrictMode_andWarnedOtherwise() throws {
        try fixture.edit("executor.yaml") {
            $0.replacingOccurrences(of: "prompt_schema_version: \"1.0.0\"", with: "prompt_schema_version: \"2.0.0\"")
        }
        #expect(
            errors().contains {
                $0.contains("has Version: 1.0.0, but prompt_schema_version is 2.0.0 (strict mode refuses it)")
            }
        )

        try fixture.edit("executor.yaml") {
            $0.replacingOccurrences(of: "prompt_validation: strict", with: "prompt_validation: warn")
        }
        let configuration = try load()
        #expect(
            configuration.warnings.contains {
                $0.description.contains("has Version: 1.0.0, but prompt_schema_version is 2.0.0")
            }
        )
    }

    @Test func rule_ranges_areEnforced() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "major_coin_leverage: 10", with: "major_coin_leverage: 0")
                .replacingOccurrences(of: "min_confidence: 60", with: "min_confidence: 150")
                .replacingOccurrences(
                    of: "max_margin_usage_pct: 60\n      major_coin_leverage: 3",
                    with: "max_margin_usage_pct: 160\n      major_coin_leverage: 3"
                )
        }
        let lines = errors()
        #expect(
            lines.contains {
                $0.contains("traders[2].risk_params.major_coin_leverage: must be between 1 and 125, got 0")
            }
        )
        #expect(
            lines.contains { $0.contains("traders[2].risk_params.min_confidence: must be between 0 and 100, got 150") }
        )
        #expect(lines.contains { $0.contains("risk_params.max_margin_usage_pct: must be between 0 and 100, got 160") })
    }

    @Test func journalCompressionLevel_isOptional_andBetween1And9() throws {
        #expect(try load().journal.compressionLevel == nil)
        try fixture.edit("arena.yaml") {
            $0.replacingOccurrences(
                of: "  compress_closed_files: true",
                with: "  compress_closed_files: true\n  compression_level: 3"
            )
        }
        #expect(try load().journal.compressionLevel == 3)
        try fixture.edit("arena.yaml") {
            $0.replacingOccurrences(of: "compression_level: 3", with: "compression_level: 10")
        }
        #expect(errors().contains { $0.contains("journal.compression_level: must be between 1 and 9, got 10") })
    }

    @Test func rule_liveVenueWithoutKey_isRefused() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(
                of:
                    "exchange_provider: paper\n    market_provider: replay\n    order_style: market_ioc\n    market_ioc_slippage_bps: 50",
                with:
                    "exchange_provider: hyperliquid\n    market_provider: replay\n    order_style: market_ioc\n    market_ioc_slippage_bps: 50"
            )
        }
        let lines = errors(environment: ["DEEPSEEK_API_KEY": "k"])
        #expect(
            lines.contains {
                $0.contains(
                    "traders[2].exchange_provider: exchange provider 'hyperliquid' has no private_key (HYPERLIQUID_PRIVATE_KEY is not set)"
                )
            }
        )
    }

    @Test func rule_duplicateTraderIDs_andInvalidIDs_areRefused() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "id: baseline-ema", with: "id: baseline-hold")
                .replacingOccurrences(of: "id: deepseek-momentum", with: "id: ../escape")
        }
        let lines = errors()
        #expect(lines.contains { $0.contains("traders[1].id: duplicate trader id 'baseline-hold'") })
        #expect(lines.contains { $0.contains("traders[2].id: \"../escape\" is not a valid trader id") })
    }

    // MARK: Bad input as a new user writes it

    @Test func missingRootFile_isOneClearLine() {
        do {
            _ = try ConfigLoader(environment: [:]).load(path: fixture.path("etc/nope.yaml"))
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["\(fixture.path("etc/nope.yaml")): file not found"])
        }
    }

    @Test func missingModuleFile_namesTheFile() throws {
        try FileManager.default.removeItem(atPath: fixture.path("etc/market.yaml"))
        #expect(errors() == ["\(fixture.path("etc/market.yaml")): file not found"])
    }

    @Test func yamlSyntaxError_namesFileLineAndColumn() throws {
        try fixture.edit("llm.yaml") { $0.replacingOccurrences(of: "models:\n", with: "models:\n  bad: [unclosed\n") }
        let lines = errors()
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("\(fixture.path("etc/llm.yaml")): YAML syntax error at line") == true)
    }

    @Test func misspelledKey_isUnknownWithDidYouMean() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(
                of: "decision_interval: 3m\n    allocation_pct: 30\n    auto_start: true\n    symbols: [BTC]\n",
                with: "decison_interval: 3m\n    allocation_pct: 30\n    auto_start: true\n    symbols: [BTC]\n"
            )
        }
        let lines = errors()
        #expect(
            lines.contains {
                $0.contains("traders[0].decison_interval: unknown key (did you mean 'decision_interval'?)")
            }
        )
        #expect(lines.contains { $0.contains("traders[0].decision_interval: required key is missing") })
    }

    @Test func wrongType_namesTheKeyPath() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "max_positions: 4", with: "max_positions: four")
        }
        #expect(
            errors().contains {
                $0.contains("manager.yaml: traders[2].risk_params.max_positions: expected an integer, got \"four\"")
            }
        )
    }

    @Test func badDuration_namesTheKeyPath() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "rebalance_interval: 1h", with: "rebalance_interval: soon")
        }
        #expect(errors().contains { $0.contains("manager.rebalance_interval: \"soon\" is not a duration") })
    }

    @Test func shutdownGrace_defaultsTo30s_followsItsVariable_andRefusesANonDuration() throws {
        #expect(try load().manager.shutdownGrace == .seconds(30))
        // The value survives the golden rules' pass over the manager section.
        #expect(try load(environment: ["ARENA_SHUTDOWN_GRACE": "2s"]).manager.shutdownGrace == .seconds(2))
        #expect(
            errors(environment: ["ARENA_SHUTDOWN_GRACE": "later"]).contains {
                $0.contains("manager.shutdown_grace: \"later\" is not a duration")
            }
        )
    }

    @Test func unsetVariableWithoutDefault_namesFileKeyAndVariable() throws {
        try fixture.edit("llm.yaml") {
            $0.replacingOccurrences(of: "${DEEPSEEK_API_KEY:-}", with: "${DEEPSEEK_API_KEY}")
        }
        let lines = errors()
        #expect(lines.count == 1)
        #expect(
            lines.first?.contains(
                "llm.yaml: providers.deepseek.api_key: environment variable DEEPSEEK_API_KEY is not set"
            ) == true
        )
    }

    @Test func everyViolation_isReportedAtOnce() throws {
        try fixture.edit("manager.yaml") {
            $0.replacingOccurrences(of: "max_positions: 4", with: "max_positions: four")
                .replacingOccurrences(of: "model: ema-cross", with: "model: missing")
                .replacingOccurrences(of: "total_equity_usd: 10000", with: "total_equity_usd: -5")
        }
        let lines = errors()
        #expect(lines.count >= 3)
    }
}

@Suite("Environment expansion")
struct EnvironmentExpanderTests {
    let expander = EnvironmentExpander(environment: ["HOST": "db", "EMPTY": ""])

    @Test func expandsVariablesAndDefaults() throws {
        #expect(try expander.expand("${HOST}:5432").value == "db:5432")
        #expect(try expander.expand("${PORT:-8080}").value == "8080")
        #expect(try expander.expand("${EMPTY:-fallback}").value == "fallback")
        #expect(try expander.expand("${MISSING:-}").value == "")
        #expect(try expander.expand("cost $$5").value == "cost $5")
        #expect(try expander.expand("${HOST}-${PORT:-1}").variables == ["HOST", "PORT"])
    }

    @Test func unsetWithoutDefault_throws() {
        #expect(throws: EnvironmentExpander.Failure.unset(variable: "MISSING")) { try expander.expand("${MISSING}") }
        #expect(throws: EnvironmentExpander.Failure.unset(variable: "EMPTY")) { try expander.expand("${EMPTY}") }
    }

    @Test func malformedReferences_throw() {
        #expect(throws: EnvironmentExpander.Failure.self) { try expander.expand("${UNCLOSED") }
        #expect(throws: EnvironmentExpander.Failure.self) { try expander.expand("${1BAD}") }
    }
}

@Suite("Durations")
struct ConfigDurationTests {
    @Test func parsesUnitsAndCompounds() {
        #expect(ConfigDuration.parse("500ms") == .milliseconds(500))
        #expect(ConfigDuration.parse("30s") == .seconds(30))
        #expect(ConfigDuration.parse("3m") == .seconds(180))
        #expect(ConfigDuration.parse("1h30m") == .seconds(5400))
        #expect(ConfigDuration.parse("1d") == .seconds(86400))
    }

    @Test func rejectsNonsense() {
        for text in ["", "10", "m", "5 minutes", "-3s", "3x", "1.2.3s"] {
            #expect(ConfigDuration.parse(text) == nil, "\(text)")
        }
    }
}
