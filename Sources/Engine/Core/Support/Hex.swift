import Crypto
import Foundation

/// Lowercase hexadecimal, and the SHA-256 digests the engine names things by (template stamps, prompt digests,
/// cache keys, cloids). One implementation for all of them, without `String(format:)` per byte.
package enum Hex {
    /// Two lowercase digits per byte.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0)) }) { return text }
        return Array(bytes).withUnsafeBytes { encode($0) }
    }

    /// A digest's bytes in hex (all of them, or its first `prefix`), after `lead` (`0x`): written straight into
    /// the string (a digest is no contiguous collection, and per-byte appends to a growing array were a third of
    /// a cloid's cost).
    package static func encode(_ digest: some Digest, prefix: Int = .max, lead: StaticString = "") -> String {
        digest.withUnsafeBytes { bytes in
            encode(UnsafeRawBufferPointer(rebasing: bytes.prefix(prefix)), lead: lead)
        }
    }

    package static func encode(_ bytes: UnsafeRawBufferPointer, lead: StaticString = "") -> String {
        let leadCount = lead.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: leadCount + bytes.count * 2) { out in
            for index in 0..<leadCount { out[index] = lead.utf8Start[index] }
            var at = leadCount
            for byte in bytes {
                out[at] = digit(byte >> 4)
                out[at + 1] = digit(byte & 0x0f)
                at += 2
            }
            return at
        }
    }

    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }

    /// The SHA-256 of `text`'s UTF-8 bytes, in hex.
    package static func sha256(_ text: String) -> String { encode(SHA256.hash(data: Data(text.utf8))) }
}
