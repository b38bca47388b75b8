import Foundation
import Shared

/// One OHLCV candle. `openTime` is Unix milliseconds; the candle is closed at `openTime + interval`.
package struct Candle: Sendable, Equatable, Codable {
    package var openTime: Int64
    package var open: Double
    package var high: Double
    package var low: Double
    package var close: Double
    package var volume: Double

    package init(
        openTime: Int64,
        open: Double,
        high: Double,
        low: Double,
        close: Double,
        volume: Double
    ) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// A candle interval such as `3m` or `4h`.
package struct CandleInterval: Sendable, Hashable, CustomStringConvertible {
    package let name: String
    package let milliseconds: Int64

    package init?(_ name: String) {
        guard let duration = ConfigDuration.parse(name), duration.milliseconds > 0 else { return nil }
        self.name = name
        self.milliseconds = duration.milliseconds
    }

    package var description: String { name }
}

/// Reads `open_time_ms,open,high,low,close,volume` files.
package enum CandleCSV {
    package struct Failure: Error, Equatable, CustomStringConvertible {
        package let path: String
        package let line: Int
        package let reason: String
        package var description: String { "\(path):\(line): \(reason)" }

        package init(path: String, line: Int, reason: String) {
            self.path = path
            self.line = line
            self.reason = reason
        }
    }

    package static func load(path: String) throws -> [Candle] { try load(paths: [path])[0] }

    /// Several files, every piece of every one parsed on every core at once: a long file (a million 1-minute
    /// rows) in eight pieces split where lines end, joined in order. When a file's header is wrong, a piece fails
    /// or two pieces meet out of time order, that file is parsed again in one pass for the error it gives (the
    /// first in the file, with its line number); the first failing file in `paths` order is the one thrown.
    /// (`piecewise`: the size from which a file is split, lowered by tests.)
    package static func load(paths: [String], piecewise: Int = 4 << 20) throws -> [[Candle]] {
        // An unreadable file is empty here and named in its turn below.
        let files = paths.map { FileManager.default.contents(atPath: $0) }
        // Each file's pieces: from the header (or a line end) to the next piece's start; none when the header is
        // wrong (its one-pass parse below says so).
        let pieces = files.map { data in
            data?.withUnsafeBytes { raw in Self.pieces(raw.bindMemory(to: UInt8.self), piecewise: piecewise) } ?? []
        }
        let jobs = pieces.enumerated().flatMap { file, bounds in bounds.indices.dropLast().map { (file, $0) } }
        let parsed = ParallelRuns.map(count: jobs.count, minimumPerRun: 1) { range in
            range.map { job -> [Candle]? in
                let (file, piece) = jobs[job]
                let bounds = pieces[file]
                return files[file]?.withUnsafeBytes { raw in
                    let slice = UnsafeBufferPointer(
                        rebasing: raw.bindMemory(to: UInt8.self)[bounds[piece]..<bounds[piece + 1]]
                    )
                    return try? rows(slice, afterLineAt: piece == 0 ? headerBytes.count : 0, path: paths[file])
                }
            }
        }
        var result: [[Candle]] = []
        var next = 0
        for (file, data) in files.enumerated() {
            let count = max(0, pieces[file].count - 1)
            defer { next += count }
            guard let data else { throw Failure(path: paths[file], line: 0, reason: "cannot read the file") }
            if count > 0, let candles = joined(parsed[next..<next + count]) {
                result.append(candles)
            } else {
                result.append(
                    try data.withUnsafeBytes { try parse(bytes: $0.bindMemory(to: UInt8.self), path: paths[file]) }
                )
            }
        }
        return result
    }

    package static func parse(_ text: String, path: String) throws -> [Candle] {
        var text = text
        return try text.withUTF8 { try parse(bytes: $0, path: path) }
    }

    /// Parses the file's bytes in one pass.
    package static func parse(bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> [Candle] {
        guard startsWithHeader(bytes) else {
            throw Failure(path: path, line: 1, reason: "expected header open_time_ms,open,high,low,close,volume")
        }
        return try rows(bytes, afterLineAt: headerBytes.count, path: path)
    }

    private static let headerBytes = Array(header.utf8)

    private static func startsWithHeader(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= headerBytes.count && Array(bytes[0..<headerBytes.count]) == headerBytes
    }

    /// Where a file's pieces start, and its end (eight pieces from `piecewise` bytes on); empty when its header
    /// is wrong.
    private static func pieces(_ bytes: UnsafeBufferPointer<UInt8>, piecewise: Int) -> [Int] {
        guard startsWithHeader(bytes) else { return [] }
        let count = bytes.count >= piecewise ? 8 : 1
        var starts = [0]
        for piece in 1..<count {
            var position = max(headerBytes.count, starts[piece - 1], bytes.count * piece / count)
            while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
            starts.append(position)
        }
        return starts + [bytes.count]
    }

    /// The pieces' candles in order; nil when one failed or two meet out of time order.
    private static func joined(_ pieces: ArraySlice<[Candle]?>) -> [Candle]? {
        var candles: [Candle] = []
        candles.reserveCapacity(pieces.reduce(0) { $0 + ($1?.count ?? 0) })
        for piece in pieces {
            guard let piece else { return nil }
            if let last = candles.last, let first = piece.first, first.openTime <= last.openTime { return nil }
            candles += piece
        }
        return candles
    }

    /// The candles on the lines after the one holding `position` (the header's, or a piece's first line end).
    private static func rows(
        _ bytes: UnsafeBufferPointer<UInt8>,
        afterLineAt position: Int,
        path: String
    ) throws -> [Candle] {
        var candles: [Candle] = []
        candles.reserveCapacity(bytes.count / 40)
        try rows(bytes, afterLineAt: position, path: path, fields: 6) { time, fields, lineNumber in
            if let last = candles.last, time <= last.openTime {
                throw Failure(path: path, line: lineNumber, reason: "rows are not in increasing time order")
            }
            candles.append(
                Candle(
                    openTime: time,
                    open: fields[1],
                    high: fields[2],
                    low: fields[3],
                    close: fields[4],
                    volume: fields[5]
                )
            )
        }
        return candles
    }

    /// Reads each non-empty line after the one holding `position` (the header's) as an integer time and
    /// `count - 1` numbers (fields past `count` ignored) and hands them to `row` with the line's number; a row
    /// with fewer fields, a malformed or non-finite value fails with its line number.
    static func rows(
        _ bytes: UnsafeBufferPointer<UInt8>,
        afterLineAt position: Int,
        path: String,
        fields count: Int,
        _ row: (Int64, [Double], Int) throws -> Void
    ) throws {
        var position = position
        // Skip the rest of the header line.
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
        var lineNumber = 1
        var fields = [Double](repeating: 0, count: count)
        var time: Int64 = 0
        while position < bytes.count {
            // Start of a line (skip the newline and any carriage return).
            while position < bytes.count, bytes[position] == UInt8(ascii: "\n") || bytes[position] == UInt8(ascii: "\r")
            {
                if bytes[position] == UInt8(ascii: "\n") { lineNumber += 1 }
                position += 1
            }
            guard position < bytes.count else { break }
            var field = 0
            var valid = true
            while position < bytes.count, bytes[position] != UInt8(ascii: "\n") {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: ","),
                    bytes[position] != UInt8(ascii: "\n"),
                    bytes[position] != UInt8(ascii: "\r")
                {
                    position += 1
                }
                if field < count {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    if field == 0 {
                        if let value = Self.integer(slice) { time = value } else { valid = false }
                    } else if let value = Self.double(slice) {
                        fields[field] = value
                    } else {
                        valid = false
                    }
                }
                field += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: ",") { position += 1 }
                while position < bytes.count, bytes[position] == UInt8(ascii: "\r") { position += 1 }
            }
            guard valid, field >= count else { throw Failure(path: path, line: lineNumber, reason: "malformed row") }
            try row(time, fields, lineNumber)
        }
    }

    /// `-?digits(.digits)?` with at most 15 significant digits and at most 22 after the point, read exactly
    /// (`ExactDecimal`): the value strtod gives. Nil for anything else (strtod reads it).
    static func exactDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var position = 0
        let negative = !bytes.isEmpty && bytes[0] == UInt8(ascii: "-")
        if negative { position = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var significant = 0
        var fraction = -1
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "."), fraction < 0 {
                fraction = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
                digits += 1
                if mantissa > 0 { significant += 1 }
                if fraction >= 0 { fraction += 1 }
            } else {
                return nil
            }
            position += 1
        }
        guard digits > 0, fraction != 0,
            let value = ExactDecimal.value(mantissa: mantissa, significantDigits: significant, scale: -max(fraction, 0))
        else { return nil }
        return negative ? -value : value
    }

    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var value: Int64 = 0
        var negative = false
        for (index, byte) in bytes.enumerated() {
            if index == 0, byte == UInt8(ascii: "-") {
                negative = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = product + Int64(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// A decimal number, exactly as `Double(String)` reads it (strtod), without making a String.
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        if let value = exactDecimal(bytes) { return value }
        guard !bytes.isEmpty, bytes.count < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer -> Double? in
            for index in 0..<bytes.count { buffer[index] = CChar(bitPattern: bytes[index]) }
            buffer[bytes.count] = 0
            guard let base = buffer.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(base, &end)
            guard let end, end == base + bytes.count, value.isFinite else { return nil }
            return value
        }
    }
}

/// Funding rates, `funding_time_ms,funding_rate`.
extension CandleCSV {
    package static let header = "open_time_ms,open,high,low,close,volume"

    /// The file's text: the header, then one row per candle in time order.
    package static func render(_ candles: [Candle]) -> String {
        var lines = [header]
        lines.reserveCapacity(candles.count + 1)
        for candle in candles {
            lines.append(
                "\(candle.openTime),\(number(candle.open)),\(number(candle.high)),\(number(candle.low)),"
                    + "\(number(candle.close)),\(number(candle.volume))"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Shortest text that reads back as the same number; integral values without `.0`.
    package static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

package enum FundingCSV {
    package static let header = "funding_time_ms,funding_rate"

    package static func render(_ rows: [(time: Int64, rate: Double)]) -> String {
        ([header] + rows.map { "\($0.time),\(CandleCSV.number($0.rate))" }).joined(separator: "\n") + "\n"
    }

    /// The rows after the header line, read from the bytes as candles are (a non-finite rate is malformed).
    package static func load(path: String) throws -> [(time: Int64, rate: Double)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CandleCSV.Failure(path: path, line: 0, reason: "cannot read the file")
        }
        var rows: [(time: Int64, rate: Double)] = []
        try data.withUnsafeBytes { raw in
            try CandleCSV.rows(raw.bindMemory(to: UInt8.self), afterLineAt: 0, path: path, fields: 2) {
                time,
                fields,
                _ in
                rows.append((time, fields[1]))
            }
        }
        return rows
    }
}
