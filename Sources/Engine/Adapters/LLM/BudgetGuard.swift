import ArenaCore
import Foundation
import Shared

/// Counts model tokens and US dollars per UTC day, for the whole arena and per trader, and refuses a call that
/// would cross a limit. A call is admitted with an estimate (prompt tokens + `max_completion_tokens`), which is
/// held as a reservation while it runs so concurrent traders cannot overspend together, and settled with the
/// usage the provider reported. The day's totals are saved after every settlement: a restart does not reset them.
package actor BudgetGuard {
    package struct Spend: Sendable, Codable, Equatable {
        package var tokens: Int = 0
        package var usd: Double = 0
        package var calls: Int = 0
    }

    /// What is persisted: one UTC day.
    package struct Ledger: Sendable, Codable, Equatable {
        package var day: String = ""
        package var total = Spend()
        package var traders: [String: Spend] = [:]
        /// Alert keys already raised today (each fires once a day).
        package var alerted: Set<String> = []
    }

    /// Why a call was not made.
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        package let description: String
    }

    /// A budget event worth an operator's attention (each key once per UTC day).
    package struct Alert: Sendable, Equatable {
        package let key: String
        package let message: String
    }

    package struct Reservation: Sendable, Equatable {
        fileprivate let id: Int
        package let trader: String
        package let tokens: Int
        package let usd: Double
    }

    package let limits: LLMConfiguration.Budget
    private let path: String?
    private let clock: any ArenaClock
    package private(set) var ledger: Ledger
    private var reserved: [Int: Reservation] = [:]
    private var nextReservation = 0
    /// The UTC day of `ledger`, in Unix milliseconds: the clock is compared with it rather than the day's name
    /// made again on every call (every model call asks).
    private var today: Range<Int64> = 0..<0

    package init(limits: LLMConfiguration.Budget, path: String?, clock: any ArenaClock) throws {
        self.limits = limits
        self.path = path
        self.clock = clock
        if let path, let data = FileManager.default.contents(atPath: path) {
            do {
                ledger = try JSONDecoder().decode(Ledger.self, from: data)
            } catch {
                throw Refusal(description: "LLM budget state \(path) is unreadable: \(error)")
            }
        } else {
            ledger = Ledger()
        }
        ledger = Self.rolled(ledger, to: Self.day(clock.now()))
    }

    package static func day(_ milliseconds: Int64) -> String { String(UTCTime.iso8601(milliseconds).prefix(10)) }

    private static func rolled(_ ledger: Ledger, to day: String) -> Ledger {
        ledger.day == day ? ledger : Ledger(day: day)
    }

    private func roll() {
        let now = clock.now()
        guard !today.contains(now) else { return }
        ledger = Self.rolled(ledger, to: Self.day(now))
        let start = now - ((now % 86_400_000) + 86_400_000) % 86_400_000
        today = start..<start + 86_400_000
    }

    private var reservedTotal: Spend {
        reserved.values.reduce(into: Spend()) {
            $0.tokens += $1.tokens
            $0.usd += $1.usd
        }
    }

    private func reservedUSD(trader: String) -> Double {
        reserved.values.filter { $0.trader == trader }.reduce(0) { $0 + $1.usd }
    }

    /// Admits a call estimated at `tokens` and `usd`, or refuses it when spent + reserved + estimate would pass a
    /// global limit or the trader's own dollar limit.
    package func admit(
        trader: String,
        traderUSDLimit: Double?,
        tokens: Int,
        usd: Double
    ) -> Result<Reservation, Refusal> {
        roll()
        let pending = reservedTotal
        if let limit = limits.dailyTokenLimit, ledger.total.tokens + pending.tokens + tokens > limit {
            return .failure(
                Refusal(
                    description:
                        "daily token limit \(limit): \(ledger.total.tokens) used, \(pending.tokens) in flight, this call needs up to \(tokens)"
                )
            )
        }
        if let limit = limits.dailyUSDLimit, ledger.total.usd + pending.usd + usd > limit + 1e-12 {
            return .failure(
                Refusal(
                    description:
                        "daily USD limit \(Self.money(limit)): \(Self.money(ledger.total.usd)) spent, this call may cost \(Self.money(usd))"
                )
            )
        }
        if let limit = traderUSDLimit {
            let spent = ledger.traders[trader]?.usd ?? 0
            if spent + reservedUSD(trader: trader) + usd > limit + 1e-12 {
                return .failure(
                    Refusal(
                        description:
                            "trader \(trader) daily LLM limit \(Self.money(limit)): \(Self.money(spent)) spent, this call may cost \(Self.money(usd))"
                    )
                )
            }
        }
        nextReservation += 1
        let reservation = Reservation(id: nextReservation, trader: trader, tokens: tokens, usd: usd)
        reserved[reservation.id] = reservation
        return .success(reservation)
    }

    /// Releases a reservation and books what the call really used (zero when it failed before any answer).
    /// Returns the alerts this spending raised for the first time today.
    @discardableResult
    package func settle(
        _ reservation: Reservation,
        tokens: Int,
        usd: Double,
        traderUSDLimit: Double?
    ) throws -> [Alert] {
        reserved[reservation.id] = nil
        roll()
        guard tokens > 0 || usd > 0 else { return [] }
        ledger.total.tokens += tokens
        ledger.total.usd += usd
        ledger.total.calls += 1
        ledger.traders[reservation.trader, default: Spend()].tokens += tokens
        ledger.traders[reservation.trader, default: Spend()].usd += usd
        ledger.traders[reservation.trader, default: Spend()].calls += 1
        let alerts = newAlerts(trader: reservation.trader, traderUSDLimit: traderUSDLimit)
        try save()
        return alerts
    }

    /// Records that a call was refused, and returns the exhaustion alert if it is the first today.
    package func refused(trader: String) throws -> [Alert] {
        let key = "llm_budget_exhausted"
        guard !ledger.alerted.contains(key) else { return [] }
        ledger.alerted.insert(key)
        try save()
        return [
            Alert(key: key, message: "LLM budget exhausted for \(ledger.day): calls are refused (trader \(trader))")
        ]
    }

    /// The share of the tightest applicable limit used today, in percent.
    package func usedPct(trader: String, traderUSDLimit: Double?) -> Double {
        roll()
        var shares: [Double] = []
        if let limit = limits.dailyTokenLimit, limit > 0 { shares.append(Double(ledger.total.tokens) / Double(limit)) }
        if let limit = limits.dailyUSDLimit, limit > 0 { shares.append(ledger.total.usd / limit) }
        if let limit = traderUSDLimit, limit > 0 { shares.append((ledger.traders[trader]?.usd ?? 0) / limit) }
        return (shares.max() ?? 0) * 100
    }

    /// Whether spending has passed the alert threshold: the router then prefers cheaper models.
    package func isUnderPressure(trader: String, traderUSDLimit: Double?) -> Bool {
        usedPct(trader: trader, traderUSDLimit: traderUSDLimit) >= limits.alertThresholdPct
    }

    package func spend(trader: String) -> Spend { ledger.traders[trader] ?? Spend() }

    private func newAlerts(trader: String, traderUSDLimit: Double?) -> [Alert] {
        var alerts: [Alert] = []
        func raise(_ key: String, _ message: String) {
            guard !ledger.alerted.contains(key) else { return }
            ledger.alerted.insert(key)
            alerts.append(Alert(key: key, message: message))
        }
        let threshold = limits.alertThresholdPct
        var globalShares: [Double] = []
        if let limit = limits.dailyTokenLimit, limit > 0 {
            globalShares.append(Double(ledger.total.tokens) / Double(limit) * 100)
        }
        if let limit = limits.dailyUSDLimit, limit > 0 { globalShares.append(ledger.total.usd / limit * 100) }
        let global = globalShares.max() ?? 0
        if global >= 100 {
            raise("llm_budget_exhausted", "LLM budget for \(ledger.day) is spent (\(Self.percent(global)))")
        } else if global >= threshold {
            raise(
                "llm_budget_threshold",
                "LLM budget for \(ledger.day) passed \(Self.percent(threshold)): \(Self.percent(global)) used"
            )
        }
        if let limit = traderUSDLimit, limit > 0 {
            let share = (ledger.traders[trader]?.usd ?? 0) / limit * 100
            if share >= threshold {
                raise(
                    "llm_budget_threshold:\(trader)",
                    "trader \(trader) passed \(Self.percent(threshold)) of its daily LLM limit: \(Self.percent(share)) used"
                )
            }
        }
        return alerts
    }

    private func save() throws {
        guard let path else { return }
        try AtomicFile.replaceJSON(path, with: ledger)
    }

    package static func money(_ value: Double) -> String { String(format: "$%.4f", value) }
    package static func percent(_ value: Double) -> String { String(format: "%.1f %%", value) }
}
