import Foundation
import Testing

@testable import ArenaAdapters

/// `withDeadline`: the first of the body's answer, the deadline and the caller's cancellation — and never a wait
/// for a body that ignores its cancellation (what held the database writer, and the engine's shutdown, after the
/// server was killed).
@Suite("Deadlines")
struct DeadlineTests {
    /// A body that ignores cancellation for `seconds` (as a pool's wait for a connection did).
    static func deaf(_ seconds: Double) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { continuation.resume(returning: 1) }
        }
    }

    @Test func anAnswerBeforeTheDeadline_isReturned() async throws {
        #expect(try await withDeadline(.seconds(30)) { 42 } == 42)
        await #expect(throws: TimedOut.self) {
            _ = try await withDeadline(.seconds(30)) { () async throws -> Int in throw TimedOut(limit: .zero) }
        }
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await withDeadline(.seconds(30)) { () async throws -> Int in throw Refused() }
        }
    }

    /// The deadline ends the wait even when the body does not answer its cancellation (60 s here: the old
    /// structured version waited for it).
    @Test func aBodyDeafToCancellation_doesNotHoldTheCallerPastTheDeadline() async throws {
        let started = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            _ = try await withDeadline(.milliseconds(200)) { await Self.deaf(60) }
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// The caller's cancellation ends the wait too, the body deaf or not.
    @Test func cancellingTheCaller_endsTheWait() async throws {
        let started = ContinuousClock.now
        let waiting = Task { try await withDeadline(.seconds(120)) { await Self.deaf(60) } }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(30))
        // Already cancelled before it starts: it answers at once.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await withDeadline(.seconds(120)) { await Self.deaf(60) }
        }
        await #expect(throws: CancellationError.self) { _ = try await early.value }
    }
}
