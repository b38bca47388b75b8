import Shared
import Synchronization

/// Step 3 of a cycle: the system and user messages from recorded values only (market and account snapshots,
/// the cycle inputs, the clock time), so the live cycle and `engine replay` render byte-identical prompts.
package struct PromptRenderer: Sendable {
    package let trader: TraderConfiguration
    package let venue: String
    package let systemTemplate: PromptTemplate
    package let userTemplate: PromptTemplate
    package let decisionSchema: String
    package let intradayInterval: String
    package let contextInterval: String
    /// How much memory the user template shows; nil when it reads no memory variable (nothing is remembered
    /// for it, and nothing is journaled).
    package let memoryDepth: ExecutorConfiguration.MemoryDepth?

    package func render(
        market: MarketSnapshot,
        account: TraderAccount,
        inputs: CycleInputs,
        now: Int64
    )
        throws(PromptTemplate.Failure) -> [ChatMessage]
    {
        let context = PromptContext.Inputs(
            trader: trader,
            venue: venue,
            capital: inputs.inceptionCapital,
            market: market,
            account: account,
            now: now,
            startedAt: inputs.startedAt,
            invocationCount: inputs.invocationCount,
            sharpe: inputs.sharpe,
            intradayInterval: intradayInterval,
            contextInterval: contextInterval,
            decisionSchema: decisionSchema,
            memory: inputs.memory
        )
        // The system prompt reads only the configuration, the capital and the symbols: rendered again only when
        // one of those two changed (a rebalance, a market whose symbols changed), else the same text.
        let symbols = PromptContext.symbols(trader: trader, market: market)
        let system: String
        if let text = systemMemo.text(capital: inputs.inceptionCapital, symbols: symbols) {
            system = text
        } else {
            system = try systemTemplate.render(PromptContext.system(context))
            systemMemo.store(system, capital: inputs.inceptionCapital, symbols: symbols)
        }
        return [
            ChatMessage(role: "system", content: system),
            ChatMessage(role: "user", content: try userTemplate.renderUser(UserPromptModel(context))),
        ]
    }

    private let systemMemo = SystemPromptMemo()

    package init(
        trader: TraderConfiguration,
        venue: String,
        systemTemplate: PromptTemplate,
        userTemplate: PromptTemplate,
        decisionSchema: String,
        intradayInterval: String,
        contextInterval: String,
        memoryDepth: ExecutorConfiguration.MemoryDepth? = nil
    ) {
        self.trader = trader
        self.venue = venue
        self.systemTemplate = systemTemplate
        self.userTemplate = userTemplate
        self.decisionSchema = decisionSchema
        self.intradayInterval = intradayInterval
        self.contextInterval = contextInterval
        self.memoryDepth = memoryDepth
    }
}

/// The last system prompt a renderer gave, with the capital and symbols it was rendered for.
final class SystemPromptMemo: Sendable {
    private struct Entry {
        var capital: Double
        var symbols: [String]
        var text: String
    }

    private let entry = Mutex<Entry?>(nil)

    func text(capital: Double, symbols: [String]) -> String? {
        entry.withLock { entry in
            guard let entry, entry.capital == capital, entry.symbols == symbols else { return nil }
            return entry.text
        }
    }

    func store(_ text: String, capital: Double, symbols: [String]) {
        entry.withLock { $0 = Entry(capital: capital, symbols: symbols, text: text) }
    }
}
