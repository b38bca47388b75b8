import Crypto
import Foundation

/// Lowercase hexadecimal, and the SHA-256 digests the engine names things by (template stamps, prompt digests,
/// cache keys, cloids). One implementation for all of them, without `String(format:)` per byte.
package enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Two lowercase digits per byte.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The SHA-256 of `text`'s UTF-8 bytes, in hex.
    package static func sha256(_ text: String) -> String { encode(SHA256.hash(data: Data(text.utf8))) }
}
