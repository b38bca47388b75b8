/// Technical indicators computed locally over closed candles, with the definitions TA-Lib uses:
/// EMA with α = 2/(n+1); RSI and ATR with Wilder's smoothing (α = 1/n); MACD 12/26/9 on EMAs.
/// Each series is seeded with a simple average of its first `n` inputs; after a few hundred candles any seeding
/// convention has decayed below 1e-9, which is why the replay provider warms up on history.
package enum Indicators {
    /// Exponential moving average; `nil` until `period` values have been seen.
    package static func ema(_ values: [Double], period: Int) -> [Double?] {
        smoothed(values, period: period, alpha: 2 / Double(period + 1))
    }

    /// Wilder smoothing (α = 1/n), the average RSI and ATR use.
    package static func wilder(_ values: [Double], period: Int) -> [Double?] {
        smoothed(values, period: period, alpha: 1 / Double(period))
    }

    private static func smoothed(_ values: [Double], period: Int, alpha: Double) -> [Double?] {
        var result = [Double?](repeating: nil, count: values.count)
        guard period > 0, values.count >= period else { return result }
        var average = values[0..<period].reduce(0, +) / Double(period)
        result[period - 1] = average
        for index in period..<values.count {
            average += alpha * (values[index] - average)
            result[index] = average
        }
        return result
    }

    package static func sma(_ values: [Double], period: Int) -> [Double?] {
        var result = [Double?](repeating: nil, count: values.count)
        guard period > 0 else { return result }
        var sum = 0.0
        for index in values.indices {
            sum += values[index]
            if index >= period { sum -= values[index - period] }
            if index >= period - 1 { result[index] = sum / Double(period) }
        }
        return result
    }

    package struct MACD: Sendable, Equatable {
        package var macd: Double
        package var signal: Double
        package var histogram: Double

        package init(macd: Double, signal: Double, histogram: Double) {
            self.macd = macd
            self.signal = signal
            self.histogram = histogram
        }
    }

    package static func macd(_ closes: [Double], fast: Int = 12, slow: Int = 26, signal: Int = 9) -> [MACD?] {
        let fastEMA = ema(closes, period: fast)
        let slowEMA = ema(closes, period: slow)
        var line: [Double] = []
        var lineStart = closes.count
        for index in closes.indices {
            if let f = fastEMA[index], let s = slowEMA[index] {
                if lineStart == closes.count { lineStart = index }
                line.append(f - s)
            }
        }
        let signalLine = ema(line, period: signal)
        var result = [MACD?](repeating: nil, count: closes.count)
        for (offset, value) in signalLine.enumerated() {
            guard let value else { continue }
            let macdValue = line[offset]
            result[lineStart + offset] = MACD(macd: macdValue, signal: value, histogram: macdValue - value)
        }
        return result
    }

    /// Relative strength index with Wilder's smoothing of gains and losses.
    package static func rsi(_ closes: [Double], period: Int) -> [Double?] {
        var result = [Double?](repeating: nil, count: closes.count)
        guard closes.count > period else { return result }
        var gains: [Double] = []
        var losses: [Double] = []
        for index in 1..<closes.count {
            let change = closes[index] - closes[index - 1]
            gains.append(max(change, 0))
            losses.append(max(-change, 0))
        }
        let averageGain = wilder(gains, period: period)
        let averageLoss = wilder(losses, period: period)
        for index in gains.indices {
            guard let gain = averageGain[index], let loss = averageLoss[index] else { continue }
            let value: Double
            if loss == 0 {
                value = gain == 0 ? 50 : 100
            } else {
                value = 100 - 100 / (1 + gain / loss)
            }
            result[index + 1] = value
        }
        return result
    }

    /// Average true range with Wilder's smoothing.
    package static func atr(_ candles: [Candle], period: Int) -> [Double?] {
        var result = [Double?](repeating: nil, count: candles.count)
        guard candles.count > period else { return result }
        var ranges: [Double] = []
        for index in 1..<candles.count {
            let candle = candles[index]
            let previousClose = candles[index - 1].close
            ranges.append(
                max(candle.high - candle.low, abs(candle.high - previousClose), abs(candle.low - previousClose))
            )
        }
        for (index, value) in wilder(ranges, period: period).enumerated() {
            result[index + 1] = value
        }
        return result
    }
}
