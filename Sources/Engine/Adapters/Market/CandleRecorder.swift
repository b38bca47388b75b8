import ArenaCore
import Foundation
import Logging
import Shared

/// Appends the closed candles a live market provider fetched to `hyperliquid_<SYMBOL>_<interval>.csv` under a
/// directory, in the replay market's format, so the next backtest covers what the engine saw. Only closed candles
/// (open + interval ≤ now), only newer than the file's last row, appended and fsynced a batch of whole lines at a time; a torn
/// last line left by a crash is cut when the file is first used. A failure is logged (once per file and streak)
/// and never reaches the cycle.
package actor CandleRecorder {
    package let directory: String
    private let logger: Logger
    /// The newest open time in each file, read when the file is first used.
    private var newest: [String: Int64] = [:]
    private var failing: Set<String> = []
    package private(set) var recorded = 0

    package init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    package func path(symbol: String, interval: CandleInterval) -> String {
        (directory as NSString).appendingPathComponent("hyperliquid_\(symbol)_\(interval.name).csv")
    }

    package func record(symbol: String, interval: CandleInterval, candles: [Candle], now: Int64) {
        let path = path(symbol: symbol, interval: interval)
        do {
            let last = try newest[path] ?? Self.prepare(path)
            let closed = candles.filter { $0.openTime > last && $0.openTime + interval.milliseconds <= now }
                .sorted { $0.openTime < $1.openTime }
            newest[path] = last
            guard let latest = closed.last else { return }
            let text = closed.map { candle in
                "\(candle.openTime),\(CandleCSV.number(candle.open)),\(CandleCSV.number(candle.high)),"
                    + "\(CandleCSV.number(candle.low)),\(CandleCSV.number(candle.close)),"
                    + "\(CandleCSV.number(candle.volume))\n"
            }.joined()
            try AtomicFile.appendAndSync(Data(text.utf8), to: path)
            newest[path] = latest.openTime
            recorded += closed.count
            if failing.remove(path) != nil {
                logger.notice("recording candles again", metadata: ["path": "\(path)"])
            }
        } catch {
            if failing.insert(path).inserted {
                logger.warning(
                    "cannot record candles: the engine trades on, the file misses them",
                    metadata: ["path": "\(path)", "error": "\(error)"]
                )
            }
        }
    }

    /// Creates the file with its header, or cuts a torn last line; returns the newest open time in it.
    static func prepare(_ path: String) throws -> Int64 {
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        guard let data = manager.contents(atPath: path), !data.isEmpty else {
            try AtomicFile.replace(path, with: Data((CandleCSV.header + "\n").utf8))
            return .min
        }
        if data.last != UInt8(ascii: "\n") {
            // A crash mid-append: keep the whole lines.
            let keep = (data.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            guard truncate(path, off_t(keep)) == 0 else {
                throw AtomicFile.Failure(operation: "truncate", path: path, code: errno)
            }
        }
        return try CandleCSV.load(path: path).last?.openTime ?? .min
    }
}
