import ArenaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import ControlAPI
@testable import Shared

/// The prepared-document fast path (`PreparedDocumentHandler`) on a live server: every document it answers on
/// the event loop is what the router answers for the same request (status, headers, body), and it leaves every
/// other request to the router; and how it reads request heads (`RequestHead.parse`).
@Suite("control-api's prepared-document fast path")
struct PreparedDocumentTests {
    static let paths = [
        "/api/leaderboard", "/api/trades", "/api/positions", "/api/account-totals", "/api/crypto-prices",
        "/api/analytics", "/api/since-inception-values", "/api/conversations", "/api/analytics/gpt-5",
        "/api/analytics/no-such-model", "/api/rebalances", "/api/prompt-versions",
    ]

    static func makeLiveAPI(corsOrigins: [String], metrics: APIMetrics) throws -> some ApplicationProtocol {
        var settings = ControlAPISettings.defaults
        settings.dataPath = TestPaths.capture.path
        settings.port = 0
        settings.corsOrigins = corsOrigins
        var logger = Logger(label: "control-api-test")
        logger.logLevel = .critical
        return try ControlAPIServer.makeApplication(settings: settings, logger: logger, metrics: metrics)
    }

    static func fastPathAnswers(_ metrics: APIMetrics) -> Int {
        let text = String(buffer: metrics.exposition())
        let line = text.split(separator: "\n").first { $0.hasPrefix("control_api_fast_path_answers_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// The body with `serverTime` set aside (it is the clock at each answer), inflated when gzipped.
    static func comparable(_ response: TestResponse) throws -> Data {
        var bytes = [UInt8](buffer: response.body)
        if response.headers[.contentEncoding] == "gzip" { bytes = try gunzip(bytes) }
        guard !bytes.isEmpty else { return Data() }
        var object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object.removeValue(forKey: "serverTime") != nil)
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    @Test(arguments: [["*"], ["https://dash.example"]])
    func fastAnswers_areWhatTheRouterAnswers(corsOrigins: [String]) async throws {
        let metrics = APIMetrics()
        try await Self.makeLiveAPI(corsOrigins: corsOrigins, metrics: metrics).test(.live) { client in
            let etag = try await client.execute(uri: "/api/leaderboard", method: .get).headers[.eTag] ?? ""
            #expect(etag.hasPrefix("\""))
            let variants: [HTTPFields] = [
                [:], [.acceptEncoding: "gzip, deflate"], [.acceptEncoding: "gzip;q=0"],
                [.origin: "https://dash.example"], [.origin: "https://evil.example", .acceptEncoding: "*"],
                [.ifNoneMatch: etag], [.ifNoneMatch: "W/\(etag)"], [.ifNoneMatch: "\"older\""],
            ]
            var compared = 0
            for path in Self.paths {
                for headers in variants {
                    let before = Self.fastPathAnswers(metrics)
                    let fast = try await client.execute(uri: path, method: .get, headers: headers)
                    #expect(Self.fastPathAnswers(metrics) == before + 1, "\(path) \(headers) was not answered fast")
                    // A query sends the same request through the router (no document reads this one).
                    let routed = try await client.execute(uri: path + "?via=router", method: .get, headers: headers)
                    #expect(Self.fastPathAnswers(metrics) == before + 1, "\(path)?via=router was answered fast")
                    #expect(fast.status == routed.status, "\(path) \(headers)")
                    var fastHeaders = fast.headers
                    var routedHeaders = routed.headers
                    #expect(fastHeaders[.date] != nil)
                    fastHeaders[.date] = nil
                    routedHeaders[.date] = nil
                    #expect(fastHeaders == routedHeaders, "\(path) \(headers)")
                    #expect(try Self.comparable(fast) == Self.comparable(routed), "\(path) \(headers)")
                    compared += 1
                }
            }
            #expect(compared == Self.paths.count * variants.count)
        }
    }

    @Test func otherRequests_goToTheRouter() async throws {
        let metrics = APIMetrics()
        try await Self.makeLiveAPI(corsOrigins: ["*"], metrics: metrics).test(.live) { client in
            let head = try await client.execute(uri: "/api/leaderboard", method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            let limited = try await client.execute(uri: "/api/trades?limit=1", method: .get)
            #expect(limited.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: limited.body)) as? [String: Any]
            )
            #expect((object["trades"] as? [Any])?.count == 1)
            #expect(try await client.execute(uri: "/api/nope", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/analytics/bad%20id", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/health", method: .get).status == .ok)
            #expect(Self.fastPathAnswers(metrics) == 0)
            // After all of that on the same connection, a plain GET is still answered fast, and in order.
            let plain = try await client.execute(uri: "/api/leaderboard", method: .get)
            #expect(plain.status == .ok)
            #expect(Self.fastPathAnswers(metrics) == 1)
            // A request with a body (this client sends a bodiless POST chunked) hands the connection to the codec.
            let post = try await client.execute(uri: "/api/leaderboard", method: .post)
            #expect(post.status == .methodNotAllowed)
            #expect(try await client.execute(uri: "/api/leaderboard", method: .get).status == .ok)
            #expect(Self.fastPathAnswers(metrics) == 1)
        }
    }

    @Test func noGeneration_isTheRoutersAnswer() async throws {
        let empty = try TestPaths.makeScratch("api-fast")
        var settings = ControlAPISettings.defaults
        settings.dataPath = empty.path
        settings.port = 0
        var logger = Logger(label: "control-api-test")
        logger.logLevel = .critical
        let metrics = APIMetrics()
        try await ControlAPIServer.makeApplication(settings: settings, logger: logger, metrics: metrics).test(.live) {
            client in
            let response = try await client.execute(uri: "/api/leaderboard", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] != nil)
            #expect(Self.fastPathAnswers(metrics) == 0)
        }
    }

    @Test(arguments: [
        ("gzip", true), ("GZIP", true), ("deflate, gzip;q=0.5", true), ("gzip;q=0", false),
        ("gzip; q=0.000", false), ("*", true), ("*;q=0", false), ("identity", false), ("", false),
        ("br, *;q=0.1", true), ("  gzip  ", true), ("gzip;q=0, *", false), ("x-gzip", false), (",,gzip", true),
        ("deflate", false), ("gzip;Q=0.0", false),
    ])
    func acceptEncoding_isReadAsBefore(header: String, accepted: Bool) {
        #expect(APIResponder.acceptsGzip(header) == accepted, "\(header)")
    }

    /// Answers that do not depend on the client are built once per millisecond and encoding and shared; those
    /// that do (an allowed or refused `Origin` under a CORS list, `If-None-Match`) are built for the request.
    @Test func answersOfAMillisecond_areShared_unlessTheyDependOnTheClient() throws {
        let store = GenerationStore(
            reader: SnapshotReader(root: TestPaths.capture.path),
            metrics: APIMetrics(),
            corsAllowsAny: false
        )
        store.refresh(logger: Logger(label: "test"))
        let clock = Mutex<Int64>(1_796_000_000_000)
        let responder = APIResponder(
            store: store,
            cors: CORSPolicy(origins: ["https://dash.example"]),
            metrics: APIMetrics(),
            clock: { clock.withLock { $0 } }
        )
        func answer(_ request: APIResponder.DocumentRequest = .init()) throws -> APIResponder.WireAnswer {
            try #require(responder.preparedAnswer(path: "/api/leaderboard", request: request))
        }
        func storage(_ answer: APIResponder.WireAnswer) -> UnsafeRawPointer? {
            answer.bytes.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
        }
        let first = try answer()
        #expect(storage(try answer()) == storage(first))
        #expect(
            storage(try answer(.init(acceptEncoding: "gzip"))) == storage(try answer(.init(acceptEncoding: "br, gzip")))
        )
        #expect(storage(try answer(.init(acceptEncoding: "gzip"))) != storage(first))
        let allowed = try answer(.init(origin: "https://dash.example"))
        #expect(storage(allowed) != storage(first))
        #expect(String(buffer: allowed.bytes).contains("Access-Control-Allow-Origin: https://dash.example\r\n"))
        #expect(!String(buffer: first.bytes).contains("Access-Control-Allow-Origin"))
        #expect(
            String(buffer: try answer(.init(ifNoneMatch: "\"\(store.generation!.id)\"")).bytes).hasPrefix(
                "HTTP/1.1 304"
            )
        )
        // The next millisecond has answers of its own, with its serverTime.
        clock.withLock { $0 += 1 }
        let next = try answer()
        #expect(storage(next) != storage(first))
        #expect(String(buffer: next.bytes).contains("\"serverTime\":1796000000001,"))
        #expect(String(buffer: first.bytes).contains("\"serverTime\":1796000000000,"))
    }

    static func parse(_ text: String) -> RequestHead.Parsed {
        RequestHead.parse(Array(text.utf8))
    }

    @Test func aPlainGet_isReadWithTheHeadersItsAnswerReads() throws {
        let text =
            "GET /api/leaderboard HTTP/1.1\r\nHost: a\r\naccept-encoding: gzip, br\r\nORIGIN:  https://x.example \r\n"
            + "If-None-Match:\t\"e1\"\r\nConnection: Keep-Alive\r\nUser-Agent: wrk\r\n\r\n"
        var expected = RequestHead(isDocumentGet: true, path: "/api/leaderboard")
        expected.document = .init(acceptEncoding: "gzip, br", origin: "https://x.example", ifNoneMatch: "\"e1\"")
        let length = text.utf8.count
        #expect(Self.parse(text) == .request(expected, length: length))
        // The next request's bytes behind it are not part of it.
        #expect(Self.parse(text + "GET /api/trades HTTP/1.1\r\n") == .request(expected, length: length))
        // Cut anywhere before its blank line, it waits for the rest.
        let bytes = Array(text.utf8)
        for cut in 0..<length {
            #expect(RequestHead.parse(Array(bytes[..<cut])) == .incomplete, "cut at \(cut)")
        }
    }

    @Test(arguments: [
        "HEAD /api/leaderboard HTTP/1.1\r\n\r\n", "GET /api/trades?limit=1 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n",
        "GET /api/analytics/bad%20id HTTP/1.1\r\n\r\n", "DELETE /api/leaderboard HTTP/1.1\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "POST /api/leaderboard HTTP/1.1\r\ncontent-length:0\r\n\r\n",
    ])
    func otherSimpleRequests_areForTheRouter_oneByOne(text: String) {
        guard case .request(let head, let length) = Self.parse(text) else {
            Issue.record("\(text.debugDescription) was not read as a simple request")
            return
        }
        #expect(!head.isDocumentGet)
        #expect(length == text.utf8.count)
    }

    @Test(arguments: [
        "GET /api/leaderboard HTTP/1.0\r\n\r\n", "GET /api/leaderboard HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "GET /api/leaderboard HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        "POST /api/leaderboard HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\nHost: a\n\n", "GET /api/leaderboard HTTP/1.1\r\nHost: a\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nNoColon\r\n\r\n", "GET /api/leaderboard HTTP/1.1\r\nX: caf\u{E9}\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nAccept-Encoding: gzip\r\naccept-encoding: br\r\n\r\n",
        "GET /api/leaderboard HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\n\r\n",
        "GET  /api/leaderboard HTTP/1.1\r\n\r\n", "GET /api/leaderboard  HTTP/1.1\r\n\r\n",
        "GET /api/leaderboard\r\n\r\n", "\r\nGET /api/leaderboard HTTP/1.1\r\n\r\n", "GET /api/a\rb HTTP/1.1\r\n\r\n",
    ])
    func anythingElse_isTheCodecs(text: String) {
        #expect(Self.parse(text) == .other, "\(text.debugDescription)")
    }

    @Test func tooManyHeaders_areTheCodecs() {
        let headers = (0...RequestHead.maxHeaderCount).map { "X-\($0): v\r\n" }.joined()
        #expect(Self.parse("GET /api/leaderboard HTTP/1.1\r\n\(headers)\r\n") == .other)
        let fewer = (1...RequestHead.maxHeaderCount).map { "X-\($0): v\r\n" }.joined()
        #expect(Self.parse("GET /api/leaderboard HTTP/1.1\r\n\(fewer)\r\n") != .other)
    }

    @Test func httpDate_isIMFFixdate() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_181_688) == "Wed, 02 Dec 2026 03:21:28 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
