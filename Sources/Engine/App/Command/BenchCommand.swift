import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Shared

/// `engine bench`: the engine's own cost per decision cycle, for the README's table (a benchmark, not a test).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's time per cycle with a model that answers instantly."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Cycles to time.")
    var cycles: Int = 2000

    @Option(name: .long, help: "Also time a backtest over this many synthetic 1-minute candles (0: skip).")
    var backtestCandles: Int = 0

    @Option(name: .long, help: "Decision intervals of the backtest's baseline trader, comma-separated.")
    var backtestIntervals: String = "1h,3m"

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        guard cycles >= 10 else {
            FileHandle.standardError.write(Data("engine bench: --cycles must be at least 10\n".utf8))
            throw ExitCode(1)
        }
        let result: CycleBenchmark.Result
        do {
            result = try await CycleBenchmark(configuration: configuration, cycles: cycles).run()
        } catch {
            FileHandle.standardError.write(Data("engine bench: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("| measure | value |")
        print("|---|---:|")
        print("| cycles timed (\(result.symbols) symbols, instant model, orders every cycle) | \(result.cycles) |")
        print("| median engine time per cycle | \(String(format: "%.0f", result.medianCycleMicroseconds)) µs |")
        print("| p99 engine time per cycle | \(String(format: "%.0f", result.p99CycleMicroseconds)) µs |")
        print(
            "| export of \(result.exportTraders) traders (build + publish, median) | \(String(format: "%.1f", result.exportMilliseconds)) ms |"
        )
        print("| tick bookkeeping per trader | \(String(format: "%.1f", result.tickMicrosecondsPerTrader)) µs |")
        print("| traders sustained on a 3-minute interval within half a core | \(result.tradersAtHalfACore) |")
        print(
            "| journal append, records of \(result.journalRecordBytes / 1024) KiB, fsync per batch | "
                + "\(String(format: "%.0f", result.journalRecordsPerSecond)) records/s, "
                + "\(String(format: "%.0f", result.journalMegabytesPerSecond)) MB/s |"
        )
        print(
            "| same, as a backtest writes it (batches of \(Backtest.journalBatch) encoded on every core while the "
                + "previous one is written) | \(String(format: "%.0f", result.backgroundJournalRecordsPerSecond)) records/s, "
                + "\(String(format: "%.0f", result.backgroundJournalMegabytesPerSecond)) MB/s |"
        )
        print(
            "| the ceiling: the same records encoded on every core, written nowhere | "
                + "\(String(format: "%.0f", result.encodingCeilingRecordsPerSecond)) records/s, "
                + "\(String(format: "%.0f", result.encodingCeilingMegabytesPerSecond)) MB/s |"
        )
        if let disk = ProcessInfo.processInfo.environment["ARENA_BENCH_DISK_MBPS"].flatMap(Double.init), disk > 0 {
            print(
                "| the disk's fsync'd sequential bandwidth (`dd … conv=fdatasync`, same run); journal / disk: "
                    + "encoded in append, as a backtest writes it, the ceiling | \(String(format: "%.0f", disk)) MB/s; "
                    + "\(String(format: "%.2f", result.journalMegabytesPerSecond / disk)) ×, "
                    + "\(String(format: "%.2f", result.backgroundJournalMegabytesPerSecond / disk)) ×, "
                    + "\(String(format: "%.2f", result.encodingCeilingMegabytesPerSecond / disk)) × |"
            )
        }
        print(
            "| journal record encoding, JSONEncoder → SortedJSONEncoder (same bytes) | "
                + "\(String(format: "%.0f", result.foundationEncodeMicroseconds)) µs → "
                + "\(String(format: "%.0f", result.sortedEncodeMicroseconds)) µs "
                + "(\(String(format: "%.1f", result.foundationEncodeMicroseconds / max(result.sortedEncodeMicroseconds, 0.001))) ×) |"
        )
        print(
            "| journal append, same records, no fsync | "
                + "\(String(format: "%.0f", result.unsyncedJournalRecordsPerSecond)) records/s, "
                + "\(String(format: "%.0f", result.unsyncedJournalMegabytesPerSecond)) MB/s |"
        )
        print(
            "| replay (prompts, parse, risk, intents) | \(String(format: "%.0f", result.replayCyclesPerSecond)) cycles/s |"
        )
        print(
            "| journal record decoding, JSONDecoder → the journal's reader (same record) | "
                + "\(String(format: "%.0f", result.foundationDecodeMicroseconds)) µs → "
                + "\(String(format: "%.0f", result.readerDecodeMicroseconds)) µs "
                + "(\(String(format: "%.1f", result.foundationDecodeMicroseconds / max(result.readerDecodeMicroseconds, 0.001))) ×) |"
        )
        print(
            "| replay as `engine replay` runs it: journal files read, decoded, replayed | "
                + "\(String(format: "%.0f", result.replayFromFilesCyclesPerSecond)) cycles/s |"
        )
        do {
            let gateway = try await GatewayBenchmark(configuration: configuration, calls: 2000).run()
            print(
                "| model call, in-process model, direct (median) | \(String(format: "%.1f", gateway.directMedianMicroseconds)) µs |"
            )
            print(
                "| same call through the gateway: router, budget, cache miss + store (median) | "
                    + "\(String(format: "%.1f", gateway.gatewayMedianMicroseconds)) µs |"
            )
            print(
                "| same call answered by the digest cache (median) | \(String(format: "%.1f", gateway.hitMedianMicroseconds)) µs |"
            )
            print(
                "| cache hit rate replaying a recorded run (\(gateway.replayedCycles) cycles) against a model: first pass, second pass | "
                    + "\(String(format: "%.1f", gateway.firstPassHitRatePct)) %, \(String(format: "%.1f", gateway.secondPassHitRatePct)) % |"
            )
        } catch {
            FileHandle.standardError.write(Data("engine bench: gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard backtestCandles > 0 else { return }
        for text in backtestIntervals.split(separator: ",") {
            guard let interval = ConfigDuration.parse(String(text)), interval >= .seconds(60) else {
                FileHandle.standardError.write(Data("engine bench: --backtest-intervals: bad interval \(text)\n".utf8))
                throw ExitCode(1)
            }
            do {
                let backtest = try await BacktestBenchmark(
                    configuration: configuration,
                    candles: backtestCandles,
                    interval: interval,
                    baseline: "ema-cross"
                ).run()
                print(
                    "| backtest, EMA-cross baseline every \(text) over \(backtest.candles) 1-minute candles "
                        + "(\(backtest.cycles) cycles) | \(String(format: "%.1f", backtest.seconds)) s, "
                        + "\(String(format: "%.0f", backtest.candlesPerSecond)) candles/s |"
                )
            } catch {
                FileHandle.standardError.write(Data("engine bench: backtest: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
