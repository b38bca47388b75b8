import Foundation
import Shared

/// One OHLCV candle. `openTime` is Unix milliseconds; the candle is closed at `openTime + interval`.
struct Candle: Sendable, Equatable, Codable {
    var openTime: Int64
    var open: Double
    var high: Double
    var low: Double
    var close: Double
    var volume: Double
}

/// A candle interval such as `3m` or `4h`.
struct CandleInterval: Sendable, Hashable, CustomStringConvertible {
    let name: String
    let milliseconds: Int64

    init?(_ name: String) {
        guard let duration = ConfigDuration.parse(name), duration.milliseconds > 0 else { return nil }
        self.name = name
        self.milliseconds = duration.milliseconds
    }

    var description: String { name }
}

/// Reads `open_time_ms,open,high,low,close,volume` files.
enum CandleCSV {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let line: Int
        let reason: String
        var description: String { "\(path):\(line): \(reason)" }
    }

    static func load(path: String) throws -> [Candle] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(path: path, line: 0, reason: "cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) throws -> [Candle] {
        var candles: [Candle] = []
        var lineNumber = 0
        for line in text.split(whereSeparator: \.isNewline) {
            lineNumber += 1
            if lineNumber == 1 {
                guard line.hasPrefix("open_time_ms,open,high,low,close,volume") else {
                    throw Failure(
                        path: path,
                        line: 1,
                        reason: "expected header open_time_ms,open,high,low,close,volume"
                    )
                }
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 6, let time = Int64(fields[0]), let open = Double(fields[1]),
                let high = Double(fields[2]), let low = Double(fields[3]), let close = Double(fields[4]),
                let volume = Double(fields[5])
            else {
                throw Failure(path: path, line: lineNumber, reason: "malformed row")
            }
            if let last = candles.last, time <= last.openTime {
                throw Failure(path: path, line: lineNumber, reason: "rows are not in increasing time order")
            }
            candles.append(Candle(openTime: time, open: open, high: high, low: low, close: close, volume: volume))
        }
        return candles
    }
}

/// Funding rates, `funding_time_ms,funding_rate`.
enum FundingCSV {
    static func load(path: String) throws -> [(time: Int64, rate: Double)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CandleCSV.Failure(path: path, line: 0, reason: "cannot read the file")
        }
        var rows: [(Int64, Double)] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated()
        where index > 0 {
            let fields = line.split(separator: ",")
            guard fields.count >= 2, let time = Int64(fields[0]), let rate = Double(fields[1]) else {
                throw CandleCSV.Failure(path: path, line: index + 1, reason: "malformed row")
            }
            rows.append((time, rate))
        }
        return rows
    }
}
