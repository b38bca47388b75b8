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

    /// Accepted entries checked again just before they are sent, against `recheck`: the account read then, the
    /// trader's flags read again (kill switch, daily loss, pause, cooldown) and the venue's marks. Verdicts of
    /// entries the second check refuses are replaced; returns each remaining entry's legs.
    ///
    /// With `approvedPrices` (the prices of the first check; records of schema version 3 on), an entry is judged
    /// twice: at the approved prices, so a refusal there is the account's or the flags' own reason, and at the
    /// fresh marks, where a check that no longer holds refuses it with `PRICE_MOVED` next to the check's reasons.
    /// An entry without a fresh mark is refused (`STALE_MARKET_DATA`). A surviving entry is sized from its
    /// approved USD size at the fresh mark (the notional stays within the cap; the loss at the stop was checked at
    /// that mark) and its IOC price is bounded by that mark ± the trader's slippage, market entries included, so
    /// it can never fill beyond what was checked. Without `approvedPrices` (older records) the check runs once at
    /// `recheck.prices` and market entries carry no bound, as those records were planned.
    package static func entryOrders(
        decisions: [Decision],
        verdicts: inout [RiskVerdict],
        recheck: RiskContext,
        approvedPrices: [String: Double]?,
        view: TraderConfigurationView,
        cycle: Int
    ) -> [[OrderRequest]] {
        let entries = zip(decisions, verdicts).filter { $0.1.isAccepted && $0.0.signal.isEntry }.map(\.0)
        guard !entries.isEmpty else { return [] }
        func replace(_ symbol: String, with verdict: RiskVerdict) {
            if let index = verdicts.firstIndex(where: { $0.symbol == symbol }) { verdicts[index] = verdict }
        }
        let atFresh = RiskPolicy.evaluate(entries, context: recheck)
        var atApproved = atFresh
        if let approvedPrices {
            var approvedContext = recheck
            approvedContext.prices = approvedPrices
            atApproved = RiskPolicy.evaluate(entries, context: approvedContext)
        }
        var legs: [[OrderRequest]] = []
        for (index, decision) in entries.enumerated() {
            let refused = { (reasons: [ReasonCode]) in
                RiskVerdict(symbol: decision.symbol, signal: decision.signal, isAccepted: false, reasons: reasons)
            }
            guard atApproved[index].isAccepted else {
                replace(decision.symbol, with: atApproved[index])
                continue
            }
            guard let price = recheck.prices[decision.symbol], price.isFinite, price > 0 else {
                replace(decision.symbol, with: refused([.staleMarketData]))
                continue
            }
            guard atFresh[index].isAccepted else {
                let reasons = approvedPrices == nil ? atFresh[index].reasons : [.priceMoved] + atFresh[index].reasons
                replace(decision.symbol, with: refused(reasons))
                continue
            }
            guard let asset = recheck.assets[decision.symbol] else {
                replace(decision.symbol, with: refused([.unknownSymbol]))
                continue
            }
            let planned = OrderPlanner.entry(
                decision,
                trader: view,
                cycle: cycle,
                price: price,
                asset: asset,
                boundsMarketEntry: approvedPrices != nil
            )
            if !planned.isEmpty { legs.append(planned) }
        }
        return legs
    }
}
