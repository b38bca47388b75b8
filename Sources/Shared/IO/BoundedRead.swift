import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading files a reader does not trust the shape of (a snapshot generation another process wrote).
package enum BoundedRead {
    /// The bytes of the regular file at `path`, or nil when nothing is there. Anything else — a FIFO, a device, a
    /// directory, a symlink, a file over `limit` bytes — is refused without reading it (a FIFO would block the
    /// reader forever, a huge file would exhaust its memory). The checks are made on the open descriptor, so the
    /// file cannot be swapped between the check and the read.
    package static func regularFile(_ path: String, limit: Int) throws(AtomicFile.Failure) -> Data? {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw AtomicFile.Failure(operation: "open", path: path, code: errno)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw AtomicFile.Failure(operation: "stat", path: path, code: errno)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw AtomicFile.Failure(operation: "read", path: path, code: EINVAL)
        }
        guard status.st_size <= limit else { throw AtomicFile.Failure(operation: "read", path: path, code: EFBIG) }
        var data = Data(count: Int(status.st_size))
        var offset = 0
        var failure: AtomicFile.Failure?
        data.withUnsafeMutableBytes { raw in
            while offset < raw.count {
                let count = read(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if count < 0, errno == EINTR { continue }
                if count < 0 { failure = AtomicFile.Failure(operation: "read", path: path, code: errno) }
                if count <= 0 { return }
                offset += count
            }
        }
        if let failure { throw failure }
        return data.prefix(offset)
    }
}
