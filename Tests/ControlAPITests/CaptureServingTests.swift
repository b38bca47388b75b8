import ArenaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import ControlAPI
@testable import Shared

@Suite("control-api serving the nof1 capture")
struct CaptureServingTests {
    static let routes: [(route: String, file: String)] = [
        ("/api/crypto-prices", "crypto-prices.json"),
        ("/api/account-totals", "account-totals.json"),
        ("/api/trades", "trades.json"),
        ("/api/positions", "positions.json"),
        ("/api/analytics", "analytics.json"),
        ("/api/leaderboard", "leaderboard.json"),
        ("/api/since-inception-values", "since-inception-values.json"),
        ("/api/conversations", "conversations.json"),
        ("/api/analytics/gpt-5", "analytics-gpt-5.json"),
        ("/api/analytics/claude-sonnet-4-5", "analytics-claude-sonnet-4-5.json"),
        ("/api/analytics/deepseek-chat-v3.1", "analytics-deepseek-chat-v3.1.json"),
        ("/api/analytics/qwen3-max", "analytics-qwen3-max.json"),
    ]

    @Test(arguments: routes.map(\.route))
    func route_servesTheCapturedFilePlusServerTime(route: String) async throws {
        let file = try #require(Self.routes.first { $0.route == route }?.file)
        let captured = try Data(contentsOf: TestPaths.capture.appendingPathComponent(file))
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            try await client.execute(uri: route, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = Data(buffer: response.body)
                let difference = try JSONComparison.difference(captured, body, ignoring: ["serverTime"])
                #expect(difference == nil, "\(route): \(difference ?? "")")
                let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                let serverTime = try #require(object["serverTime"] as? NSNumber).int64Value
                #expect(serverTime >= before && serverTime <= Int64(Date().timeIntervalSince1970 * 1000) + 1)
            }
        }
    }

    @Test func gzip_isAValidMemberWithTheSameBytesAsIdentity() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            for route in ["/api/trades", "/api/analytics", "/api/conversations"] {
                let gz = try await client.execute(
                    uri: route,
                    method: .get,
                    headers: [.acceptEncoding: "gzip, deflate, br"]
                )
                #expect(gz.headers[.contentEncoding] == "gzip")
                #expect(gz.headers[.vary] == "Accept-Encoding")
                let inflated = try gunzip(Array(buffer: gz.body))
                let plain = try await client.execute(uri: route, method: .get)
                #expect(plain.headers[.contentEncoding] == nil)
                let captured = try Data(
                    contentsOf: TestPaths.capture.appendingPathComponent(
                        route == "/api/trades"
                            ? "trades.json" : route == "/api/analytics" ? "analytics.json" : "conversations.json"
                    )
                )
                #expect(try JSONComparison.difference(captured, Data(inflated), ignoring: ["serverTime"]) == nil)
                #expect(gz.body.readableBytes < plain.body.readableBytes / 2)
            }
            // q=0 refuses gzip.
            let refused = try await client.execute(
                uri: "/api/trades",
                method: .get,
                headers: [.acceptEncoding: "gzip;q=0"]
            )
            #expect(refused.headers[.contentEncoding] == nil)
        }
    }

    @Test func etag_isTheGeneration_andIfNoneMatchGives304() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let first = try await client.execute(uri: "/api/leaderboard", method: .get)
            let etag = try #require(first.headers[.eTag])
            let generation = try #require(SnapshotReader(root: TestPaths.capture.path).resolve())
            #expect(etag == "\"\(generation.id)\"")
            let cached = try await client.execute(uri: "/api/leaderboard", method: .get, headers: [.ifNoneMatch: etag])
            #expect(cached.status == .notModified)
            #expect(cached.body.readableBytes == 0)
            let stale = try await client.execute(
                uri: "/api/leaderboard",
                method: .get,
                headers: [.ifNoneMatch: "\"g0\""]
            )
            #expect(stale.status == .ok)
        }
    }

    @Test func cacheControl_isShortForPricesAndLongerForAnalytics() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let prices = try await client.execute(uri: "/api/crypto-prices", method: .get)
            let analytics = try await client.execute(uri: "/api/analytics", method: .get)
            #expect(prices.headers[.cacheControl] == "public, max-age=5")
            #expect(analytics.headers[.cacheControl] == "public, max-age=120")
        }
    }

    @Test func head_returnsHeadersWithoutBody() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/trades", method: .head)
            #expect(response.status == .ok)
            #expect(response.body.readableBytes == 0)
            #expect(response.headers[.eTag] != nil)
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete, .patch, .options])
    func otherMethods_get405(method: HTTPRequest.Method) async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/leaderboard", method: method)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, HEAD")
        }
    }

    @Test func accountTotals_lastHourlyMarker_returnsOnlyNewerRows() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/account-totals?lastHourlyMarker=197", method: .get)
            #expect(response.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            )
            let rows = try #require(object["accountTotals"] as? [[String: Any]])
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { ($0["since_inception_hourly_marker"] as? Int ?? 0) > 197 })
            #expect(object["lastHourlyMarkerRead"] as? Int == 198)
            #expect(object["serverTime"] != nil)

            let bad = try await client.execute(uri: "/api/account-totals?lastHourlyMarker=abc", method: .get)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func limit_isHonouredOnTradesAndPositions() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let trades = try await client.execute(uri: "/api/trades?limit=3", method: .get)
            let tradesObject = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: trades.body)) as? [String: Any]
            )
            #expect((tradesObject["trades"] as? [Any])?.count == 3)
            let positions = try await client.execute(uri: "/api/positions?limit=2", method: .get)
            let positionsObject = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: positions.body)) as? [String: Any]
            )
            #expect((positionsObject["accountTotals"] as? [Any])?.count == 2)
            for bad in ["/api/trades?limit=0", "/api/trades?limit=-1", "/api/positions?limit=x"] {
                let response = try await client.execute(uri: bad, method: .get)
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func unknownModel_getsEmptyAnalytics() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/analytics/no-such-model", method: .get)
            #expect(response.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            )
            #expect((object["analytics"] as? [Any])?.isEmpty == true)
            #expect(object["serverTime"] != nil)
        }
    }

    @Test func rebalances_areAnEmptyList_withoutTheFile_andTheFileWhenTheGenerationHasOne() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/rebalances", method: .get)
            #expect(response.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            )
            #expect((object["rebalances"] as? [Any])?.isEmpty == true)
            #expect(object["serverTime"] != nil)
        }
        // A copy of the capture with the engine's rebalances.json beside it.
        let scratch = try TestPaths.makeScratch("rebalances")
        for name in try FileManager.default.contentsOfDirectory(atPath: TestPaths.capture.path) {
            try FileManager.default.copyItem(
                at: TestPaths.capture.appendingPathComponent(name),
                to: scratch.appendingPathComponent(name)
            )
        }
        let document = RebalancesDocument(rebalances: [
            .init(
                id: 1,
                timestamp: 1_752_638_400_000,
                poolUSD: 6000,
                moves: [
                    .init(
                        modelID: "gpt-5",
                        equityBefore: 3000,
                        amountUSD: -39.13,
                        targetPct: 29.4,
                        score: 0.48,
                        sharpe: -2,
                        drawdownPct: 1.1,
                        utilisationPct: 54.2,
                        marginUsed: 1619.77
                    )
                ],
                skipped: [
                    .init(modelID: "qwen3-max", reason: "live venue: its capital is what the venue account holds")
                ]
            )
        ])
        try SnapshotCoding.makeEncoder().encode(document).write(to: scratch.appendingPathComponent("rebalances.json"))
        try await makeAPI(dataPath: scratch.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/rebalances", method: .get)
            #expect(response.status == .ok)
            let served = try JSONDecoder().decode(RebalancesDocument.self, from: Data(buffer: response.body))
            #expect(served == document)
        }
    }

    @Test(arguments: [
        "/api/analytics/..", "/api/analytics/../../etc/passwd", "/api/analytics/a%2F..%2Fb", "/api/analytics/bad%20id",
        "/api/analytics/" + String(repeating: "a", count: 129), "/api/analytics/", "/api/analytics/x;y",
    ])
    func malformedModelID_gets400(uri: String) async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .badRequest)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            )
            #expect(object["error"] != nil)
        }
    }

    @Test func unknownRoute_gets404WithJSONError() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/nope", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    @Test func cors_allowsAnyByDefault_andOnlyListedOriginsOtherwise() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/leaderboard",
                method: .get,
                headers: [.origin: "https://x.example"]
            )
            #expect(response.headers[.accessControlAllowOrigin] == "*")
        }
        try await makeAPI(dataPath: TestPaths.capture.path, corsOrigins: ["https://dash.example"]).test(.router) {
            client in
            let allowed = try await client.execute(
                uri: "/api/leaderboard",
                method: .get,
                headers: [.origin: "https://dash.example"]
            )
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://dash.example")
            let other = try await client.execute(
                uri: "/api/leaderboard",
                method: .get,
                headers: [.origin: "https://evil.example"]
            )
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            // With a list of origins every answer depends on Origin, whatever it was: a shared cache must know.
            let none = try await client.execute(uri: "/api/leaderboard", method: .get)
            let notModified = try await client.execute(
                uri: "/api/leaderboard",
                method: .get,
                headers: [.ifNoneMatch: allowed.headers[.eTag] ?? ""]
            )
            let health = try await client.execute(uri: "/api/health", method: .get)
            for response in [allowed, other, none, notModified, health] {
                #expect(response.headers[values: .vary].contains("Origin"), "\(response.headers)")
            }
            #expect(notModified.status == .notModified)
        }
    }

    /// `?lastHourlyMarker=` values that select the same rows share one cache entry: a scan of markers cannot grow
    /// the cache past the number of distinct markers, and the answers stay exact.
    @Test func accountTotals_markersSelectingTheSameRows_shareOneCacheEntry() async throws {
        let reader = SnapshotReader(root: TestPaths.capture.path)
        let generation = try LoadedGeneration.load(try #require(reader.resolve()))
        let markers = generation.hourlyMarkers
        let newest = try #require(markers.last)
        #expect(generation.normalisedMarker(newest + 5_000) == newest)
        #expect(generation.normalisedMarker(Int(Int32.max)) == newest)
        #expect(generation.normalisedMarker(-1) == markers[0] - 1 || markers[0] == 0)
        let store = GenerationStore(reader: reader, metrics: APIMetrics())
        store.refresh(logger: Logger(label: "test"))
        let responder = APIResponder(store: store, cors: CORSPolicy(origins: ["*"]), metrics: APIMetrics())
        try await Application(responder: responder).test(.router) { client in
            var bodies: Set<String> = []
            for marker in [newest, newest + 1, newest + 77, 2_000_000_000, Int(Int32.max)] {
                let response = try await client.execute(
                    uri: "/api/account-totals?lastHourlyMarker=\(marker)",
                    method: .get
                )
                #expect(response.status == .ok)
                var object = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                )
                object["serverTime"] = nil
                #expect((object["accountTotals"] as? [Any])?.isEmpty == true)
                bodies.insert(String(describing: object.sorted { $0.key < $1.key }))
            }
            #expect(bodies.count == 1)
        }
        #expect(store.generation?.queryCache.count == 1)
    }

    @Test func health_reportsTheGeneration_andMetricsCountRequests() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            _ = try await client.execute(uri: "/api/leaderboard", method: .get)
            _ = try await client.execute(uri: "/api/leaderboard", method: .get)
            let health = try await client.execute(uri: "/api/health", method: .get)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: health.body)) as? [String: Any]
            )
            #expect(object["status"] as? String == "ok")
            #expect((object["generation"] as? String)?.hasPrefix("f") == true)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"control_api_requests_total{route="leaderboard"} 2"#))
        }
    }

    @Test func openAPI_describesEveryRoute() async throws {
        try await makeAPI(dataPath: TestPaths.capture.path).test(.router) { client in
            let response = try await client.execute(uri: "/api/openapi.json", method: .get)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            )
            #expect((object["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = try #require(object["paths"] as? [String: Any])
            for document in SnapshotDocument.allCases {
                #expect(paths["/api/\(document.rawValue)"] != nil, "\(document)")
            }
            for extra in [
                "/api/analytics/{modelId}", "/api/rebalances", "/api/prompt-versions", "/api/health",
                "/api/openapi.json", "/metrics",
            ] {
                #expect(paths[extra] != nil, "\(extra)")
            }
        }
    }
}
