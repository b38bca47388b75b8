import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A fake model that speaks the real OpenAI chat-completions and Anthropic Messages protocols over HTTP on a
/// loopback port. Each test sets how it answers: a standing answer, or a script of answers taken in order.
package final class FakeModelBehaviour: Sendable {
    package enum Answer: Sendable {
        /// 200 with this text as choices[0].message.content.
        case content(String)
        /// This status and body.
        case status(Int, String)
        /// A 200 whose body is not JSON.
        case rawBody(String)
        /// Wait this long before answering (longer than the client's timeout → a timeout).
        case delay(Duration, then: String)
        /// This status with a `Retry-After` header.
        case retryAfter(Int, String)
        /// 200 with this text as the answer, and this usage.
        case usage(String, prompt: Int, completion: Int)
        /// A 200 body of this many bytes.
        case huge(Int)
    }

    private let answer: Mutex<Answer>
    private let script: Mutex<[Answer]>
    private let requests: Mutex<[String]>
    private let headers: Mutex<[[String: String]]>

    package init(_ answer: Answer, script: [Answer] = []) {
        self.answer = Mutex(answer)
        self.script = Mutex(script)
        self.requests = Mutex([])
        self.headers = Mutex([])
    }

    package func set(_ value: Answer) { answer.withLock { $0 = value } }
    /// The next scripted answer, else the standing one.
    package func next() -> Answer {
        if let scripted = script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return scripted }
        return answer.withLock { $0 }
    }
    package var receivedBodies: [String] { requests.withLock { $0 } }
    package var receivedHeaders: [[String: String]] { headers.withLock { $0 } }
    package func record(_ body: String, headers received: [String: String] = [:]) {
        requests.withLock { $0.append(body) }
        headers.withLock { $0.append(received) }
    }
}

package enum FakeModelServer {
    package static func makeApplication(_ behaviour: FakeModelBehaviour) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, context -> Response in
            try await answer(request, behaviour: behaviour, shape: completion)
        }
        router.post("/v1/messages") { request, context -> Response in
            try await answer(request, behaviour: behaviour, shape: message)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    package static func answer(
        _ request: Request,
        behaviour: FakeModelBehaviour,
        shape: (String, Int, Int) -> String
    ) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        behaviour.record(String(buffer: body), headers: headers)
        switch behaviour.next() {
        case .content(let text):
            return json(shape(text, 1234, 56))
        case .usage(let text, let prompt, let completion):
            return json(shape(text, prompt, completion))
        case .status(let code, let text):
            return Response(
                status: .init(code: code),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        case .retryAfter(let code, let seconds):
            return Response(
                status: .init(code: code),
                headers: [.contentType: "application/json", .retryAfter: seconds],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"slow down"}"#))
            )
        case .rawBody(let text):
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .huge(let bytes):
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: " "), count: bytes))
            )
        case .delay(let duration, let text):
            try await Task.sleep(for: duration)
            return json(shape(text, 1234, 56))
        }
    }

    /// An OpenAI chat completion.
    package static func completion(_ text: String, prompt: Int = 1234, completion: Int = 56) -> String {
        encode([
            "id": "chatcmpl-test", "object": "chat.completion", "model": "fake-model-1",
            "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
            "usage": ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion],
        ])
    }

    /// An Anthropic message.
    package static func message(_ text: String, prompt: Int = 1234, completion: Int = 56) -> String {
        encode([
            "id": "msg_test", "type": "message", "role": "assistant", "model": "fake-claude",
            "content": [["type": "text", "text": text]], "stop_reason": "end_turn",
            "usage": ["input_tokens": prompt, "output_tokens": completion],
        ])
    }

    package static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    package static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
