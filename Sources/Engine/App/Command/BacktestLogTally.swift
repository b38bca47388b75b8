import Foundation
import Logging
import Synchronization

/// What a backtest logs at warning and above: each distinct message is printed once (with its metadata, the
/// first time) and counted; the report lists the counts. A backtest of a year can raise the same warning for
/// thousands of cycles, which would bury the result on the terminal.
final class BacktestLogTally: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts `message`; true the first time it is seen.
    func record(_ message: String) -> Bool {
        counts.withLock { counts in
            counts[message, default: 0] += 1
            return counts[message] == 1
        }
    }

    var snapshot: [String: Int] { counts.withLock { $0 } }

    /// The counts so far, and a fresh start (each backtest of a comparison reports its own).
    func take() -> [String: Int] {
        counts.withLock { counts in
            defer { counts = [:] }
            return counts
        }
    }
}

/// The log handler `engine backtest` installs: warnings and errors go to the tally (printed once each).
struct BacktestLogHandler: LogHandler {
    let label: String
    let tally: BacktestLogTally
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let key = "\(event.level): \(event.message)"
        guard tally.record(key) else { return }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        FileHandle.standardError.write(
            Data("engine backtest: \(key)\(details.isEmpty ? "" : " (\(details))") [counted in the report]\n".utf8)
        )
    }
}
