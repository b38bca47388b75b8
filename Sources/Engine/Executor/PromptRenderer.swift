import Shared

/// Step 3 of a cycle: the system and user messages from recorded values only (market and account snapshots,
/// the cycle inputs, the clock time), so the live cycle and `engine replay` render byte-identical prompts.
struct PromptRenderer: Sendable {
    let trader: TraderConfiguration
    let venue: String
    let systemTemplate: PromptTemplate
    let userTemplate: PromptTemplate
    let decisionSchema: String
    let intradayInterval: String
    let contextInterval: String

    func render(
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
            decisionSchema: decisionSchema
        )
        return [
            ChatMessage(role: "system", content: try systemTemplate.render(PromptContext.system(context))),
            ChatMessage(role: "user", content: try userTemplate.render(PromptContext.user(context))),
        ]
    }
}
