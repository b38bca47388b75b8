/// `exchange.yaml`: the venues traders send orders to.
package struct ExchangeConfiguration: Sendable {
    package enum ProviderKind: String, Sendable, CaseIterable {
        /// The paper exchange: fees, slippage, margin, liquidation, funding, all simulated locally.
        case sim
        case hyperliquid
    }

    package struct Provider: Sendable {
        package let id: String
        package var kind: ProviderKind
        package let policy: ProviderPolicy
        // Paper exchange
        package let takerFeeBps: Double
        package let makerFeeBps: Double
        package let slippageBps: Double
        package var statePath: String?
        // Hyperliquid
        package let isTestnet: Bool
        package let privateKey: Secret
        package let mainAddress: String?
        package let vaultAddress: String?
        /// Overrides the venue's REST base (tests, proxies); nil uses mainnet or testnet.
        package var baseURL: String? = nil
        /// Resting orders die this long after the last cycle unless re-armed (`scheduleCancel`); nil turns the
        /// dead-man's switch off.
        package var deadMansSwitch: Duration? = nil
    }

    package let defaultProvider: String?
    package var providers: [String: Provider]

    /// The shortest dead-man's switch the engine keeps armed: its tick (one second) re-arms the switch every third
    /// of the interval, so at 30 s two missed re-arms in a row still leave ten seconds before it fires. 0 turns the
    /// switch off.
    package static let minimumDeadMansSwitch: Duration = .seconds(30)

    static func deadMansSwitch(_ section: MappingReader) -> Duration {
        let value = section.duration("dead_mans_switch", default: .seconds(300))
        if value > .zero, value < minimumDeadMansSwitch {
            section.log.error(
                section.file,
                section.keyPath("dead_mans_switch"),
                "must be 0 (off) or at least \(ConfigDuration.format(minimumDeadMansSwitch)): the engine re-arms it "
                    + "every third of the interval from its tick, and a shorter switch could fire between re-arms "
                    + "and cancel every stop and target",
                line: section.lineOf("dead_mans_switch")
            )
        }
        return value
    }

    static func read(from reader: MappingReader) -> ExchangeConfiguration {
        var providers: [String: Provider] = [:]
        for (id, section) in reader.namedMappings("providers", required: true) {
            let kind = section.choice("type", default: ProviderKind?.none, required: true)
            let provider = Provider(
                id: id,
                kind: kind ?? .sim,
                policy: ProviderPolicy.read(from: section) ?? placeholderPolicy,
                takerFeeBps: section.double("taker_fee_bps", default: 4.5, range: 0...1000),
                makerFeeBps: section.double("maker_fee_bps", default: 1.5, range: -100...1000),
                slippageBps: section.double("slippage_bps", default: 2, range: 0...1000),
                statePath: section.string("state_path"),
                isTestnet: section.bool("testnet", default: true),
                privateKey: section.secret("private_key"),
                mainAddress: section.string("main_address").flatMap { $0.isEmpty ? nil : $0 },
                vaultAddress: section.string("vault_address").flatMap { $0.isEmpty ? nil : $0 },
                baseURL: section.string("base_url").flatMap { $0.isEmpty ? nil : $0 },
                deadMansSwitch: kind == .hyperliquid ? Self.deadMansSwitch(section) : nil
            )
            section.finish()
            if kind != nil { providers[id] = provider }
        }
        let configuration = ExchangeConfiguration(
            defaultProvider: reader.string("default"),
            providers: providers
        )
        reader.finish()
        return configuration
    }

    /// Stands in only while a load that already has an error is completing its report; never used to run.
    static let placeholderPolicy = ProviderPolicy(
        timeout: .seconds(1),
        retry: .init(maxRetries: 0, backoff: .zero, maxBackoff: .zero),
        healthcheck: .init(isEnabled: false, interval: .seconds(60)),
        capabilities: [:]
    )
}
