import ArenaCore

extension HyperliquidAction {
    package struct ParseError: Error, CustomStringConvertible {
        package let description: String
    }

    /// Reads an action in the SDK's wire form back into a typed action. Only allow-listed types parse; anything
    /// else (anything that moves funds or changes agents, or an unknown type) is refused by name.
    package init(json: OrderedJSON) throws(ParseError) {
        guard case .object(let pairs) = json else { throw ParseError(description: "an action is a JSON object") }
        let field = Self.fields(pairs)
        guard case .string(let type)? = field["type"] else {
            throw ParseError(description: "the action has no \"type\"")
        }
        switch type {
        case "order":
            guard case .array(let orders)? = field["orders"] else {
                throw ParseError(description: "order: no \"orders\"")
            }
            var builder: Builder?
            if case .object(let builderPairs)? = field["builder"] {
                let b = Self.fields(builderPairs)
                builder = Builder(address: try Self.string(b["b"], "builder.b"), fee: try Self.int(b["f"], "builder.f"))
            }
            self = .order(
                orders: try orders.map(Self.orderWire),
                grouping: try Self.grouping(field["grouping"]),
                builder: builder
            )
        case "cancel":
            guard case .array(let cancels)? = field["cancels"] else {
                throw ParseError(description: "cancel: no \"cancels\"")
            }
            self = .cancel(
                try cancels.map { value throws(ParseError) -> Cancel in
                    guard case .object(let c) = value else { throw ParseError(description: "cancel: not an object") }
                    let f = Self.fields(c)
                    return Cancel(asset: try Self.int(f["a"], "a"), oid: try Self.unsigned(f["o"], "o"))
                },
                fast: try Self.flag(field["f"])
            )
        case "cancelByCloid":
            guard case .array(let cancels)? = field["cancels"] else {
                throw ParseError(description: "cancelByCloid: no \"cancels\"")
            }
            self = .cancelByCloid(
                try cancels.map { value throws(ParseError) -> CancelByCloid in
                    guard case .object(let c) = value else {
                        throw ParseError(description: "cancelByCloid: not an object")
                    }
                    let f = Self.fields(c)
                    return CancelByCloid(
                        asset: try Self.int(f["asset"], "asset"),
                        cloid: try Self.string(f["cloid"], "cloid")
                    )
                },
                fast: try Self.flag(field["f"])
            )
        case "updateLeverage":
            guard case .bool(let isCross)? = field["isCross"] else {
                throw ParseError(description: "updateLeverage: isCross")
            }
            self = .updateLeverage(
                asset: try Self.int(field["asset"], "asset"),
                isCross: isCross,
                leverage: try Self.int(field["leverage"], "leverage")
            )
        case "scheduleCancel":
            self = .scheduleCancel(time: field["time"] == nil ? nil : try Self.unsigned(field["time"], "time"))
        case "batchModify":
            guard case .array(let modifies)? = field["modifies"] else {
                throw ParseError(description: "batchModify: no \"modifies\"")
            }
            self = .batchModify(
                try modifies.map { value throws(ParseError) -> Modify in
                    guard case .object(let m) = value, let order = Self.fields(m)["order"] else {
                        throw ParseError(description: "batchModify: a modify needs \"oid\" and \"order\"")
                    }
                    let target: Modify.Target
                    if case .string(let cloid)? = Self.fields(m)["oid"] {
                        target = .cloid(cloid)
                    } else {
                        target = .oid(try Self.unsigned(Self.fields(m)["oid"], "oid"))
                    }
                    return Modify(target: target, order: try Self.orderWire(order))
                },
                alwaysPlace: try Self.flag(field["a"])
            )
        default:
            let allowed = Self.allowedTypes.sorted().joined(separator: ", ")
            throw ParseError(description: "action type '\(type)' cannot be signed by this engine (allowed: \(allowed))")
        }
    }

    private static func fields(_ pairs: [(String, OrderedJSON)]) -> [String: OrderedJSON] {
        Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    private static func string(_ value: OrderedJSON?, _ name: String) throws(ParseError) -> String {
        guard case .string(let text)? = value else { throw ParseError(description: "\"\(name)\" must be a string") }
        return text
    }

    private static func int(_ value: OrderedJSON?, _ name: String) throws(ParseError) -> Int {
        guard case .integer(let text)? = value, let number = Int(text) else {
            throw ParseError(description: "\"\(name)\" must be an integer")
        }
        return number
    }

    private static func unsigned(_ value: OrderedJSON?, _ name: String) throws(ParseError) -> UInt64 {
        guard case .integer(let text)? = value, let number = UInt64(text) else {
            throw ParseError(description: "\"\(name)\" must be a non-negative integer")
        }
        return number
    }

    private static func flag(_ value: OrderedJSON?) throws(ParseError) -> Bool {
        switch value {
        case nil: return false
        case .bool(let flag)?: return flag
        default: throw ParseError(description: "a flag must be true or false")
        }
    }

    private static func grouping(_ value: OrderedJSON?) throws(ParseError) -> Grouping {
        switch value {
        case .string("na")?, nil: return .na
        case .string("normalTpsl")?: return .normalTpsl
        case .string("positionTpsl")?: return .positionTpsl
        case .object(let pairs)?: return .priority(try int(fields(pairs)["p"], "grouping.p"))
        default: throw ParseError(description: "unknown grouping")
        }
    }

    private static func orderWire(_ value: OrderedJSON) throws(ParseError) -> OrderWire {
        guard case .object(let pairs) = value else { throw ParseError(description: "an order is an object") }
        let field = fields(pairs)
        guard case .bool(let isBuy)? = field["b"], case .bool(let reduceOnly)? = field["r"],
            case .object(let typePairs)? = field["t"]
        else { throw ParseError(description: "an order needs \"b\", \"r\" and \"t\"") }
        let orderType = fields(typePairs)
        let type: OrderType
        if case .object(let limitPairs)? = orderType["limit"] {
            guard let tif = TimeInForce(rawValue: try string(fields(limitPairs)["tif"], "tif")) else {
                throw ParseError(description: "tif must be Gtc, Ioc or Alo")
            }
            type = .limit(tif)
        } else if case .object(let triggerPairs)? = orderType["trigger"] {
            let trigger = fields(triggerPairs)
            guard case .bool(let isMarket)? = trigger["isMarket"] else { throw ParseError(description: "isMarket") }
            type = .trigger(
                isMarket: isMarket,
                triggerPrice: try string(trigger["triggerPx"], "triggerPx"),
                isTakeProfit: try string(trigger["tpsl"], "tpsl") == "tp"
            )
        } else {
            throw ParseError(description: "an order type is {\"limit\":…} or {\"trigger\":…}")
        }
        var cloid: String?
        if field["c"] != nil { cloid = try string(field["c"], "c") }
        return OrderWire(
            asset: try int(field["a"], "a"),
            isBuy: isBuy,
            price: try string(field["p"], "p"),
            size: try string(field["s"], "s"),
            isReduceOnly: reduceOnly,
            type: type,
            cloid: cloid
        )
    }
}
