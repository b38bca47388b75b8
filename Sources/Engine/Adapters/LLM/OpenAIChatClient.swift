import ArenaCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Shared

/// Chat completions against any OpenAI-compatible server (OpenAI, DeepSeek, OpenRouter, ZenMux, vLLM,
/// llama.cpp, Ollama). One owned `HTTPClient`; the request deadline is the call's timeout; the body is bounded.
package struct OpenAIChatClient: LLMClient {
    package let provider: LLMConfiguration.Provider
    package let httpClient: HTTPClient

    package func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
        guard let baseURL = provider.baseURL else { throw .transport("provider \(provider.id) has no base_url") }
        let started = ContinuousClock.now
        var body: [String: Any] = [
            "model": request.model.modelName,
            "messages": request.messages.map { ["role": $0.role, "content": $0.content] },
            "temperature": request.model.temperature,
            "max_tokens": request.model.maxCompletionTokens,
        ]
        if let topP = request.model.topP { body["top_p"] = topP }
        if let schema = request.responseSchema, provider.policy.supports("json_schema"),
            let schemaObject = try? JSONSerialization.jsonObject(with: Data(schema.utf8))
        {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": "decisions", "schema": schemaObject, "strict": false],
            ]
        } else if provider.policy.supports("json_object") {
            body["response_format"] = ["type": "json_object"]
        }
        let payload: Data
        do {
            payload = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        } catch {
            throw .transport("cannot encode the request")
        }
        var http = HTTPClientRequest(url: baseURL.trimmingSuffix("/") + "/chat/completions")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        if !provider.apiKey.isEmpty {
            http.headers.add(name: "Authorization", value: "Bearer \(provider.apiKey.revealed)")
        }
        http.body = .bytes(ByteBuffer(bytes: payload))

        let text = try await BoundedHTTP.send(http, client: httpClient, timeout: request.timeout)
        return try Self.decode(text, started: started)
    }

    package static func decode(_ text: String, started: ContinuousClock.Instant) throws(LLMError) -> LLMResponse {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw .malformedResponse("the body is not a JSON object")
        }
        guard let choices = object["choices"] as? [[String: Any]], let first = choices.first,
            let message = first["message"] as? [String: Any], let content = message["content"] as? String
        else {
            throw .malformedResponse("no choices[0].message.content")
        }
        let usage = object["usage"] as? [String: Any]
        let elapsed = ContinuousClock.now - started
        return LLMResponse(
            text: content,
            modelName: object["model"] as? String ?? "",
            promptTokens: (usage?["prompt_tokens"] as? NSNumber)?.intValue ?? 0,
            completionTokens: (usage?["completion_tokens"] as? NSNumber)?.intValue ?? 0,
            latencyMilliseconds: elapsed.milliseconds
        )
    }

    package init(provider: LLMConfiguration.Provider, httpClient: HTTPClient) {
        self.provider = provider
        self.httpClient = httpClient
    }
}

extension String {
    package func trimmingSuffix(_ suffix: String) -> String {
        var result = self
        while result.hasSuffix(suffix) { result.removeLast(suffix.count) }
        return result
    }
}
