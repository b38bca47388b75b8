import ArenaTestSupport
import Foundation
import HummingbirdTesting
import Testing

@testable import ControlAPI

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the server that sends bytes exactly as given and reads answers framed by their
/// `Content-Length`: what wrk, browsers and proxies do, pipelining and all, without a client library between.
final class RawHTTPConnection {
    struct Answer {
        let head: String
        let body: [UInt8]
        var status: Int { Int(head.split(separator: " ", maxSplits: 2)[1]) ?? -1 }

        func header(_ name: String) -> String? {
            head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)) }
        }
    }

    private let socket: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawHTTPError.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw RawHTTPError.system("connect")
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(socket) }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw RawHTTPError.system("send") }
            sent += count
        }
    }

    /// No more requests: the server sees the end of its input.
    func shutdownWriting() {
        shutdown(socket, Int32(SHUT_WR))
    }

    /// The next answer, framed by its `Content-Length`; the answer to a HEAD (`hasBody` false) announces a length
    /// it does not send.
    func answer(hasBody: Bool = true) async throws -> Answer {
        while true {
            if let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let partial = Answer(head: head, body: [])
                // A 304 sends no body (and no length); every other answer of this server has a length.
                let announced = partial.header("content-length").flatMap(Int.init)
                guard announced != nil || partial.status == 304 else { throw RawHTTPError.unframed(head) }
                let length = hasBody ? announced ?? 0 : 0
                if received.count >= end.upperBound + length {
                    let body = Array(received[end.upperBound..<(end.upperBound + length)])
                    received.removeFirst(end.upperBound + length)
                    return Answer(head: head, body: body)
                }
            }
            received += try await receive()
        }
    }

    /// The next bytes, waited for without holding a thread (the server's router runs on the same pool).
    private func receive() async throws -> [UInt8] {
        let deadline = ContinuousClock.now + .seconds(20)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { return Array(chunk[..<count]) }
            if count == 0 { throw RawHTTPError.closed(received.count) }
            guard errno == EAGAIN || errno == EWOULDBLOCK, ContinuousClock.now < deadline else {
                throw RawHTTPError.system("recv")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Whether the server closed the connection (after every answer was read).
    func isClosedByServer() async -> Bool {
        do {
            _ = try await receive()
            return false
        } catch {
            return (error as? RawHTTPError).map { if case .closed = $0 { true } else { false } } ?? false
        }
    }
}

enum RawHTTPError: Error {
    case system(String)
    case unframed(String)
    case closed(Int)
}

/// The fast path as a client on the wire sees it: the bytes of its answers are the router's, pipelined requests
/// are answered in order whichever path answers each, and it reads requests however the bytes arrive.
@Suite("control-api's fast path on the wire")
struct RawHTTPTests {
    static func request(_ path: String, _ headers: [String] = [], method: String = "GET") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: arena.test\r\n" + headers.map { "\($0)\r\n" }.joined() + "\r\n"
    }

    /// Head and body with the `Date` value and the body's `serverTime` (the clock at each answer) blanked, the
    /// body inflated when gzipped, so two answers made at different moments compare byte for byte.
    static func comparable(_ answer: RawHTTPConnection.Answer) throws -> String {
        let head = answer.head.replacing(/Date: [^\r]*/, with: "Date: -")
        var body = answer.body
        if answer.header("content-encoding") == "gzip" { body = try gunzip(body) }
        let text = String(decoding: body, as: UTF8.self).replacing(/"serverTime":\d+/, with: "\"serverTime\":0")
        return head + "\r\n\r\n" + text
    }

    @Test(arguments: [["*"], ["https://dash.example"]])
    func fastAnswers_areTheRoutersBytes(corsOrigins: [String]) async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: corsOrigins, metrics: metrics).test(.live) {
            client in
            let port = try #require(client.port)
            let probe = try RawHTTPConnection(port: port)
            try probe.send(Self.request("/api/leaderboard"))
            let etag = try #require(try await probe.answer().header("etag"))
            let variants: [[String]] = [
                [], ["Accept-Encoding: gzip"], ["Accept-Encoding: gzip;q=0"], ["Origin: https://dash.example"],
                ["If-None-Match: \(etag)"], ["Connection: keep-alive", "User-Agent: test", "Accept: */*"],
            ]
            for path in ["/api/leaderboard", "/api/trades", "/api/analytics/gpt-5", "/api/rebalances"] {
                for headers in variants {
                    let fast = try RawHTTPConnection(port: port)
                    let before = PreparedDocumentTests.fastPathAnswers(metrics)
                    try fast.send(Self.request(path, headers))
                    let fastAnswer = try await fast.answer()
                    #expect(PreparedDocumentTests.fastPathAnswers(metrics) == before + 1, "\(path) \(headers)")
                    // `Content-Length: 0` makes the request one the fast path leaves to the router.
                    let routed = try RawHTTPConnection(port: port)
                    try routed.send(Self.request(path, headers + ["Content-Length: 0"]))
                    let routedAnswer = try await routed.answer()
                    #expect(PreparedDocumentTests.fastPathAnswers(metrics) == before + 1, "\(path) routed")
                    let (fastText, routedText) = (try Self.comparable(fastAnswer), try Self.comparable(routedAnswer))
                    #expect(fastText == routedText, "\(path) \(headers): the fast answer's bytes differ")
                }
            }
        }
    }

    @Test func pipelinedRequests_areAnsweredInOrder_whicheverPathAnswers() async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let connection = try RawHTTPConnection(port: try #require(client.port))
            // Routed first (health, a query, a HEAD), fast ones behind them, then a request with a body, which
            // hands the rest of the connection to the codec, and a fast one after it.
            let requests = [
                Self.request("/api/health"), Self.request("/api/leaderboard"), Self.request("/api/trades?limit=1"),
                Self.request("/api/leaderboard", method: "HEAD"), Self.request("/api/crypto-prices"),
                Self.request("/api/crypto-prices"), Self.request("/api/nope"),
                Self.request("/api/leaderboard", ["Content-Length: 2"], method: "POST") + "{}",
                Self.request("/api/trades"),
            ]
            try connection.send(requests.joined())
            var answers: [RawHTTPConnection.Answer] = []
            for index in requests.indices {
                answers.append(try await connection.answer(hasBody: index != 3))
            }
            #expect(answers.map(\.status) == [200, 200, 200, 200, 200, 200, 404, 405, 200])
            #expect(answers[3].body.isEmpty && answers[3].header("content-length") != "0")
            func contains(_ index: Int, _ text: String) -> Bool {
                String(decoding: answers[index].body, as: UTF8.self).contains(text)
            }
            #expect(contains(0, "\"status\":\"ok\""))
            #expect(contains(1, "\"leaderboard\""))
            let limited = try JSONSerialization.jsonObject(with: Data(answers[2].body)) as? [String: Any]
            #expect((limited?["trades"] as? [Any])?.count == 1)
            #expect(contains(4, "\"prices\"") && contains(5, "\"prices\""))
            #expect(contains(8, "\"trades\""))
            // The leaderboard and both crypto-prices before the request with a body; none after it.
            #expect(PreparedDocumentTests.fastPathAnswers(metrics) == 3)
        }
    }

    @Test func aRequestArrivingByteByByte_isAnsweredFast() async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let connection = try RawHTTPConnection(port: try #require(client.port))
            let bytes = Array(Self.request("/api/leaderboard", ["Accept-Encoding: gzip"]).utf8)
            for byte in bytes {
                try connection.send([byte])
                try await Task.sleep(for: .milliseconds(1))
            }
            let answer = try await connection.answer()
            #expect(answer.status == 200)
            #expect(answer.header("content-encoding") == "gzip")
            #expect(try gunzip(answer.body).count > 100)
            #expect(PreparedDocumentTests.fastPathAnswers(metrics) == 1)
        }
    }

    /// Many pipelined requests sent before any answer is read: the server's socket fills, the fast path waits
    /// for it to drain, and every answer arrives, whole and in order.
    @Test func aClientThatReadsLate_getsEveryAnswerInOrder() async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let connection = try RawHTTPConnection(port: try #require(client.port))
            let paths = ["/api/trades", "/api/leaderboard", "/api/health"]
            let count = 300
            try connection.send((0..<count).map { Self.request(paths[$0 % paths.count]) }.joined())
            try await Task.sleep(for: .milliseconds(300))
            for index in 0..<count {
                let answer = try await connection.answer()
                #expect(answer.status == 200)
                let expected = ["\"trades\"", "\"leaderboard\"", "\"status\""][index % paths.count]
                let isExpected = String(decoding: answer.body, as: UTF8.self).contains(expected)
                #expect(isExpected, "answer \(index) is not the \(paths[index % paths.count]) answer")
            }
            #expect(PreparedDocumentTests.fastPathAnswers(metrics) == 200)
        }
    }

    @Test func requestsBeforeTheEndOfInput_areAnswered() async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let connection = try RawHTTPConnection(port: try #require(client.port))
            try connection.send(Self.request("/api/leaderboard") + Self.request("/api/health"))
            connection.shutdownWriting()
            #expect(try await connection.answer().status == 200)
            #expect(try await connection.answer().status == 200)
        }
    }

    @Test func connectionClose_isTheRoutersAnswer_andCloses() async throws {
        let metrics = APIMetrics()
        try await PreparedDocumentTests.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let connection = try RawHTTPConnection(port: try #require(client.port))
            try connection.send(Self.request("/api/leaderboard", ["Connection: close"]))
            let answer = try await connection.answer()
            #expect(answer.status == 200)
            #expect(await connection.isClosedByServer())
            #expect(PreparedDocumentTests.fastPathAnswers(metrics) == 0)
        }
    }
}
