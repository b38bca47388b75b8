import CZlib
import Foundation

/// gzip files (RFC 1952) through zlib: closed journal files are stored compressed and read back transparently.
package enum Gzip {
    package struct Failure: Error, CustomStringConvertible {
        package let status: Int32
        package let operation: String
        package var description: String { "zlib \(operation) failed (\(status))" }
    }

    private static let chunk = 256 * 1024

    /// Starts a gzip member at `level` in `stream` (which must stay where it is: zlib keeps its address).
    private static func startDeflate(_ stream: inout z_stream, level: Int32) throws(Failure) {
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        let status = deflateInit2_(
            &stream,
            level,
            Z_DEFLATED,
            15 + 16,
            8,
            Z_DEFAULT_STRATEGY,
            ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size)
        )
        guard status == Z_OK else { throw Failure(status: status, operation: "deflateInit2") }
    }

    /// Compresses `data` into one gzip member.
    package static func compress(_ data: Data, level: Int32 = 6) throws(Failure) -> Data {
        var stream = z_stream()
        try startDeflate(&stream, level: level)
        defer { deflateEnd(&stream) }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: chunk)
        let status = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(raw.count)
            var result: Int32 = Z_OK
            repeat {
                result = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return deflate(&stream, Z_FINISH)
                }
                output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
            } while result == Z_OK
            return result
        }
        guard status == Z_STREAM_END else { throw Failure(status: status, operation: "deflate") }
        return output
    }

    /// Compresses the file at `source` into one gzip member at `target` (created or truncated, then fsynced), a
    /// mebibyte at a time: a 64 MiB journal file is never whole in memory. Returns the compressed size.
    @discardableResult
    package static func compressFile(_ source: String, to target: String, level: Int32 = 6) throws -> Int {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.Failure(operation: "open", path: source, code: errno) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw AtomicFile.Failure(operation: "open", path: target, code: errno) }
        defer { close(output) }
        var stream = z_stream()
        try startDeflate(&stream, level: level)
        defer { deflateEnd(&stream) }
        let readSize = 1 << 20
        let plain = UnsafeMutablePointer<UInt8>.allocate(capacity: readSize)
        defer { plain.deallocate() }
        let packed = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { packed.deallocate() }
        var total = 0
        var finished = false
        while !finished {
            let count = read(input, plain, readSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.Failure(operation: "read", path: source, code: errno)
            }
            stream.next_in = plain
            stream.avail_in = uInt(count)
            let flush = count == 0 ? Z_FINISH : Z_NO_FLUSH
            repeat {
                stream.next_out = packed
                stream.avail_out = uInt(chunk)
                let result = deflate(&stream, flush)
                guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
                    throw Failure(status: result, operation: "deflate")
                }
                let produced = chunk - Int(stream.avail_out)
                try AtomicFile.writeAll(
                    UnsafeRawBufferPointer(start: packed, count: produced),
                    to: output,
                    path: target
                )
                total += produced
                if result == Z_STREAM_END { finished = true }
            } while stream.avail_out == 0 && !finished
        }
        guard fsync(output) == 0 else { throw AtomicFile.Failure(operation: "fsync", path: target, code: errno) }
        return total
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
            guard status == Z_OK else { throw Failure(status: status, operation: "inflateInit2") }
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
            guard status == Z_STREAM_END else { throw Failure(status: status, operation: "inflate") }
            offset += Int(stream.total_in)
        }
        return output
    }
}
