import Crypto
import Foundation
import Shared

/// Turns accepted decisions into order legs with deterministic client order ids.
package enum OrderPlanner {
    /// `0x` + 32 hex digits (the 128-bit form Hyperliquid accepts), from sha256(trader|cycle|symbol|leg).
    package static func cloid(trader: String, cycle: Int, symbol: String, leg: String) -> String {
        // The text's bytes laid out in scratch room and hashed there (three to five legs every cycle; the
        // interpolated string and its digits were a quarter of a cloid).
        var trader = trader
        var symbol = symbol
        var leg = leg
        return trader.withUTF8 { trader in
            symbol.withUTF8 { symbol in
                leg.withUTF8 { leg in
                    let capacity = trader.count + symbol.count + leg.count + 24
                    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
                        var at = 0
                        func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                            for byte in bytes {
                                buffer[at] = byte
                                at += 1
                            }
                        }
                        func separator() {
                            buffer[at] = UInt8(ascii: "|")
                            at += 1
                        }
                        put(trader)
                        separator()
                        // `String(cycle)`'s text.
                        if cycle < 0 {
                            buffer[at] = UInt8(ascii: "-")
                            at += 1
                        }
                        at += ASCIIDigits.write(UInt64(cycle.magnitude), to: buffer.baseAddress! + at)
                        separator()
                        put(symbol)
                        separator()
                        put(leg)
                        let digest = SHA256.hash(
                            data: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<at]))
                        )
                        return Hex.encode(digest, prefix: 16, lead: "0x")
                    }
                }
            }
        }
    }

    /// Entry legs: the entry (market IOC, or limit IOC at the slippage bound) and its reduce-only stop and target.
    /// With `boundsMarketEntry` a market entry carries the same bound as its `limitPrice` (the worst price it may
    /// fill at: `price`, the price risk approved, ± the trader's slippage); venues never fill it beyond.
    package static func entry(
        _ decision: Decision,
        trader: TraderConfigurationView,
        cycle: Int,
        price: Double,
        asset: AssetInfo,
        boundsMarketEntry: Bool = true
    ) -> [OrderRequest] {
        guard let sizeUSD = decision.positionSizeUSD, let leverage = decision.leverage, price > 0 else { return [] }
        let scale = pow(10, Double(asset.sizeDecimals))
        let size = (sizeUSD / price * scale).rounded(.down) / scale
        guard size > 0 else { return [] }
        let isBuy = decision.signal == .buyToEnter
        let plan = OrderRequest.EntryPlan(
            stopLoss: decision.stopLoss,
            takeProfit: decision.takeProfit,
            confidence: decision.confidence,
            riskUSD: decision.riskUSD ?? 0,
            invalidationCondition: decision.invalidationCondition ?? ""
        )
        let bound = price * (1 + (isBuy ? 1 : -1) * trader.slippageBps / 10_000)
        var legs = [
            OrderRequest(
                cloid: cloid(trader: trader.id, cycle: cycle, symbol: decision.symbol, leg: "entry"),
                trader: trader.id,
                symbol: decision.symbol,
                isBuy: isBuy,
                size: size,
                kind: trader.usesLimitIOC ? .limitIOC : .marketIOC,
                limitPrice: trader.usesLimitIOC || boundsMarketEntry ? bound : nil,
                triggerPrice: nil,
                slippageBps: trader.slippageBps,
                isReduceOnly: false,
                leverage: Double(leverage),
                plan: plan
            )
        ]
        if let stop = decision.stopLoss {
            legs.append(
                OrderRequest(
                    cloid: cloid(trader: trader.id, cycle: cycle, symbol: decision.symbol, leg: "sl"),
                    trader: trader.id,
                    symbol: decision.symbol,
                    isBuy: !isBuy,
                    size: size,
                    kind: .stopLoss,
                    limitPrice: nil,
                    triggerPrice: stop,
                    slippageBps: trader.slippageBps,
                    isReduceOnly: true,
                    leverage: Double(leverage),
                    plan: nil
                )
            )
        }
        if let target = decision.takeProfit {
            legs.append(
                OrderRequest(
                    cloid: cloid(trader: trader.id, cycle: cycle, symbol: decision.symbol, leg: "tp"),
                    trader: trader.id,
                    symbol: decision.symbol,
                    isBuy: !isBuy,
                    size: size,
                    kind: .takeProfit,
                    limitPrice: nil,
                    triggerPrice: target,
                    slippageBps: trader.slippageBps,
                    isReduceOnly: true,
                    leverage: Double(leverage),
                    plan: nil
                )
            )
        }
        return legs
    }

    /// A reduce-only stop or target for the whole position at `trigger`: the protection a venue puts back from a
    /// position's plan (after a refused close, a fired dead-man's switch, a restart). `sequence` makes its cloid.
    package static func protection(
        _ position: Position,
        trader: String,
        kind: OrderRequest.Kind,
        trigger: Double,
        sequence: Int
    ) -> OrderRequest {
        OrderRequest(
            cloid: cloid(
                trader: trader,
                cycle: sequence,
                symbol: position.symbol,
                leg: kind == .stopLoss ? "protect-stop" : "protect-target"
            ),
            trader: trader,
            symbol: position.symbol,
            isBuy: position.quantity < 0,
            size: abs(position.quantity),
            kind: kind,
            limitPrice: nil,
            triggerPrice: trigger,
            slippageBps: 0,
            isReduceOnly: true,
            leverage: position.leverage,
            plan: nil
        )
    }

    /// A reduce-only market IOC for the whole position.
    package static func close(
        _ position: Position,
        trader: TraderConfigurationView,
        cycle: Int,
        leg: String = "close"
    )
        -> OrderRequest
    {
        OrderRequest(
            cloid: cloid(trader: trader.id, cycle: cycle, symbol: position.symbol, leg: leg),
            trader: trader.id,
            symbol: position.symbol,
            isBuy: position.quantity < 0,
            size: abs(position.quantity),
            kind: .marketIOC,
            limitPrice: nil,
            triggerPrice: nil,
            slippageBps: trader.slippageBps,
            isReduceOnly: true,
            leverage: position.leverage,
            plan: nil
        )
    }
}

/// The few trader settings order planning needs.
package struct TraderConfigurationView: Sendable {
    package var id: String
    package var slippageBps: Double
    package var usesLimitIOC: Bool

    package init(id: String, slippageBps: Double, usesLimitIOC: Bool) {
        self.id = id
        self.slippageBps = slippageBps
        self.usesLimitIOC = usesLimitIOC
    }

    /// What the planner reads of a trader's configuration.
    package init(_ trader: TraderConfiguration) {
        self.init(
            id: trader.id,
            slippageBps: trader.marketIOCSlippageBps,
            usesLimitIOC: trader.orderStyle == .limitIOC
        )
    }
}
