import ArenaCore
import AsyncHTTPClient
import Foundation
import NIOCore
import Shared

package enum HyperliquidError: Error, Equatable, Sendable, CustomStringConvertible {
    case timeout
    case http(status: Int, body: String)
    case transport(String)
    case malformed(String)
    /// `{"status":"err","response":"…"}`: the whole action was refused.
    case rejected(String)
    /// A submit whose fate is not known (timeout or 5xx) and could not be resolved by cloid.
    case unknownOutcome(String)

    package var description: String {
        switch self {
        case .timeout: "Hyperliquid did not answer in time"
        case .http(let status, let body): "Hyperliquid HTTP \(status): \(body.prefix(200))"
        case .transport(let message): "Hyperliquid transport error: \(message)"
        case .malformed(let message): "Hyperliquid answer not understood: \(message)"
        case .rejected(let message): "Hyperliquid refused the action: \(message.prefix(300))"
        case .unknownOutcome(let message): "Hyperliquid outcome unknown: \(message)"
        }
    }

    /// Worth another try for a read: rate limits, gateway errors, timeouts, connection failures.
    package var isRetryable: Bool {
        switch self {
        case .timeout, .transport: true
        case .http(let status, _): status == 429 || status >= 500
        default: false
        }
    }
}

/// Keeps request weight under the per-IP budget (1,200 per minute, PROTOCOL.md §8): a request that would pass it
/// waits until enough of the last minute's weight has aged out.
package actor WeightLimiter {
    package let budget: Int
    package let window: Int64
    private let clock: any ArenaClock
    private var spent: [(time: Int64, weight: Int)] = []

    package init(budget: Int = 1200, window: Duration = .seconds(60), clock: any ArenaClock = WallClock()) {
        self.budget = budget
        self.window = window.milliseconds
        self.clock = clock
    }

    package var used: Int { spent.reduce(0) { $0 + $1.weight } }

    package func acquire(_ weight: Int) async throws {
        let weight = min(weight, budget)
        while true {
            let now = clock.now()
            spent.removeAll { $0.time <= now - window }
            if used + weight <= budget {
                spent.append((now, weight))
                return
            }
            // Wait for the oldest entry to leave the window.
            let oldest = spent.first?.time ?? now
            try await clock.sleep(until: oldest + window + 1)
        }
    }
}

/// The two REST endpoints, `POST /info` and `POST /exchange`, on one AsyncHTTPClient, with a deadline per call,
/// a bounded body, request weights under the per-IP budget, and retries with backoff for reads.
package struct HyperliquidAPI: Sendable {
    package let baseURL: String
    package let httpClient: HTTPClient
    package let policy: ProviderPolicy
    package let limiter: WeightLimiter
    package let clock: any ArenaClock

    package static let mainnetURL = "https://api.hyperliquid.xyz"
    package static let testnetURL = "https://api.hyperliquid-testnet.xyz"
    package static let maxResponseBytes = 16 * 1024 * 1024

    /// Weight of an info request before per-item extras (PROTOCOL.md §8).
    package static func weight(_ type: String) -> Int {
        ["l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus"]
            .contains(type) ? 2 : 20
    }

    /// `POST /info`, retried on 429, 5xx, timeouts and connection errors. `extraWeight`: what the items of the
    /// answer add (history requests weigh one more per 20 or 60 items).
    package func info(_ body: [String: Any], extraWeight: Int = 0) async throws(HyperliquidError) -> Any {
        let type = body["type"] as? String ?? ""
        var attempt = 0
        while true {
            do {
                try await limiter.acquire(Self.weight(type) + extraWeight)
            } catch {
                throw .timeout
            }
            do {
                return try await post("/info", body: Self.encode(body))
            } catch {
                guard error.isRetryable, attempt < policy.retry.maxRetries else { throw error }
                let wait = min(policy.retry.maxBackoff, policy.retry.backoff * (1 << min(attempt, 16)))
                attempt += 1
                do {
                    try await clock.sleep(until: clock.now() + wait.milliseconds)
                } catch {
                    throw .timeout
                }
            }
        }
    }

    /// `POST /exchange` once. The caller decides what a failure means (a submit is never blindly resent).
    package func exchange(_ body: String, batchLength: Int) async throws(HyperliquidError) -> Any {
        do {
            try await limiter.acquire(1 + batchLength / 40)
        } catch {
            throw .timeout
        }
        return try await post("/exchange", body: Data(body.utf8))
    }

    package static func encode(_ body: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    private func post(_ path: String, body: Data) async throws(HyperliquidError) -> Any {
        var request = HTTPClientRequest(url: baseURL.trimmingSuffix("/") + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: UInt
        let buffer: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: .milliseconds(policy.timeout.milliseconds))
            status = response.status.code
            buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        {
            throw .timeout
        } catch is NIOTooManyBytesError {
            throw .malformed("the answer is larger than \(Self.maxResponseBytes) bytes")
        } catch {
            throw .transport(BoundedHTTP.describe(error))
        }
        let text = String(buffer: buffer)
        guard (200..<300).contains(status) else { throw .http(status: Int(status), body: text) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) else {
            throw .malformed("the body is not JSON: \(text.prefix(120))")
        }
        return object
    }

    package init(
        baseURL: String,
        httpClient: HTTPClient,
        policy: ProviderPolicy,
        limiter: WeightLimiter,
        clock: any ArenaClock
    ) {
        self.baseURL = baseURL
        self.httpClient = httpClient
        self.policy = policy
        self.limiter = limiter
        self.clock = clock
    }
}

/// Decimal strings as Hyperliquid sends them.
extension Dictionary where Key == String, Value == Any {
    package func decimal(_ key: String) -> Double? {
        if let text = self[key] as? String { return Double(text) }
        return (self[key] as? NSNumber)?.doubleValue
    }
}
