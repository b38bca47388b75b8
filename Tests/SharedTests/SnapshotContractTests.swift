import ArenaTestSupport
import Foundation
import Testing

@testable import Shared

@Suite("Snapshot contract against the nof1 capture")
struct SnapshotContractTests {
    static let files: [(String, any (Codable & Sendable).Type)] = [
        ("crypto-prices.json", CryptoPricesDocument.self),
        ("account-totals.json", AccountTotalsDocument.self),
        ("trades.json", TradesDocument.self),
        ("positions.json", PositionsDocument.self),
        ("analytics.json", AnalyticsDocument.self),
        ("analytics-gpt-5.json", AnalyticsDocument.self),
        ("analytics-claude-sonnet-4-5.json", AnalyticsDocument.self),
        ("analytics-deepseek-chat-v3.1.json", AnalyticsDocument.self),
        ("analytics-gemini-2.5-pro.json", AnalyticsDocument.self),
        ("analytics-grok-4.json", AnalyticsDocument.self),
        ("analytics-qwen3-max.json", AnalyticsDocument.self),
        ("leaderboard.json", LeaderboardDocument.self),
        ("since-inception-values.json", SinceInceptionDocument.self),
        ("conversations.json", ConversationsDocument.self),
    ]

    static func roundTrip<T: Codable>(_ type: T.Type, _ data: Data) throws -> Data {
        let value = try SnapshotCoding.makeDecoder().decode(T.self, from: data)
        return try SnapshotCoding.makeEncoder().encode(value)
    }

    @Test(arguments: files.map(\.0))
    func capturedFile_decodesAndEncodesWithEveryFieldAndValue(file: String) throws {
        let type = try #require(Self.files.first { $0.0 == file }?.1)
        let data = try Data(contentsOf: TestPaths.capture.appendingPathComponent(file))
        let encoded = try Self.roundTrip(type, data)
        let difference = try JSONComparison.difference(data, encoded)
        #expect(difference == nil, "\(file): \(difference ?? "")")
    }

    @Test func everyCapturedJSONFile_isCovered() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.capture.path)
            .filter { $0.hasSuffix(".json") }
        #expect(Set(names) == Set(Self.files.map(\.0)))
    }

    @Test func zeroValuesAndNulls_areWrittenNotOmitted() throws {
        let trade = TradesDocument.Trade(
            id: "t_1",
            modelID: "t",
            tradeID: "1",
            symbol: "BTC",
            side: "long",
            tradeType: "long",
            quantity: 0,
            leverage: 1,
            confidence: 0,
            exitPlan: ExitPlan(),
            entryOID: 0,
            entryTID: 0,
            entryTime: 0,
            entryHumanTime: "",
            entryPrice: 0,
            entrySz: 0,
            entryCrossed: false,
            entryCommissionDollars: 0,
            entryClosedPnL: 0,
            exitOID: 0,
            exitTID: 0,
            exitTime: 0,
            exitHumanTime: "",
            exitPrice: 0,
            exitSz: 0,
            exitCrossed: false,
            exitCommissionDollars: 0,
            exitClosedPnL: 0,
            totalCommissionDollars: 0,
            realizedGrossPnL: 0,
            realizedNetPnL: 0
        )
        let json = try #require(
            try JSONSerialization.jsonObject(with: SnapshotCoding.makeEncoder().encode(trade)) as? [String: Any]
        )
        #expect(json["quantity"] as? Double == 0)
        #expect(json["entry_liquidation"] is NSNull)
        #expect(json["exit_liquidation"] is NSNull)
        #expect(json["confidence"] != nil)
        // The 33 fields of a captured trade; `llm_model` is added only when known.
        #expect(json.count == 33)
    }

    @Test func accountTotals_rowsAfterMarker_keepsOnlyNewerRows() throws {
        let data = try Data(contentsOf: TestPaths.capture.appendingPathComponent("account-totals.json"))
        let document = try JSONDecoder().decode(AccountTotalsDocument.self, from: data)
        let newer = document.rows(after: 197)
        #expect(!newer.accountTotals.isEmpty)
        #expect(newer.accountTotals.allSatisfy { $0.sinceInceptionHourlyMarker > 197 })
        #expect(newer.lastHourlyMarkerRead == 198)
        let none = document.rows(after: 198)
        #expect(none.accountTotals.isEmpty)
        #expect(none.lastHourlyMarkerRead == 198)
    }
}
