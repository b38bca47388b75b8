import ArenaCore
import Foundation
import Testing

/// The signal samples keep the newest `sampleLimit` decisions in order, however many were recorded, and persist
/// as the plain ordered list they always were.
@Suite struct SignalStatisticsTests {
    @Test func samples_keepTheNewestInOrder_andPersistAsAList() throws {
        var statistics = SignalStatistics()
        let total = SignalStatistics.sampleLimit + 2_345
        for index in 0..<total {
            statistics.record(
                Decision(symbol: "BTC", signal: index % 3 == 0 ? .hold : .buyToEnter, confidence: Double(index) / 1e6)
            )
        }
        let samples = statistics.samples
        #expect(samples.count == SignalStatistics.sampleLimit)
        #expect(samples.first?.confidence == Double(total - SignalStatistics.sampleLimit) / 1e6)
        #expect(samples.last?.confidence == Double(total - 1) / 1e6)
        #expect(zip(samples, samples.dropFirst()).allSatisfy { $0.confidence < $1.confidence })
        #expect(statistics.count(.hold) == (total + 2) / 3)

        let data = try JSONEncoder().encode(statistics)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["samples"] as? [Any])?.count == SignalStatistics.sampleLimit)
        let decoded = try JSONDecoder().decode(SignalStatistics.self, from: data)
        #expect(decoded == statistics)
        #expect(decoded.samples == samples)
        #expect(SignalStatistics(counts: statistics.counts, samples: samples) == statistics)
    }
}
