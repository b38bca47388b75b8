import ArenaCore
import AsyncHTTPClient
import Foundation
import NIOCore
import Shared

/// The Anthropic Messages API: `x-api-key`, `anthropic-version`, a top-level system prompt, and the answer as text
/// blocks. JSON is asked for by instruction (the API has no response_format); the parser is tolerant of prose.
package struct AnthropicMessagesClient: LLMClient {
    package let provider: LLMConfiguration.Provider
    package let httpClient: HTTPClient
    /// The `anthropic-version` header (llm.yaml `api_version`).
    package let apiVersion: String

    package static let defaultAPIVersion = "2023-06-01"

    package func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
        guard let baseURL = provider.baseURL else { throw .transport("provider \(provider.id) has no base_url") }
        let started = ContinuousClock.now
        let system = request.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        var body: [String: Any] = [
            "model": request.model.modelName,
            "max_tokens": request.model.maxCompletionTokens,
            "temperature": request.model.temperature,
            "messages": request.messages.filter { $0.role != "system" }.map {
                ["role": $0.role, "content": $0.content]
            },
        ]
        if !system.isEmpty { body["system"] = system }
        if let topP = request.model.topP { body["top_p"] = topP }
        let payload: Data
        do {
            payload = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        } catch {
            throw .transport("cannot encode the request")
        }
        var http = HTTPClientRequest(url: baseURL.trimmingSuffix("/") + "/messages")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "anthropic-version", value: apiVersion)
        if !provider.apiKey.isEmpty {
            http.headers.add(name: "x-api-key", value: provider.apiKey.revealed)
        }
        http.body = .bytes(ByteBuffer(bytes: payload))
        let text = try await BoundedHTTP.send(http, client: httpClient, timeout: request.timeout)
        return try Self.decode(text, started: started)
    }

    package static func decode(_ text: String, started: ContinuousClock.Instant) throws(LLMError) -> LLMResponse {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw .malformedResponse("the body is not a JSON object")
        }
        guard let blocks = object["content"] as? [[String: Any]] else {
            throw .malformedResponse("no content blocks")
        }
        let content = blocks.filter { ($0["type"] as? String) == "text" }.compactMap { $0["text"] as? String }
            .joined()
        guard !content.isEmpty else { throw .malformedResponse("no text block in the answer") }
        let usage = object["usage"] as? [String: Any]
        return LLMResponse(
            text: content,
            modelName: object["model"] as? String ?? "",
            promptTokens: (usage?["input_tokens"] as? NSNumber)?.intValue ?? 0,
            completionTokens: (usage?["output_tokens"] as? NSNumber)?.intValue ?? 0,
            latencyMilliseconds: (ContinuousClock.now - started).milliseconds
        )
    }

    package init(provider: LLMConfiguration.Provider, httpClient: HTTPClient, apiVersion: String) {
        self.provider = provider
        self.httpClient = httpClient
        self.apiVersion = apiVersion
    }
}
