import CZlib
import Foundation

/// Gzip for bodies whose first bytes change on every response (the `serverTime` prefix) while the rest is fixed
/// for a whole generation. The fixed tail is deflated once; each response is assembled as one valid gzip member:
/// header, the prefix as a stored (uncompressed) deflate block, the precompressed tail as the final block, and a
/// trailer whose CRC is combined from the two parts with `crc32_combine`. No per-request compression.
struct GzipSplice: Sendable {
    /// Raw deflate of the tail, ending with a final block.
    let deflatedTail: [UInt8]
    let tailCRC: UInt32
    let tailLength: Int

    enum Failure: Error { case zlib(Int32) }

    init(tail: [UInt8], level: Int32 = 6) throws {
        deflatedTail = try Self.rawDeflate(tail, level: level)
        tailCRC = tail.withUnsafeBufferPointer { buffer in
            UInt32(crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
        tailLength = tail.count
    }

    static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]

    /// The bytes that go before `deflatedTail` for a given uncompressed prefix.
    func head(prefix: [UInt8]) -> [UInt8] {
        precondition(prefix.count <= 0xFFFF)
        var bytes = Self.header
        bytes.reserveCapacity(bytes.count + 5 + prefix.count)
        // Stored block, not final: BFINAL=0, BTYPE=00, then LEN and its one's complement, little-endian.
        bytes.append(0x00)
        let length = UInt16(prefix.count)
        bytes.append(UInt8(length & 0xFF))
        bytes.append(UInt8(length >> 8))
        bytes.append(UInt8(~length & 0xFF))
        bytes.append(UInt8(~length >> 8))
        bytes.append(contentsOf: prefix)
        return bytes
    }

    /// The 8-byte trailer (CRC-32 and length of all uncompressed bytes) for a given prefix.
    func trailer(prefix: [UInt8]) -> [UInt8] {
        let prefixCRC = prefix.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        let crc = UInt32(crc32_combine(uLong(prefixCRC), uLong(tailCRC), off_t(tailLength)))
        let size = UInt32(truncatingIfNeeded: prefix.count + tailLength)
        return [
            UInt8(crc & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8((crc >> 16) & 0xFF), UInt8(crc >> 24),
            UInt8(size & 0xFF), UInt8((size >> 8) & 0xFF), UInt8((size >> 16) & 0xFF), UInt8(size >> 24),
        ]
    }

    static func rawDeflate(_ input: [UInt8], level: Int32) throws -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(
            &stream,
            level,
            Z_DEFLATED,
            -15,
            8,
            Z_DEFAULT_STRATEGY,
            ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size)
        )
        guard status == Z_OK else { throw Failure.zlib(status) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 16)
        var input = input
        status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure.zlib(status) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
