import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A fake model that speaks the real OpenAI chat-completions protocol over HTTP on a loopback port.
/// Each test sets how it answers.
final class FakeModelBehaviour: Sendable {
    enum Answer: Sendable {
        /// 200 with this text as choices[0].message.content.
        case content(String)
        /// This status and body.
        case status(Int, String)
        /// A 200 whose body is not JSON.
        case rawBody(String)
        /// Wait this long before answering (longer than the client's timeout → a timeout).
        case delay(Duration, then: String)
    }

    private let answer: Mutex<Answer>
    private let requests: Mutex<[String]>

    init(_ answer: Answer) {
        self.answer = Mutex(answer)
        self.requests = Mutex([])
    }

    func set(_ value: Answer) { answer.withLock { $0 = value } }
    var current: Answer { answer.withLock { $0 } }
    var receivedBodies: [String] { requests.withLock { $0 } }
    func record(_ body: String) { requests.withLock { $0.append(body) } }
}

enum FakeModelServer {
    static func makeApplication(_ behaviour: FakeModelBehaviour) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, context -> Response in
            let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
            behaviour.record(String(buffer: body))
            switch behaviour.current {
            case .content(let text):
                return json(completion(text))
            case .status(let code, let text):
                return Response(
                    status: .init(code: code),
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: text))
                )
            case .rawBody(let text):
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
            case .delay(let duration, let text):
                try await Task.sleep(for: duration)
                return json(completion(text))
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func completion(_ text: String) -> String {
        let object: [String: Any] = [
            "id": "chatcmpl-test", "object": "chat.completion", "model": "fake-model-1",
            "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
