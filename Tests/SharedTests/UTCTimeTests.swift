import Foundation
import Testing

@testable import Shared

@Suite("UTC time formatting")
struct UTCTimeTests {
    @Test func matchesFoundationAcrossDatesAndLeapYears() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        var milliseconds: Int64 = -86_400_000 * 400
        while milliseconds < 4_102_444_800_000 {  // until 2100
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(UTCTime.iso8601(milliseconds) == expected, "\(milliseconds)")
            milliseconds += 86_400_000 * 17 + 3_723_456
        }
    }

    @Test func humanTimeHasMicrosecondDigits() {
        #expect(UTCTime.human(1_761_418_991_842) == "2025-10-25 19:03:11.842000")
        #expect(UTCTime.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.iso8601(951_782_400_000) == "2000-02-29T00:00:00Z")
    }
}
