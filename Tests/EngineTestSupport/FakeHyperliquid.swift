import ArenaAdapters
import ArenaCore
import ArenaRuntime
import CSecp256k1
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A fake Hyperliquid speaking the real `/info` and `/exchange` protocol on a loopback port. It checks every
/// signed action the way the server does: it rebuilds the msgpack preimage from the JSON body it received (key
/// order as sent), recovers the signer from the signature, and refuses a stale or reused nonce. Tests script its
/// answers and read what it received.
package final class FakeHyperliquid: Sendable {
    package struct Received: Sendable {
        package var type: String
        package var body: String
        package var signer: String?
        package var nonce: UInt64
    }

    package enum ExchangeAnswer: Sendable {
        /// Answer with this JSON.
        case json(String)
        /// Take this long (longer than the client's timeout: an unknown outcome); the action is processed.
        case slowButProcessed(Duration, String)
        /// Answer 502 at once; the order reaches the book (its cloid becomes known, filled) only after the first
        /// `orderStatus` look-up of it was answered "unknown" — late, without a clock to race.
        case processedAfterFirstLookup
        case status(Int, String)
    }

    private let state = Mutex<State>(State())

    package init() {}

    /// A resting order in the fake's book.
    package struct BookOrder: Sendable {
        package var coin: String
        package var oid: UInt64
        package var isBuy: Bool
        package var size: Double
        package var triggerPrice: Double?
        package var isTakeProfit: Bool
        package var cloid: String?
    }

    package struct State {
        /// The only address allowed to sign (nil: any).
        package var expectedSigner: String?
        package var positions: [String: (size: Double, entry: Double, leverage: Int)] = [:]
        package var book: [BookOrder] = []
        package var nextOID: UInt64 = 1000
        package var leverage = 1
        /// Candles end this long before the request's end time (a feed that stopped).
        package var candleLag: Int64 = 0
        package var exchangeScript: [ExchangeAnswer] = []
        package var received: [Received] = []
        package var infoTypes: [String] = []
        package var usedNonces: Set<UInt64> = []
        /// cloid → orderStatus answer (JSON) once an order was processed.
        package var knownCloids: [String: String] = [:]
        /// cloid → orderStatus answer of an order that becomes known after its first look-up.
        package var lateCloids: [String: String] = [:]
        /// Overrides the account computed from the book.
        package var clearinghouse: String?
        package var openOrders: String?
        package var fills = "[]"
        package var funding = "[]"
        package var mark = "100000.0"
        /// History mode (`engine fetch-candles`): `candleSnapshot` answers every candle opened in
        /// [startTime, endTime] (at most 5,000, oldest first) except those opened in `candleGap`;
        /// `fundingHistory` answers an hourly rate for every hour in [startTime, endTime], 500 at most.
        package var servesHistory = false
        package var candleGap: Range<Int64>?
        /// The next this many `/info` requests are answered 500 (a read must be retried).
        package var failingInfo = 0
        /// Every history request: type, startTime, endTime.
        package var historyRequests: [(type: String, start: Int64, end: Int64)] = []
    }

    /// The close of the closed candle opening at `open` (the forming one is 20 % above it).
    package static func candleClose(base: Double, open: Int64, interval: Int64) -> Double {
        base * (1 + 0.001 * sin(Double(open / interval)))
    }

    package func script(_ answers: ExchangeAnswer...) { state.withLock { $0.exchangeScript += answers } }
    package var received: [Received] { state.withLock { $0.received } }
    package var infoTypes: [String] { state.withLock { $0.infoTypes } }
    package func expect(signer: String) { state.withLock { $0.expectedSigner = signer } }
    package func lagCandles(by milliseconds: Int64) { state.withLock { $0.candleLag = milliseconds } }
    package func serveHistory(gap: Range<Int64>? = nil, failing: Int = 0) {
        state.withLock {
            $0.servesHistory = true
            $0.candleGap = gap
            $0.failingInfo = failing
        }
    }
    package var historyRequests: [(type: String, start: Int64, end: Int64)] {
        state.withLock { $0.historyRequests }
    }
    package var positions: [String: (size: Double, entry: Double, leverage: Int)] { state.withLock { $0.positions } }
    package var book: [BookOrder] { state.withLock { $0.book } }

    package func set(
        clearinghouse: String? = nil,
        openOrders: String? = nil,
        fills: String? = nil,
        funding: String? = nil
    ) {
        state.withLock {
            if let clearinghouse { $0.clearinghouse = clearinghouse }
            if let openOrders { $0.openOrders = openOrders }
            if let fills { $0.fills = fills }
            if let funding { $0.funding = funding }
        }
    }

    package func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        router.post("/info") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            let fails = self.state.withLock { state -> Bool in
                guard state.failingInfo > 0 else { return false }
                state.failingInfo -= 1
                return true
            }
            if fails { return Self.json(#"{"error":"busy"}"#, status: .internalServerError) }
            return Self.json(self.info(object))
        }
        router.post("/exchange") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            return try await self.exchange(body)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    package static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    private func info(_ request: [String: Any]) -> String {
        let type = request["type"] as? String ?? ""
        state.withLock { $0.infoTypes.append(type) }
        switch type {
        case "metaAndAssetCtxs":
            let mark = state.withLock { $0.mark }
            return
                #"[{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40},{"name":"ETH","szDecimals":4,"maxLeverage":25}]},[{"funding":"0.0000125","openInterest":"1234.5","prevDayPx":"99000.0","dayNtlVlm":"1.0","premium":"0.0","oraclePx":"\#(mark)","markPx":"\#(mark)","midPx":"\#(mark)","impactPxs":null},{"funding":"0.00001","openInterest":"50000.0","prevDayPx":"3900.0","dayNtlVlm":"1.0","premium":"0.0","oraclePx":"4000.0","markPx":"4000.0","midPx":"4000.5","impactPxs":null}]]"#
        case "candleSnapshot" where state.withLock({ $0.servesHistory }):
            return historyCandles(request["req"] as? [String: Any] ?? [:])
        case "fundingHistory" where state.withLock({ $0.servesHistory }):
            return historyFunding(request)
        case "candleSnapshot":
            let req = request["req"] as? [String: Any] ?? [:]
            let interval = CandleInterval(req["interval"] as? String ?? "3m")?.milliseconds ?? 180_000
            let end = ((req["endTime"] as? NSNumber)?.int64Value ?? 0) - state.withLock { $0.candleLag }
            let coin = req["coin"] as? String ?? "BTC"
            let base = coin == "BTC" ? 100_000.0 : 4_000.0
            var rows: [String] = []
            // 150 candles ending with the one still forming at `end`, which is far off the others (+20 %), so a
            // reader that takes it for a closed candle shows in every price and indicator.
            let last = end - end % interval
            for index in stride(from: 149, through: 0, by: -1) {
                let open = last - Int64(index) * interval
                let price = Self.candleClose(base: base, open: open, interval: interval) * (index == 0 ? 1.2 : 1)
                rows.append(
                    #"{"t":\#(open),"T":\#(open + interval - 1),"s":"\#(coin)","i":"x","o":"\#(price)","h":"\#(price * 1.001)","l":"\#(price * 0.999)","c":"\#(price)","v":"10.0","n":5}"#
                )
            }
            return "[" + rows.joined(separator: ",") + "]"
        case "clearinghouseState": return state.withLock { $0.clearinghouse } ?? accountFromBook()
        case "frontendOpenOrders": return state.withLock { $0.openOrders } ?? openOrdersFromBook()
        case "userFills": return state.withLock { $0.fills }
        case "userFunding": return state.withLock { $0.funding }
        case "orderStatus":
            let cloid = request["oid"] as? String ?? ""
            return state.withLock { state in
                if let known = state.knownCloids[cloid] { return known }
                // Unknown this time; an order processed late is in the book from the next look-up on.
                state.knownCloids[cloid] = state.lateCloids.removeValue(forKey: cloid)
                return #"{"status":"unknownOid"}"#
            }
        default: return "null"
        }
    }

    private func historyCandles(_ req: [String: Any]) -> String {
        let interval = CandleInterval(req["interval"] as? String ?? "1m")?.milliseconds ?? 60_000
        let start = (req["startTime"] as? NSNumber)?.int64Value ?? 0
        let end = (req["endTime"] as? NSNumber)?.int64Value ?? 0
        let coin = req["coin"] as? String ?? "BTC"
        let gap = state.withLock { state -> Range<Int64>? in
            state.historyRequests.append(("candleSnapshot", start, end))
            return state.candleGap
        }
        let base = coin == "BTC" ? 100_000.0 : 4_000.0
        var rows: [String] = []
        var open = start - ((start % interval) + interval) % interval
        if open < start { open += interval }
        while open <= end, rows.count < 5000 {
            defer { open += interval }
            if let gap, gap.contains(open) { continue }
            let price = Self.candleClose(base: base, open: open, interval: interval)
            rows.append(
                #"{"t":\#(open),"T":\#(open + interval - 1),"s":"\#(coin)","i":"x","o":"\#(price)","h":"\#(price * 1.001)","l":"\#(price * 0.999)","c":"\#(price)","v":"10.5","n":5}"#
            )
        }
        return "[" + rows.joined(separator: ",") + "]"
    }

    private func historyFunding(_ request: [String: Any]) -> String {
        let start = (request["startTime"] as? NSNumber)?.int64Value ?? 0
        let end = (request["endTime"] as? NSNumber)?.int64Value ?? Int64.max
        let coin = request["coin"] as? String ?? "BTC"
        state.withLock { $0.historyRequests.append(("fundingHistory", start, end)) }
        var rows: [String] = []
        var time = (start + 3_599_999) / 3_600_000 * 3_600_000
        while time <= end, rows.count < 500 {
            let rate = Double(time / 3_600_000 % 7) * 0.000001 - 0.000002
            rows.append(#"{"coin":"\#(coin)","fundingRate":"\#(rate)","premium":"0.0","time":\#(time)}"#)
            time += 3_600_000
        }
        return "[" + rows.joined(separator: ",") + "]"
    }

    private func exchange(_ body: String) async throws -> Response {
        var parser = OrderedJSON.Parser(Array(body.utf8))
        guard case .object(let fields) = try parser.parse() else {
            return Self.json("bad", status: .unprocessableContent)
        }
        let field = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        guard let action = field["action"], case .integer(let nonceText) = field["nonce"],
            let nonce = UInt64(nonceText),
            case .object(let signature) = field["signature"]
        else {
            return Self.json("Failed to deserialize the JSON body into the target type", status: .unprocessableContent)
        }
        var vault: String?
        if case .string(let address) = field["vaultAddress"] { vault = address }
        let signer = Self.recover(action: action, nonce: nonce, vault: vault, signature: signature)
        var type = ""
        if case .object(let pairs) = action, case .string(let name) = pairs.first(where: { $0.0 == "type" })?.1 {
            type = name
        }
        let reused = state.withLock { state -> Bool in
            state.received.append(Received(type: type, body: body, signer: signer, nonce: nonce))
            return !state.usedNonces.insert(nonce).inserted
        }
        if reused { return Self.json(#"{"status":"err","response":"Nonce already used"}"#) }
        if let expected = state.withLock({ $0.expectedSigner }), signer != expected {
            return Self.json(
                #"{"status":"err","response":"L1 error: User or API Wallet \#(signer ?? "0x0") does not exist."}"#
            )
        }
        let answer = state.withLock { $0.exchangeScript.isEmpty ? nil : $0.exchangeScript.removeFirst() }
        // The order's cloid becomes known once the action is processed (even when the answer is late).
        func remember(late: Bool = false) {
            guard case .object(let pairs) = action,
                case .array(let orders)? = pairs.first(where: { $0.0 == "orders" })?.1
            else { return }
            for case .object(let order) in orders {
                guard case .string(let cloid)? = order.first(where: { $0.0 == "c" })?.1 else { continue }
                let status =
                    #"{"status":"order","order":{"order":{"coin":"BTC","side":"B","limitPx":"100500.0","sz":"0.0","oid":991,"origSz":"0.01","cloid":"\#(cloid)"},"status":"filled","statusTimestamp":1}}"#
                state.withLock {
                    if late { $0.lateCloids[cloid] = status } else { $0.knownCloids[cloid] = status }
                }
            }
        }
        switch answer {
        case .json(let text)?:
            remember()
            return Self.json(text)
        case .slowButProcessed(let delay, let text)?:
            remember()
            try await Task.sleep(for: delay)
            return Self.json(text)
        case .status(let code, let text)?:
            return Self.json(text, status: .init(code: code))
        case .processedAfterFirstLookup?:
            remember(late: true)
            return Self.json("bad gateway", status: .badGateway)
        case nil:
            remember()
            return Self.json(apply(action, type: type))
        }
    }

    /// Plays an action against the fake's book: IOC orders fill at the mark (and move the position), triggers
    /// rest, cancels remove.
    private func apply(_ action: OrderedJSON, type: String) -> String {
        guard case .object(let pairs) = action else { return #"{"status":"err","response":"bad action"}"# }
        let field = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        switch type {
        case "order":
            guard case .array(let orders)? = field["orders"] else { return #"{"status":"err","response":"no orders"}"# }
            var statuses: [String] = []
            for case .object(let orderPairs) in orders {
                let order = Dictionary(orderPairs, uniquingKeysWith: { first, _ in first })
                guard case .integer(let assetText)? = order["a"], let asset = Int(assetText),
                    case .bool(let isBuy)? = order["b"], case .string(let sizeText)? = order["s"],
                    let size = Double(sizeText), case .object(let typePairs)? = order["t"]
                else {
                    statuses.append(#"{"error":"Order has invalid size."}"#)
                    continue
                }
                let coin = asset == 0 ? "BTC" : "ETH"
                var cloid: String?
                if case .string(let text)? = order["c"] { cloid = text }
                let orderType = Dictionary(typePairs, uniquingKeysWith: { first, _ in first })
                let oid = state.withLock { state -> UInt64 in
                    state.nextOID += 1
                    return state.nextOID
                }
                if case .object(let triggerPairs)? = orderType["trigger"] {
                    let trigger = Dictionary(triggerPairs, uniquingKeysWith: { first, _ in first })
                    var price: Double?
                    if case .string(let text)? = trigger["triggerPx"] { price = Double(text) }
                    var isTakeProfit = false
                    if case .string(let kind)? = trigger["tpsl"] { isTakeProfit = kind == "tp" }
                    let resting = BookOrder(
                        coin: coin,
                        oid: oid,
                        isBuy: isBuy,
                        size: size,
                        triggerPrice: price,
                        isTakeProfit: isTakeProfit,
                        cloid: cloid
                    )
                    state.withLock { $0.book.append(resting) }
                    statuses.append(#"{"resting":{"oid":\#(oid)}}"#)
                    continue
                }
                let mark = coin == "BTC" ? Double(state.withLock { $0.mark }) ?? 100_000 : 4_000
                state.withLock { state in
                    var position = state.positions[coin] ?? (0, mark, 1)
                    position.size += isBuy ? size : -size
                    position.entry = mark
                    state.positions[coin] = abs(position.size) < 1e-12 ? nil : position
                }
                statuses.append(#"{"filled":{"totalSz":"\#(sizeText)","avgPx":"\#(mark)","oid":\#(oid)}}"#)
            }
            return
                #"{"status":"ok","response":{"type":"order","data":{"statuses":[\#(statuses.joined(separator: ","))]}}}"#
        case "cancel":
            guard case .array(let cancels)? = field["cancels"] else {
                return #"{"status":"err","response":"no cancels"}"#
            }
            var statuses: [String] = []
            for case .object(let cancelPairs) in cancels {
                let cancel = Dictionary(cancelPairs, uniquingKeysWith: { first, _ in first })
                guard case .integer(let oidText)? = cancel["o"], let oid = UInt64(oidText) else { continue }
                let removed = state.withLock { state -> Bool in
                    let before = state.book.count
                    state.book.removeAll { $0.oid == oid }
                    return state.book.count < before
                }
                statuses.append(
                    removed ? #""success""# : #"{"error":"Order was never placed, already canceled, or filled."}"#
                )
            }
            return
                #"{"status":"ok","response":{"type":"cancel","data":{"statuses":[\#(statuses.joined(separator: ","))]}}}"#
        case "updateLeverage":
            if case .integer(let text)? = field["leverage"], let leverage = Int(text) {
                state.withLock { $0.leverage = leverage }
            }
            return #"{"status":"ok","response":{"type":"default"}}"#
        default:
            return #"{"status":"ok","response":{"type":"default"}}"#
        }
    }

    private func accountFromBook() -> String {
        let (positions, mark, leverage) = state.withLock { ($0.positions, Double($0.mark) ?? 100_000, $0.leverage) }
        var entries: [String] = []
        var margin = 0.0
        for (coin, position) in positions.sorted(by: { $0.key < $1.key }) {
            let price = coin == "BTC" ? mark : 4_000
            let value = abs(position.size) * price
            let used = value / Double(max(1, leverage))
            margin += used
            entries.append(
                #"{"type":"oneWay","position":{"coin":"\#(coin)","szi":"\#(position.size)","entryPx":"\#(position.entry)","leverage":{"type":"isolated","value":\#(leverage)},"liquidationPx":"\#(position.entry * 0.7)","marginUsed":"\#(used)","positionValue":"\#(value)","unrealizedPnl":"\#(position.size * (price - position.entry))"}}"#
            )
        }
        return
            #"{"assetPositions":[\#(entries.joined(separator: ","))],"marginSummary":{"accountValue":"1000.0","totalNtlPos":"0.0","totalRawUsd":"1000.0","totalMarginUsed":"\#(margin)"},"withdrawable":"\#(1000 - margin)","time":1}"#
    }

    private func openOrdersFromBook() -> String {
        let rows = book.map { order in
            let kind = order.isTakeProfit ? "Take Profit Market" : "Stop Market"
            let cloid = order.cloid.map { "\"\($0)\"" } ?? "null"
            return
                #"{"coin":"\#(order.coin)","oid":\#(order.oid),"side":"\#(order.isBuy ? "B" : "A")","sz":"\#(order.size)","origSz":"\#(order.size)","isTrigger":true,"reduceOnly":true,"triggerPx":"\#(order.triggerPrice ?? 0)","orderType":"\#(kind)","cloid":\#(cloid),"limitPx":"0","timestamp":1,"tif":null,"children":[],"isPositionTpsl":false,"triggerCondition":"N/A"}"#
        }
        return "[" + rows.joined(separator: ",") + "]"
    }

    /// The address that signed this action, as the server derives it.
    package static func recover(
        action: OrderedJSON,
        nonce: UInt64,
        vault: String?,
        signature: [(String, OrderedJSON)]
    )
        -> String?
    {
        let field = Dictionary(signature, uniquingKeysWith: { first, _ in first })
        guard case .string(let rText) = field["r"], case .string(let sText) = field["s"],
            case .integer(let vText) = field["v"], let v = Int32(vText),
            let r = HyperliquidSigner.bytes(hex: pad(rText)), let s = HyperliquidSigner.bytes(hex: pad(sText)),
            let message = try? action.messagePack(),
            let preimage = try? HyperliquidSigner.preimage(
                actionBytes: message.encoded(),
                nonce: nonce,
                vaultAddress: vault,
                expiresAfter: nil
            )
        else { return nil }
        // The fake serves testnet.
        let digest = HyperliquidSigner.digest(connectionID: Keccak256.hash(preimage), isMainnet: false)
        guard let context = secp256k1_context_create(arena_secp256k1_context_none) else { return nil }
        defer { secp256k1_context_destroy(context) }
        var recoverable = secp256k1_ecdsa_recoverable_signature()
        var publicKey = secp256k1_pubkey()
        var serialized = [UInt8](repeating: 0, count: 65)
        var length = 65
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(context, &recoverable, r + s, v - 27) == 1,
            secp256k1_ecdsa_recover(context, &publicKey, &recoverable, digest) == 1,
            secp256k1_ec_pubkey_serialize(context, &serialized, &length, &publicKey, arena_secp256k1_ec_uncompressed)
                == 1
        else { return nil }
        return "0x" + Hex.encode(Array(Keccak256.hash(serialized[1..<65]).suffix(20)))
    }

    /// Minimal hex (as the SDK sends r and s) back to 32 bytes.
    package static func pad(_ hex: String) -> String {
        let digits = hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex
        return String(repeating: "0", count: max(0, 64 - digits.count)) + digits
    }
}
