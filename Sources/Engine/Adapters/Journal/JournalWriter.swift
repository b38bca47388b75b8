import ArenaCore
import CLinux
import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Shared
import Synchronization

#if canImport(Glibc)
#endif

/// Appends cycle records as JSON lines under `journal/<trader_id>/`. The trading loop only enqueues; records are
/// written and fsynced in batches every `fsync_interval`. When the queue is full the caller waits for a flush
/// (counted and logged): records are never dropped. Files rotate by size and age. On start, a torn last line from
/// a crash is cut and reported; nothing before it is touched.
package actor JournalWriter: Service {
    package struct Settings: Sendable {
        package var root: String
        package var maxFileBytes: Int
        package var rotateInterval: Duration
        package var fsyncInterval: Duration
        package var queueCapacity: Int
        package var compressClosedFiles: Bool
        /// gzip level of closed files.
        package var compressionLevel = ArenaConfiguration.Journal.defaultCompressionLevel
        /// fsync each batch (a live engine); without it, each file is fsynced when closed (a backtest; the benchmark
        /// measures the cost).
        package var syncsEveryBatch = true
        /// A full queue is the batching (a backtest): counted, logged at debug level only.
        package var fillsQueueByDesign = false
        /// Encode each full batch beside the trading loop, on threads of their own (`WorkerThread.journalEncoding`),
        /// instead of in `append` (a backtest: the loop runs the next cycles meanwhile; the batch is written and
        /// fsynced when the next one is full, or on `flush`). A record still counts as pending until it is on disk.
        package var encodesInBackground = false
        /// With `encodesInBackground`: market series that continue the trader's previous record's are written as
        /// continuations (`MarketContinuation`); the first record with a market in each file is written whole.
        package var continuesSeries = false

        package init(_ configuration: ArenaConfiguration.Journal) {
            root = configuration.path
            maxFileBytes = configuration.maxFileBytes
            rotateInterval = configuration.rotateInterval
            fsyncInterval = configuration.fsyncInterval
            queueCapacity = configuration.queueCapacity
            compressClosedFiles = configuration.compressClosedFiles
            compressionLevel = configuration.compressionLevel ?? ArenaConfiguration.Journal.defaultCompressionLevel
            fillsQueueByDesign = configuration.fillsQueueByDesign
            encodesInBackground = configuration.encodesInBackground
            syncsEveryBatch = configuration.syncsEveryBatch
            continuesSeries = configuration.continuesSeries
        }

        package init(
            root: String,
            maxFileBytes: Int,
            rotateInterval: Duration,
            fsyncInterval: Duration,
            queueCapacity: Int,
            compressClosedFiles: Bool = false
        ) {
            self.root = root
            self.maxFileBytes = maxFileBytes
            self.rotateInterval = rotateInterval
            self.fsyncInterval = fsyncInterval
            self.queueCapacity = queueCapacity
            self.compressClosedFiles = compressClosedFiles
        }
    }

    private struct OpenFile {
        var descriptor: Int32
        var sequence: Int
        var bytes: Int
        var openedAt: ContinuousClock.Instant
        /// A line with a market is in the file (written by this writer): later lines may continue its series.
        var hasMarket = false
    }

    /// A queued line, and whether its record has a market written whole or continued from an earlier record's
    /// (`continuesSeries`; its batch is kept — one reference, not a copy of the record — to write it whole if it
    /// turns out first in a file).
    private struct QueuedLine {
        enum Market {
            case none, whole
            case continued(RecordBatch, Int)
        }

        var trader: String
        var line: [UInt8]
        var queuedAt: ContinuousClock.Instant
        var market: Market
    }

    package let settings: Settings
    package let directory: JournalDirectory
    private let logger: Logger
    private var queue: [QueuedLine] = []
    /// Lines gathered for one `write` at a time (`LineGatherer`), in a buffer kept from batch to batch; with an
    /// fsync per batch, each write's writeback starts at once.
    private let gatherer: LineGatherer
    /// Where the fsync time and the journal lag go (`/metrics`), when the engine serves them.
    private let metrics: EngineMetrics?
    private var files: [String: OpenFile] = [:]
    /// The journal's bytes are `JSONEncoder`'s with sorted keys and unescaped slashes; this writes them faster.
    private let encoder = SortedJSONEncoder()
    /// The text of doubles this writer has written lately (the actor's own: records encoded in `append`).
    private let numbers = DoubleTextCache()
    /// Times an append found the queue full and had to wait for the disk.
    package private(set) var fullQueueWaits = 0
    package var queueDepth: Int { queue.count }
    package private(set) var recordsWritten = 0
    /// Closed files being fsynced or compressed beside the writer (`finishInBackground`); awaited on close.
    private var compressions: [Int: Task<Void, Never>] = [:]
    private var nextCompression = 0
    /// `encodesInBackground`: records not yet handed to an encoding, and the batch being encoded (its records
    /// kept for `hasPending` and `lastCycle` until its lines are queued).
    private var unencoded: [CycleRecord] = []
    private var inFlight: [CycleRecord] = []
    private var encoding: Task<[EncodedLine], any Error>?
    /// `continuesSeries`: each trader's newest market handed to an encoding, which its next record continues.
    private var lastMarkets: [String: MarketSnapshot] = [:]
    /// `writesBeside`: the queue's runs being written on the files thread, oldest first (at most `writesAhead`),
    /// the newest line handed over per trader, and what those writes share with the thread.
    private var writes: [Task<Void, Never>] = []
    private var lastHandedOver: [String: [UInt8]] = [:]
    private let beside = BesideWrites()
    private static let writesAhead = 16

    /// Without an fsync per batch, a batch encoded beside the loop (a backtest) is also written beside it: its
    /// `write` calls — a twentieth of a backtest's loop — go to the files thread (`WorkerThread.journalFiles`), in
    /// order with the rotated files' fsync and compression there. Nothing was promised durable before `close`; a
    /// failed write fails the writer: the file is cut back to the last whole record before the run that failed,
    /// later runs are not written, and `append`, `flush` and `close` throw it from then on.
    private var writesBeside: Bool { settings.encodesInBackground && !settings.syncsEveryBatch }

    package init(settings: Settings, logger: Logger, metrics: EngineMetrics? = nil) {
        self.settings = settings
        self.metrics = metrics
        self.directory = JournalDirectory(root: settings.root)
        self.logger = logger
        self.gatherer = LineGatherer(startsWriteback: settings.syncsEveryBatch)
    }

    /// Cuts torn last lines left by a crash, tidies interrupted compressions, and compresses closed files left
    /// plain (when compression is on). Returns the bytes cut per trader.
    package func recover() throws -> [String: Int] {
        var cut: [String: Int] = [:]
        for trader in directory.traders() {
            try directory.tidy(trader: trader)
            // An intent whose replacement was cut short leaves its temporary file; the intent itself is whole.
            let folder = directory.traderDirectory(trader)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix(Self.intentFileName + ".tmp-") {
                unlink((folder as NSString).appendingPathComponent(name))
            }
            if settings.compressClosedFiles {
                for file in directory.files(trader: trader).dropLast() where file.path.hasSuffix(".jsonl") {
                    compressInBackground(file.path)
                }
            }
            let removed = try directory.repair(trader: trader)
            if removed > 0 {
                cut[trader] = removed
                logger.warning(
                    "journal: cut a torn last line left by a crash",
                    metadata: ["trader": "\(trader)", "bytes": "\(removed)"]
                )
            }
        }
        return cut
    }

    package func append(_ record: CycleRecord) async throws {
        if writesBeside, let failure = beside.failure { throw failure }
        if settings.encodesInBackground {
            unencoded.append(record)
            guard unencoded.count >= settings.queueCapacity else { return }
            // The previous batch's lines are queued, then written while this one is encoded: at most two batches
            // are in memory, and the disk and the encoding overlap.
            try await drainEncoding()
            let batch = unencoded
            unencoded = []
            // At its batch's size from the start: grown from empty, every batch copied its records over again.
            unencoded.reserveCapacity(settings.queueCapacity)
            inFlight = batch
            let encoder = encoder
            let previous = handOver(batch[...])
            encoding = Task.detached { try await Self.linesBeside(batch, encoder: encoder, continuing: previous) }
            // Written runs are let go once done; past `writesAhead` of them (the files thread busy with a long
            // compression) the loop waits for the oldest, so that memory stays bounded.
            while writes.count >= Self.writesAhead { await writes.removeFirst().value }
            try writeQueue()
            return
        }
        queue.append(
            QueuedLine(
                trader: record.traderID,
                line: try encoder.lineBytes(record, numbers: numbers),
                queuedAt: ContinuousClock.now,
                market: record.market == nil ? .none : .whole
            )
        )
        if queue.count >= settings.queueCapacity {
            fullQueueWaits += 1
            logger.log(
                level: settings.fillsQueueByDesign ? .debug : .warning,
                "journal queue full: the trading loop waited for the disk",
                metadata: ["records": "\(queue.count)"]
            )
            try writeQueue()
        }
    }

    // MARK: Order intents: the write-ahead of a cycle's orders

    /// Where a trader's cycle leaves its order intents while they go out: `<journal>/<trader>/intent.json`.
    package nonisolated func intentPath(trader: String) -> String {
        Self.intentPath(directory, trader: trader)
    }

    package static func intentPath(_ directory: JournalDirectory, trader: String) -> String {
        (directory.traderDirectory(trader) as NSString).appendingPathComponent(intentFileName)
    }

    package static let intentFileName = "intent.json"

    /// Makes a cycle's order intents durable before any of them is sent: the record as it stands (prompts,
    /// decisions, verdicts, the orders with their cloids), replaced atomically and fsynced.
    package func writeIntent(_ record: CycleRecord) throws {
        try AtomicFile.makeDirectory(directory.traderDirectory(record.traderID))
        try AtomicFile.replace(intentPath(trader: record.traderID), with: try encoder.encode(record))
    }

    /// The intents a stopped engine left behind for a trader, if any.
    package func intent(trader: String) throws -> CycleRecord? {
        try Self.intent(directory, trader: trader)
    }

    /// The same, read without a writer (`engine doctor`).
    package static func intent(_ directory: JournalDirectory, trader: String) throws -> CycleRecord? {
        let path = intentPath(directory, trader: trader)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try CycleRecord.read(from: data)
        } catch {
            throw JournalError.unreadableIntent(path: path, reason: "\(error)")
        }
    }

    /// The cycle's record is durable: its intents are done.
    package func clearIntent(trader: String) {
        unlink(intentPath(trader: trader))
    }

    /// The cycle number of a trader's newest record on disk or queued, if any.
    package func lastCycle(trader: String) throws -> Int? {
        struct Probe: Decodable { let cycle: Int }
        if let waiting = (inFlight + unencoded).last(where: { $0.traderID == trader }) { return waiting.cycle }
        if let queued = queue.last(where: { $0.trader == trader }) {
            return try JSONDecoder().decode(Probe.self, from: Data(queued.line)).cycle
        }
        if let handedOver = lastHandedOver[trader] {
            return try JSONDecoder().decode(Probe.self, from: Data(handedOver)).cycle
        }
        guard let line = try directory.lastLine(trader: trader) else { return nil }
        return try JSONDecoder().decode(Probe.self, from: line).cycle
    }

    /// Writes every queued record and fsyncs the files written. A record leaves the queue only once it is on disk
    /// and fsynced. When a write fails (a full disk, a file-size limit) the file is cut back to its last whole
    /// record, so no torn line is left mid-file, and that record and every later one of the same trader stay
    /// queued for the next flush (other traders' records still go to their own files); when an fsync fails, every
    /// file of the batch is cut back to where it was and the whole batch stays queued (after a failed fsync the
    /// kernel may have dropped the pages: they are written again, not trusted). The first failure is thrown once
    /// the rest is done.
    package func flush() async throws {
        if settings.encodesInBackground {
            try await drainEncoding()
            let rest = unencoded
            let lines: [EncodedLine]
            do {
                lines = try Self.lines(rest[...], encoder: encoder, continuing: handOver(rest[...]))
            } catch {
                lastMarkets = [:]
                throw error
            }
            unencoded = []
            enqueue(rest, lines)
        }
        try writeQueue()
        try await waitForWrites()
    }

    /// Waits for the runs being written beside the writer, then throws the first failed write (`writesBeside`).
    private func waitForWrites() async throws {
        let running = writes
        writes = []
        for task in running { await task.value }
        if let failure = beside.failure { throw failure }
    }

    /// A record's line, and whether it continues an earlier record's market series.
    package typealias EncodedLine = (line: [UInt8], continues: Bool)

    /// Each record's line (with its newline), in order. With `previous` (each trader's market before the first
    /// record), each record's series continue the trader's newest market before it where they can.
    private static func lines(
        _ records: ArraySlice<CycleRecord>,
        encoder: SortedJSONEncoder,
        continuing previous: [String: MarketSnapshot]?
    ) throws -> [EncodedLine] {
        // Consecutive records repeat most of their series' values: their text is copied, not formatted again.
        let numbers = DoubleTextCache()
        guard var previous else { return try records.map { (try encoder.lineBytes($0, numbers: numbers), false) } }
        return try records.map { record in
            guard let market = record.market else { return (try encoder.lineBytes(record, numbers: numbers), false) }
            let earlier = previous[record.traderID]
            previous[record.traderID] = market
            let line = try encoder.lineBytes(numbers: numbers) {
                try record.writeSortedJSON(to: &$0, continuing: earlier)
            }
            return (line, earlier != nil)
        }
    }

    /// The markets `records` continue (nil without `continuesSeries`); `lastMarkets` moves on past them. A failed
    /// encoding empties `lastMarkets`: what follows it is written whole.
    private func handOver(_ records: ArraySlice<CycleRecord>) -> [String: MarketSnapshot]? {
        guard settings.continuesSeries else { return nil }
        let previous = lastMarkets
        Self.advance(&lastMarkets, past: records)
        return previous
    }

    /// `markets` moved on past `records`: each trader's newest market among them.
    private static func advance(_ markets: inout [String: MarketSnapshot], past records: ArraySlice<CycleRecord>) {
        // From the newest, by field (a record copied out of the batch retained every field of it), each trader's
        // first market found being its newest.
        var found: Set<String> = []
        var index = records.endIndex
        while index > records.startIndex {
            index -= 1
            guard records[index].market != nil, !found.contains(records[index].traderID) else { continue }
            found.insert(records[index].traderID)
            markets[records[index].traderID] = records[index].market
        }
    }

    /// Records encoded together, shared by their queued lines.
    private final class RecordBatch: Sendable {
        let records: [CycleRecord]
        init(_ records: [CycleRecord]) { self.records = records }
    }

    /// Queues each record's line, in order.
    private func enqueue(_ records: [CycleRecord], _ lines: [EncodedLine]) {
        let now = ContinuousClock.now
        let batch = RecordBatch(records)
        for (index, encoded) in lines.enumerated() {
            // By field: a copy of the record would retain every one of its fields.
            let market: QueuedLine.Market =
                records[index].market == nil ? .none : encoded.continues ? .continued(batch, index) : .whole
            queue.append(
                QueuedLine(trader: records[index].traderID, line: encoded.line, queuedAt: now, market: market)
            )
        }
    }

    /// Each record's line, in order, the batch cut into consecutive runs encoded at once on the journal's encoding
    /// threads (one per core, each run with its own text cache: the bytes do not depend on it). The first failure
    /// is thrown.
    package static func linesBeside(
        _ records: [CycleRecord],
        encoder: SortedJSONEncoder,
        continuing previous: [String: MarketSnapshot]?
    ) async throws -> [EncodedLine] {
        let workers = WorkerThread.journalEncoding
        let size = (records.count + workers.count - 1) / workers.count
        // A run shorter than this is not worth a thread of its own.
        guard workers.count > 1, size >= 16 else {
            return try await workers[0].perform { try lines(records[...], encoder: encoder, continuing: previous) }
        }
        return try await withThrowingTaskGroup(of: (Int, [EncodedLine]).self) { group in
            var markets = previous
            for (part, start) in stride(from: 0, to: records.count, by: size).enumerated() {
                // A slice shares the batch's storage: the records are not copied (each copy retained every field).
                let run = records[start..<min(start + size, records.count)]
                // Each run continues from the markets of the records before it.
                let before = markets
                if markets != nil { advance(&markets!, past: run) }
                group.addTask {
                    (part, try await workers[part].perform { try lines(run, encoder: encoder, continuing: before) })
                }
            }
            var runs = [[EncodedLine]](repeating: [], count: (records.count + size - 1) / size)
            for try await (part, lines) in group { runs[part] = lines }
            return runs.flatMap { $0 }
        }
    }

    /// Waits for the batch being encoded and queues its lines (in order, after what is queued).
    private func drainEncoding() async throws {
        guard let task = encoding else { return }
        encoding = nil
        let batch = inFlight
        let lines: [EncodedLine]
        do {
            lines = try await task.value
        } catch {
            // Not encodable (a non-finite number): the batch goes back to be encoded again, and fails again. Its
            // records' markets were never written: what follows is written whole (`handOver`).
            unencoded = batch + unencoded
            inFlight = []
            lastMarkets = [:]
            throw error
        }
        inFlight = []
        enqueue(batch, lines)
        // Freed on an encoding thread, after the batch it is encoding now: beside the loop, and soon (the files
        // thread can be busy compressing for a second while spent batches pile up).
        WorkerThread.journalEncoding[0].release(consume batch)
    }

    /// Writes the queue (see `flush`). Each run of one trader's consecutive records that fits its current file goes
    /// out through a `LineGatherer` (here, or on the files thread with `writesBeside`).
    private func writeQueue() throws {
        if writesBeside, let failure = beside.failure { throw failure }
        guard !queue.isEmpty else { return }
        /// Each file this batch wrote to, with its length before the batch.
        var before: [String: (descriptor: Int32, bytes: Int, hasMarket: Bool)] = [:]
        var remaining: [QueuedLine] = []
        var failed: Set<String> = []
        var failure: (any Error)?
        var start = queue.startIndex
        while start < queue.endIndex {
            let trader = queue[start].trader
            guard !failed.contains(trader) else {
                remaining.append(queue[start])
                start += 1
                continue
            }
            var end = start + 1
            do {
                var file = try openFile(trader, adding: queue[start].line.count)
                if before[trader]?.descriptor != file.descriptor {
                    before[trader] = (file.descriptor, file.bytes, file.hasMarket)
                }
                if !file.hasMarket { try writeFirstMarketWhole(from: start) }
                var bytes = queue[start].line.count
                while end < queue.endIndex, queue[end].trader == trader,
                    file.bytes + bytes + queue[end].line.count <= settings.maxFileBytes
                {
                    bytes += queue[end].line.count
                    end += 1
                }
                if writesBeside {
                    let lines = queue[start..<end].map(\.line)
                    lastHandedOver[trader] = lines.last
                    let beside = beside
                    let (descriptor, length) = (file.descriptor, file.bytes)
                    writes.append(
                        WorkerThread.journalFiles.schedule { beside.write(lines, to: descriptor, after: length) }
                    )
                } else {
                    try writeRun(start..<end, to: file, trader: trader)
                }
                file.bytes += bytes
                if !file.hasMarket {
                    file.hasMarket = queue[start..<end].contains {
                        if case .none = $0.market { false } else { true }
                    }
                }
                files[trader] = file
            } catch {
                failed.insert(trader)
                remaining.append(contentsOf: queue[start..<end])
                failure = failure ?? error
            }
            start = end
        }
        let syncStarted = ContinuousClock.now
        if settings.syncsEveryBatch {
            for trader in before.keys.sorted() {
                guard let file = files[trader], fsync(file.descriptor) != 0 else { continue }
                let code = errno
                for (other, start) in before {
                    guard var file = files[other], file.descriptor == start.descriptor else { continue }
                    _ = ftruncate(file.descriptor, off_t(start.bytes))
                    file.bytes = start.bytes
                    file.hasMarket = start.hasMarket
                    files[other] = file
                }
                throw AtomicFile.Failure(operation: "fsync", path: directory.traderDirectory(trader), code: code)
            }
        }
        let written = queue.count - remaining.count
        if let metrics, written > 0, let oldest = queue.first?.queuedAt {
            let now = ContinuousClock.now
            metrics.recordJournalFlush(fsync: now - syncStarted, lag: now - oldest)
        }
        // The written lines are freed beside the loop (handed over, the queue's only reference).
        var spent = remaining
        swap(&spent, &queue)
        WorkerThread.journalEncoding[WorkerThread.journalEncoding.count - 1].release(consume spent)
        recordsWritten += written
        if let failure { throw failure }
    }

    /// Writes the queue's lines in `range` to `file` (`LineGatherer`). On a failure nothing of the run stays: the
    /// file is cut back to its last whole record before it.
    private func writeRun(_ range: Range<Int>, to file: OpenFile, trader: String) throws {
        if let failure = gatherer.write(queue[range].lazy.map(\.line), to: file.descriptor, after: file.bytes) {
            files[trader] = file
            throw failure
        }
    }

    /// The first line with a market among the trader's consecutive lines from `start`, written whole when it
    /// continues an earlier record: it starts a file (or one this writer has written no market to), which must
    /// resolve on its own.
    private func writeFirstMarketWhole(from start: Int) throws {
        let trader = queue[start].trader
        var index = start
        while index < queue.endIndex, queue[index].trader == trader {
            switch queue[index].market {
            case .none: index += 1
            case .whole: return
            case .continued(let batch, let position):
                queue[index].line = try encoder.lineBytes(batch.records[position], numbers: nil)
                queue[index].market = .whole
                return
            }
        }
    }

    /// A flush from the writer's own timer: a failure (a full disk) leaves the records queued and is logged once
    /// per streak; the engine keeps running and the manager holds back the traders whose records wait.
    private func flushReportingOnce() {
        do {
            try writeQueue()
            if isFailing {
                isFailing = false
                logger.notice("journal writable again: queued records written")
            }
        } catch {
            if !isFailing {
                logger.error(
                    "journal cannot be written: records stay queued",
                    metadata: ["records": "\(queue.count)", "error": "\(error)"]
                )
            }
            isFailing = true
        }
    }

    private var isFailing = false

    /// Whether records of `trader` are queued, not yet durable.
    package func hasPending(trader: String) -> Bool {
        queue.contains { $0.trader == trader } || inFlight.contains { $0.traderID == trader }
            || unencoded.contains { $0.traderID == trader }
            // A failed write beside the writer lost the runs handed over after it.
            || (beside.failure != nil && lastHandedOver[trader] != nil)
    }

    package func close() async throws {
        try await flush()
        // Without an fsync per batch, the files are made durable here.
        var failure: AtomicFile.Failure?
        for (trader, file) in files.sorted(by: { $0.key < $1.key }) {
            if !settings.syncsEveryBatch, fsync(file.descriptor) != 0, failure == nil {
                failure = AtomicFile.Failure(operation: "fsync", path: directory.traderDirectory(trader), code: errno)
            }
            Glibc.close(file.descriptor)
        }
        files.removeAll()
        let running = compressions.values
        compressions.removeAll()
        for task in running { await task.value }
        if let failure = failure ?? closedFileFailure { throw failure }
    }

    /// Compresses a closed file off the writer's path; a failure leaves the plain file, which readers accept.
    private func compressInBackground(_ path: String) {
        finishInBackground(path, descriptor: nil)
    }

    /// Off the writer's path: makes a rotated file durable and closes its `descriptor` (when given; a failure is
    /// thrown by `close`), and compresses the file when closed files are compressed (a failure leaves the plain
    /// file, which readers accept). A file that is compressed is made durable as its compressed copy (fsynced
    /// before it replaces the plain file, which is then removed): the plain file is fsynced only when it stays —
    /// compression off, or failed. (A backtest's rotated files were each fsynced whole, then deleted: the wait
    /// held up the writes queued behind it on the files thread.)
    private func finishInBackground(_ path: String, descriptor: Int32?) {
        let logger = logger
        let level = settings.compressionLevel
        let compresses = settings.compressClosedFiles
        let folder = (path as NSString).deletingLastPathComponent
        nextCompression += 1
        let id = nextCompression
        // Queued now: after the writes handed to the files thread before it (`writesBeside`), its file's included.
        let job = WorkerThread.journalFiles.schedule { () -> AtomicFile.Failure? in
            defer { if let descriptor { Glibc.close(descriptor) } }
            if compresses {
                do {
                    try JournalDirectory.compress(path: path, level: level)
                    return nil
                } catch {
                    logger.warning(
                        "journal: a closed file stays uncompressed",
                        metadata: ["path": "\(path)", "error": "\(error)"]
                    )
                }
            }
            if let descriptor, fsync(descriptor) != 0 {
                return AtomicFile.Failure(operation: "fsync", path: folder, code: errno)
            }
            return nil
        }
        compressions[id] = Task.detached { await self.compressionFinished(id, failure: await job.value) }
    }

    private func compressionFinished(_ id: Int, failure: AtomicFile.Failure?) {
        compressions[id] = nil
        if let failure, closedFileFailure == nil { closedFileFailure = failure }
    }

    /// The first fsync of a rotated file that failed in the background (`finishInBackground`): thrown by `close`.
    private var closedFileFailure: AtomicFile.Failure?

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: self.settings.fsyncInterval)
                    await self.flushReportingOnce()
                }
            }
        } catch is CancellationError {
            // Shutdown: fall through to the final flush.
        }
        try await close()
    }

    /// The trader's current file, rotated first when this line would pass the size limit or the file is too old.
    private func openFile(_ trader: String, adding count: Int) throws -> OpenFile {
        if var file = files[trader] {
            let tooBig = file.bytes > 0 && file.bytes + count > settings.maxFileBytes
            let tooOld = ContinuousClock.now - file.openedAt >= settings.rotateInterval
            guard tooBig || tooOld else { return file }
            let path = (directory.traderDirectory(trader) as NSString).appendingPathComponent(
                directory.fileName(sequence: file.sequence)
            )
            if settings.syncsEveryBatch {
                guard fsync(file.descriptor) == 0 else {
                    throw AtomicFile.Failure(operation: "fsync", path: directory.traderDirectory(trader), code: errno)
                }
                Glibc.close(file.descriptor)
                if settings.compressClosedFiles { compressInBackground(path) }
            } else {
                // Nothing is promised durable before `close` (a backtest): the closed file is fsynced beside the
                // loop, then compressed, instead of the loop waiting for its 64 MiB to reach the disk.
                finishInBackground(path, descriptor: file.descriptor)
            }
            file = try create(trader, sequence: file.sequence + 1)
            return file
        }
        let existing = directory.files(trader: trader).last
        if let existing, existing.path.hasSuffix(".gz") {
            // A compressed file is closed for good: continue in a new one.
            return try create(trader, sequence: existing.sequence + 1)
        }
        if let existing {
            let size = (try? FileManager.default.attributesOfItem(atPath: existing.path)[.size] as? Int) ?? 0
            if size + count <= settings.maxFileBytes || size == 0 {
                let descriptor = open(existing.path, O_WRONLY | O_APPEND | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw AtomicFile.Failure(operation: "open", path: existing.path, code: errno)
                }
                return OpenFile(descriptor: descriptor, sequence: existing.sequence, bytes: size, openedAt: .now)
            }
            return try create(trader, sequence: existing.sequence + 1)
        }
        return try create(trader, sequence: 1)
    }

    private func create(_ trader: String, sequence: Int) throws -> OpenFile {
        let folder = directory.traderDirectory(trader)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent(directory.fileName(sequence: sequence))
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.Failure(operation: "open", path: path, code: errno) }
        try AtomicFile.syncDirectory(folder)
        return OpenFile(descriptor: descriptor, sequence: sequence, bytes: 0, openedAt: .now)
    }
}

/// A run of lines appended to a file in writes of up to a mebibyte, not one per line (a write per record made the
/// loop wait on the page the kernel was writing back, about once per record), gathered in a buffer kept from run
/// to run (one the size of a whole run — up to a hundred megabytes of 24 KiB records — was mapped and faulted in
/// afresh by every batch). Used by one thread at a time.
///
/// With `startsWriteback` (a live journal, fsynced every batch) each write's range is handed to the disk at once
/// (`sync_file_range`, `SYNC_FILE_RANGE_WRITE`: start the writeback, do not wait), so the disk works while the rest
/// of the batch is written, and the batch's fsync waits for its tail rather than for all of it.
final class LineGatherer: @unchecked Sendable {
    private var gathered: [UInt8] = []
    private static let limit = 1 << 20
    private let startsWriteback: Bool
    /// Where the next write lands in the file being written.
    private var offset = 0

    init(startsWriteback: Bool = false) {
        self.startsWriteback = startsWriteback
    }

    /// Appends `lines` to `descriptor`, whose file held `length` bytes before them. On a failed write the file is
    /// cut back to `length` (no torn line, nothing of the run) and the failure returned.
    func write(
        _ lines: some Sequence<[UInt8]>,
        to descriptor: Int32,
        after length: Int
    ) -> AtomicFile.Failure? {
        var problem: AtomicFile.Failure?
        offset = length
        for line in lines where problem == nil {
            if gathered.count + line.count > Self.limit { problem = flush(descriptor) }
            if line.count > Self.limit {
                problem = problem ?? write(line, to: descriptor)
            } else {
                gathered.append(contentsOf: line)
            }
        }
        problem = problem ?? flush(descriptor)
        guard let problem else { return nil }
        gathered.removeAll(keepingCapacity: true)
        _ = ftruncate(descriptor, off_t(length))
        return problem
    }

    private func flush(_ descriptor: Int32) -> AtomicFile.Failure? {
        guard !gathered.isEmpty else { return nil }
        defer { gathered.removeAll(keepingCapacity: true) }
        return write(gathered, to: descriptor)
    }

    private func write(_ bytes: [UInt8], to descriptor: Int32) -> AtomicFile.Failure? {
        let failure = bytes.withUnsafeBytes { raw -> AtomicFile.Failure? in
            do throws(AtomicFile.Failure) {
                try AtomicFile.writeAll(raw, to: descriptor, path: "journal")
                return nil
            } catch {
                return error
            }
        }
        if failure == nil, startsWriteback {
            // A hint: a failure here changes nothing (the batch's fsync reports what did not reach the disk).
            _ = sync_file_range(descriptor, Int64(offset), Int64(bytes.count), ARENA_SYNC_FILE_RANGE_WRITE)
        }
        offset += bytes.count
        return failure
    }
}

/// What the writer's runs written on the files thread share with it (`JournalWriter.writesBeside`): the first
/// failed write, and the thread's own gatherer (jobs run one at a time).
private final class BesideWrites: Sendable {
    private let failed = Mutex<AtomicFile.Failure?>(nil)
    private let gatherer = LineGatherer()

    var failure: AtomicFile.Failure? { failed.withLock { $0 } }

    /// On the files thread: appends `lines` to `descriptor`, whose file held `length` bytes before them. After a
    /// failed write nothing more is written; the failed run is cut back off the file.
    func write(_ lines: [[UInt8]], to descriptor: Int32, after length: Int) {
        guard failure == nil else { return }
        guard let problem = gatherer.write(lines, to: descriptor, after: length) else { return }
        failed.withLock { $0 = $0 ?? problem }
    }
}

package enum JournalError: Error, CustomStringConvertible {
    case unreadableIntent(path: String, reason: String)
    /// Records are still queued: an earlier write failed.
    case pending

    package var description: String {
        switch self {
        case .unreadableIntent(let path, let reason):
            "\(path): the order intents of an interrupted cycle do not decode (\(reason)); inspect the file, then move it away to start"
        case .pending: "records are still waiting to be written"
        }
    }
}
