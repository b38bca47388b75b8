/// `market.yaml`: where market data comes from and how fresh it must be.
package struct MarketConfiguration: Sendable {
    package enum ProviderKind: String, Sendable, CaseIterable {
        /// Bundled or user CSV candles played against the clock.
        case replay
        case hyperliquid
        /// Several providers in order: the first healthy one answers (hot standby).
        case chain
    }

    package struct Provider: Sendable {
        package let id: String
        package let kind: ProviderKind
        package let policy: ProviderPolicy
        package var symbols: [String]
        package var maxStaleness: Duration
        // Replay
        package var dataDirectory: String?
        package var intradayInterval: String
        package let contextInterval: String
        // Hyperliquid
        package let isTestnet: Bool
        // Chain
        package let members: [String]
        /// Overrides Hyperliquid's REST base (tests, proxies).
        package var baseURL: String? = nil
        /// Hyperliquid: where the closed candles the engine sees are appended, in the replay market's CSV format.
        package var recordDirectory: String? = nil
    }

    package let defaultProvider: String?
    package var providers: [String: Provider]

    /// The id of a trader's market: the provider itself, or for a list the hot-standby chain of its members.
    package static func standbyID(_ members: [String]) -> String {
        members.count == 1 ? members[0] : members.joined(separator: "|")
    }

    /// Adds a chain provider for every trader whose `market_provider` is a list (`a|b` → members a, b).
    mutating func addStandbyChains(for traders: [TraderConfiguration]) {
        for trader in traders where trader.marketProvider.contains("|") && providers[trader.marketProvider] == nil {
            let members = trader.marketProvider.split(separator: "|").map(String.init)
            let known = members.compactMap { providers[$0] }
            // An unknown member is reported against the trader; no chain is made from it.
            guard known.count == members.count else { continue }
            providers[trader.marketProvider] = Provider(
                id: trader.marketProvider,
                kind: .chain,
                policy: known.first?.policy ?? ExchangeConfiguration.placeholderPolicy,
                symbols: known.first?.symbols ?? [],
                maxStaleness: known.map(\.maxStaleness).min() ?? .seconds(300),
                dataDirectory: nil,
                intradayInterval: known.first?.intradayInterval ?? "3m",
                contextInterval: known.first?.contextInterval ?? "4h",
                isTestnet: known.first?.isTestnet ?? true,
                members: members
            )
        }
    }

    static func read(from reader: MappingReader) -> MarketConfiguration {
        var providers: [String: Provider] = [:]
        for (id, section) in reader.namedMappings("providers", required: true) {
            let kind = section.choice("type", default: ProviderKind?.none, required: true)
            let provider = Provider(
                id: id,
                kind: kind ?? .replay,
                policy: ProviderPolicy.read(from: section) ?? ExchangeConfiguration.placeholderPolicy,
                symbols: section.stringList("symbols", required: kind != .chain) ?? [],
                maxStaleness: section.duration("max_staleness", default: .seconds(300), minimum: .seconds(1)),
                dataDirectory: section.string("data_dir", required: kind == .replay),
                intradayInterval: section.string("intraday_interval", default: "3m"),
                contextInterval: section.string("context_interval", default: "4h"),
                isTestnet: section.bool("testnet", default: false),
                members: section.stringList("members", required: kind == .chain) ?? [],
                baseURL: section.string("base_url").flatMap { $0.isEmpty ? nil : $0 },
                recordDirectory: section.string("record_dir").flatMap { $0.isEmpty ? nil : $0 }
            )
            section.finish()
            if kind != nil { providers[id] = provider }
        }
        let configuration = MarketConfiguration(defaultProvider: reader.string("default"), providers: providers)
        reader.finish()
        return configuration
    }
}
