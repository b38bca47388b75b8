import ArenaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Graceful shutdown of a real engine whose LLM trader is waiting on a slow model (over real HTTP): the cycle in
/// flight finishes within `manager.shutdown_grace`; past the grace, or on a second signal, it is cancelled. Either
/// way the cycle is journaled, the state saved, a final snapshot published, and the process exits 0.
@Suite("Graceful shutdown with a cycle in flight, real engine process", .serialized)
struct ShutdownTests {
    static let trader = "deepseek-momentum"

    struct Stopped {
        let status: Int32
        let reason: Process.TerminationReason
        let last: [String: Any]?
        let savedCycle: Int?
        let stderr: String
    }

    /// Starts the engine with the LLM trader on a model that answers nothing until released (`then` may release
    /// it), waits until the trader's first request is in flight, signals SIGTERM, calls `then` with the running
    /// process, the model and the engine's stderr, and waits for the exit. Only cycle 1 of the LLM trader ever
    /// reaches the model, however slowly the test itself is scheduled.
    func stop(
        environment extra: [String: String] = [:],
        then: (Process, PythonFakeModel, URL) async throws -> Void = { _, _, _ in }
    ) async throws -> Stopped {
        let root = try BinaryTests.scratchConfig()
        let model = try PythonFakeModel(directory: root, waitsForRelease: true)
        defer { model.stop() }
        var environment = [
            "DEEPSEEK_API_KEY": "sk-test-shutdown", "DEEPSEEK_BASE_URL": "http://127.0.0.1:\(model.port)/v1",
            "ARENA_LOG_LEVEL": "info", "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
        ]
        environment.merge(extra) { $1 }
        let stderrFile = root.appendingPathComponent("engine.err")
        let engine = try BinaryTests.startEngine(root, environment: environment, stderr: stderrFile)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(await eventually(60) { !model.authorizations.isEmpty }, "the model was never asked")
        engine.terminate()
        try await then(engine, model, stderrFile)
        #expect(await eventually(60) { !engine.isRunning }, "the engine did not exit")
        engine.waitUntilExit()
        let state =
            (try? JSONSerialization.jsonObject(
                with: Data(contentsOf: root.appendingPathComponent("state/manager.json"))
            )) as? [String: Any]
        let traders = state?["traders"] as? [String: [String: Any]]
        #expect(
            FileManager.default.fileExists(
                atPath: root.appendingPathComponent("mcp-data/current/leaderboard.json").path
            )
        )
        return Stopped(
            status: engine.terminationStatus,
            reason: engine.terminationReason,
            last: journalLines(root, trader: Self.trader).last,
            savedCycle: traders?[Self.trader]?["cycle"] as? Int,
            stderr: (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        )
    }

    /// The engine's stderr so far.
    static func log(_ file: URL) -> String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }

    @Test func aCycleInFlight_finishesWithinTheGrace_thenTheEngineExits0() async throws {
        let stopped = try await stop { engine, model, stderr in
            // The engine waits for its cycle...
            #expect(await eventually(30) { Self.log(stderr).contains("shutdown: waiting for cycles in flight") })
            #expect(engine.isRunning)
            // ...which the model now answers.
            model.release()
        }
        #expect(stopped.reason == .exit)
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(2000))")
        #expect(stopped.last?["outcome"] as? String == "completed", "\(stopped.last ?? [:])")
        #expect(stopped.last?["cycle"] as? Int == 1)
        #expect(stopped.savedCycle == 1)
        #expect(stopped.stderr.contains("shutdown: waiting for cycles in flight"))
        #expect(!stopped.stderr.contains("cancelling cycles still running"))
    }

    @Test func pastTheGrace_theCycleIsCancelled_journaledAsFailedClosed_andTheEngineExits0() async throws {
        let stopped = try await stop(environment: ["ARENA_SHUTDOWN_GRACE": "2s"])
        #expect(stopped.reason == .exit)
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(2000))")
        #expect(stopped.last?["outcome"] as? String == "failed_closed", "\(stopped.last ?? [:])")
        #expect(stopped.last?["cycle"] as? Int == 1)
        #expect(stopped.savedCycle == 1)
        #expect(stopped.stderr.contains("grace=2.0 seconds"), "manager.shutdown_grace was not applied")
        #expect(stopped.stderr.contains("cancelling cycles still running (the grace period is over)"))
    }

    @Test func aSecondSignal_cancelsTheCycleInFlightAtOnce_andTheEngineStillExits0() async throws {
        let stopped = try await stop { engine, _, stderr in
            // After the first signal the engine waits for its cycle (the grace is 30 s)...
            #expect(await eventually(30) { Self.log(stderr).contains("shutdown: waiting for cycles in flight") })
            #expect(engine.isRunning, "the engine did not wait for its cycle in flight")
            // ...until the second.
            engine.terminate()
        }
        #expect(stopped.reason == .exit)
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(2000))")
        #expect(stopped.last?["outcome"] as? String == "failed_closed", "\(stopped.last ?? [:])")
        #expect(stopped.savedCycle == 1)
        #expect(stopped.stderr.contains("second signal: cancelling the cycles still in flight"))
        #expect(stopped.stderr.contains("cancelling cycles still running (a second signal)"))
    }
}
