import ArenaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// PostgreSQL and Redis for real: the servers `scripts/test` starts (ARENA_TEST_POSTGRES_DSN, ARENA_TEST_REDIS_ADDR),
/// and servers of their own for the tests that stop one mid-run. Without the variables they are skipped.
let postgresDSN = ProcessInfo.processInfo.environment["ARENA_TEST_POSTGRES_DSN"]
let redisAvailable = ProcessInfo.processInfo.environment["ARENA_TEST_REDIS_ADDR"] != nil

/// psql against a DSN: one value per line, columns separated by `|`.
enum SQL {
    static func run(_ dsn: String, _ statement: String) throws -> String {
        let result = try ProcessRunner.run(
            "/usr/bin/psql",
            [dsn, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement]
        )
        guard result.status == 0 else { throw TestFailure("psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func count(_ dsn: String, _ table: String, where condition: String = "true") -> Int {
        (try? run(dsn, "SELECT count(*) FROM \(table) WHERE \(condition)")).flatMap { Int($0) } ?? -1
    }

    /// A new, empty database on the test server; its DSN.
    static func freshDatabase() throws -> String {
        let dsn = try #require(postgresDSN)
        let name = "arena_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try run(dsn, "CREATE DATABASE \(name)")
        guard let range = dsn.range(of: "/", options: .backwards) else { throw TestFailure("odd DSN \(dsn)") }
        let tail = dsn[range.upperBound...]
        let query = tail.firstIndex(of: "?").map { String(tail[$0...]) } ?? ""
        return String(dsn[..<range.upperBound]) + name + query
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A PostgreSQL cluster of the test's own, which it can stop and start again (same data, same port).
final class OwnPostgres {
    let directory: URL
    let port: Int
    let binaries: String
    let asPostgres: [String]

    init() throws {
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = candidates.sorted().last else { throw TestFailure("no PostgreSQL server installed") }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("arena-pg-\(UUID().uuidString)")
        port = try ProcessRunner.freePort()
        asPostgres = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try ProcessRunner.runSystem("/bin/chown", ["-R", "postgres", directory.path]) }
        try shell([
            "\(binaries)/initdb", "-D", directory.appendingPathComponent("data").path, "-U", "arena",
            "--auth=trust", "-E", "UTF8",
        ])
        try start()
        try shell(["\(binaries)/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", "arena", "arena"])
    }

    var dsn: String { "postgres://arena@127.0.0.1:\(port)/arena?sslmode=disable" }

    /// The postmaster inherits pg_ctl's stdout and stderr, so they go nowhere (a pipe would never reach EOF);
    /// the server's own log is the `-l` file, quoted on failure.
    func start() throws {
        try shell(
            detached: true,
            [
                "\(binaries)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "-l",
                directory.appendingPathComponent("log").path, "-w", "-t", "60", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
            ]
        )
    }

    /// Stops at once, as a crash would (no checkpoint).
    func kill() throws {
        try shell([
            "\(binaries)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "-m", "immediate", "stop",
        ])
    }

    func remove() {
        try? kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private func shell(detached: Bool = false, _ command: [String]) throws {
        let arguments = asPostgres + command
        if detached {
            let status = try ProcessRunner.runLeavingDaemon(arguments[0], Array(arguments.dropFirst()))
            guard status == 0 else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
                throw TestFailure("\(command[0]) exited \(status): \(log.suffix(2000))")
            }
            return
        }
        let result = try ProcessRunner.run(arguments[0], Array(arguments.dropFirst()))
        guard result.status == 0 else { throw TestFailure("\(command[0]): \(result.stderr)\(result.stdout)") }
    }
}

/// A redis-server of the test's own, in memory only.
final class OwnRedis {
    let port: Int
    private var process: Process?

    init() throws {
        port = try ProcessRunner.freePort()
        try start()
    }

    func start() throws {
        let process = try ProcessRunner.makeProcess(
            "/usr/bin/redis-server",
            ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        )
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<100 where (try? get("PING")) != "PONG" { usleep(50_000) }
    }

    /// SIGKILL, as a crash would; SIGTERM could sit pending, since the child inherits the test's blocked signals.
    func kill() {
        if let process { Glibc.kill(process.processIdentifier, SIGKILL) }
        process?.waitUntilExit()
        process = nil
    }

    func get(_ arguments: String...) throws -> String {
        try ProcessRunner.runSystem("/usr/bin/redis-cli", ["-p", String(port)] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Polls `condition` every 100 ms for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try condition()
}

/// Journal lines of a trader (all files, plain only: the runs here are too short to rotate).
func journalLines(_ root: URL, trader: String) -> [[String: Any]] {
    let directory = root.appendingPathComponent("journal/\(trader)")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.sorted() ?? []
    return files.flatMap { name -> [[String: Any]] in
        guard name.hasSuffix(".jsonl"),
            let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
        else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
    }
}

@Suite("PostgreSQL and Redis with real servers", .serialized)
struct PersistenceTests {
    @Test(.enabled(if: postgresDSN != nil, "needs ARENA_TEST_POSTGRES_DSN (scripts/test starts PostgreSQL)"))
    func migrate_fromEmpty_thenAgain_isANoOp() throws {
        let dsn = try SQL.freshDatabase()
        let environment = ["ARENA_POSTGRES_DSN": dsn]
        let first = try ProcessRunner.run(
            "engine",
            ["migrate", "--config", "etc/arena.yaml"],
            environment: environment
        )
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 1: initial schema"))
        #expect(!first.stdout.contains("arena@") || !dsn.contains(":secret@"))
        let tables = try SQL.run(dsn, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        #expect(Int(tables) ?? 0 >= 18)
        let second = try ProcessRunner.run(
            "engine",
            ["migrate", "--config", "etc/arena.yaml"],
            environment: environment
        )
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("schema is current (version 1)"))
        #expect(SQL.count(dsn, "schema_migrations") == 1)

        // No database configured, or one that is not there: one line, exit 1.
        let none = try ProcessRunner.run(
            "engine",
            ["migrate", "--config", "etc/arena.yaml"],
            environment: ["ARENA_POSTGRES_DSN": ""]
        )
        #expect(none.status == 1)
        #expect(none.stderr.contains("postgres.dsn is empty"))
        let port = try ProcessRunner.freePort()
        let down = try ProcessRunner.run(
            "engine",
            ["migrate", "--config", "etc/arena.yaml"],
            environment: ["ARENA_POSTGRES_DSN": "postgres://arena:hunter2@127.0.0.1:\(port)/x?sslmode=disable"]
        )
        #expect(down.status == 1)
        #expect(down.stderr.contains("engine migrate: postgres://arena:***@127.0.0.1:\(port)/x: connectionError"))
        #expect(down.stderr.contains("Connection refused"))
        #expect(!down.stderr.contains("hunter2"))
    }

    @Test(.enabled(if: postgresDSN != nil, "needs ARENA_TEST_POSTGRES_DSN (scripts/test starts PostgreSQL)"))
    func backtest_withTheDatabaseOn_writesRowsThatMatchTheJournalAndTheSnapshot() throws {
        let dsn = try SQL.freshDatabase()
        let root = try BinaryTests.scratchConfig()
        let run = try ProcessRunner.run(
            "engine",
            ["backtest", "--from", "2025-07-16T00:00:00Z", "--to", "2025-07-16T12:00:00Z", "--out", "bt", "--quiet"],
            environment: ["ARENA_POSTGRES_DSN": dsn],
            directory: root
        )
        #expect(run.status == 0, "\(run.stderr)")
        let out = root.appendingPathComponent("bt")
        var cycles = 0
        var orders = 0
        var fills = 0
        var fees = 0.0
        var accounts = 0
        for trader in ["baseline-ema", "baseline-hold"] {
            let records = journalLines(out, trader: trader)
            #expect(!records.isEmpty)
            #expect(SQL.count(dsn, "decision_cycles", where: "trader_id = '\(trader)'") == records.count)
            let range = try SQL.run(
                dsn,
                "SELECT min(cycle), max(cycle) FROM decision_cycles WHERE trader_id = '\(trader)'"
            )
            #expect(range == "1|\(records.count)")
            cycles += records.count
            for record in records {
                orders += (record["orders"] as? [Any])?.count ?? 0
                for result in record["results"] as? [[String: Any]] ?? [] {
                    if (result["filledSize"] as? Double ?? 0) > 0 {
                        fills += 1
                        fees += result["fee"] as? Double ?? 0
                    }
                }
                if record["account"] is [String: Any] { accounts += 1 }
            }
        }
        #expect(cycles > 100)
        #expect(orders > 0)
        #expect(SQL.count(dsn, "orders") == orders)
        #expect(SQL.count(dsn, "fills") == fills)
        let databaseFees = Double(try SQL.run(dsn, "SELECT coalesce(sum(fee), 0) FROM fills")) ?? -1
        #expect(abs(databaseFees - fees) < 1e-6)
        #expect(SQL.count(dsn, "account_snapshots", where: "source = 'journal'") == accounts)
        #expect(SQL.count(dsn, "traders") == 2)

        // The snapshot: every document stored, the trades as rows, the leaderboard's equity as exported.
        let generation = out.appendingPathComponent("mcp-data/current")
        let files = try FileManager.default.contentsOfDirectory(atPath: generation.path).filter {
            $0.hasSuffix(".json")
        }
        #expect(SQL.count(dsn, "api_documents") == files.count)
        let trades = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: generation.appendingPathComponent("trades.json")))
                as? [String: Any]
        )
        #expect(SQL.count(dsn, "trades") == (trades["trades"] as? [Any])?.count)
        let board = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: generation.appendingPathComponent("leaderboard.json"))
            )
                as? [String: Any]
        )
        for entry in board["leaderboard"] as? [[String: Any]] ?? [] {
            let id = try #require(entry["id"] as? String)
            let stored = try SQL.run(
                dsn,
                "SELECT data->>'equity' FROM performance_snapshots WHERE trader_id = '\(id)' AND kind = 'leaderboard'"
            )
            #expect(abs((Double(stored) ?? -1) - (entry["equity"] as? Double ?? -2)) < 1e-9)
        }
        // Results by prompt version: one row per trader and version, with the cycles the document counts.
        let versions = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: generation.appendingPathComponent("prompt-versions.json"))
            ) as? [String: Any]
        )
        let rows = try #require(versions["promptVersions"] as? [[String: Any]])
        #expect(!rows.isEmpty)
        #expect(SQL.count(dsn, "performance_snapshots", where: "kind LIKE 'prompt_version:%'") == rows.count)
        for row in rows {
            let id = try #require(row["model_id"] as? String)
            let key = try #require(row["key"] as? String)
            let stored = try SQL.run(
                dsn,
                "SELECT data->>'cycles' FROM performance_snapshots WHERE trader_id = '\(id)' AND kind = 'prompt_version:\(key)'"
            )
            #expect(Int(stored) == row["cycles"] as? Int)
        }
    }

    @Test(.enabled(if: postgresDSN != nil, "needs ARENA_TEST_POSTGRES_DSN (scripts/test starts PostgreSQL)"))
    func import_ofTheCapture_andOfARun_twice_givesTheSameRows_andTheSnapshotsNumbers() throws {
        let dsn = try SQL.freshDatabase()
        let environment = ["ARENA_POSTGRES_DSN": dsn]
        let capture = TestPaths.capture.path
        let first = try ProcessRunner.run(
            "engine",
            ["import", "--config", "etc/arena.yaml", "--snapshot", capture],
            environment: environment
        )
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("trades 230"))
        let again = try ProcessRunner.run(
            "engine",
            ["import", "--config", "etc/arena.yaml", "--snapshot", capture],
            environment: environment
        )
        #expect(again.status == 0, "\(again.stderr)")
        let tableCounts = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("  ") } }
        #expect(tableCounts(first.stdout) == tableCounts(again.stdout))
        #expect(!tableCounts(first.stdout).isEmpty)

        // Disaster recovery: the numbers the API serves, computed from the database, equal the capture's.
        let trades = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: TestPaths.capture.appendingPathComponent("trades.json"))
            ) as? [String: Any]
        )
        var netByModel: [String: Double] = [:]
        for trade in trades["trades"] as? [[String: Any]] ?? [] {
            netByModel[trade["model_id"] as? String ?? "", default: 0] += trade["realized_net_pnl"] as? Double ?? 0
        }
        #expect(SQL.count(dsn, "trades") == 230)
        for (model, net) in netByModel {
            let stored = try SQL.run(dsn, "SELECT sum(realized_net_pnl) FROM trades WHERE trader_id = '\(model)'")
            #expect(abs((Double(stored) ?? .nan) - net) < 1e-6, "\(model)")
        }
        let totals = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: TestPaths.capture.appendingPathComponent("account-totals.json"))
            ) as? [String: Any]
        )
        // Every row of the document is an account snapshot; the newest per model is the equity the API shows.
        let totalRows = totals["accountTotals"] as? [[String: Any]] ?? []
        let newest = Dictionary(grouping: totalRows) { $0["model_id"] as? String ?? "" }.mapValues { rows in
            rows.max { ($0["timestamp"] as? Double ?? 0) < ($1["timestamp"] as? Double ?? 0) }
        }
        #expect(newest.count > 1)
        for (model, row) in newest {
            let equity = try SQL.run(
                dsn,
                "SELECT equity FROM account_snapshots WHERE trader_id = '\(model)' ORDER BY at DESC LIMIT 1"
            )
            #expect(abs((Double(equity) ?? .nan) - (row?["dollar_equity"] as? Double ?? 0)) < 1e-9, "\(model)")
            let rows = totalRows.filter { $0["model_id"] as? String == model }.count
            #expect(SQL.count(dsn, "account_snapshots", where: "trader_id = '\(model)'") == rows, "\(model)")
        }
        let stored = try SQL.run(
            dsn,
            "SELECT body->'leaderboard'->0->>'equity' FROM api_documents WHERE name = 'leaderboard'"
        )
        let board = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: TestPaths.capture.appendingPathComponent("leaderboard.json"))
            ) as? [String: Any]
        )
        let firstEquity = ((board["leaderboard"] as? [[String: Any]])?.first?["equity"] as? Double) ?? -1
        #expect(abs((Double(stored) ?? .nan) - firstEquity) < 1e-9)

        // A run of our own: its snapshot and journal, twice.
        let root = try BinaryTests.scratchConfig()
        let backtest = try ProcessRunner.run(
            "engine",
            ["backtest", "--from", "2025-07-16T00:00:00Z", "--to", "2025-07-16T04:00:00Z", "--out", "bt", "--quiet"],
            directory: root
        )
        #expect(backtest.status == 0, "\(backtest.stderr)")
        let arguments = [
            "import", "--config", "etc/arena.yaml", "--snapshot", "bt/mcp-data", "--journal", "bt/journal",
        ]
        let runImport = try ProcessRunner.run("engine", arguments, environment: environment, directory: root)
        #expect(runImport.status == 0, "\(runImport.stderr)")
        let runAgain = try ProcessRunner.run("engine", arguments, environment: environment, directory: root)
        #expect(runAgain.status == 0, "\(runAgain.stderr)")
        #expect(tableCounts(runImport.stdout) == tableCounts(runAgain.stdout))
        let journaled = ["baseline-ema", "baseline-hold"].map {
            journalLines(root.appendingPathComponent("bt"), trader: $0).count
        }
        #expect(SQL.count(dsn, "decision_cycles") == journaled.reduce(0, +))
        #expect(runImport.stdout.contains("journal: read \(journaled.reduce(0, +)) cycles of 2 traders"))

        let missing = try ProcessRunner.run(
            "engine",
            ["import", "--config", "etc/arena.yaml", "--journal", "/nonexistent"],
            environment: environment
        )
        #expect(missing.status == 1)
        #expect(missing.stderr.hasSuffix("\nengine import: /nonexistent: no such directory\n"))
    }

    /// `engine import` decodes a long journal a run at a time on every core: every cycle lands once, in order
    /// across the runs, and a line that does not decode stops the import naming its line — the first one when
    /// there are several, as one loop over the lines would.
    @Test(.enabled(if: postgresDSN != nil, "needs ARENA_TEST_POSTGRES_DSN (scripts/test starts PostgreSQL)"))
    func import_ofALongJournal_decodedInParallel_writesEveryCycle_andNamesTheFirstBadLine() throws {
        let root = try BinaryTests.scratchConfig()
        let backtest = try ProcessRunner.run(
            "engine",
            [
                "backtest", "--from", "2025-07-16T00:00:00Z", "--to", "2025-07-16T01:00:00Z", "--trader",
                "baseline-hold", "--out", "bt", "--quiet",
            ],
            directory: root
        )
        #expect(backtest.status == 0, "\(backtest.stderr)")
        let source = root.appendingPathComponent("bt/journal/baseline-hold")
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: source.path).first { $0.hasSuffix(".jsonl") }
        )
        let sample = String(
            try #require(
                try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
                    .first
            )
        )
        // 4,500 cycles (three runs of lines) made from one record: its cycle number and id changed per line.
        let cycle = try #require(sample.firstRange(of: #/"cycle":\d+/#))
        let id = try #require(sample.firstRange(of: #/"cycle_id":"[^"]*"/#))
        func line(_ number: Int) -> String {
            var text = sample
            text.replaceSubrange(id, with: "\"cycle_id\":\"long-\(number)\"")
            text.replaceSubrange(cycle, with: "\"cycle\":\(number)")
            return text
        }
        #expect(cycle.upperBound <= id.lowerBound, "the test edits the cycle id first, then the cycle before it")
        let journal = root.appendingPathComponent("long")
        let folder = journal.appendingPathComponent("baseline-hold")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var lines = (1...4_500).map(line)
        try (lines.joined(separator: "\n") + "\n").write(
            to: folder.appendingPathComponent("00000001.jsonl"),
            atomically: true,
            encoding: .utf8
        )
        let dsn = try SQL.freshDatabase()
        let environment = ["ARENA_POSTGRES_DSN": dsn]
        let arguments = ["import", "--config", "etc/arena.yaml", "--journal", journal.path]
        let imported = try ProcessRunner.run("engine", arguments, environment: environment, directory: root)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(SQL.count(dsn, "decision_cycles", where: "trader_id = 'baseline-hold'") == 4_500)
        #expect(try SQL.run(dsn, "SELECT min(cycle) || '-' || max(cycle) FROM decision_cycles") == "1-4500")

        lines[3_999] = "{\"cycle\": 4000, torn"
        lines[2_099] = "{\"cycle\": \"two thousand one hundred\"}"
        try (lines.joined(separator: "\n") + "\n").write(
            to: folder.appendingPathComponent("00000001.jsonl"),
            atomically: true,
            encoding: .utf8
        )
        let broken = try ProcessRunner.run(
            "engine",
            arguments,
            environment: ["ARENA_POSTGRES_DSN": try SQL.freshDatabase()],
            directory: root
        )
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("journal baseline-hold record 2100 does not decode"), "\(broken.stderr)")
    }

    @Test(.enabled(if: postgresDSN != nil, "needs ARENA_TEST_POSTGRES_DSN (scripts/test starts PostgreSQL)"))
    func postgresKilledMidRun_tradingGoesOn_andAfterCatchUpNoCycleIsMissingOrDoubled() async throws {
        let server = try OwnPostgres()
        defer { server.remove() }
        let root = try BinaryTests.scratchConfig()
        let environment = [
            "ARENA_POSTGRES_DSN": server.dsn, "ARENA_CLOCK_SPEED": "1200", "ARENA_LOG_LEVEL": "error",
            "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
        ]
        let engine = try BinaryTests.startEngine(root, environment: environment)
        defer { if engine.isRunning { engine.terminate() } }
        let trader = "baseline-hold"
        #expect(await eventually(60) { SQL.count(server.dsn, "decision_cycles") >= 4 })

        try server.kill()
        let atKill = journalLines(root, trader: trader).count
        // Trading goes on without the database.
        #expect(await eventually(60) { journalLines(root, trader: trader).count >= atKill + 5 })
        try server.start()
        let atRestart = journalLines(root, trader: trader).count
        #expect(
            await eventually(60) {
                SQL.count(server.dsn, "decision_cycles", where: "trader_id = '\(trader)'") >= atRestart
            }
        )
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationStatus == 0)

        for id in ["baseline-hold", "baseline-ema"] {
            let records = journalLines(root, trader: id)
            let failed = records.filter { ($0["outcome"] as? String) != "completed" }
            #expect(failed.isEmpty, "cycles failed while the database was down: \(failed.count)")
            let stored = try SQL.run(
                server.dsn,
                "SELECT count(*), count(DISTINCT cycle), min(cycle), max(cycle) FROM decision_cycles WHERE trader_id = '\(id)'"
            )
            #expect(stored == "\(records.count)|\(records.count)|1|\(records.count)", "\(id)")
            // Orders and fills too: every one the journal holds, once.
            let orders = records.flatMap { $0["orders"] as? [[String: Any]] ?? [] }.compactMap {
                $0["cloid"] as? String
            }
            let fills = records.flatMap { $0["results"] as? [[String: Any]] ?? [] }.filter {
                ($0["filledSize"] as? Double ?? 0) > 0
            }
            #expect(SQL.count(server.dsn, "orders", where: "trader_id = '\(id)'") == orders.count, "\(id)")
            #expect(Set(orders).count == orders.count)
            #expect(SQL.count(server.dsn, "fills", where: "trader_id = '\(id)'") == fills.count, "\(id)")
        }
    }

    @Test(.enabled(if: redisAvailable, "needs ARENA_TEST_REDIS_ADDR (scripts/test starts Redis)"))
    func redisKilledMidRun_tradingGoesOn_theAPIFallsBackToFiles_andKeysReturn() async throws {
        let redis = try OwnRedis()
        defer { redis.kill() }
        let root = try BinaryTests.scratchConfig()
        let environment = [
            "ARENA_REDIS_ADDR": "127.0.0.1:\(redis.port)", "ARENA_CLOCK_SPEED": "1200", "ARENA_LOG_LEVEL": "error",
            "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
        ]
        let engine = try BinaryTests.startEngine(root, environment: environment)
        defer { if engine.isRunning { engine.terminate() } }
        #expect(
            await eventually(60) { (try? redis.get("GET", "arena:api:generation"))?.contains("generation") == true }
        )
        #expect(Double(try redis.get("GET", "arena:trader:baseline-hold:equity")) != nil)
        #expect(try redis.get("HLEN", "arena:market:prices") != "0")
        #expect(Int(try redis.get("TTL", "arena:api:leaderboard")) ?? -1 > 0)

        // An API with no files of its own serves what Redis holds.
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let fromRedisPort = try ProcessRunner.freePort()
        let fromRedis = try ProcessRunner.makeProcess(
            "control-api",
            [
                "--config", "etc/arena.yaml", "--data-path", empty.path, "--port", String(fromRedisPort), "--log-level",
                "error",
            ],
            environment: environment,
            directory: root
        )
        try fromRedis.run()
        defer { fromRedis.terminate() }
        let health = try await BinaryTests().fetch("http://127.0.0.1:\(fromRedisPort)/api/health", server: fromRedis)
        var healthObject = try JSONSerialization.jsonObject(with: health) as? [String: Any]
        for _ in 0..<50 where healthObject?["source"] as? String != "redis" {
            try await Task.sleep(for: .milliseconds(100))
            healthObject =
                try JSONSerialization.jsonObject(
                    with: try await BinaryTests().fetch("http://127.0.0.1:\(fromRedisPort)/api/health")
                ) as? [String: Any]
        }
        #expect(healthObject?["source"] as? String == "redis")
        let board =
            try JSONSerialization.jsonObject(
                with: try await BinaryTests().fetch("http://127.0.0.1:\(fromRedisPort)/api/leaderboard")
            ) as? [String: Any]
        #expect((board?["leaderboard"] as? [Any])?.count == 2)

        // An API beside the engine's files keeps answering, newer generations included, once Redis is gone.
        let apiPort = try ProcessRunner.freePort()
        let api = try ProcessRunner.makeProcess(
            "control-api",
            ["--config", "etc/arena.yaml", "--port", String(apiPort), "--log-level", "error"],
            environment: environment,
            directory: root
        )
        try api.run()
        defer { api.terminate() }
        _ = try await BinaryTests().fetch("http://127.0.0.1:\(apiPort)/api/health", server: api)
        redis.kill()
        let atKill = journalLines(root, trader: "baseline-hold").count
        #expect(await eventually(60) { journalLines(root, trader: "baseline-hold").count >= atKill + 5 })
        func generation() async throws -> (String, String) {
            let data = try await BinaryTests().fetch("http://127.0.0.1:\(apiPort)/api/health")
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (object?["generation"] as? String ?? "", object?["source"] as? String ?? "")
        }
        let before = try await generation()
        var after = before
        for _ in 0..<100 where after.0 == before.0 {
            try await Task.sleep(for: .milliseconds(100))
            after = try await generation()
        }
        #expect(after.0 != before.0, "the API did not move on to a newer generation from the files")
        #expect(after.1 == "files")
        let leaderboard = try await BinaryTests().fetch("http://127.0.0.1:\(apiPort)/api/leaderboard")
        #expect(String(decoding: leaderboard, as: UTF8.self).contains("baseline-hold"))

        // Redis returns: the engine writes its keys again.
        try redis.start()
        #expect(
            await eventually(60) { (try? redis.get("GET", "arena:api:generation"))?.contains("generation") == true }
        )
        engine.terminate()
        engine.waitUntilExit()
        #expect(engine.terminationStatus == 0)
        let failed = journalLines(root, trader: "baseline-hold").filter { ($0["outcome"] as? String) != "completed" }
        #expect(failed.isEmpty)
    }
}
