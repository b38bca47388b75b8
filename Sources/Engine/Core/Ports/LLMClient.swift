import Foundation
import Shared

/// One call to a model. `input` carries the structured data the prompt was rendered from; remote models read
/// the messages, baseline policies read `input`.
package struct LLMRequest: Sendable {
    package var model: LLMConfiguration.Model
    package var messages: [ChatMessage]
    /// The decision schema (JSON text), sent as `response_format` where the provider supports it.
    package var responseSchema: String?
    package var timeout: Duration
    package var input: DecisionInput

    package init(
        model: LLMConfiguration.Model,
        messages: [ChatMessage],
        responseSchema: String? = nil,
        timeout: Duration,
        input: DecisionInput
    ) {
        self.model = model
        self.messages = messages
        self.responseSchema = responseSchema
        self.timeout = timeout
        self.input = input
    }
}

package struct LLMResponse: Sendable, Equatable, Codable {
    /// The answer: the text the model sent, or the decisions an in-process policy answered with (`AnswerText`).
    package var answer: AnswerText
    /// The answer's text (written from the decisions when first read, for an in-process policy's).
    package var text: String {
        get { answer.text }
        set { answer = .text(newValue) }
    }
    /// The model that answered, as the provider names it.
    package var modelName: String
    package var promptTokens: Int
    package var completionTokens: Int
    package var latencyMilliseconds: Int64
    /// The decisions `text` encodes, when an in-process policy wrote the text from them (a baseline): the cycle
    /// checks them with the parser's own rules (`DecisionParser.reread`) instead of reading the text back, and
    /// reads the text when they fail. Never stored (not in the coding keys).
    package var decisions: [Decision]?

    package init(
        text: String,
        modelName: String,
        promptTokens: Int,
        completionTokens: Int,
        latencyMilliseconds: Int64,
        decisions: [Decision]? = nil
    ) {
        self.init(
            answer: .text(text),
            modelName: modelName,
            promptTokens: promptTokens,
            completionTokens: completionTokens,
            latencyMilliseconds: latencyMilliseconds,
            decisions: decisions
        )
    }

    package init(
        answer: AnswerText,
        modelName: String,
        promptTokens: Int,
        completionTokens: Int,
        latencyMilliseconds: Int64,
        decisions: [Decision]? = nil
    ) {
        self.answer = answer
        self.modelName = modelName
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.decisions = decisions
    }

    private enum CodingKeys: String, CodingKey {
        case answer = "text"
        case modelName, promptTokens, completionTokens, latencyMilliseconds
    }
}

package enum LLMError: Error, Equatable, Sendable, CustomStringConvertible {
    case timeout
    /// A non-2xx answer: its status only. The provider's error body is dropped where it is read (a provider may
    /// echo the request, the key included), so it can reach no log, journal or API. `retryAfter` is the provider's
    /// `Retry-After`, when it sent one.
    case http(status: Int, retryAfter: Duration? = nil)
    case transport(String)
    case malformedResponse(String)

    package var description: String {
        switch self {
        case .timeout: "the model did not answer in time"
        case .http(let status, _): "HTTP \(status): \(Self.meaning(status))"
        case .transport(let message): "transport error: \(message)"
        case .malformedResponse(let message): "malformed response: \(message)"
        }
    }

    /// Connect errors, timeouts, 408, 429 and 5xx gateway errors are worth another try; anything else is not.
    package var isRetryable: Bool {
        switch self {
        case .timeout, .transport: true
        case .http(let status, _): [408, 429, 500, 502, 503, 504].contains(status)
        case .malformedResponse: false
        }
    }

    /// A short, bounded label for metrics and journal attempts.
    package var outcome: String {
        switch self {
        case .timeout: "timeout"
        case .http(let status, _): "http_\(status)"
        case .transport: "transport"
        case .malformedResponse: "malformed"
        }
    }

    /// A fixed description of an HTTP status: what the engine says instead of the provider's own text.
    package static func meaning(_ status: Int) -> String {
        switch status {
        case 400: "the provider refused the request as malformed"
        case 401, 403: "the provider refused the credentials"
        case 404: "the provider does not know the model or the endpoint"
        case 408: "the provider timed out"
        case 413: "the request is too large for the provider"
        case 429: "rate limited by the provider"
        case 500..<600: "the provider failed"
        default: "unexpected status from the provider"
        }
    }

    /// Parses a `Retry-After` header: delta-seconds or an HTTP date.
    package static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        guard let date = UTCTime.httpDate(value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
    }
}

/// A model provider: OpenAI-compatible, Anthropic, or an in-process baseline policy.
package protocol LLMClient: Sendable {
    func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse
}

/// What a decision is made from, as values: the same data the prompt shows.
package struct DecisionInput: Sendable, Equatable, Codable {
    package var traderID: String
    package var symbols: [String]
    package var market: MarketSnapshot
    package var account: TraderAccount
    package var limits: RiskLimitsSummary

    package init(
        traderID: String,
        symbols: [String],
        market: MarketSnapshot,
        account: TraderAccount,
        limits: RiskLimitsSummary
    ) {
        self.traderID = traderID
        self.symbols = symbols
        self.market = market
        self.account = account
        self.limits = limits
    }
}

/// The risk limits a policy should respect, in the units of the decision contract.
package struct RiskLimitsSummary: Sendable, Equatable, Codable {
    package var maxPositionSizeUSD: Double
    package var maxMarginUsagePct: Double
    package var majorCoinLeverage: Double
    package var altcoinLeverage: Double
    package var minRiskRewardRatio: Double
    package var minConfidence: Double
    package var maxRiskPerTradePct: Double
    package var maxPositions: Int

    package init(_ limits: RiskParameters) {
        maxPositionSizeUSD = limits.maxPositionSizeUSD
        maxMarginUsagePct = limits.maxMarginUsagePct
        majorCoinLeverage = limits.majorCoinLeverage
        altcoinLeverage = limits.altcoinLeverage
        minRiskRewardRatio = limits.minRiskRewardRatio
        minConfidence = limits.minConfidence
        maxRiskPerTradePct = limits.maxRiskPerTradePct
        maxPositions = limits.maxPositions
    }
}
