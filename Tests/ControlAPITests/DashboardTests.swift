import ArenaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import ControlAPI
@testable import Shared

/// The dashboard as HTTP: served at `/` and under `/dashboard/`, read-only, with ETags, gzip and a policy that
/// keeps the page on its own origin; off with `api.dashboard: false`. (What the page shows is checked in a real
/// browser: `Tests/Browser/dashboard_test.py`, run by `scripts/test`.)
@Suite("control-api dashboard")
struct DashboardTests {
    static let paths = [
        ("/", "text/html"), ("/dashboard/app.js", "text/javascript"), ("/dashboard/app.css", "text/css"),
        ("/dashboard/icon.svg", "image/svg+xml"),
    ]

    @Test func everyAsset_isServed_withItsTypeETagAndPolicy_andRevalidates() async throws {
        let root = try TestPaths.makeScratch("dashboard")
        try await makeAPI(dataPath: root.path).test(.router) { client in
            for (path, type) in Self.paths {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                #expect(response.headers[.cacheControl] == "no-cache", "\(path)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.contentEncoding] == nil)
                let etag = try #require(response.headers[.eTag])
                #expect(response.body.readableBytes > 0)
                #expect(Int(response.headers[.contentLength] ?? "") == response.body.readableBytes)

                let again = try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified, "\(path)")
                #expect(again.body.readableBytes == 0)
                let other = try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: "\"d-0\""])
                #expect(other.status == .ok)

                let head = try await client.execute(uri: path, method: .head)
                #expect(head.status == .ok)
                #expect(head.body.readableBytes == 0)
                let post = try await client.execute(uri: path, method: .post)
                #expect(post.status == .methodNotAllowed)

                let gzip = try await client.execute(uri: path, method: .get, headers: [.acceptEncoding: "gzip"])
                if gzip.headers[.contentEncoding] == "gzip" {
                    #expect(try gunzip(Array(buffer: gzip.body)) == Array(buffer: response.body), "\(path)")
                } else {
                    // Only a body gzip would not shrink goes out as it is.
                    #expect(Array(buffer: gzip.body) == Array(buffer: response.body))
                    #expect(response.body.readableBytes < 600, "\(path)")
                }
            }
            let missing = try await client.execute(uri: "/dashboard/nothing.js", method: .get)
            #expect(missing.status == .notFound)
        }
    }

    @Test func thePage_loadsNothingFromAnotherOrigin() throws {
        let html = String(decoding: PackageResources.index_html, as: UTF8.self)
        let assets = try DashboardAssets()
        var references: [String] = []
        for attribute in ["src=\"", "href=\""] {
            var rest = html[...]
            while let start = rest.range(of: attribute) {
                let tail = rest[start.upperBound...]
                guard let end = tail.firstIndex(of: "\"") else { break }
                references.append(String(tail[..<end]))
                rest = tail[end...]
            }
        }
        #expect(references.count >= 4)
        for reference in references where !reference.hasPrefix("#") {
            // Same origin: an absolute path the server itself serves (or the API's own document).
            #expect(reference.hasPrefix("/"), "\(reference)")
            #expect(!reference.hasPrefix("//"), "\(reference)")
            #expect(assets.serves(reference) || reference.hasPrefix("/api/"), "\(reference)")
        }
        // No address of any other host in the script (the SVG namespace is a name, not a request).
        let script = String(decoding: PackageResources.app_js, as: UTF8.self)
            .replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!script.contains("http://") && !script.contains("https://"))
        #expect(!script.contains("innerHTML"), "the page inserts what the API says as text only")
    }

    @Test func dashboardOff_answers404_andTheAPIStays() async throws {
        let root = try TestPaths.makeScratch("dashboard")
        try await makeAPI(dataPath: root.path, dashboard: false).test(.router) { client in
            for (path, _) in Self.paths {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .notFound, "\(path)")
            }
            #expect(try await client.execute(uri: "/api/openapi.json", method: .get).status == .ok)
        }
    }

    @Test func health_saysWhenTheGenerationIsStale() async throws {
        let root = try TestPaths.makeScratch("dashboard")
        let publisher = SnapshotPublisher(root: root.path)
        try await makeAPI(dataPath: root.path, staleAfter: .seconds(30)).test(.router) { client in
            let none = try await client.execute(uri: "/api/health", method: .get)
            let empty = try JSONSerialization.jsonObject(with: Data(buffer: none.body)) as? [String: Any]
            #expect(empty?["stale"] as? Bool == false)
            #expect(empty?["staleAfterSeconds"] as? Double == 30)
        }
        let generation = try publisher.publish([
            SnapshotDocument.leaderboard.fileName: Data(#"{"leaderboard":[]}"#.utf8)
        ])
        try await makeAPI(dataPath: root.path, staleAfter: .seconds(30)).test(.router) { client in
            let fresh = try await client.execute(uri: "/api/health", method: .get)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: fresh.body)) as? [String: Any]
            #expect(object?["stale"] as? Bool == false)
        }
        // Published an hour ago.
        let directory = (root.path as NSString).appendingPathComponent("generations/\(generation)")
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)],
            ofItemAtPath: directory
        )
        try await makeAPI(dataPath: root.path, staleAfter: .seconds(30)).test(.router) { client in
            let old = try await client.execute(uri: "/api/health", method: .get)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: old.body)) as? [String: Any]
            #expect(object?["stale"] as? Bool == true)
            #expect((object?["snapshotAgeSeconds"] as? Double ?? 0) > 3000)
        }
    }

    /// A scratch copy of the shipped `etc/`; the path of its `arena.yaml`.
    static func shippedArenaYAML(_ name: String) throws -> String {
        let configuration = try TestPaths.makeScratch(name).appendingPathComponent("etc")
        try FileManager.default.copyItem(at: TestPaths.shipped, to: configuration)
        return configuration.appendingPathComponent("arena.yaml").path
    }

    @Test func apiDashboardSettings_areReadFromArenaYAML() throws {
        let path = try Self.shippedArenaYAML("dashboard-config")
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "dashboard: true", with: "dashboard: false")
            .replacingOccurrences(of: "stale_after: 60s", with: "stale_after: 5m")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let settings = try ControlAPISettings.resolve(
            configPath: path,
            dataPath: nil,
            host: nil,
            port: nil,
            environment: [:]
        )
        #expect(settings.dashboard == false)
        #expect(settings.staleAfter == .seconds(300))
        let defaults = try ControlAPISettings.resolve(
            configPath: TestPaths.shipped.appendingPathComponent("arena.yaml").path,
            dataPath: nil,
            host: nil,
            port: nil,
            environment: [:]
        )
        #expect(defaults.dashboard)
        #expect(defaults.staleAfter == .seconds(60))
    }

    /// `api.threads`: 0 (the shipped value) is half the cores, at least one; a number is taken as it is; a
    /// negative or absurd one is refused with the key named.
    @Test func apiThreads_areReadFromArenaYAML() throws {
        let path = try Self.shippedArenaYAML("api-threads")
        let shipped = try String(contentsOfFile: path, encoding: .utf8)
        #expect(shipped.contains("  threads: 0 "))
        func settings(_ threads: String) throws(ConfigError) -> ControlAPISettings {
            try? shipped.replacingOccurrences(of: "  threads: 0 ", with: "  threads: \(threads) ")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return try ControlAPISettings.resolve(
                configPath: path,
                dataPath: nil,
                host: nil,
                port: nil,
                environment: [:]
            )
        }
        let automatic = try settings("0")
        #expect(automatic.threads == 0)
        #expect(automatic.eventLoopThreads(cores: 2) == 1)
        #expect(automatic.eventLoopThreads(cores: 1) == 1)
        #expect(automatic.eventLoopThreads(cores: 8) == 4)
        let three = try settings("3")
        #expect(three.eventLoopThreads(cores: 2) == 3)
        for bad in ["-1", "257"] {
            #expect {
                _ = try settings(bad)
            } throws: { error in
                "\(error)".contains("threads")
            }
        }
        let group = ControlAPIServer.eventLoops(3)
        #expect(Array(group.makeIterator()).count == 3)
        #expect(ControlAPIServer.eventLoops(3) === group)
    }
}
