import Foundation

/// Performance measures shared by gating and export.
enum Performance {
    /// Annualised Sharpe ratio of hourly equity returns: mean / standard deviation (sample) × √8760, with a zero
    /// risk-free rate. Fewer than three points, or no variation, give 0.
    static func sharpe(_ history: [TraderState.EquityPoint]) -> Double {
        guard history.count >= 3 else { return 0 }
        var returns: [Double] = []
        for index in 1..<history.count where history[index - 1].equity > 0 {
            returns.append(history[index].equity / history[index - 1].equity - 1)
        }
        guard returns.count >= 2 else { return 0 }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        guard variance > 0 else { return 0 }
        return mean / variance.squareRoot() * (8760.0).squareRoot()
    }
}
