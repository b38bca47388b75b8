import Foundation

/// The cross-file rules checked at load time (docs/ARCHITECTURE.md, "Where a change goes"):
/// referenced ids exist, capital is not over-allocated, templates carry the schema version, secrets are present
/// where they are needed.
struct GoldenRules {
    let llm: LLMConfiguration
    let llmFile: String
    let executor: ExecutorConfiguration
    let executorFile: String
    let exchange: ExchangeConfiguration
    let exchangeFile: String
    let market: MarketConfiguration
    let marketFile: String
    let managerFile: String
    let log: DiagnosticLog

    func check(_ manager: ManagerConfiguration) -> ManagerConfiguration {
        checkModels()
        checkTemplates()
        checkMarketChains()
        checkAllocation(manager)
        var seen: Set<String> = []
        let traders = manager.traders.map { trader in
            if !trader.id.isEmpty, !seen.insert(trader.id).inserted {
                log.error(managerFile, "\(trader.keyPath).id", "duplicate trader id '\(trader.id)'")
            }
            return check(trader)
        }
        // Only the traders change (a copy field by field would drop any setting added later).
        var checked = manager
        checked.traders = traders
        return checked
    }

    private func checkModels() {
        for model in llm.models.values.sorted(by: { $0.alias < $1.alias }) {
            if let consensus = model.consensus {
                for member in consensus.members {
                    if llm.models[member] == nil {
                        log.error(
                            llmFile,
                            "models.\(model.alias).members",
                            "unknown model '\(member)'\(suggest(member, llm.models.keys))"
                        )
                    } else if llm.models[member]?.consensus != nil {
                        log.error(
                            llmFile,
                            "models.\(model.alias).members",
                            "'\(member)' is a consensus itself: members are single models"
                        )
                    }
                }
                continue
            }
            if llm.providers[model.provider] == nil {
                log.error(
                    llmFile,
                    "models.\(model.alias).provider",
                    "unknown provider '\(model.provider)'\(suggest(model.provider, llm.providers.keys))"
                )
            }
            for fallback in model.fallbacks where llm.models[fallback] == nil {
                log.error(
                    llmFile,
                    "models.\(model.alias).fallbacks",
                    "unknown model '\(fallback)'\(suggest(fallback, llm.models.keys))"
                )
            }
        }
    }

    private func checkTemplates() {
        for template in executor.templates.values.sorted(by: { $0.id < $1.id }) {
            let keyPath = "templates.\(template.id).path"
            do {
                let file = try PromptTemplateFile.load(path: template.path)
                let expected = template.expectedVersion(executor)
                if file.version != expected {
                    let message =
                        template.version == nil
                        ? "template \(template.path) has Version: \(file.version), but prompt_schema_version is \(expected)"
                        : "template \(template.path) has Version: \(file.version), but its entry says version \(expected)"
                    if executor.promptValidation == .strict {
                        log.error(executorFile, keyPath, message + " (strict mode refuses it)")
                    } else {
                        log.warning(executorFile, keyPath, message)
                    }
                }
            } catch {
                switch error {
                case .unreadable:
                    log.error(executorFile, keyPath, "cannot read template file \(template.path)")
                case .missingVersionHeader:
                    log.error(
                        executorFile,
                        keyPath,
                        "template \(template.path) does not start with a 'Version:' header line"
                    )
                }
            }
        }
    }

    private func checkMarketChains() {
        for provider in market.providers.values where provider.kind == .chain {
            for member in provider.members where market.providers[member] == nil || member == provider.id {
                log.error(
                    marketFile,
                    "providers.\(provider.id).members",
                    "unknown or self-referencing market provider '\(member)'"
                )
            }
        }
    }

    private func checkAllocation(_ manager: ManagerConfiguration) {
        let total = manager.traders.reduce(0) { $0 + $1.allocationPct }
        let available = 100 - manager.reserveEquityPct
        if total > available + 1e-9 {
            log.error(
                managerFile,
                "traders",
                "the traders' allocation_pct add up to \(Self.format(total)) %, more than 100 − reserve_equity_pct = \(Self.format(available)) %"
            )
        }
        let bounds = manager.rebalanceBounds
        if bounds.minAllocationPct > bounds.maxAllocationPct {
            log.error(
                managerFile,
                "manager.min_allocation_pct",
                "is \(Self.format(bounds.minAllocationPct)) %, above max_allocation_pct (\(Self.format(bounds.maxAllocationPct)) %)"
            )
        }
        let enabled = Double(manager.traders.filter(\.autoStart).count)
        if manager.allocationStrategy == .performanceBased, bounds.minAllocationPct * enabled > available + 1e-9 {
            log.error(
                managerFile,
                "manager.min_allocation_pct",
                "\(Self.format(bounds.minAllocationPct)) % for each of \(Int(enabled)) traders is more than 100 − reserve_equity_pct = \(Self.format(available)) %"
            )
        }
    }

    private func check(_ trader: TraderConfiguration) -> TraderConfiguration {
        var trader = trader
        let path = trader.keyPath
        if exchange.providers[trader.exchangeProvider] == nil, !trader.exchangeProvider.isEmpty {
            log.error(
                managerFile,
                "\(path).exchange_provider",
                "unknown exchange provider '\(trader.exchangeProvider)'\(suggest(trader.exchangeProvider, exchange.providers.keys))"
            )
        }
        if let provider = market.providers[trader.marketProvider] {
            let available = marketSymbols(provider)
            for symbol in trader.symbols where !available.contains(symbol) {
                log.error(
                    managerFile,
                    "\(path).symbols",
                    "symbol '\(symbol)' is not offered by market provider '\(provider.id)'"
                )
            }
        } else if trader.marketProvider.contains("|") {
            for member in trader.marketProvider.split(separator: "|").map(String.init)
            where market.providers[member] == nil {
                log.error(
                    managerFile,
                    "\(path).market_provider",
                    "unknown market provider '\(member)' in the standby list\(suggest(member, market.providers.keys))"
                )
            }
        } else if !trader.marketProvider.isEmpty {
            log.error(
                managerFile,
                "\(path).market_provider",
                "unknown market provider '\(trader.marketProvider)'\(suggest(trader.marketProvider, market.providers.keys))"
            )
        }
        checkTemplate(trader.promptTemplate, role: .system, key: "\(path).prompt_template")
        checkTemplate(trader.executorPromptTemplate, role: .user, key: "\(path).executor_prompt_template")
        for (key, alias) in [("model", trader.model)] + trader.fallbackModels.map({ ("fallback_models", $0) })
        where !alias.isEmpty && llm.models[alias] == nil {
            log.error(managerFile, "\(path).\(key)", "unknown model '\(alias)'\(suggest(alias, llm.models.keys))")
        }
        // A live venue without its key cannot trade: that is an error, not a silent paper fallback.
        if let venue = exchange.providers[trader.exchangeProvider], venue.kind == .hyperliquid,
            venue.privateKey.isEmpty
        {
            let variable = venue.privateKey.variable.map { " (\($0) is not set)" } ?? ""
            log.error(
                managerFile,
                "\(path).exchange_provider",
                "exchange provider '\(venue.id)' has no private_key\(variable)"
            )
        }
        // A consensus trader needs `min_members` members it can call.
        if let consensus = llm.models[trader.model]?.consensus {
            if !trader.fallbackModels.isEmpty {
                log.error(
                    managerFile,
                    "\(path).fallback_models",
                    "model '\(trader.model)' is a consensus: it has no fallbacks (a member that fails counts against min_members)"
                )
            }
            let missing = consensus.members.compactMap { member in
                llm.missingKey(of: member).map { "\($0) (member '\(member)')" }
            }
            if consensus.members.count - missing.count < consensus.minMembers {
                let reason =
                    "\(missing.joined(separator: ", ")) not set: fewer than \(consensus.minMembers) members of consensus '\(trader.model)' can be asked"
                trader.disabledReason = reason
                log.warning(managerFile, path, "trader '\(trader.id)' is disabled: \(reason)")
            }
            return trader
        }
        // An LLM trader whose key is missing is disabled with one warning, so the rest of the arena still runs.
        for alias in [trader.model] + trader.fallbackModels {
            guard let variable = llm.missingKey(of: alias) else { continue }
            if alias == trader.model {
                trader.disabledReason = "\(variable) is not set (needed by model '\(alias)')"
                log.warning(
                    managerFile,
                    path,
                    "trader '\(trader.id)' is disabled: \(variable) is not set (needed by model '\(alias)')"
                )
                break
            }
        }
        return trader
    }

    private func checkTemplate(_ id: String, role: PromptTemplateFile.Role, key: String) {
        guard !id.isEmpty else { return }
        guard let template = executor.templates[id] else {
            log.error(managerFile, key, "unknown template '\(id)'\(suggest(id, executor.templates.keys))")
            return
        }
        if template.role != role {
            log.error(
                managerFile,
                key,
                "template '\(id)' is a \(template.role.rawValue) template, expected \(role.rawValue)"
            )
        }
    }

    private func marketSymbols(_ provider: MarketConfiguration.Provider) -> Set<String> {
        guard provider.kind == .chain else { return Set(provider.symbols) }
        return provider.members.compactMap { market.providers[$0] }.filter { $0.kind != .chain }
            .reduce(into: Set<String>()) { $0.formUnion($1.symbols) }
    }

    private func suggest(_ name: String, _ candidates: some Collection<String>) -> String {
        if let best = MappingReader.closest(to: name, among: Array(candidates).sorted()) {
            return " (did you mean '\(best)'?)"
        }
        let list = candidates.sorted().joined(separator: ", ")
        return list.isEmpty ? "" : " (known: \(list))"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.4g", value)
    }
}
