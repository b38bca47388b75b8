import ArenaCore
import Foundation
import Shared
import Synchronization

/// Counts model tokens and US dollars per UTC day, for the whole arena and per trader, and refuses a call that
/// would cross a limit. A call is admitted with an estimate (prompt tokens + `max_completion_tokens`), which is
/// held as a reservation while it runs so concurrent traders cannot overspend together, and settled with the
/// usage the provider reported. The day's totals are saved after every settlement: a restart does not reset them.
package final class BudgetGuard: Sendable {
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
    /// The day's ledger and the reservations in flight, behind a lock rather than an actor: every cycle asks
    /// whether the budget is under pressure (twice), a backtest's hundreds of thousands of cycles included. The
    /// ledger's file is written under it after a settlement — a remote model's call, which took far longer.
    private let book: Mutex<Book>

    package init(limits: LLMConfiguration.Budget, path: String?, clock: any ArenaClock) throws {
        self.limits = limits
        var ledger = Ledger()
        if let path, let data = FileManager.default.contents(atPath: path) {
            do {
                ledger = try JSONDecoder().decode(Ledger.self, from: data)
            } catch {
                throw Refusal(description: "LLM budget state \(path) is unreadable: \(error)")
            }
        }
        ledger = Book.rolled(ledger, to: Self.day(clock.now()))
        book = Mutex(Book(limits: limits, path: path, clock: clock, ledger: ledger))
    }

    package static func day(_ milliseconds: Int64) -> String { String(UTCTime.iso8601(milliseconds).prefix(10)) }

    package static func money(_ value: Double) -> String { String(format: "$%.4f", value) }

    package static func percent(_ value: Double) -> String { String(format: "%.1f %%", value) }

    package var ledger: Ledger { book.withLock { $0.ledger } }

    package func admit(
        trader: String,
        traderUSDLimit: Double?,
        tokens: Int,
        usd: Double
    ) -> Result<Reservation, Refusal> {
        book.withLock { $0.admit(trader: trader, traderUSDLimit: traderUSDLimit, tokens: tokens, usd: usd) }
    }

    @discardableResult
    package func settle(
        _ reservation: Reservation,
        tokens: Int,
        usd: Double,
        traderUSDLimit: Double?
    ) throws
        -> [Alert]
    {
        try book.withLock { try $0.settle(reservation, tokens: tokens, usd: usd, traderUSDLimit: traderUSDLimit) }
    }

    package func refused(trader: String) throws -> [Alert] { try book.withLock { try $0.refused(trader: trader) } }

    package func usedPct(trader: String, traderUSDLimit: Double?) -> Double {
        book.withLock { $0.usedPct(trader: trader, traderUSDLimit: traderUSDLimit) }
    }

    package func isUnderPressure(trader: String, traderUSDLimit: Double?) -> Bool {
        book.withLock { $0.isUnderPressure(trader: trader, traderUSDLimit: traderUSDLimit) }
    }

    package func spend(trader: String) -> Spend { book.withLock { $0.spend(trader: trader) } }

    private struct Book {
        let limits: LLMConfiguration.Budget
        let path: String?
        let clock: any ArenaClock
        var ledger: Ledger
        var reserved: [Int: Reservation] = [:]
        var nextReservation = 0
        /// The UTC day of `ledger`, in Unix milliseconds: the clock is compared with it rather than the day's name
        /// made again on every call (every model call asks).
        var today: Range<Int64> = 0..<0

        static func rolled(_ ledger: Ledger, to day: String) -> Ledger {
            ledger.day == day ? ledger : Ledger(day: day)
        }

        mutating func roll() {
            let now = clock.now()
            guard !today.contains(now) else { return }
            ledger = Self.rolled(ledger, to: BudgetGuard.day(now))
            let start = now - ((now % 86_400_000) + 86_400_000) % 86_400_000
            today = start..<start + 86_400_000
        }

        var reservedTotal: Spend {
            reserved.values.reduce(into: Spend()) {
                $0.tokens += $1.tokens
                $0.usd += $1.usd
            }
        }

        func reservedUSD(trader: String) -> Double {
            reserved.values.filter { $0.trader == trader }.reduce(0) { $0 + $1.usd }
        }

        /// Admits a call estimated at `tokens` and `usd`, or refuses it when spent + reserved + estimate would pass a
        /// global limit or the trader's own dollar limit.
        mutating func admit(
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
                            "daily USD limit \(BudgetGuard.money(limit)): \(BudgetGuard.money(ledger.total.usd)) spent, this call may cost \(BudgetGuard.money(usd))"
                    )
                )
            }
            if let limit = traderUSDLimit {
                let spent = ledger.traders[trader]?.usd ?? 0
                if spent + reservedUSD(trader: trader) + usd > limit + 1e-12 {
                    return .failure(
                        Refusal(
                            description:
                                "trader \(trader) daily LLM limit \(BudgetGuard.money(limit)): \(BudgetGuard.money(spent)) spent, this call may cost \(BudgetGuard.money(usd))"
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
        mutating func settle(
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
        mutating func refused(trader: String) throws -> [Alert] {
            let key = "llm_budget_exhausted"
            guard !ledger.alerted.contains(key) else { return [] }
            ledger.alerted.insert(key)
            try save()
            return [
                Alert(key: key, message: "LLM budget exhausted for \(ledger.day): calls are refused (trader \(trader))")
            ]
        }

        /// The share of the tightest applicable limit used today, in percent.
        mutating func usedPct(trader: String, traderUSDLimit: Double?) -> Double {
            roll()
            var shares: [Double] = []
            if let limit = limits.dailyTokenLimit, limit > 0 {
                shares.append(Double(ledger.total.tokens) / Double(limit))
            }
            if let limit = limits.dailyUSDLimit, limit > 0 { shares.append(ledger.total.usd / limit) }
            if let limit = traderUSDLimit, limit > 0 { shares.append((ledger.traders[trader]?.usd ?? 0) / limit) }
            return (shares.max() ?? 0) * 100
        }

        /// Whether spending has passed the alert threshold: the router then prefers cheaper models.
        mutating func isUnderPressure(trader: String, traderUSDLimit: Double?) -> Bool {
            usedPct(trader: trader, traderUSDLimit: traderUSDLimit) >= limits.alertThresholdPct
        }

        func spend(trader: String) -> Spend { ledger.traders[trader] ?? Spend() }

        mutating func newAlerts(trader: String, traderUSDLimit: Double?) -> [Alert] {
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
                raise("llm_budget_exhausted", "LLM budget for \(ledger.day) is spent (\(BudgetGuard.percent(global)))")
            } else if global >= threshold {
                raise(
                    "llm_budget_threshold",
                    "LLM budget for \(ledger.day) passed \(BudgetGuard.percent(threshold)): \(BudgetGuard.percent(global)) used"
                )
            }
            if let limit = traderUSDLimit, limit > 0 {
                let share = (ledger.traders[trader]?.usd ?? 0) / limit * 100
                if share >= threshold {
                    raise(
                        "llm_budget_threshold:\(trader)",
                        "trader \(trader) passed \(BudgetGuard.percent(threshold)) of its daily LLM limit: \(BudgetGuard.percent(share)) used"
                    )
                }
            }
            return alerts
        }

        func save() throws {
            guard let path else { return }
            try AtomicFile.replaceJSON(path, with: ledger)
        }
    }
}
