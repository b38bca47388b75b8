import ArenaCore
import Foundation

/// Decoding of `/exchange` answers (PROTOCOL.md §9). `status: ok` says nothing about the orders: each one has its
/// own status, a pre-validation error can answer a whole batch with one entry, and `status: err` carries a string.
package enum HyperliquidResponses {
    package enum OrderStatus: Equatable, Sendable {
        case resting(oid: UInt64)
        case filled(oid: UInt64, totalSize: Double, averagePrice: Double)
        /// A normalTpsl child waiting for its parent to fill, or for its trigger.
        case waiting(String)
        case error(String)
    }

    /// One status per order, in request order. A shorter list than the request means the batch failed as a
    /// whole: every order gets that error.
    package static func orderStatuses(_ response: Any, count: Int) throws(HyperliquidError) -> [OrderStatus] {
        let statuses = try statusList(response)
        let decoded = statuses.map(decode)
        if decoded.count == count { return decoded }
        let message: String =
            decoded.compactMap {
                if case .error(let text) = $0 { return text }
                return nil
            }.first ?? "the venue answered \(decoded.count) statuses for \(count) orders"
        return Array(repeating: .error(message), count: count)
    }

    /// Cancel statuses: nil for success, else the error text.
    package static func cancelStatuses(_ response: Any) throws(HyperliquidError) -> [String?] {
        try statusList(response).map { status in
            if let text = status as? String { return text == "success" ? nil : text }
            return (status as? [String: Any])?["error"] as? String ?? "unknown cancel status"
        }
    }

    /// Checks a simple action's answer (`{"status":"ok","response":{"type":"default"}}`).
    package static func checkOK(_ response: Any) throws(HyperliquidError) {
        guard let object = response as? [String: Any] else { throw .malformed("not an object") }
        if object["status"] as? String == "ok" { return }
        throw .rejected(object["response"] as? String ?? "status \(object["status"] ?? "missing")")
    }

    private static func statusList(_ response: Any) throws(HyperliquidError) -> [Any] {
        guard let object = response as? [String: Any] else { throw .malformed("not an object") }
        guard object["status"] as? String == "ok" else {
            throw .rejected(object["response"] as? String ?? "status \(object["status"] ?? "missing")")
        }
        guard let body = object["response"] as? [String: Any], let data = body["data"] as? [String: Any],
            let statuses = data["statuses"] as? [Any]
        else { throw .malformed("no response.data.statuses") }
        return statuses
    }

    private static func decode(_ status: Any) -> OrderStatus {
        if let text = status as? String { return .waiting(text) }
        guard let object = status as? [String: Any] else { return .error("unreadable status") }
        if let resting = object["resting"] as? [String: Any] {
            return .resting(oid: (resting["oid"] as? NSNumber)?.uint64Value ?? 0)
        }
        if let filled = object["filled"] as? [String: Any] {
            return .filled(
                oid: (filled["oid"] as? NSNumber)?.uint64Value ?? 0,
                totalSize: filled.decimal("totalSz") ?? 0,
                averagePrice: filled.decimal("avgPx") ?? 0
            )
        }
        return .error(object["error"] as? String ?? "unknown order status")
    }
}
