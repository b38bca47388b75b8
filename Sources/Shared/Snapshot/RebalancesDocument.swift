/// `rebalances.json` (served at `/api/rebalances`; not a document of the nof1 API): the newest capital moves
/// between traders under `allocation_strategy: performance_based`, newest first. Each entry is also one line of
/// the journal's `rebalances.jsonl`.
package struct RebalancesDocument: Codable, Sendable, Equatable {
    package var rebalances: [Rebalance]

    package static let fileName = "rebalances.json"

    package init(rebalances: [Rebalance]) {
        self.rebalances = rebalances
    }

    /// One rebalance: what every participating trader held before and after, and why.
    package struct Rebalance: Codable, Sendable, Equatable {
        /// 1, 2, 3, … in the order they happened.
        package var id: Int
        /// Engine clock, milliseconds.
        package var timestamp: Int64
        /// The equity of the participating traders, which a rebalance only redistributes.
        package var poolUSD: Double
        package var moves: [Move]
        /// Traders left out of this rebalance, with why (a live venue, a halted trader, …).
        package var skipped: [Skipped]

        package init(id: Int, timestamp: Int64, poolUSD: Double, moves: [Move], skipped: [Skipped]) {
            self.id = id
            self.timestamp = timestamp
            self.poolUSD = poolUSD
            self.moves = moves
            self.skipped = skipped
        }

        enum CodingKeys: String, CodingKey {
            case id, timestamp, moves, skipped
            case poolUSD = "pool_usd"
        }
    }

    /// One trader in a rebalance. `amountUSD` is positive when capital came in, negative when it left.
    package struct Move: Codable, Sendable, Equatable {
        package var modelID: String
        package var equityBefore: Double
        package var amountUSD: Double
        package var targetPct: Double
        package var score: Double
        package var sharpe: Double
        package var drawdownPct: Double
        package var utilisationPct: Double
        package var marginUsed: Double

        package init(
            modelID: String,
            equityBefore: Double,
            amountUSD: Double,
            targetPct: Double,
            score: Double,
            sharpe: Double,
            drawdownPct: Double,
            utilisationPct: Double,
            marginUsed: Double
        ) {
            self.modelID = modelID
            self.equityBefore = equityBefore
            self.amountUSD = amountUSD
            self.targetPct = targetPct
            self.score = score
            self.sharpe = sharpe
            self.drawdownPct = drawdownPct
            self.utilisationPct = utilisationPct
            self.marginUsed = marginUsed
        }

        enum CodingKeys: String, CodingKey {
            case score, sharpe
            case modelID = "model_id"
            case equityBefore = "equity_before"
            case amountUSD = "amount_usd"
            case targetPct = "target_pct"
            case drawdownPct = "drawdown_pct"
            case utilisationPct = "utilisation_pct"
            case marginUsed = "margin_used"
        }
    }

    package struct Skipped: Codable, Sendable, Equatable {
        package var modelID: String
        package var reason: String

        package init(modelID: String, reason: String) {
            self.modelID = modelID
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case reason
            case modelID = "model_id"
        }
    }
}
