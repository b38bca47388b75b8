import Foundation
import Shared

/// A trader's decision pipeline as its configuration declares it: the prompt renderer (its two templates, the
/// decision schema, the market's intervals) and the view orders are planned with. Built once from the
/// configuration by `make` and shared by the live cycle, `engine replay`, counterfactuals and backtests, so all of
/// them render and plan alike; anything missing is an error, never a default.
package struct TraderPipeline: Sendable {
    package let renderer: PromptRenderer

    package var trader: TraderConfiguration { renderer.trader }
    package var decisionSchema: String { renderer.decisionSchema }

    /// What the order planner reads of the trader.
    package var view: TraderConfigurationView { TraderConfigurationView(trader) }

    package init(renderer: PromptRenderer) { self.renderer = renderer }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// The decision schema the configuration names (`executor.decision_schema`), as sent to the model.
    package static func decisionSchema(_ configuration: ArenaConfiguration) throws(Failure) -> String {
        let path = configuration.executor.decisionSchemaPath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "\(path): cannot read the decision schema")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The pipeline of `trader`: its templates loaded and version-checked (from `templatesDirectory` in place of
    /// `prompts/` when given, as `engine replay --templates` does), the decision schema, and its market's intervals.
    package static func make(
        trader: TraderConfiguration,
        configuration: ArenaConfiguration,
        decisionSchema: String,
        templatesDirectory: String? = nil
    ) throws(Failure) -> TraderPipeline {
        let executor = configuration.executor
        func load(_ id: String) throws(Failure) -> PromptTemplate {
            guard let reference = executor.templates[id] else {
                throw Failure(description: "trader '\(trader.id)': unknown template '\(id)'")
            }
            let path =
                templatesDirectory.map { ExecutorConfiguration.relocated(reference.path, to: $0) } ?? reference.path
            do {
                return try PromptTemplate.load(id: id, path: path, expectedVersion: reference.expectedVersion(executor))
            } catch {
                throw Failure(description: "trader '\(trader.id)': \(error)")
            }
        }
        guard let market = configuration.market.providers[trader.marketProvider] else {
            throw Failure(description: "trader '\(trader.id)': unknown market provider '\(trader.marketProvider)'")
        }
        let userTemplate = try load(trader.executorPromptTemplate)
        return TraderPipeline(
            renderer: PromptRenderer(
                trader: trader,
                venue: trader.exchangeProvider,
                systemTemplate: try load(trader.promptTemplate),
                userTemplate: userTemplate,
                decisionSchema: decisionSchema,
                intradayInterval: market.intradayInterval,
                contextInterval: market.contextInterval,
                memoryDepth: userTemplate.readsAny(of: PromptContext.memoryVariables)
                    ? executor.templates[trader.executorPromptTemplate]?.memory : nil
            )
        )
    }
}
