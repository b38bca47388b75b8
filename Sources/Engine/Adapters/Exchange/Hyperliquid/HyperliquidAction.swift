import ArenaCore

/// The L1 actions this engine can sign — and nothing else. Nothing that moves funds out of the account, changes
/// its agents or closes everything at once exists here: an action that is not a case of this enum cannot be
/// built, so it cannot be signed (a test holds the list and scans this folder for the names of such actions). Each action renders itself as the SDK's exact key order (PROTOCOL.md §5).
package enum HyperliquidAction: Sendable, Equatable {
    case order(orders: [OrderWire], grouping: Grouping, builder: Builder? = nil)
    case cancel([Cancel], fast: Bool = false)
    case cancelByCloid([CancelByCloid], fast: Bool = false)
    case updateLeverage(asset: Int, isCross: Bool, leverage: Int)
    /// The dead-man's switch: resting orders are cancelled at `time` (ms) unless re-armed; nil unsets it.
    case scheduleCancel(time: UInt64?)
    case batchModify([Modify], alwaysPlace: Bool = false)

    /// Every action type that can ever be signed.
    package static let allowedTypes: Set<String> = [
        "order", "cancel", "cancelByCloid", "updateLeverage", "scheduleCancel", "batchModify",
    ]

    package enum TimeInForce: String, Sendable {
        case gtc = "Gtc"
        case ioc = "Ioc"
        case alo = "Alo"
    }

    package enum OrderType: Sendable, Equatable {
        case limit(TimeInForce)
        /// A TP or SL trigger; `isMarket` fills at market (bounded by the order's price) once triggered.
        case trigger(isMarket: Bool, triggerPrice: String, isTakeProfit: Bool)
    }

    package struct OrderWire: Sendable, Equatable {
        package var asset: Int
        package var isBuy: Bool
        /// Wire strings (`HyperliquidWire.floatToWire`): part of the signed bytes.
        package var price: String
        package var size: String
        package var isReduceOnly: Bool
        package var type: OrderType
        /// `0x` + 32 lowercase hex digits.
        package var cloid: String?
    }

    package enum Grouping: Sendable, Equatable {
        case na, normalTpsl, positionTpsl
        case priority(Int)
    }

    package struct Builder: Sendable, Equatable {
        package var address: String
        /// Tenths of a basis point.
        package var fee: Int
    }

    package struct Cancel: Sendable, Equatable {
        package var asset: Int
        package var oid: UInt64
    }

    package struct CancelByCloid: Sendable, Equatable {
        package var asset: Int
        package var cloid: String
    }

    package struct Modify: Sendable, Equatable {
        package enum Target: Sendable, Equatable {
            case oid(UInt64)
            case cloid(String)
        }
        package var target: Target
        package var order: OrderWire
    }

    package var type: String {
        switch self {
        case .order: "order"
        case .cancel: "cancel"
        case .cancelByCloid: "cancelByCloid"
        case .updateLeverage: "updateLeverage"
        case .scheduleCancel: "scheduleCancel"
        case .batchModify: "batchModify"
        }
    }

    /// The action as the SDK builds it: the map that is msgpacked and hashed, and sent as JSON.
    package var wire: MessagePackValue {
        switch self {
        case .order(let orders, let grouping, let builder):
            var pairs: [(String, MessagePackValue)] = [
                ("type", .string("order")), ("orders", .array(orders.map(\.wire))), ("grouping", grouping.wire),
            ]
            if let builder {
                pairs.append(
                    ("builder", .map([("b", .string(builder.address.lowercased())), ("f", .int(Int64(builder.fee)))]))
                )
            }
            return .map(pairs)
        case .cancel(let cancels, let fast):
            var pairs: [(String, MessagePackValue)] = [
                ("type", .string("cancel")),
                ("cancels", .array(cancels.map { .map([("a", .int(Int64($0.asset))), ("o", .uint($0.oid))]) })),
            ]
            if fast { pairs.append(("f", .bool(true))) }
            return .map(pairs)
        case .cancelByCloid(let cancels, let fast):
            var pairs: [(String, MessagePackValue)] = [
                ("type", .string("cancelByCloid")),
                (
                    "cancels",
                    .array(cancels.map { .map([("asset", .int(Int64($0.asset))), ("cloid", .string($0.cloid))]) })
                ),
            ]
            if fast { pairs.append(("f", .bool(true))) }
            return .map(pairs)
        case .updateLeverage(let asset, let isCross, let leverage):
            return .map([
                ("type", .string("updateLeverage")), ("asset", .int(Int64(asset))), ("isCross", .bool(isCross)),
                ("leverage", .int(Int64(leverage))),
            ])
        case .scheduleCancel(let time):
            var pairs: [(String, MessagePackValue)] = [("type", .string("scheduleCancel"))]
            if let time { pairs.append(("time", .uint(time))) }
            return .map(pairs)
        case .batchModify(let modifies, let alwaysPlace):
            var pairs: [(String, MessagePackValue)] = [
                ("type", .string("batchModify")),
                (
                    "modifies",
                    .array(
                        modifies.map { modify in
                            let target: MessagePackValue =
                                switch modify.target {
                                case .oid(let oid): .uint(oid)
                                case .cloid(let cloid): .string(cloid)
                                }
                            return .map([("oid", target), ("order", modify.order.wire)])
                        }
                    )
                ),
            ]
            if alwaysPlace { pairs.append(("a", .bool(true))) }
            return .map(pairs)
        }
    }
}

extension HyperliquidAction.OrderWire {
    package var wire: MessagePackValue {
        let type: MessagePackValue =
            switch self.type {
            case .limit(let tif): .map([("limit", .map([("tif", .string(tif.rawValue))]))])
            case .trigger(let isMarket, let triggerPrice, let isTakeProfit):
                // The SDK rebuilds the trigger in this order: isMarket, triggerPx, tpsl.
                .map([
                    (
                        "trigger",
                        .map([
                            ("isMarket", .bool(isMarket)), ("triggerPx", .string(triggerPrice)),
                            ("tpsl", .string(isTakeProfit ? "tp" : "sl")),
                        ])
                    )
                ])
            }
        var pairs: [(String, MessagePackValue)] = [
            ("a", .int(Int64(asset))), ("b", .bool(isBuy)), ("p", .string(price)), ("s", .string(size)),
            ("r", .bool(isReduceOnly)), ("t", type),
        ]
        if let cloid { pairs.append(("c", .string(cloid))) }
        return .map(pairs)
    }
}

extension HyperliquidAction.Grouping {
    package var wire: MessagePackValue {
        switch self {
        case .na: .string("na")
        case .normalTpsl: .string("normalTpsl")
        case .positionTpsl: .string("positionTpsl")
        case .priority(let fee): .map([("p", .int(Int64(fee)))])
        }
    }
}
