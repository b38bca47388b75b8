import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine

/// Every vector the official Python SDK produced (`Tests/Fixtures/hyperliquid/vectors.json`) must be
/// reproduced byte for byte: the action is rebuilt from the SDK call's inputs through our own builders, then
/// msgpack, connection id, EIP-712 digest, signature and request body are compared.
@Suite("Hyperliquid signing against the SDK's vectors")
struct HyperliquidSigningTests {
    static let path = "hyperliquid/vectors.json"
    /// Read once; never mutated. A missing or malformed file is kept as its error, so every test that reads the
    /// vectors fails (never passes over an empty list).
    nonisolated(unsafe) static let loaded: Result<[String: Any], any Error> = Result {
        let object = try JSONSerialization.jsonObject(with: try TestPaths.fixture(path))
        guard let root = object as? [String: Any] else { throw Failure(description: "\(path) is not an object") }
        return root
    }

    static var vectors: [String: Any] { get throws { try loaded.get() } }

    static var assets: [String: (index: Int, szDecimals: Int)] {
        let meta = (try? vectors)?["fixture_meta"] as? [String: Any]
        let universe = meta?["universe"] as? [[String: Any]] ?? []
        var table: [String: (Int, Int)] = [:]
        for (index, asset) in universe.enumerated() {
            table[asset["name"] as? String ?? ""] = (index, asset["szDecimals"] as? Int ?? 0)
        }
        return table
    }

    /// The vectors under `key`: an error when the file or the key is missing, or the list is empty.
    static func list(_ key: String) throws -> [[String: Any]] {
        let list = try #require(try vectors[key] as? [[String: Any]], "\(path) has no \(key) list")
        try #require(!list.isEmpty, "\(path): \(key) is empty")
        return list
    }

    static func bytes(_ hex: String) -> [UInt8] { HyperliquidSigner.bytes(hex: hex) ?? [] }

    /// The exact double the SDK was called with (from the recorded IEEE-754 bits when there are any).
    static func double(_ value: Any?, path: String, floats: [String: Any]) -> Double {
        if let entry = floats[path] as? [String: Any], let bits = entry["ieee754_bits"] as? String,
            let pattern = UInt64(bits.dropFirst(2), radix: 16)
        {
            return Double(bitPattern: pattern)
        }
        return (value as? NSNumber)?.doubleValue ?? .nan
    }

    static func cloid(_ value: Any?) -> String? {
        (value as? [String: Any])?["$cloid"] as? String
    }

    /// `order_request_to_order_wire` over one SDK order request.
    static func orderWire(
        _ request: [String: Any],
        prefix: String,
        floats: [String: Any]
    ) throws
        -> HyperliquidAction.OrderWire
    {
        let coin = (request["coin"] ?? request["name"]) as? String ?? ""
        let asset = try #require(assets[coin]).index
        let orderType = request["order_type"] as? [String: Any] ?? [:]
        let type: HyperliquidAction.OrderType
        if let limit = orderType["limit"] as? [String: Any] {
            type = .limit(try #require(HyperliquidAction.TimeInForce(rawValue: limit["tif"] as? String ?? "")))
        } else {
            let trigger = try #require(orderType["trigger"] as? [String: Any])
            type = .trigger(
                isMarket: trigger["isMarket"] as? Bool ?? false,
                triggerPrice: try HyperliquidWire.floatToWire(
                    double(trigger["triggerPx"], path: prefix + "order_type.trigger.triggerPx", floats: floats)
                ),
                isTakeProfit: trigger["tpsl"] as? String == "tp"
            )
        }
        return HyperliquidAction.OrderWire(
            asset: asset,
            isBuy: request["is_buy"] as? Bool ?? false,
            price: try HyperliquidWire.floatToWire(
                double(request["limit_px"], path: prefix + "limit_px", floats: floats)
            ),
            size: try HyperliquidWire.floatToWire(double(request["sz"], path: prefix + "sz", floats: floats)),
            isReduceOnly: request["reduce_only"] as? Bool ?? false,
            type: type,
            cloid: cloid(request["cloid"])
        )
    }

    static func grouping(_ value: Any?) throws -> HyperliquidAction.Grouping {
        switch value {
        case nil, "na" as String: return .na
        case "normalTpsl" as String: return .normalTpsl
        case "positionTpsl" as String: return .positionTpsl
        case let priority as [String: Any]: return .priority(try #require(priority["p"] as? Int))
        default: throw Failure(description: "unknown grouping \(String(describing: value))")
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The action an SDK call builds, through our typed builders.
    static func action(_ vector: [String: Any]) throws -> HyperliquidAction {
        let inputs = try #require(vector["sdk_inputs"] as? [String: Any])
        let kwargs = inputs["kwargs"] as? [String: Any] ?? [:]
        let floats = vector["sdk_input_floats"] as? [String: Any] ?? [:]
        let builder = (kwargs["builder"] as? [String: Any]).map {
            HyperliquidAction.Builder(address: $0["b"] as? String ?? "", fee: $0["f"] as? Int ?? 0)
        }
        switch inputs["method"] as? String {
        case "Exchange.order":
            return .order(orders: [try orderWire(kwargs, prefix: "", floats: floats)], grouping: .na, builder: builder)
        case "Exchange.bulk_orders":
            let requests = kwargs["order_requests"] as? [[String: Any]] ?? []
            return .order(
                orders: try requests.enumerated().map {
                    try orderWire($1, prefix: "order_requests[\($0)].", floats: floats)
                },
                grouping: try grouping(kwargs["grouping"]),
                builder: builder
            )
        case "Exchange.cancel":
            return .cancel([
                .init(asset: try #require(assets[kwargs["name"] as? String ?? ""]).index, oid: try oid(kwargs["oid"]))
            ])
        case "Exchange.bulk_cancel":
            return .cancel(
                try (kwargs["cancel_requests"] as? [[String: Any]] ?? []).map {
                    .init(asset: try #require(assets[$0["coin"] as? String ?? ""]).index, oid: try oid($0["oid"]))
                }
            )
        case "Exchange.cancel_by_cloid":
            return .cancelByCloid([
                .init(
                    asset: try #require(assets[kwargs["name"] as? String ?? ""]).index,
                    cloid: try #require(cloid(kwargs["cloid"]))
                )
            ])
        case "Exchange.bulk_cancel_by_cloid":
            return .cancelByCloid(
                try (kwargs["cancel_requests"] as? [[String: Any]] ?? []).map {
                    .init(
                        asset: try #require(assets[$0["coin"] as? String ?? ""]).index,
                        cloid: try #require(cloid($0["cloid"]))
                    )
                }
            )
        case "Exchange.update_leverage":
            return .updateLeverage(
                asset: try #require(assets[kwargs["name"] as? String ?? ""]).index,
                isCross: kwargs["is_cross"] as? Bool ?? true,
                leverage: try #require(kwargs["leverage"] as? Int)
            )
        case "Exchange.schedule_cancel":
            return .scheduleCancel(time: (kwargs["time"] as? NSNumber)?.uint64Value)
        case "Exchange.modify_order":
            let target: HyperliquidAction.Modify.Target =
                if let cloid = cloid(kwargs["oid"]) { .cloid(cloid) } else { .oid(try oid(kwargs["oid"])) }
            return .batchModify([.init(target: target, order: try orderWire(kwargs, prefix: "", floats: floats))])
        case "hyperliquid.utils.signing.sign_l1_action":
            // The manual case: a cancel with the documented fast flag.
            let raw = try #require(kwargs["action"] as? [String: Any])
            #expect(raw["type"] as? String == "cancel")
            let cancels = try (raw["cancels"] as? [[String: Any]] ?? []).map {
                HyperliquidAction.Cancel(asset: try #require($0["a"] as? Int), oid: try oid($0["o"]))
            }
            return .cancel(cancels, fast: raw["f"] as? Bool ?? false)
        default:
            throw Failure(description: "unknown SDK method \(String(describing: inputs["method"]))")
        }
    }

    static func oid(_ value: Any?) throws -> UInt64 { try #require((value as? NSNumber)?.uint64Value) }

    @Test func signer_derivesTheSDKTestAddress() throws {
        let signer = try #require(try Self.vectors["signer"] as? [String: Any])
        let key = try HyperliquidSigner(privateKeyHex: signer["private_key"] as? String ?? "")
        #expect(key.address == signer["address_lower"] as? String)
        #expect(!"\(key)".contains("0123456789012345678901234567890123456789012345678901234567890123"))
    }

    @Test func everyL1Vector_reproducesMsgpackConnectionIDDigestSignatureAndBody() throws {
        let vectors = try Self.list("l1_actions")
        #expect(vectors.count >= 35)
        let signerInfo = try #require(try Self.vectors["signer"] as? [String: Any])
        let signer = try HyperliquidSigner(privateKeyHex: signerInfo["private_key"] as? String ?? "")
        for vector in vectors {
            let id = vector["id"] as? String ?? "?"
            let action = try Self.action(vector)
            #expect(
                Hex.encode(action.wire.encoded()) == vector["action_msgpack_hex"] as? String,
                "\(id): msgpack"
            )
            #expect(action.wire.json == vector["action_json"] as? String, "\(id): action json")
            let signed = try signer.sign(
                action,
                nonce: try #require((vector["nonce"] as? NSNumber)?.uint64Value),
                vaultAddress: vector["vault_address"] as? String,
                expiresAfter: (vector["expires_after"] as? NSNumber)?.uint64Value,
                isMainnet: vector["is_mainnet"] as? Bool ?? false
            )
            #expect(
                "0x" + Hex.encode(signed.connectionID) == vector["connection_id"] as? String,
                "\(id): connection id"
            )
            let hashes = vector["eip712_hashes"] as? [String: Any] ?? [:]
            #expect("0x" + Hex.encode(signed.digest) == hashes["digest"] as? String, "\(id): digest")
            let expected = vector["signature"] as? [String: Any] ?? [:]
            #expect(signed.signature.rHex == expected["r"] as? String, "\(id): r")
            #expect(signed.signature.sHex == expected["s"] as? String, "\(id): s")
            #expect(signed.signature.v == expected["v"] as? Int, "\(id): v")
            #expect(
                Hex.encode(signed.signature.r + signed.signature.s + [UInt8(signed.signature.v)])
                    == vector["signature_rsv_hex"] as? String,
                "\(id): rsv"
            )
            // The body is the SDK's byte for byte, except that a vault address is always sent lowercase (the docs
            // warn against upper-case address fields; the hash is of the address bytes, so the case never matters).
            var body = vector["request_body_json"] as? String ?? ""
            if let vault = vector["vault_address"] as? String {
                body = body.replacingOccurrences(of: vault, with: vault.lowercased())
            }
            #expect(signed.requestBody == body, "\(id): request body")
        }
    }

    @Test func actionJSON_parsesBackIntoTheSameTypedAction_andForeignTypesAreRefused() throws {
        for vector in try Self.list("l1_actions") {
            let text = try #require(vector["action_json"] as? String)
            var parser = OrderedJSON.Parser(Array(text.utf8))
            let action = try HyperliquidAction(json: try parser.parseDocument())
            #expect(action.wire.json == text, "\(vector["id"] ?? "")")
            #expect(action == (try Self.action(vector)), "\(vector["id"] ?? "")")
        }
        for foreign in [
            #"{"type":"withdraw3","hyperliquidChain":"Mainnet","amount":"1","time":1}"#,
            #"{"type":"usdSend","amount":"1"}"#, #"{"type":"approveAgent"}"#, #"{"type":"noop"}"#, #"{"orders":[]}"#,
        ] {
            var parser = OrderedJSON.Parser(Array(foreign.utf8))
            #expect(throws: HyperliquidAction.ParseError.self) {
                try HyperliquidAction(json: try parser.parseDocument())
            }
        }
        // Malformed input is an error, never a crash.
        for broken in [#"{"type":"cancel","cancels":[{"a":1,"o":"#, "", #"{"a":tru}"#, "[1,2", #"{"x":1} extra"#] {
            var parser = OrderedJSON.Parser(Array(broken.utf8))
            #expect(throws: OrderedJSON.Failure.self) { _ = try parser.parseDocument() }
        }
    }

    @Test func eip712Constants_matchTheProtocolNotes() {
        #expect(
            Hex.encode(HyperliquidSigner.domainTypeHash)
                == "8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f"
        )
        #expect(
            Hex.encode(HyperliquidSigner.agentTypeHash)
                == "26f05c2f7239b6983075e58321292d77b3aa173d19b27257ac96ab362570f508"
        )
        #expect(
            Hex.encode(HyperliquidSigner.domainSeparator)
                == "d79297fcdf2ffcd4ae223d01edaa2ba214ff8f401d7c9300d995d17c82aa4040"
        )
    }

    @Test func sdkReferenceChecks_reproduceTheConnectionID() throws {
        // The SDK's own signing tests use a "dummy" action, which this engine cannot sign (it is not allow-listed);
        // its msgpack bytes and connection id still check the hashing.
        var checked = 0
        for check in try Self.list("sdk_reference_checks") {
            guard let hex = check["action_msgpack_hex"] as? String, let expected = check["connection_id"] as? String
            else { continue }
            checked += 1
            let preimage = try HyperliquidSigner.preimage(
                actionBytes: Self.bytes(hex),
                nonce: (check["nonce"] as? NSNumber)?.uint64Value ?? 0,
                vaultAddress: check["vault_address"] as? String,
                expiresAfter: (check["expires_after"] as? NSNumber)?.uint64Value
            )
            #expect("0x" + Hex.encode(Keccak256.hash(preimage)) == expected, "\(check["name"] ?? "")")
        }
        #expect(checked >= 5, "the SDK reference checks carry msgpack bytes and a connection id")
    }

    @Test func keccak256_matchesEveryVector_includingRateBoundaries() throws {
        let vectors = try Self.list("keccak256")
        #expect(vectors.count >= 10)
        for vector in vectors {
            let input = Self.bytes(vector["input_hex"] as? String ?? "")
            #expect(input.count == vector["input_len"] as? Int)
            #expect(
                "0x" + Hex.encode(Keccak256.hash(input)) == vector["keccak256"] as? String,
                "\(vector["description"] ?? "")"
            )
        }
    }

    @Test func msgpack_matchesEveryVector() throws {
        // Map key order is part of the bytes, so these vectors are read with an order-keeping parser.
        var parser = OrderedJSON.Parser(Array(try TestPaths.fixture(Self.path)))
        guard case .object(let root) = try parser.parse(),
            case .array(let vectors) = root.first(where: { $0.0 == "msgpack" })?.1
        else {
            Issue.record("no msgpack vectors")
            return
        }
        #expect(vectors.count >= 20)
        var checked = 0
        for case .object(let vector) in vectors {
            let field = Dictionary(vector, uniquingKeysWith: { first, _ in first })
            guard case .string(let description) = field["description"], case .string(let hex) = field["msgpack_hex"],
                let value = field["value"]
            else { continue }
            // Actions carry no floats (numbers are strings or integers): the float vector is not ours to encode.
            if case .double = value { continue }
            #expect(Hex.encode(try value.messagePack().encoded()) == hex, "\(description)")
            checked += 1
        }
        #expect(checked == vectors.count - 1)
    }

    @Test func floatToWire_matchesEveryVector() throws {
        for vector in try Self.list("float_to_wire") {
            let bits = UInt64((vector["input_ieee754_bits"] as? String ?? "0x0").dropFirst(2), radix: 16) ?? 0
            let input =
                vector["input_type"] as? String == "int"
                ? Double(vector["input_repr"] as? String ?? "") ?? .nan : Double(bitPattern: bits)
            let result = try? HyperliquidWire.floatToWire(input)
            if let output = vector["output"] as? String {
                #expect(result == output, "\(vector["input_repr"] ?? "")")
            } else {
                #expect(result == nil, "\(vector["input_repr"] ?? "") should be refused")
            }
        }
    }

    @Test func priceAndSizeRounding_matchTheSDKFormulas() throws {
        let rounding = try #require(try Self.vectors["rounding"] as? [String: Any])
        let prices = try #require(rounding["price"] as? [[String: Any]])
        let sizes = try #require(rounding["size"] as? [[String: Any]])
        #expect(!prices.isEmpty && !sizes.isEmpty)
        for vector in prices {
            let bits = UInt64((vector["px_ieee754_bits"] as? String ?? "0x0").dropFirst(2), radix: 16) ?? 0
            let price = Double(bitPattern: bits)
            let decimals = vector["szDecimals"] as? Int ?? 0
            let isSpot = vector["market"] as? String == "spot"
            let slippage = try HyperliquidWire.floatToWire(
                HyperliquidWire.price(price, szDecimals: decimals, isSpot: isSpot)
            )
            #expect(slippage == vector["sdk_slippage_price_wire"] as? String, "\(vector["px_repr"] ?? "")")
            let example = try HyperliquidWire.floatToWire(
                HyperliquidWire.priceKeepingIntegers(price, szDecimals: decimals, isSpot: isSpot)
            )
            #expect(example == vector["rounding_example_wire"] as? String, "\(vector["px_repr"] ?? "")")
        }
        for vector in sizes {
            let size = Double(vector["sz_repr"] as? String ?? "") ?? .nan
            let wire = try HyperliquidWire.floatToWire(
                HyperliquidWire.size(size, szDecimals: vector["szDecimals"] as? Int ?? 0)
            )
            #expect(wire == vector["wire"] as? String, "\(vector["sz_repr"] ?? "")")
        }
    }

    @Test func onlyAllowListedActionTypes_canBeSigned() throws {
        // The enum is the allow-list: every case's type is in it, and it holds nothing that moves funds.
        let cases: [HyperliquidAction] = [
            .order(orders: [], grouping: .na), .cancel([]), .cancelByCloid([]),
            .updateLeverage(asset: 0, isCross: true, leverage: 1), .scheduleCancel(time: nil), .batchModify([]),
        ]
        #expect(Set(cases.map(\.type)) == HyperliquidAction.allowedTypes)
        #expect(
            HyperliquidAction.allowedTypes
                == ["order", "cancel", "cancelByCloid", "updateLeverage", "scheduleCancel", "batchModify"]
        )
        // No source file of the venue can build a funds-moving or account-changing action.
        let folder = TestPaths.packageRoot.appendingPathComponent("Sources/Engine/Adapters/Exchange/Hyperliquid")
        let forbidden = [
            "withdraw", "usdSend", "usdClassTransfer", "spotSend", "sendAsset", "approveAgent", "vaultTransfer",
            "subAccountTransfer", "approveBuilderFee", "HyperliquidSignTransaction",
        ]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for word in forbidden { #expect(!text.contains(word), "\(name) mentions \(word)") }
        }
    }
}
