import ArenaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("systemd notify protocol with a real engine process", .serialized)
struct SystemdNotifyTests {
    @Test func engine_saysReady_feedsTheWatchdog_andSaysStopping() async throws {
        let root = try BinaryTests.scratchConfig()
        let socket = try NotifySocket()
        let engine = try ProcessRunner.makeProcess(
            "engine",
            ["run", "--config", "etc/arena.yaml"],
            environment: [
                "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000", "ARENA_LOG_LEVEL": "error",
                "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
            ],
            directory: root
        )
        engine.standardError = FileHandle.nullDevice
        try engine.run()
        let ready = socket.wait(for: "READY=1")
        #expect(ready.last?.contains("READY=1") == true, "\(ready)")
        #expect(ready.last?.contains("STATUS=2 traders") == true, "\(ready)")
        let fed = socket.wait(for: "WATCHDOG=1")
        #expect(fed.last?.contains("WATCHDOG=1") == true, "\(fed)")
        engine.terminate()
        let stopping = socket.wait(for: "STOPPING=1")
        #expect(stopping.last?.contains("STOPPING=1") == true, "\(stopping)")
        engine.waitUntilExit()
        #expect(engine.terminationReason == .exit)
        #expect(engine.terminationStatus == 0)
    }
}

@Suite("The engine never writes its configuration", .serialized)
struct ReadOnlyConfigurationTests {
    /// Every file the process opened for writing, created, renamed or removed, from an strace log.
    static func writes(in log: String) -> [String] {
        log.split(separator: "\n").compactMap { line -> String? in
            let writing =
                line.contains("O_WRONLY") || line.contains("O_RDWR") || line.contains("O_CREAT")
                || line.contains("O_TRUNC") || line.contains("rename") || line.contains("unlink")
                || line.contains("mkdir") || line.contains("truncate(")
            guard writing, !line.contains("= -1") else { return nil }
            return String(line)
        }
    }

    @Test func runAndBacktest_openNothingUnderEtcForWriting() throws {
        let root = try BinaryTests.scratchConfig()
        let etc = root.appendingPathComponent("etc").path
        let trace = root.appendingPathComponent("strace.log").path
        for arguments in [
            ["run", "--once", "--config", "etc/arena.yaml"],
            [
                "backtest", "--config", "etc/arena.yaml", "--from", "2025-07-16T00:00:00Z", "--to",
                "2025-07-16T03:00:00Z", "--out", "bt", "--quiet",
            ],
        ] {
            let result = try ProcessRunner.run(
                "/usr/bin/strace",
                [
                    "-f", "-qq", "-o", trace, "-e",
                    "trace=open,openat,creat,truncate,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat",
                    ProcessRunner.binary("engine").path,
                ] + arguments,
                directory: root
            )
            #expect(result.status == 0, "\(arguments[0]): \(result.stderr)")
            let log = try String(contentsOfFile: trace, encoding: .utf8)
            let writes = Self.writes(in: log)
            // The trace saw the engine write its own files (so it is looking at the right thing)…
            #expect(writes.contains { $0.contains("journal") || $0.contains("mcp-data") || $0.contains("bt/") })
            // …and nothing under etc/.
            let intoEtc = writes.filter { $0.contains("\"etc/") || $0.contains(etc + "/") }
            #expect(intoEtc.isEmpty, "\(intoEtc.prefix(3))")
        }
    }
}
