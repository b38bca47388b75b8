import Foundation

/// The one JSON encoder and decoder configuration for snapshot documents.
package enum SnapshotCoding {
    package static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    package static func makeDecoder() -> JSONDecoder {
        JSONDecoder()
    }
}
