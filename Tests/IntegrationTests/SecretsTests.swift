import ArenaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A model that speaks the OpenAI chat-completions protocol over real HTTP on loopback (Python's http.server, so
/// this test needs no Swift server in the integration target): it answers every POST with a `hold` decision and
/// writes each request's `Authorization` header to a file, one per line, as the request arrives.
final class PythonFakeModel {
    let port: Int
    let headersFile: URL
    private let process: Process

    static let script = #"""
        import http.server, json, os, sys, time
        port, headers_file = int(sys.argv[1]), sys.argv[2]
        delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0
        release = sys.argv[4] if len(sys.argv) > 4 else ""
        def think():
            if release:
                # Until the test releases the answer (or a minute has passed).
                deadline = time.time() + 60
                while not os.path.exists(release) and time.time() < deadline:
                    time.sleep(0.05)
            time.sleep(delay)
        answer = json.dumps({
            "id": "chatcmpl-test", "object": "chat.completion", "model": "fake-model-1",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                "content": json.dumps({"decisions": [{"symbol": "BTC", "signal": "hold", "confidence": 0.5}]})}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020},
        }).encode()
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with open(headers_file, "a") as f:
                    f.write(self.headers.get("Authorization", "") + "\n")
                think()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            def do_GET(self):
                body = b'{"data":[]}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#

    /// Created to let a model made with `waitsForRelease` answer.
    let releaseFile: URL

    /// `delay`: seconds the model thinks before answering each request (after recording it); `waitsForRelease`:
    /// it answers nothing until `release()` (or a minute).
    init(directory: URL, delay: Double = 0, waitsForRelease: Bool = false) throws {
        port = try ProcessRunner.freePort()
        headersFile = directory.appendingPathComponent("model-headers.txt")
        releaseFile = directory.appendingPathComponent("model-release")
        let scriptFile = directory.appendingPathComponent("fake_model.py")
        try Self.script.write(to: scriptFile, atomically: true, encoding: .utf8)
        process = try ProcessRunner.makeProcess(
            "/usr/bin/python3",
            [scriptFile.path, String(port), headersFile.path, String(delay), waitsForRelease ? releaseFile.path : ""]
        )
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func release() {
        _ = FileManager.default.createFile(atPath: releaseFile.path, contents: Data())
    }

    var authorizations: [String] {
        ((try? String(contentsOf: headersFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// SIGKILL: the child inherits the test runner's blocked signals, so SIGTERM would stay pending.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Secrets never leave the environment", .serialized)
struct SecretsTests {
    /// Recognisable fake secrets. The private key is a valid secp256k1 scalar, so the venue's signer is built.
    static let modelKey = "sk-ARENA-SECRET-deepseek-7f3a9c"
    static let privateKeyHex = String(repeating: "7e57", count: 16)
    static let databasePassword = "pgSECRETpw91c2"
    static let redisPassword = "redisSECRETpw4d1e"

    /// Every file under `root` (following the `data` link is not needed: it holds only candles).
    func files(under root: URL) -> [(String, Data)] {
        var found: [(String, Data)] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent == "data" { enumerator?.skipDescendants() }
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                let data = FileManager.default.contents(atPath: url.path)
            else { continue }
            found.append((String(url.path.dropFirst(root.path.count)), data))
        }
        return found
    }

    @Test func aFullRun_withFakeSecrets_leavesNoTraceOfThemAnywhere() async throws {
        let root = try BinaryTests.scratchConfig()
        let model = try PythonFakeModel(directory: root.deletingLastPathComponent())
        defer { model.stop() }
        var environment = [
            "DEEPSEEK_API_KEY": Self.modelKey,
            "DEEPSEEK_BASE_URL": "http://127.0.0.1:\(model.port)/v1",
            "HYPERLIQUID_PRIVATE_KEY": "0x" + Self.privateKeyHex,
            "ARENA_LOG_LEVEL": "debug",
            "ARENA_CLOCK_SPEED": "600",
            "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
        ]
        // The database and the cache, when the test servers are there: the DSN carries a password (the test
        // server trusts loopback, so it is accepted), and Redis is given one it does not expect, so every Redis
        // call fails and its errors are part of what is scanned.
        var dsn: String?
        if postgresDSN != nil {
            let fresh = try SQL.freshDatabase()
            dsn = fresh
            environment["ARENA_POSTGRES_DSN"] = fresh.replacingOccurrences(
                of: "postgres://arena@",
                with: "postgres://arena:\(Self.databasePassword)@"
            )
        }
        if let redis = ProcessInfo.processInfo.environment["ARENA_TEST_REDIS_ADDR"] {
            environment["ARENA_REDIS_ADDR"] = redis
            environment["ARENA_REDIS_PASSWORD"] = Self.redisPassword
        }

        let check = try ProcessRunner.run("engine", ["check", "--config", "etc/arena.yaml"], environment: environment)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("OK: 4 traders (3 enabled)"), "the LLM trader is on: \(check.stdout)")

        let stdout = root.appendingPathComponent("engine.out")
        let stderr = root.appendingPathComponent("engine.err")
        let engine = try BinaryTests.startEngine(root, environment: environment, stdout: stdout, stderr: stderr)
        // Until the LLM trader has decided a few times on the fake model.
        let llmJournal = root.appendingPathComponent("journal/deepseek-momentum")
        let decided = await eventually(60) {
            journalLines(root, trader: "deepseek-momentum").count >= 3
        }
        #expect(decided, "the LLM trader's journal at \(llmJournal.path)")
        let metricsURL = "http://127.0.0.1:\(environment["ARENA_METRICS_PORT"]!)/metrics"
        let metrics = try await BinaryTests().fetch(metricsURL)
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationStatus == 0)

        // The key went where it belongs: to the model, as a bearer token.
        #expect(model.authorizations.contains("Bearer \(Self.modelKey)"))
        #expect(String(decoding: metrics, as: UTF8.self).contains("engine_llm_requests_total"))

        var haystacks: [(String, Data)] = files(under: root)
        haystacks.append(("metrics", metrics))
        haystacks.append(("check stdout", Data(check.stdout.utf8)))
        haystacks.append(("check stderr", Data(check.stderr.utf8)))
        let doctor = try ProcessRunner.run(
            "engine",
            ["doctor", "--config", "etc/arena.yaml", "--replay", "3"],
            environment: environment,
            directory: root
        )
        haystacks.append(("doctor output", Data((doctor.stdout + doctor.stderr).utf8)))
        if let dsn {
            let dump = try ProcessRunner.run("/usr/bin/pg_dump", ["--data-only", dsn])
            #expect(dump.status == 0, "\(dump.stderr)")
            #expect(dump.stdout.contains("deepseek-momentum"), "the database holds the run")
            haystacks.append(("database", Data(dump.stdout.utf8)))
        }
        #expect(haystacks.contains { $0.0.hasPrefix("/journal/") })
        #expect(haystacks.contains { $0.0.hasPrefix("/mcp-data/") })
        #expect(haystacks.contains { $0.0.hasPrefix("/state/") })
        let logText = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        #expect(logText.count > 1000, "debug logging was on")

        let secrets = [
            Self.modelKey, Self.privateKeyHex, Self.privateKeyHex.uppercased(), Self.databasePassword,
            Self.redisPassword,
        ]
        for (name, data) in haystacks {
            let text = String(decoding: data, as: UTF8.self)
            for secret in secrets {
                #expect(!text.contains(secret), "\(name) contains a secret")
            }
        }
    }
}
