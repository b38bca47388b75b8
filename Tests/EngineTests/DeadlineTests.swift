import Foundation
import Synchronization
import Testing

@testable import ArenaAdapters

/// `withDeadline`: the first of the body's answer, the deadline and the caller's cancellation — and never a wait
/// for a body that ignores its cancellation (what held the database writer, and the engine's shutdown, after the
/// server was killed).
@Suite("Deadlines")
struct DeadlineTests {
    /// A body that ignores cancellation until `release()` (or ten minutes), as a pool's wait for a connection did.
    final class DeafBody: Sendable {
        private let state = Mutex<(waiting: CheckedContinuation<Void, Never>?, released: Bool, ended: Bool)>(
            (nil, false, false)
        )

        init() {
            DispatchQueue.global().asyncAfter(deadline: .now() + 600) { [self] in release() }
        }

        func run() async -> Int {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state in
                    if !state.released { state.waiting = continuation }
                    return state.released
                }
                if now { continuation.resume() }
            }
            state.withLock { $0.ended = true }
            return 1
        }

        func release() {
            let waiting = state.withLock { state in
                state.released = true
                let waiting = state.waiting
                state.waiting = nil
                return waiting
            }
            waiting?.resume()
        }

        var ended: Bool { state.withLock { $0.ended } }
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

    /// The deadline ends the wait while the body, deaf to its cancellation, still waits (the old structured
    /// version waited for the body to end).
    @Test func aBodyDeafToCancellation_doesNotHoldTheCallerPastTheDeadline() async throws {
        let body = DeafBody()
        defer { body.release() }
        await #expect(throws: TimedOut.self) {
            _ = try await withDeadline(.milliseconds(200)) { await body.run() }
        }
        #expect(!body.ended)
    }

    /// The caller's cancellation ends the wait too, the body deaf or not.
    @Test func cancellingTheCaller_endsTheWait() async throws {
        let body = DeafBody()
        defer { body.release() }
        let waiting = Task { try await withDeadline(.seconds(600)) { await body.run() } }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        #expect(!body.ended)
        // Already cancelled before it starts: it answers at once.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await withDeadline(.seconds(600)) { await body.run() }
        }
        await #expect(throws: CancellationError.self) { _ = try await early.value }
        #expect(!body.ended)
    }
}
