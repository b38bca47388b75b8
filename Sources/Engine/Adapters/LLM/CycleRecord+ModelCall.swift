import ArenaCore

extension CycleRecord {
    /// Books a model's answer: text, tokens (summed over a correction round), cost and who answered.
    package mutating func book(_ answer: ModelCall.Answer) {
        modelAnswered = answer.alias
        providerModel = answer.response.modelName
        route = answer.route
        rawAnswer = answer.response.answer
        promptTokens += answer.response.promptTokens
        completionTokens += answer.response.completionTokens
        latencyMilliseconds += answer.response.latencyMilliseconds
        costUSD += answer.costUSD
        isCacheHit = answer.isCacheHit
    }
}
