/// `GET /api/since-inception-values`: each trader's starting NAV. `inception_date` is Unix seconds (float).
package struct SinceInceptionDocument: Codable, Sendable, Equatable {
    package struct Value: Codable, Sendable, Equatable {
        package var id: String
        package var navSinceInception: Double
        package var inceptionDate: Double
        package var numInvocations: Int
        package var modelID: String
        package var llmModel: String?

        package init(
            id: String,
            navSinceInception: Double,
            inceptionDate: Double,
            numInvocations: Int,
            modelID: String,
            llmModel: String? = nil
        ) {
            self.id = id
            self.navSinceInception = navSinceInception
            self.inceptionDate = inceptionDate
            self.numInvocations = numInvocations
            self.modelID = modelID
            self.llmModel = llmModel
        }

        enum CodingKeys: String, CodingKey {
            case id
            case navSinceInception = "nav_since_inception"
            case inceptionDate = "inception_date"
            case numInvocations = "num_invocations"
            case modelID = "model_id"
            case llmModel = "llm_model"
        }
    }

    package var sinceInceptionValues: [Value]
    package var serverTime: Int64?

    package init(sinceInceptionValues: [Value], serverTime: Int64? = nil) {
        self.sinceInceptionValues = sinceInceptionValues
        self.serverTime = serverTime
    }
}
