import Foundation

/// Performance measures shared by gating and export.
package enum Performance {
    /// Annualised Sharpe ratio of hourly equity returns (net of rebalancing flows): mean / standard deviation (sample) × √8760, with a zero
    /// risk-free rate. Fewer than three points, or no variation, give 0.
    package static func sharpe(_ history: [TraderState.EquityPoint]) -> Double {
        // The same additions as `sharpeSeries`, the ratio taken once at the end (not for every prefix).
        var returns = RunningMoments()
        for index in history.indices.dropFirst() { add(history, index, to: &returns) }
        return history.count >= 3 ? returns.hourlySharpe : 0
    }

    /// The Sharpe ratio of every prefix of `history` (element i covers points 0...i), in one pass: the mean and
    /// variance of returns are updated incrementally (Welford), so exporting a long history costs O(n), not O(n²).
    package static func sharpeSeries(_ history: [TraderState.EquityPoint]) -> [Double] {
        var series: [Double] = []
        series.reserveCapacity(history.count)
        accumulate(history) { series.append($0) }
        return series
    }

    /// Hands the Sharpe ratio of each prefix to `body`, in order (one pass, nothing allocated).
    private static func accumulate(_ history: [TraderState.EquityPoint], _ body: (Double) -> Void) {
        var returns = RunningMoments()
        for index in history.indices {
            if index > 0 { add(history, index, to: &returns) }
            body(index >= 2 ? returns.hourlySharpe : 0)
        }
    }

    /// Adds the return from point `index - 1` to point `index`, when the earlier equity is positive.
    private static func add(_ history: [TraderState.EquityPoint], _ index: Int, to returns: inout RunningMoments) {
        guard history[index - 1].equity > 0 else { return }
        // Capital moved in by a rebalance is not a gain (nor one moved out a loss).
        returns.add((history[index].equity - (history[index].flow ?? 0)) / history[index - 1].equity - 1)
    }
}
