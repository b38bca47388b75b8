import Foundation
import Shared

struct ChatMessage: Sendable, Equatable, Codable {
    var role: String
    var content: String
}

/// One call to a model. `input` carries the structured data the prompt was rendered from; remote models read
/// the messages, baseline policies read `input`.
struct LLMRequest: Sendable {
    var model: LLMConfiguration.Model
    var messages: [ChatMessage]
    /// The decision schema (JSON text), sent as `response_format` where the provider supports it.
    var responseSchema: String?
    var timeout: Duration
    var input: DecisionInput
}

struct LLMResponse: Sendable, Equatable, Codable {
    var text: String
    /// The model that answered, as the provider names it.
    var modelName: String
    var promptTokens: Int
    var completionTokens: Int
    var latencyMilliseconds: Int64
}

enum LLMError: Error, Equatable, Sendable, CustomStringConvertible {
    case timeout
    /// A non-2xx answer. `retryAfter` is the provider's `Retry-After`, when it sent one.
    case http(status: Int, body: String, retryAfter: Duration? = nil)
    case transport(String)
    case malformedResponse(String)

    var description: String {
        switch self {
        case .timeout: "the model did not answer in time"
        case .http(let status, let body, _): "HTTP \(status): \(body.prefix(200))"
        case .transport(let message): "transport error: \(message)"
        case .malformedResponse(let message): "malformed response: \(message)"
        }
    }

    /// Connect errors, timeouts, 408, 429 and 5xx gateway errors are worth another try; anything else is not.
    var isRetryable: Bool {
        switch self {
        case .timeout, .transport: true
        case .http(let status, _, _): [408, 429, 500, 502, 503, 504].contains(status)
        case .malformedResponse: false
        }
    }

    /// A short, bounded label for metrics and journal attempts.
    var outcome: String {
        switch self {
        case .timeout: "timeout"
        case .http(let status, _, _): "http_\(status)"
        case .transport: "transport"
        case .malformedResponse: "malformed"
        }
    }

    /// Parses a `Retry-After` header: delta-seconds or an HTTP date.
    static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
    }
}

/// A model provider: OpenAI-compatible, Anthropic, or an in-process baseline policy.
protocol LLMClient: Sendable {
    func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse
}

/// What a decision is made from, as values: the same data the prompt shows.
struct DecisionInput: Sendable, Equatable, Codable {
    var traderID: String
    var symbols: [String]
    var market: MarketSnapshot
    var account: TraderAccount
    var limits: RiskLimitsSummary
}

/// The risk limits a policy should respect, in the units of the decision contract.
struct RiskLimitsSummary: Sendable, Equatable, Codable {
    var maxPositionSizeUSD: Double
    var maxMarginUsagePct: Double
    var majorCoinLeverage: Double
    var altcoinLeverage: Double
    var minRiskRewardRatio: Double
    var minConfidence: Double
    var maxRiskPerTradePct: Double
    var maxPositions: Int

    init(_ limits: RiskParameters) {
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
