import ArenaAdapters
import ArenaCore
import ArenaRuntime
import Foundation
import Logging
import Shared

/// The backtest benchmark: a synthetic 1-minute BTC series (a seeded random walk, so every run sees the same
/// candles) of `candles` rows with its 4-hour context, run through `Backtest` with one baseline trader deciding
/// every `interval`. Reports candles per second of wall time.
struct BacktestBenchmark {
    let configuration: ArenaConfiguration
    let candles: Int
    let interval: Duration
    let baseline: String

    struct Result: Sendable {
        var candles: Int
        var cycles: Int
        var seconds: Double
        var candlesPerSecond: Double { Double(candles) / max(seconds, 1e-9) }
    }

    static let start: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z

    func run() async throws -> Result {
        let directory = NSTemporaryDirectory() + "arena-backtest-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.writeSeries(candles: candles, directory: directory)

        var base = configuration
        guard let index = base.manager.traders.firstIndex(where: { $0.model == baseline && $0.isEnabled }) else {
            throw Backtest.Failure(description: "no enabled trader uses the baseline model '\(baseline)'")
        }
        base.manager.traders[index].decisionInterval = interval
        base.llm.budget = .init(
            dailyTokenLimit: nil,
            dailyUSDLimit: nil,
            alertThresholdPct: 80,
            statePath: directory + "/llm-budget.json"
        )
        let options = Backtest.Options(
            from: nil,
            to: nil,
            symbols: ["BTC"],
            dataDirectory: directory,
            intradayInterval: "1m",
            traders: [base.manager.traders[index].id],
            output: directory + "/out"
        )
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let started = ContinuousClock.now
        let report = try await Backtest.run(base: base, options: options, logger: logger)
        let elapsed = ContinuousClock.now - started
        return Result(
            candles: report.candles,
            cycles: report.cycles,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    /// `hyperliquid_BTC_1m.csv` and `hyperliquid_BTC_4h.csv` for a seeded random walk.
    static func writeSeries(candles: Int, directory: String) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var minute = "open_time_ms,open,high,low,close,volume\n"
        minute.reserveCapacity(candles * 48)
        var context = "open_time_ms,open,high,low,close,volume\n"
        var price = 60_000.0
        var bucket: (open: Double, high: Double, low: Double, close: Double, volume: Double, time: Int64)?
        func number(_ value: Double) -> String { String(format: "%.2f", value) }
        for index in 0..<candles {
            let time = start + Int64(index) * 60_000
            let open = price
            price *= 1 + (uniform() - 0.5) * 0.002
            let close = price
            let high = max(open, close) * (1 + uniform() * 0.0005)
            let low = min(open, close) * (1 - uniform() * 0.0005)
            let volume = 5 + uniform() * 20
            minute += "\(time),\(number(open)),\(number(high)),\(number(low)),\(number(close)),\(number(volume))\n"
            let fourHour = time - (time - start) % 14_400_000
            if let current = bucket, current.time == fourHour {
                bucket = (
                    current.open, max(current.high, high), min(current.low, low), close, current.volume + volume,
                    fourHour
                )
            } else {
                if let done = bucket {
                    context +=
                        "\(done.time),\(number(done.open)),\(number(done.high)),\(number(done.low)),\(number(done.close)),\(number(done.volume))\n"
                }
                bucket = (open, high, low, close, volume, fourHour)
            }
        }
        if let done = bucket {
            context +=
                "\(done.time),\(number(done.open)),\(number(done.high)),\(number(done.low)),\(number(done.close)),\(number(done.volume))\n"
        }
        try Data(minute.utf8).write(to: URL(fileURLWithPath: directory + "/hyperliquid_BTC_1m.csv"))
        try Data(context.utf8).write(to: URL(fileURLWithPath: directory + "/hyperliquid_BTC_4h.csv"))
    }
}
