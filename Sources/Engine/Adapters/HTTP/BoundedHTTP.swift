import ArenaCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Shared

/// The HTTP exchange both remote clients share: one deadline for the whole call, a bounded body, typed errors.
package enum BoundedHTTP {
    /// Answers larger than this are refused rather than buffered.
    package static let maxResponseBytes = 4 * 1024 * 1024

    package static func send(
        _ request: HTTPClientRequest,
        client: HTTPClient,
        timeout: Duration
    ) async throws(LLMError)
        -> String
    {
        let responseBody: ByteBuffer
        let status: UInt
        let retryAfter: String?
        do {
            let response = try await client.execute(request, timeout: .milliseconds(max(1, timeout.milliseconds)))
            status = response.status.code
            retryAfter = response.headers.first(name: "Retry-After")
            responseBody = try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw .timeout
        } catch is NIOTooManyBytesError {
            throw .malformedResponse("the answer is larger than \(Self.maxResponseBytes) bytes")
        } catch {
            throw .transport(describe(error))
        }
        guard (200..<300).contains(status) else {
            // The body is not kept: a provider's error text may echo the key.
            throw .http(status: Int(status), retryAfter: LLMError.retryAfter(retryAfter))
        }
        return String(buffer: responseBody)
    }

    /// Transport errors without anything that could carry a secret (no headers, no URLs with credentials).
    package static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: type(of: error))
    }
}
