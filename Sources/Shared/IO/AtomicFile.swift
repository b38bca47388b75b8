import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX helpers for writing files that survive a crash: write, fsync, rename, fsync the directory.
package enum AtomicFile {
    package struct Failure: Error, CustomStringConvertible, Sendable {
        package let operation: String
        package let path: String
        package let code: Int32

        package init(operation: String, path: String, code: Int32) {
            self.operation = operation
            self.path = path
            self.code = code
        }

        package var description: String {
            "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    /// Writes `data` to `path` and fsyncs it. The file is created or truncated.
    package static func writeAndSync(_ data: Data, to path: String) throws(Failure) {
        try writeAndSync(data, to: path, flags: O_TRUNC)
    }

    /// Appends `data` to `path` (created when missing) and fsyncs it: one record of an append-only log.
    package static func appendAndSync(_ data: Data, to path: String) throws(Failure) {
        try writeAndSync(data, to: path, flags: O_APPEND)
    }

    private static func writeAndSync(_ data: Data, to path: String, flags: Int32) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o644)
        guard descriptor >= 0 else { throw Failure(operation: "open", path: path, code: errno) }
        defer { close(descriptor) }
        try writeAll(data, to: descriptor, path: path)
        guard fsync(descriptor) == 0 else { throw Failure(operation: "fsync", path: path, code: errno) }
    }

    /// Writes all of `data` to `descriptor` (a short write continues, an interrupted one is tried again); `path`
    /// names the file in the error.
    package static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws(Failure) {
        var failure: Failure?
        data.withUnsafeBytes { raw in
            do throws(Failure) {
                try writeAll(raw, to: descriptor, path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` to `descriptor`, as `writeAll(_:to:path:)` does for `Data`.
    package static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", path: path, code: errno)
            }
            offset += written
        }
    }

    /// A value as sorted-key JSON, replaced atomically at `path` (its directory created when missing): the way
    /// state files are saved.
    package static func replaceJSON<Value: Encodable>(_ path: String, with value: Value) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try replace(path, with: try jsonBytes(value))
    }

    /// A state file's bytes: `JSONEncoder`'s with `.sortedKeys` (slashes escaped), as the files have always been
    /// written, from the journal's encoder (a backtest's final state of a megabyte took 0.1 s through
    /// `JSONEncoder`; a live engine saves its states after every cycle). Tests compare both on real states.
    package static func jsonBytes<Value: Encodable>(_ value: Value) throws -> Data {
        try SortedJSONEncoder().encodeEscapingSlashes(value)
    }

    /// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path`, and fsyncs the directory.
    package static func replace(_ path: String, with data: Data) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        try writeAndSync(data, to: temporary)
        try rename(temporary, to: path)
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    package static func rename(_ source: String, to destination: String) throws(Failure) {
        guard Glibc.rename(source, destination) == 0 else {
            throw Failure(operation: "rename", path: "\(source) -> \(destination)", code: errno)
        }
    }

    package static func syncDirectory(_ path: String) throws(Failure) {
        let directory = path.isEmpty ? "." : path
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(operation: "open", path: directory, code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(operation: "fsync", path: directory, code: errno) }
    }

    /// Creates `path` and any missing parents (an existing directory is fine).
    package static func makeDirectory(_ path: String) throws(Failure) {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw Failure(operation: "mkdir", path: path, code: errno) }
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, parent != path else { throw Failure(operation: "mkdir", path: path, code: ENOENT) }
        try makeDirectory(parent)
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Failure(operation: "mkdir", path: path, code: errno)
        }
    }

    /// Points the symlink `link` at `target` atomically: readers see the old target or the new one, never nothing.
    package static func swapSymlink(_ link: String, to target: String) throws(Failure) {
        let temporary = link + ".tmp-\(getpid())"
        unlink(temporary)
        guard symlink(target, temporary) == 0 else {
            throw Failure(operation: "symlink", path: temporary, code: errno)
        }
        try rename(temporary, to: link)
        try syncDirectory((link as NSString).deletingLastPathComponent)
    }

    /// The target of a symlink, or nil when `path` is not a symlink.
    package static func readSymlink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
