import Shared

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
        return [
            ChatMessage(role: "system", content: try systemTemplate.render(PromptContext.system(context))),
            ChatMessage(role: "user", content: try userTemplate.render(PromptContext.user(context))),
        ]
    }

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
