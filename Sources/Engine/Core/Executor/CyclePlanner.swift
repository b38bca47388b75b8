import Shared

/// Steps 6–7 of a cycle as pure functions of recorded values: risk verdicts and the order intents they lead to.
/// The live cycle and `engine replay` both use these, so a replay checks the very code that traded.
package enum CyclePlanner {
    package static func riskContext(
        limits: RiskParameters,
        symbols: [String],
        assets: [String: AssetInfo],
        account: TraderAccount,
        prices: [String: Double],
        now: Int64,
        inputs: CycleInputs
    ) -> RiskContext {
        RiskContext(
            limits: limits,
            symbols: Set(symbols),
            prices: prices,
            assets: assets,
            account: account,
            now: now,
            cooldownUntil: inputs.cooldownUntil,
            isPaused: inputs.isPaused,
            isDailyLossLimitHit: inputs.isDailyLossLimitHit,
            isDrawdownLimitHit: inputs.isDrawdownLimitHit,
            unprotectedSymbols: inputs.unprotectedSymbols ?? [],
            takerFeeRate: inputs.takerFeeRate
        )
    }

    /// Reduce-only market closes for the accepted close decisions.
    package static func closeOrders(
        decisions: [Decision],
        verdicts: [RiskVerdict],
        account: TraderAccount,
        view: TraderConfigurationView,
        cycle: Int
    ) -> [OrderRequest] {
        zip(decisions, verdicts).compactMap { decision, verdict in
            guard verdict.isAccepted, decision.signal == .closePosition,
                let position = account.positions[decision.symbol]
            else { return nil }
            return OrderPlanner.close(position, trader: view, cycle: cycle)
        }
    }

    /// Accepted entries checked again against `recheck` (the account read right before sending). Verdicts of
    /// entries the second check refuses are replaced. Returns each remaining entry's legs.
    package static func entryOrders(
        decisions: [Decision],
        verdicts: inout [RiskVerdict],
        recheck: RiskContext,
        view: TraderConfigurationView,
        cycle: Int
    ) -> [[OrderRequest]] {
        let entries = zip(decisions, verdicts).filter { $0.1.isAccepted && $0.0.signal.isEntry }.map(\.0)
        guard !entries.isEmpty else { return [] }
        let second = RiskPolicy.evaluate(entries, context: recheck)
        var legs: [[OrderRequest]] = []
        for (decision, verdict) in zip(entries, second) {
            guard verdict.isAccepted, let price = recheck.prices[decision.symbol],
                let asset = recheck.assets[decision.symbol]
            else {
                if let index = verdicts.firstIndex(where: { $0.symbol == decision.symbol }) {
                    verdicts[index] = verdict
                }
                continue
            }
            let planned = OrderPlanner.entry(decision, trader: view, cycle: cycle, price: price, asset: asset)
            if !planned.isEmpty { legs.append(planned) }
        }
        return legs
    }
}
