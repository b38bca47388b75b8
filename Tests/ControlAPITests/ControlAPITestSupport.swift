import ArenaTestSupport
import CZlib
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Shared

@testable import ControlAPI

func makeAPI(
    dataPath: String,
    corsOrigins: [String] = ["*"],
    dashboard: Bool = true,
    staleAfter: Duration = .seconds(60)
) throws -> some ApplicationProtocol {
    var settings = ControlAPISettings.defaults
    settings.dataPath = dataPath
    settings.port = 0
    settings.corsOrigins = corsOrigins
    settings.dashboard = dashboard
    settings.staleAfter = staleAfter
    var logger = Logger(label: "control-api-test")
    logger.logLevel = .critical
    return try ControlAPIServer.makeApplication(settings: settings, logger: logger)
}

/// Inflates a gzip body with zlib, independently of the server's own gzip code.
func gunzip(_ data: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw GunzipError.failed
    }
    defer { inflateEnd(&stream) }
    var input = data
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    var status: Int32 = Z_OK
    try input.withUnsafeMutableBufferPointer { source in
        stream.next_in = source.baseAddress
        stream.avail_in = uInt(source.count)
        repeat {
            let produced: Int = chunk.withUnsafeMutableBufferPointer { destination in
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return destination.count - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END else { throw GunzipError.failed }
            output.append(contentsOf: chunk[0..<produced])
        } while status != Z_STREAM_END
        // A valid member ends exactly at the end of the body, trailer included.
        guard stream.avail_in == 0 else { throw GunzipError.trailingBytes }
    }
    return output
}

enum GunzipError: Error { case failed, trailingBytes }
