/// The exit plan a model gave with an entry. Trades in the capture carry an empty plan (`{}`), so every field is
/// optional and written only when known.
package struct ExitPlan: Codable, Sendable, Equatable {
    package var profitTarget: Double?
    package var stopLoss: Double?
    package var invalidationCondition: String?

    package init(profitTarget: Double? = nil, stopLoss: Double? = nil, invalidationCondition: String? = nil) {
        self.profitTarget = profitTarget
        self.stopLoss = stopLoss
        self.invalidationCondition = invalidationCondition
    }

    enum CodingKeys: String, CodingKey {
        case profitTarget = "profit_target"
        case stopLoss = "stop_loss"
        case invalidationCondition = "invalidation_condition"
    }
}
