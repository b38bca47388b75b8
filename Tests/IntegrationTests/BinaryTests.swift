import ArenaTestSupport
import Foundation
import Shared
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The two binaries as an operator runs them: bad configuration gives one clear line and exit 1; a good one
/// publishes a snapshot that the control-api serves over real HTTP.
@Suite("engine and control-api binaries", .serialized)
struct BinaryTests {
    /// A scratch copy of the shipped etc/ whose runtime paths point into the scratch directory.
    static func scratchConfig() throws -> URL {
        let root = try TestPaths.makeScratch("binaries")
        for folder in ["etc", "prompts", "schemas"] {
            try FileManager.default.copyItem(
                at: TestPaths.packageRoot.appendingPathComponent(folder),
                to: root.appendingPathComponent(folder)
            )
        }
        // The bundled candles are read-only: link them rather than copy 5 MB per test.
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("data"),
            withDestinationURL: TestPaths.packageRoot.appendingPathComponent("data")
        )
        return root
    }

    /// `engine run` on the configuration under `root`, started; its stdout and stderr go to the files given
    /// (created empty), or nowhere.
    static func startEngine(
        _ root: URL,
        environment: [String: String],
        stdout: URL? = nil,
        stderr: URL? = nil
    ) throws -> Process {
        let engine = try ProcessRunner.makeProcess(
            "engine",
            ["run", "--config", "etc/arena.yaml"],
            environment: environment,
            directory: root
        )
        func output(_ file: URL?) throws -> FileHandle {
            guard let file else { return FileHandle.nullDevice }
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            return try FileHandle(forWritingTo: file)
        }
        if let stdout { engine.standardOutput = try output(stdout) }
        engine.standardError = try output(stderr)
        try engine.run()
        return engine
    }

    func assertNoCrashOutput(_ text: String) {
        for marker in ["Fatal error", "Stack dump", "backtrace", "Current stack trace", "Segmentation fault"] {
            #expect(!text.contains(marker), "crash output: \(text)")
        }
    }

    @Test func check_onTheShippedConfig_printsASummary_andExits0() throws {
        let result = try ProcessRunner.run("engine", ["check", "--config", "etc/arena.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("OK: 4 traders (2 enabled)"))
        #expect(result.stdout.contains("baseline-hold"))
        // One warning per trader disabled for a missing key: the DeepSeek trader and the consensus trader.
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") }.count == 2)
        #expect(result.stderr.contains("DEEPSEEK_API_KEY is not set"))
        #expect(result.stderr.contains("trader 'consensus-duo' is disabled"))
    }

    @Test func check_neverPrintsSecrets() throws {
        let result = try ProcessRunner.run(
            "engine",
            ["check", "--config", "etc/arena.yaml"],
            environment: [
                "DEEPSEEK_API_KEY": "sk-live-abcdef123456",
                "HYPERLIQUID_PRIVATE_KEY": "0x" + String(repeating: "5e", count: 32),
            ]
        )
        #expect(result.status == 0)
        #expect(result.stdout.contains("llm.deepseek.api_key <redacted>"))
        #expect(!(result.stdout + result.stderr).contains("sk-live-abcdef123456"))
        #expect(!(result.stdout + result.stderr).contains(String(repeating: "5e", count: 32)))
    }

    struct BadInput: Sendable, CustomStringConvertible {
        let name: String
        let file: String
        let find: String
        let replace: String
        let expected: String
        var description: String { name }
    }

    static let badInputs: [BadInput] = [
        .init(
            name: "yaml syntax error",
            file: "llm.yaml",
            find: "models:\n",
            replace: "models:\n  x: [\n",
            expected: "llm.yaml: YAML syntax error at line"
        ),
        .init(
            name: "misspelled key",
            file: "manager.yaml",
            find: "reserve_equity_pct:",
            replace: "reserve_equty_pct:",
            expected: "manager.yaml: manager.reserve_equty_pct: unknown key (did you mean 'reserve_equity_pct'?)"
        ),
        .init(
            name: "wrong type",
            file: "manager.yaml",
            find: "total_equity_usd: 10000",
            replace: "total_equity_usd: lots",
            expected: "manager.yaml: manager.total_equity_usd: expected a number, got \"lots\""
        ),
        .init(
            name: "unset variable",
            file: "arena.yaml",
            find: "${ARENA_API_PORT:-8080}",
            replace: "${ARENA_TEST_UNSET_PORT}",
            expected: "arena.yaml: api.port: environment variable ARENA_TEST_UNSET_PORT is not set"
        ),
    ]

    @Test(arguments: badInputs)
    func check_onBadInput_printsOneClearLine_andExits1(input: BadInput) throws {
        let root = try Self.scratchConfig()
        let path = root.appendingPathComponent("etc/\(input.file)")
        let text = try String(contentsOf: path, encoding: .utf8)
        #expect(text.contains(input.find))
        try text.replacingOccurrences(of: input.find, with: input.replace).write(
            to: path,
            atomically: true,
            encoding: .utf8
        )
        let result = try ProcessRunner.run("engine", ["check", "--config", "etc/arena.yaml"], directory: root)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
        // One line naming the problem, then the closing count.
        #expect(lines.count == 2, "\(result.stderr)")
        #expect(lines.first?.contains(input.expected) == true, "\(result.stderr)")
        #expect(lines.last?.contains("configuration refused (1 problem)") == true)
        assertNoCrashOutput(result.stdout + result.stderr)
    }

    @Test func check_onAMissingFile_andATemplateWithoutVersion_exits1() throws {
        let missing = try ProcessRunner.run("engine", ["check", "--config", "etc/does-not-exist.yaml"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("etc/does-not-exist.yaml: file not found\n"))
        assertNoCrashOutput(missing.stderr)

        let root = try Self.scratchConfig()
        let template = root.appendingPathComponent("prompts/system/alpha_arena.mustache")
        let text = try String(contentsOf: template, encoding: .utf8)
        try String(text.drop(while: { $0 != "\n" }).dropFirst()).write(to: template, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run("engine", ["check", "--config", "etc/arena.yaml"], directory: root)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "executor.yaml: templates.alpha-arena-system.path: template prompts/system/alpha_arena.mustache does not start with a 'Version:' header line"
            )
        )
        assertNoCrashOutput(result.stderr)
    }

    @Test func controlAPI_withABadConfig_exits1WithOneLine() throws {
        let result = try ProcessRunner.run("control-api", ["--config", "etc/nope.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr == "control-api: etc/nope.yaml: file not found\n")
    }

    @Test func engineRun_publishes_andControlAPIServesItOverHTTP() async throws {
        let root = try Self.scratchConfig()
        // `engine status` before anything ran: it says so, and lists the traders.
        let before = try ProcessRunner.run("engine", ["status", "--config", "etc/arena.yaml"], directory: root)
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout.hasPrefix("no snapshot published yet in mcp-data"))
        #expect(before.stdout.contains("deepseek-momentum  disabled"))
        let run = try ProcessRunner.run("engine", ["run", "--once", "--config", "etc/arena.yaml"], directory: root)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("mcp-data/current").path))
        // And after one tick: one line per trader with its status, positions, cycle, outcome and model.
        let status = try ProcessRunner.run("engine", ["status", "--config", "etc/arena.yaml"], directory: root)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.hasPrefix("generation g1 in mcp-data, published"))
        let hold = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("baseline-hold ") })
        #expect(hold.contains("active") && hold.contains("1 (BTC)") && hold.contains("#1 "))
        #expect(hold.contains("completed") && hold.contains("buy-and-hold"))

        let port = try ProcessRunner.freePort()
        let api = try ProcessRunner.makeProcess(
            "control-api",
            ["--config", "etc/arena.yaml", "--port", String(port), "--log-level", "error"],
            directory: root
        )
        try api.run()
        let body = try await fetch("http://127.0.0.1:\(port)/api/leaderboard", server: api)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(object["serverTime"] != nil)
        let rows = try #require(object["leaderboard"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == ["baseline-hold", "baseline-ema"])
        // One cycle has run: each baseline trader opened positions, paying fees, so equity moved a little.
        #expect(rows.allSatisfy { abs(($0["equity"] as? Double ?? 0) - 3000) < 30 })
        let positions = try await fetch("http://127.0.0.1:\(port)/api/positions")
        let positionsObject = try #require(try JSONSerialization.jsonObject(with: positions) as? [String: Any])
        let entries = try #require(positionsObject["accountTotals"] as? [[String: Any]])
        #expect(entries.contains { (($0["positions"] as? [String: Any])?.isEmpty == false) })
        for document in [
            "crypto-prices", "account-totals", "trades", "positions", "analytics", "since-inception-values",
            "conversations",
        ] {
            let data = try await fetch("http://127.0.0.1:\(port)/api/\(document)")
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(json?["serverTime"] != nil, "\(document)")
        }
        api.terminate()
        api.waitUntilExit()
        #expect(api.terminationReason == .exit)
        #expect(api.terminationStatus == 0)
    }

    @Test func engineRun_servesMetricsAndHealth_andStopsCleanlyOnSIGTERM() async throws {
        let root = try Self.scratchConfig()
        let metricsPort = try ProcessRunner.freePort()
        let engine = try Self.startEngine(root, environment: ["ARENA_METRICS_PORT": String(metricsPort)])
        let current = root.appendingPathComponent("mcp-data/current").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: current) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: current))
        let health = try await fetch("http://127.0.0.1:\(metricsPort)/healthz")
        #expect(String(decoding: health, as: UTF8.self).contains(#""status":"ok""#))
        // The journal is flushed every fsync_interval (200 ms): wait for its first batch.
        var metrics = ""
        for _ in 0..<100 {
            metrics = String(decoding: try await fetch("http://127.0.0.1:\(metricsPort)/metrics"), as: UTF8.self)
            if metrics.contains("engine_journal_lag_seconds_bucket") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains(#"engine_llm_requests_total{model="buy-and-hold",outcome="ok"}"#), "\(metrics)")
        // An operator's pause reaches the running engine within a tick, shows on /metrics and in `engine status`.
        let pause = try ProcessRunner.run(
            "engine",
            ["pause", "baseline-ema", "--config", "etc/arena.yaml", "--wait", "20"],
            directory: root
        )
        #expect(pause.status == 0, "\(pause.stderr)")
        #expect(pause.stdout == "pause baseline-ema: paused\n")
        for _ in 0..<100 {
            metrics = String(decoding: try await fetch("http://127.0.0.1:\(metricsPort)/metrics"), as: UTF8.self)
            if metrics.contains(#"engine_trader_paused{trader="baseline-ema"} 1"#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains(#"engine_trader_paused{trader="baseline-ema"} 1"#))
        let resume = try ProcessRunner.run(
            "engine",
            ["resume", "baseline-ema", "--config", "etc/arena.yaml", "--wait", "20"],
            directory: root
        )
        #expect(resume.stdout == "resume baseline-ema: resumed\n", "\(resume.stderr)")
        for _ in 0..<100 {
            metrics = String(decoding: try await fetch("http://127.0.0.1:\(metricsPort)/metrics"), as: UTF8.self)
            if metrics.contains(#"engine_trader_paused{trader="baseline-ema"} 0"#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains(#"engine_trader_paused{trader="baseline-ema"} 0"#))
        let operatorJournal = try String(
            contentsOf: root.appendingPathComponent("journal/operator.jsonl"),
            encoding: .utf8
        )
        #expect(operatorJournal.split(separator: "\n").count == 2)
        for name in [
            "engine_decision_seconds_bucket", #"engine_cycles_total{outcome="completed",reason="none"}"#,
            #"engine_trader_equity_usd{trader="baseline-hold"}"#,
            #"engine_orders_total{venue="paper",status="filled"}"#,
            #"engine_trader_halted{trader="baseline-ema"} 0"#, #"engine_market_data_age_seconds{provider="replay"}"#,
            "engine_journal_queue_depth_records", "engine_journal_fsync_seconds_bucket",
            "engine_journal_lag_seconds_bucket",
        ] {
            #expect(metrics.contains(name), "\(name)")
        }
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationReason == .exit)
        #expect(engine.terminationStatus == 0)
    }

    @Test func backtest_runsFromTheCommandLine_andRefusesBadInputWithOneLine() throws {
        let root = try Self.scratchConfig()
        let run = try ProcessRunner.run(
            "engine",
            ["backtest", "--from", "2025-07-16T00:00:00Z", "--to", "2025-07-16T06:00:00Z", "--out", "bt", "--quiet"],
            directory: root
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("backtest 2025-07-16T00:00:00Z → 2025-07-16T06:00:00Z"))
        #expect(run.stdout.contains("baseline-ema"))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("bt/report.json").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("bt/mcp-data/current").path))

        let again = try ProcessRunner.run("engine", ["backtest", "--out", "bt", "--quiet"], directory: root)
        #expect(again.status == 1)
        #expect(again.stderr.hasSuffix("engine backtest: bt is not empty; choose another --out or pass --overwrite\n"))
        let badTime = try ProcessRunner.run("engine", ["backtest", "--from", "yesterday"], directory: root)
        #expect(badTime.status == 1)
        #expect(
            badTime.stderr
                == "engine backtest: --from: \"yesterday\" is neither an ISO 8601 time (2025-07-20T06:00:00Z) nor a date (2025-07-20)\n"
        )
        try replayReadsAFileAtATime(root: root, journal: "bt/journal", trader: "baseline-ema")

        // The report's files, and a plain date with a relative span.
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("bt/equity.csv").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("bt/equity.svg").path))
        let span = try ProcessRunner.run(
            "engine",
            ["backtest", "--to", "2025-07-17", "--last", "6h", "--out", "bt3", "--quiet"],
            directory: root
        )
        #expect(span.status == 0, "\(span.stderr)")
        #expect(span.stdout.contains("backtest 2025-07-16T18:00:00Z → 2025-07-17T00:00:00Z"))
        #expect(span.stdout.contains("profit factor"))
        let both = try ProcessRunner.run(
            "engine",
            ["backtest", "--from", "2025-07-16", "--last", "1d"],
            directory: root
        )
        #expect(both.status == 1)
        #expect(both.stderr == "engine backtest: --last and --from exclude each other\n")
        let outside = try ProcessRunner.run(
            "engine",
            ["backtest", "--from", "2030-01-01T00:00:00Z", "--out", "bt2", "--quiet"],
            directory: root
        )
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("\nengine backtest: empty range: the data covers"))
        assertNoCrashOutput(outside.stderr)
    }

    /// `engine replay` on a journal split over two files (it reads one at a time): every cycle, `--last` across the
    /// files' boundary, `--since`, and both.
    func replayReadsAFileAtATime(root: URL, journal: String, trader: String) throws {
        let directory = root.appendingPathComponent("\(journal)/\(trader)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["00000001.jsonl"])
        let first = directory.appendingPathComponent("00000001.jsonl")
        let lines = try String(contentsOf: first, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count > 40)
        let split = lines.count - 20
        try (lines[..<split].joined(separator: "\n") + "\n").write(to: first, atomically: true, encoding: .utf8)
        try (lines[split...].joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("00000002.jsonl"),
            atomically: true,
            encoding: .utf8
        )
        let starts = try lines.map { line in
            try #require(
                (JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["started_at"] as? Int64
            )
        }
        let since = starts[lines.count / 2]
        let sinceText = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(since) / 1000))
        let newer = starts.filter { $0 >= since }.count
        let cases: [([String], Int)] = [
            ([], lines.count), (["--last", "30"], 30), (["--since", sinceText], newer),
            (["--since", sinceText, "--last", "7"], 7),
        ]
        for (options, expected) in cases {
            let run = try ProcessRunner.run(
                "engine",
                ["replay", "--journal", journal, "--trader", trader] + options,
                directory: root
            )
            #expect(run.status == 0, "\(options): \(run.stdout) \(run.stderr)")
            #expect(
                run.stdout.contains("\(trader): OK: \(expected) cycles replayed, \(expected) identical"),
                "\(options): \(run.stdout)"
            )
        }
    }

    @Test func hyperliquidSign_printsWhatTheSDKWouldSend_andRefusesForeignActions() throws {
        let key = ["HYPERLIQUID_PRIVATE_KEY": "0x0123456789012345678901234567890123456789012345678901234567890123"]
        let action =
            #"{"type":"order","orders":[{"a":1,"b":false,"p":"1800.5","s":"0.1","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"}"#
        let signed = try ProcessRunner.run(
            "engine",
            ["hyperliquid", "sign", "--testnet", "--nonce", "1700000000001", "--action", action],
            environment: key
        )
        #expect(signed.status == 0, "\(signed.stderr)")
        // The first vector of the SDK's set.
        #expect(
            signed.stdout.contains("connection_id: 0xab366d0297bd4870527badb95f8e9146659f25dcf97440497d5f625672367585")
        )
        #expect(
            signed.stdout.contains(
                #"signature: {"r":"0x81f7b97b64ce14ce3371c16b4d843f6b2892912083d104ef60ef752f4dff0596","s":"0x5419bf515fe4a8ec67c376a218b6f73a99cc4c48424a25d7ffffe58ebcd14a66","v":27}"#
            )
        )
        #expect(!signed.stdout.contains("0123456789012345678901234567890123456789012345678901234567890123"))
        let refused = try ProcessRunner.run(
            "engine",
            ["hyperliquid", "sign", "--action", #"{"type":"withdraw3","amount":"1"}"#],
            environment: key
        )
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("engine hyperliquid sign: action type 'withdraw3' cannot be signed"))

        let check = try ProcessRunner.run("engine", ["check", "--config", "etc/arena.yaml"], environment: key)
        #expect(
            check.stdout.contains("exchange.hyperliquid: signer 0x14791697260e4c9a71f18484c9f997b308e59325 (testnet)")
        )
        let badKey = try ProcessRunner.run(
            "engine",
            ["check", "--config", "etc/arena.yaml"],
            environment: ["HYPERLIQUID_PRIVATE_KEY": "0xnot-a-key"]
        )
        #expect(badKey.status == 1)
        #expect(
            badKey.stderr.contains(
                "exchange.yaml: providers.hyperliquid.private_key: the private key is not 32 bytes of hex"
            )
        )
        #expect(!badKey.stderr.contains("not-a-key"))
    }

    @Test func doctor_passesAfterARun_andFailsOnAChangedRuleOrAnUnreachableService() throws {
        let root = try Self.scratchConfig()
        let run = try ProcessRunner.run("engine", ["run", "--once", "--config", "etc/arena.yaml"], directory: root)
        #expect(run.status == 0, "\(run.stderr)")
        let healthy = try ProcessRunner.run("engine", ["doctor", "--config", "etc/arena.yaml"], directory: root)
        #expect(healthy.status == 0, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("OK   replay baseline-hold: last 1 cycles replay identically"))
        #expect(healthy.stdout.contains("OK   disk:"))
        #expect(healthy.stdout.contains("OK   intents: no interrupted cycle"))
        #expect(healthy.stdout.hasSuffix("doctor: all checks passed\n"))

        // Intents a stopped engine left: reported; unreadable ones fail (the engine would not start).
        let intent = root.appendingPathComponent("journal/baseline-hold/intent.json")
        try Data(#"{"schema_version":2"#.utf8).write(to: intent)
        let torn = try ProcessRunner.run("engine", ["doctor", "--config", "etc/arena.yaml"], directory: root)
        #expect(torn.status == 1)
        #expect(
            torn.stdout.contains("FAIL intents baseline-hold: journal/baseline-hold/intent.json does not decode"),
            "\(torn.stdout)"
        )
        let record = try #require(
            try JournalDirectory(root: root.appendingPathComponent("journal").path).lines(
                trader: "baseline-hold"
            ).last
        )
        try record.write(to: intent)
        let pending = try ProcessRunner.run("engine", ["doctor", "--config", "etc/arena.yaml"], directory: root)
        #expect(pending.status == 0, "\(pending.stdout)")
        #expect(
            pending.stdout.contains("OK   intents baseline-hold: cycle 1 stopped while sending"),
            "\(pending.stdout)"
        )
        try FileManager.default.removeItem(at: intent)

        let unreachable = try ProcessRunner.run(
            "engine",
            ["doctor", "--config", "etc/arena.yaml"],
            environment: [
                "ARENA_REDIS_ADDR": "127.0.0.1:1", "ARENA_POSTGRES_DSN": "postgres://arena:s3cret-pw@127.0.0.1:1/arena",
            ],
            directory: root
        )
        #expect(unreachable.status == 1)
        #expect(unreachable.stdout.contains("FAIL redis: 127.0.0.1:1 refused the connection"))
        #expect(unreachable.stdout.contains("FAIL postgres: 127.0.0.1:1 refused the connection"))
        #expect(!(unreachable.stdout + unreachable.stderr).contains("s3cret-pw"))

        // A stricter reward:risk rule: the recorded entries would now be refused.
        let manager = root.appendingPathComponent("etc/manager.yaml")
        try String(contentsOf: manager, encoding: .utf8)
            .replacingOccurrences(of: "min_risk_reward_ratio: 1.0", with: "min_risk_reward_ratio: 9.0")
            .write(to: manager, atomically: true, encoding: .utf8)
        let changed = try ProcessRunner.run("engine", ["doctor", "--config", "etc/arena.yaml"], directory: root)
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("FAIL replay baseline-hold: 1 of 1 cycles would now differ"))
    }

    @Test func resume_leavesARequestForAKnownTrader_andRefusesAnUnknownOne() throws {
        let root = try Self.scratchConfig()
        let resumed = try ProcessRunner.run(
            "engine",
            ["resume", "baseline-ema", "--config", "etc/arena.yaml", "--wait", "0.3"],
            directory: root
        )
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // No engine runs: the request stays, with who asked, for the engine's next tick.
        #expect(resumed.stdout.contains("not picked up within 0 s (is the engine running?)"))
        let requests = root.appendingPathComponent("state/requests")
        let names = try FileManager.default.contentsOfDirectory(atPath: requests.path).filter { $0.hasSuffix(".json") }
        #expect(names.count == 1)
        let request = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: requests.appendingPathComponent(names[0])))
                as? [String: Any]
        )
        #expect(request["action"] as? String == "resume")
        #expect(request["trader"] as? String == "baseline-ema")
        #expect((request["user"] as? String)?.isEmpty == false)
        let unknown = try ProcessRunner.run(
            "engine",
            ["resume", "nobody", "--config", "etc/arena.yaml"],
            directory: root
        )
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("engine resume: unknown trader 'nobody'"))
    }

    @Test func openAPIDocument_passesTheOpenAPISpecValidator() async throws {
        let probe = try ProcessRunner.runSystem(
            "/usr/bin/env",
            ["python3", "-c", "import openapi_spec_validator; print('ok')"]
        )
        guard probe.contains("ok") else {
            print("skipped: python3 module openapi_spec_validator is not installed (scripts/test installs it)")
            return
        }
        let port = try ProcessRunner.freePort()
        let api = try ProcessRunner.makeProcess(
            "control-api",
            ["--data-path", TestPaths.capture.path, "--port", String(port), "--log-level", "error"]
        )
        try api.run()
        defer {
            api.terminate()
            api.waitUntilExit()
        }
        let document = try await fetch("http://127.0.0.1:\(port)/api/openapi.json")
        let file = try TestPaths.makeScratch("openapi").appendingPathComponent("openapi.json")
        try document.write(to: file)
        let output = try ProcessRunner.runSystem(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import json,sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')",
                file.path,
            ]
        )
        #expect(output.contains("valid"))
    }

    /// GETs a URL, retrying while the server starts (up to 30 s: the machines are shared and the test binaries
    /// are debug builds); stops early when `server` has exited.
    func fetch(_ address: String, server: Process? = nil) async throws -> Data {
        let url = try #require(URL(string: address))
        var lastError: (any Error)?
        for _ in 0..<300 {
            if let server, !server.isRunning {
                Issue.record("the server exited with status \(server.terminationStatus) before answering \(address)")
                throw URLError(.cannotConnectToHost)
            }
            do {
                let (data, response) = try await URLSession.shared.data(from: url)
                if (response as? HTTPURLResponse)?.statusCode == 200 { return data }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw lastError ?? URLError(.cannotConnectToHost)
    }
}

@Suite("Journal crash safety with a real engine process", .serialized)
struct JournalCrashTests {
    @Test func sigkillMidRun_keepsFsyncedRecords_cutsTheTornLine_andNumberingContinues() async throws {
        let root = try BinaryTests.scratchConfig()
        // Fast replay: every tick is a decision interval, so records pile up quickly.
        let environment = ["ARENA_CLOCK_SPEED": "3000", "ARENA_LOG_LEVEL": "error"]
        let engine = try BinaryTests.startEngine(root, environment: environment)
        let journal = root.appendingPathComponent("journal/baseline-hold")
        func lines() -> [Data] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: journal.path))?.sorted() ?? []
            return files.flatMap { name -> [Data] in
                guard let data = FileManager.default.contents(atPath: journal.appendingPathComponent(name).path) else {
                    return []
                }
                return data.split(separator: UInt8(ascii: "\n")).map { Data($0) }
            }
        }
        for _ in 0..<300 where lines().count < 3 {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(engine.processIdentifier, SIGKILL)
        engine.waitUntilExit()
        #expect(engine.terminationReason == .uncaughtSignal)

        let before = lines()
        #expect(before.count >= 3)
        let decoder = JSONDecoder()
        struct Stamp: Decodable { let cycle: Int }
        // Every record on disk is a whole JSON object (a torn line, if the kill made one, is the last).
        let intact = before.compactMap { try? decoder.decode(Stamp.self, from: $0) }
        #expect(intact.count >= before.count - 1)
        let lastCycle = try #require(intact.map(\.cycle).max())
        // Make sure there is a torn final line to repair, as a kill mid-write leaves.
        let newest = try #require(
            (try FileManager.default.contentsOfDirectory(atPath: journal.path)).sorted().last
        )
        let handle = try FileHandle(forWritingTo: journal.appendingPathComponent(newest))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"schema_version":1,"trader_id":"baseline-hold","cy"#.utf8))
        try handle.close()

        // Restart; the torn line is cut at start, then new cycles are appended.
        let restart = try BinaryTests.startEngine(root, environment: environment)
        for _ in 0..<300 where lines().count < intact.count + 2 {
            try await Task.sleep(for: .milliseconds(50))
        }
        restart.terminate()
        restart.waitUntilExit()
        #expect(restart.terminationStatus == 0)
        let after = lines()
        let stamps = after.map { try? decoder.decode(Stamp.self, from: $0) }
        #expect(stamps.allSatisfy { $0 != nil }, "a line that is not a whole record remains")
        let cycles = stamps.compactMap { $0?.cycle }
        #expect(Array(cycles.prefix(intact.count)) == intact.map(\.cycle))
        #expect(cycles.count > intact.count)
        // Numbering continues after the crash: no cycle number is reused.
        #expect(cycles.dropFirst(intact.count).allSatisfy { $0 > lastCycle })
        #expect(Set(cycles).count == cycles.count)
    }

    /// A journal the engine cannot write (a file-size limit: every write past it fails with EFBIG, as writes on a
    /// full disk fail with ENOSPC): the engine keeps running, no torn line is left mid-file, the held-back
    /// records stay queued and the trader runs nothing new, the saved state never counts a cycle its journal
    /// lacks, and a restart with room continues the numbering with no gap or repeat.
    @Test func aJournalThatCannotBeWritten_leavesNoTornLine_andTheStateNeverRunsAhead() async throws {
        let root = try BinaryTests.scratchConfig()
        let limitKiB = 80
        let stderr = root.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let engine = try ProcessRunner.makeProcess(
            "/bin/bash",
            [
                "-c", "ulimit -f \(limitKiB); trap '' XFSZ; exec \"$0\" run --config etc/arena.yaml",
                ProcessRunner.binary("engine").path,
            ],
            environment: ["ARENA_CLOCK_SPEED": "3000", "ARENA_LOG_LEVEL": "warning"],
            directory: root
        )
        engine.standardError = try FileHandle(forWritingTo: stderr)
        try engine.run()
        func log() -> String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
        for _ in 0..<600 where !log().contains("journal write failed") {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(log().contains("journal write failed"), "\(log())")
        try await Task.sleep(for: .seconds(2))
        #expect(engine.isRunning, "the engine stopped on a journal it could not write: \(log())")
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationReason == .exit, "killed by a signal: \(log())")

        struct Stamp: Decodable { let cycle: Int }
        struct State: Decodable {
            let traders: [String: Trader]
            struct Trader: Decodable { let cycle: Int }
        }
        let directory = JournalDirectory(root: root.appendingPathComponent("journal").path)
        func cycles(_ trader: String) throws -> [Int] {
            try directory.lines(trader: trader).map { try JSONDecoder().decode(Stamp.self, from: $0).cycle }
        }
        let state = try JSONDecoder().decode(
            State.self,
            from: Data(contentsOf: root.appendingPathComponent("state/manager.json"))
        )
        var heldBack = 0
        for trader in ["baseline-ema", "baseline-hold"] {
            for file in directory.files(trader: trader) {
                let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
                #expect(data.count <= limitKiB * 1024)
                #expect(data.last == UInt8(ascii: "\n"), "\(file.path) ends in a torn line")
            }
            let written = try cycles(trader)
            #expect(written == Array(1...max(1, written.count)), "\(trader): \(written)")
            let saved = try #require(state.traders[trader]?.cycle)
            #expect(
                saved <= written.last ?? 0,
                "\(trader): the state counts cycle \(saved), the journal ends at \(written)"
            )
            if log().contains("trader=\(trader) [ArenaRuntime] journal write failed") { heldBack += 1 }
        }
        #expect(heldBack >= 1)

        // A restart with room: the numbering continues from the journal, nothing repeated, nothing skipped.
        let before = try ["baseline-ema", "baseline-hold"].map { try cycles($0).count }
        let restart = try BinaryTests.startEngine(
            root,
            environment: ["ARENA_CLOCK_SPEED": "3000", "ARENA_LOG_LEVEL": "error"]
        )
        for _ in 0..<600 where try cycles("baseline-ema").count <= before[0] + 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        restart.terminate()
        restart.waitUntilExit()
        #expect(restart.terminationStatus == 0)
        for (index, trader) in ["baseline-ema", "baseline-hold"].enumerated() {
            let after = try cycles(trader)
            #expect(after.count > before[index] || trader == "baseline-hold")
            #expect(after == Array(1...max(1, after.count)), "\(trader): \(after)")
        }
    }

    /// Eight SIGKILLs at random moments of a fast replay, each followed by a restart: the journal ends with no torn
    /// record and no gap or repeat in any trader's numbering, no order id is in two records, every fill the
    /// journal records is in the paper ledger with the same size and price, and every order in the ledger is in
    /// the journal.
    @Test func repeatedSIGKILLs_atRandomMoments_leaveAWholeJournalThatMatchesTheLedger() async throws {
        let root = try BinaryTests.scratchConfig()
        let environment = ["ARENA_CLOCK_SPEED": "3000", "ARENA_LOG_LEVEL": "error"]
        let traders = ["baseline-ema", "baseline-hold"]
        var seed = UInt64.random(in: 1...UInt64.max)
        let firstSeed = seed
        func nextDelay() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % 900
        }
        func records(_ trader: String) -> [Data] {
            let directory = JournalDirectory(root: root.appendingPathComponent("journal").path)
            return (try? directory.lines(trader: trader)) ?? []
        }
        for round in 0..<8 {
            let engine = try BinaryTests.startEngine(root, environment: environment)
            let before = records("baseline-hold").count
            for _ in 0..<600 where records("baseline-hold").count <= before {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .milliseconds(nextDelay()))
            kill(engine.processIdentifier, SIGKILL)
            engine.waitUntilExit()
            #expect(engine.terminationReason == .uncaughtSignal, "round \(round), seed \(firstSeed)")
        }
        // A last run recovers and stops cleanly.
        let last = try BinaryTests.startEngine(root, environment: environment)
        let before = records("baseline-hold").count
        for _ in 0..<600 where records("baseline-hold").count <= before {
            try await Task.sleep(for: .milliseconds(20))
        }
        last.terminate()
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)

        struct Record: Decodable {
            let cycle: Int
            let orders: [Order]
            let results: [Result]
            struct Order: Decodable { let cloid: String }
            struct Result: Decodable {
                let cloid: String
                let status: String
                let filledSize: Double
                let averagePrice: Double
            }
        }
        var cloids: [String] = []
        var fills: [Record.Result] = []
        for trader in traders {
            let lines = records(trader)
            let decoded = lines.compactMap { try? JSONDecoder().decode(Record.self, from: $0) }
            #expect(decoded.count == lines.count, "\(trader): a record does not decode (seed \(firstSeed))")
            let cycles = decoded.map(\.cycle)
            #expect(cycles.count > 8)
            #expect(cycles == Array(1...max(1, cycles.count)), "\(trader): gap or repeat (seed \(firstSeed))")
            cloids += decoded.flatMap { $0.orders.map(\.cloid) }
            fills += decoded.flatMap { $0.results.filter { $0.status == "filled" } }
        }
        #expect(Set(cloids).count == cloids.count, "an order id in two records (seed \(firstSeed))")
        #expect(!fills.isEmpty)
        struct Ledger: Decodable {
            let results: [String: Fill]
            struct Fill: Decodable {
                let filledSize: Double
                let averagePrice: Double
            }
        }
        let ledger = try JSONDecoder().decode(
            Ledger.self,
            from: Data(contentsOf: root.appendingPathComponent("state/paper-exchange.json"))
        )
        for fill in fills {
            let booked = ledger.results[fill.cloid]
            #expect(booked?.filledSize == fill.filledSize, "\(fill.cloid) (seed \(firstSeed))")
            #expect(booked?.averagePrice == fill.averagePrice, "\(fill.cloid) (seed \(firstSeed))")
        }
        // And the other way: every order the venue booked is in a record (a kill while a cycle's orders were going
        // out is completed at the restart from the cycle's journaled intents), and no intents are left over.
        let journaled = Set(cloids)
        let unjournaled = ledger.results.keys.filter { !journaled.contains($0) }
        #expect(unjournaled.isEmpty, "orders booked without a record: \(unjournaled) (seed \(firstSeed))")
        for trader in traders {
            let intent = root.appendingPathComponent("journal/\(trader)/intent.json").path
            #expect(!FileManager.default.fileExists(atPath: intent), "\(trader) (seed \(firstSeed))")
        }
    }
}
