import Foundation

/// Fast, locale-free UTC formatting of Unix milliseconds (DateFormatter goes through ICU and costs tens of
/// microseconds per call; these are plain arithmetic).
package enum UTCTime {
    /// (year, month, day, hour, minute, second, millisecond).
    package static func components(_ milliseconds: Int64) -> (Int, Int, Int, Int, Int, Int, Int) {
        let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
        let seconds = (milliseconds - Int64(millisecond)) / 1000
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (
            Int(year), Int(month), Int(day), Int(secondOfDay / 3600), Int(secondOfDay % 3600 / 60),
            Int(secondOfDay % 60), millisecond
        )
    }

    /// `2025-07-15T17:20:00Z`.
    package static func iso8601(_ milliseconds: Int64) -> String {
        let (year, month, day, hour, minute, second, _) = components(milliseconds)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
    }

    /// `2025-07-15 17:20:00.123000`, the capture's `*_human_time` form.
    package static func human(_ milliseconds: Int64) -> String {
        let (year, month, day, hour, minute, second, millisecond) = components(milliseconds)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))."
            + "\(pad(millisecond, 3))000"
    }

    /// The wall clock now, in Unix milliseconds (rounded down). Logic takes an `ArenaClock`; this is for the few
    /// places that stamp real time (the wall clock itself, persistence rows, the API's `serverTime`).
    package static func nowMilliseconds() -> Int64 { milliseconds(Date()) }

    /// A date in Unix milliseconds (rounded down).
    package static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Unix milliseconds of an ISO 8601 time (`2025-07-20T00:00:00Z`), or nil when the text is not one.
    package static func milliseconds(iso8601 text: String) -> Int64? {
        ISO8601DateFormatter().date(from: text).map(milliseconds)
    }

    /// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110), or nil.
    package static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
