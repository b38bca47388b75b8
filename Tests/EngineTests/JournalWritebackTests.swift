import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters

/// A live journal (an fsync per batch) hands each write to the disk at once (`LineGatherer`'s
/// `startsWriteback`), so the disk works while the batch is still being written. Observed with Linux's
/// `cachestat` (the file's dirty pages in the page cache): without the hint, written pages stay dirty until the
/// kernel's own writeback, 30 s later by default.
@Suite("the live journal's writeback")
struct JournalWritebackTests {
    /// `cachestat(2)` through Python's ctypes: the file's pages in the cache and how many of them are dirty.
    static let cachestat = """
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        class Range(ctypes.Structure):
            _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
        class Stat(ctypes.Structure):
            _fields_ = [(n, ctypes.c_uint64) for n in ("cache", "dirty", "writeback", "evicted", "recent")]
        fd = os.open(sys.argv[1], os.O_RDONLY)
        stat = Stat()
        if libc.syscall(451, fd, ctypes.byref(Range(0, 0)), ctypes.byref(stat), 0) != 0:
            sys.exit("cachestat: errno %d" % ctypes.get_errno())
        print(stat.cache, stat.dirty)
        """

    static func pages(_ path: String) throws -> (cached: Int, dirty: Int) {
        let output = try ProcessRunner.runSystem("/usr/bin/python3", ["-c", cachestat, path])
        let numbers = output.split(separator: " ").compactMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard numbers.count == 2 else { throw WritebackTestError.noCachestat(output) }
        return (numbers[0], numbers[1])
    }

    /// 8 MiB of lines written by a gatherer into a new file on the repository's disk (a scratch directory in
    /// `/tmp` could be a tmpfs, whose pages are never written back).
    static func write(startsWriteback: Bool) throws -> String {
        let directory = try TestPaths.makeDiskScratch("writeback")
        let path = directory.appendingPathComponent("00000001.jsonl").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let lines = (0..<256).map { index in
            Array(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 32767) + [0x0A]
        }
        #expect(LineGatherer(startsWriteback: startsWriteback).write(lines, to: descriptor, after: 0) == nil)
        return path
    }

    @Test func liveWrites_areHandedToTheDisk_beforeTheirFsync() async throws {
        let plain = try Self.write(startsWriteback: false)
        let hinted = try Self.write(startsWriteback: true)
        defer {
            for path in [plain, hinted] {
                try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
            }
        }
        // What the kernel does on its own: the pages sit dirty (this also shows cachestat sees them).
        let before = try Self.pages(plain)
        #expect(before.cached >= 2048 && before.dirty >= 1024, "\(before)")
        // With the hint, every page is written back within seconds, without any fsync.
        var hintedPages = try Self.pages(hinted)
        let deadline = ContinuousClock.now + .seconds(15)
        while hintedPages.dirty > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            hintedPages = try Self.pages(hinted)
        }
        #expect(hintedPages.dirty == 0, "\(hintedPages)")
        #expect(try Self.pages(plain).dirty >= 1024)
    }
}

enum WritebackTestError: Error {
    case noCachestat(String)
}
