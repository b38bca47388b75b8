/// The nine documents the control-api serves, by file name and route.
package enum SnapshotDocument: String, Sendable, CaseIterable {
    case cryptoPrices = "crypto-prices"
    case accountTotals = "account-totals"
    case trades
    case positions
    case analytics
    case leaderboard
    case sinceInceptionValues = "since-inception-values"
    case conversations

    /// The file a generation stores this document in.
    package var fileName: String { rawValue + ".json" }

    /// The per-model analytics file of a generation, `analytics-<modelId>.json`.
    package static func analyticsFileName(modelID: String) -> String { "analytics-\(modelID).json" }
}
