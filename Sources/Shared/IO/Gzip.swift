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

    /// Compresses `data` into one gzip member.
    package static func compress(_ data: Data, level: Int32 = 6) throws(Failure) -> Data {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        var status = deflateInit2_(
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
        defer { deflateEnd(&stream) }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: chunk)
        status = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int32 in
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
