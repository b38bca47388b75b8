import CIsal
import CZlib
import Foundation

/// gzip files (RFC 1952) through zlib (and ISA-L's igzip for the fastest level): closed journal files are stored compressed and read back transparently.
package enum Gzip {
    package struct Failure: Error, CustomStringConvertible {
        package let status: Int32
        package let operation: String
        package var description: String { "\(operation) failed (\(status))" }
    }

    private static let chunk = 256 * 1024

    /// Compresses `data` into one gzip member (see `Deflater` for what each level uses).
    package static func compress(_ data: Data, level: Int32 = 6) throws(Failure) -> Data {
        let deflater = try Deflater(level: level)
        var output = Data()
        do {
            try data.withUnsafeBytes { raw in
                try deflater.deflate(raw, finish: true) { output.append(contentsOf: $0) }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            preconditionFailure("appending to Data does not throw")
        }
        return output
    }

    /// Compresses the file at `source` into one gzip member at `target` (created or truncated, then fsynced), a
    /// mebibyte at a time: a 64 MiB journal file is never whole in memory. Returns the compressed size. The same
    /// bytes as `compress` of the file's contents at that level.
    @discardableResult
    package static func compressFile(_ source: String, to target: String, level: Int32 = 6) throws -> Int {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.Failure(operation: "open", path: source, code: errno) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw AtomicFile.Failure(operation: "open", path: target, code: errno) }
        defer { close(output) }
        let deflater = try Deflater(level: level)
        let readSize = 1 << 20
        let plain = UnsafeMutableRawPointer.allocate(byteCount: readSize, alignment: 16)
        defer { plain.deallocate() }
        var total = 0
        while true {
            let count = read(input, plain, readSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.Failure(operation: "read", path: source, code: errno)
            }
            try deflater.deflate(UnsafeRawBufferPointer(start: plain, count: count), finish: count == 0) { packed in
                try AtomicFile.writeAll(packed, to: output, path: target)
                total += packed.count
            }
            if count == 0 { break }
        }
        guard fsync(output) == 0 else { throw AtomicFile.Failure(operation: "fsync", path: target, code: errno) }
        return total
    }

    /// One gzip member being written. Level 1 (the fastest, what a backtest asks for) goes through ISA-L's igzip
    /// at its level 1: on journal records it is about 8 times as fast as zlib's level 1 and its output a few per
    /// cent smaller (README, "Dependencies"). Levels 2–9 go through zlib at that level. Either way a standard
    /// gzip member that `gzip -d`, `zcat` and zlib read.
    private final class Deflater {
        private enum Stream {
            case zlib(UnsafeMutablePointer<z_stream>)
            case isal(UnsafeMutablePointer<isal_zstream>, levelBuffer: UnsafeMutablePointer<UInt8>)
        }
        private let stream: Stream
        private let packed = UnsafeMutablePointer<UInt8>.allocate(capacity: Gzip.chunk)

        init(level: Int32) throws(Failure) {
            if level == 1 {
                let state = UnsafeMutablePointer<isal_zstream>.allocate(capacity: 1)
                isal_deflate_init(state)
                let size = arena_isal_level_buf_size(1)
                let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(size))
                state.pointee.level = 1
                state.pointee.level_buf = buffer
                state.pointee.level_buf_size = size
                state.pointee.gzip_flag = UInt16(IGZIP_GZIP)
                state.pointee.flush = UInt16(NO_FLUSH)
                stream = .isal(state, levelBuffer: buffer)
                return
            }
            let state = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            state.initialize(to: z_stream())
            // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
            let status = deflateInit2_(
                state,
                level,
                Z_DEFLATED,
                15 + 16,
                8,
                Z_DEFAULT_STRATEGY,
                ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)
            )
            guard status == Z_OK else {
                state.deallocate()
                packed.deallocate()
                throw Failure(status: status, operation: "zlib deflateInit2")
            }
            stream = .zlib(state)
        }

        deinit {
            switch stream {
            case .zlib(let state):
                deflateEnd(state)
                state.deallocate()
            case .isal(let state, let buffer):
                state.deallocate()
                buffer.deallocate()
            }
            packed.deallocate()
        }

        /// Takes all of `input`, handing each piece of output to `emit`; `finish` ends the member (its trailer
        /// written before this returns).
        func deflate(
            _ input: UnsafeRawBufferPointer,
            finish: Bool,
            emit: (UnsafeRawBufferPointer) throws -> Void
        ) throws {
            let next = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
            switch stream {
            case .zlib(let state):
                state.pointee.next_in = next
                state.pointee.avail_in = uInt(input.count)
                var done = false
                repeat {
                    state.pointee.next_out = packed
                    state.pointee.avail_out = uInt(Gzip.chunk)
                    let result = CZlib.deflate(state, finish ? Z_FINISH : Z_NO_FLUSH)
                    guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
                        throw Failure(status: result, operation: "zlib deflate")
                    }
                    try emit(UnsafeRawBufferPointer(start: packed, count: Gzip.chunk - Int(state.pointee.avail_out)))
                    done = result == Z_STREAM_END
                } while state.pointee.avail_out == 0 || (finish && !done)
            case .isal(let state, _):
                state.pointee.next_in = next
                state.pointee.avail_in = UInt32(input.count)
                state.pointee.end_of_stream = finish ? 1 : 0
                var done = false
                repeat {
                    let pending = state.pointee.avail_in
                    state.pointee.next_out = packed
                    state.pointee.avail_out = UInt32(Gzip.chunk)
                    let result = isal_deflate(state)
                    guard result == COMP_OK else { throw Failure(status: result, operation: "igzip deflate") }
                    let produced = Gzip.chunk - Int(state.pointee.avail_out)
                    try emit(UnsafeRawBufferPointer(start: packed, count: produced))
                    done = arena_isal_deflate_finished(state) != 0
                    // Each call either takes input or writes output; one that did neither would never end.
                    guard produced > 0 || state.pointee.avail_in < pending || done else {
                        throw Failure(status: result, operation: "igzip deflate (no progress)")
                    }
                } while state.pointee.avail_out == 0 || state.pointee.avail_in > 0 || (finish && !done)
            }
        }
    }

    /// Decompresses a gzip file's bytes (every member, as gzip -d does).
    package static func decompress(_ data: Data) throws(Failure) -> Data {
        guard !data.isEmpty else { return Data() }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset = 0
        while offset < data.count {
            var stream = z_stream()
            var status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else { throw Failure(status: status, operation: "zlib inflateInit2") }
            defer { inflateEnd(&stream) }
            status = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int32 in
                let base = raw.bindMemory(to: Bytef.self).baseAddress.map { $0 + offset }
                stream.next_in = UnsafeMutablePointer(mutating: base)
                stream.avail_in = uInt(raw.count - offset)
                var result: Int32 = Z_OK
                repeat {
                    result = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                } while result == Z_OK
                return result
            }
            guard status == Z_STREAM_END else { throw Failure(status: status, operation: "zlib inflate") }
            offset += Int(stream.total_in)
        }
        return output
    }
}
