/// `GET /api/crypto-prices`: latest price per symbol. `timestamp` is Unix milliseconds.
package struct CryptoPricesDocument: Codable, Sendable, Equatable {
    package struct Price: Codable, Sendable, Equatable {
        package var symbol: String
        package var price: Double
        /// Unix milliseconds.
        package var timestamp: Int64

        package init(symbol: String, price: Double, timestamp: Int64) {
            self.symbol = symbol
            self.price = price
            self.timestamp = timestamp
        }
    }

    package var prices: [String: Price]
    /// Unix milliseconds; the API overwrites it on every response.
    package var serverTime: Int64?

    package init(prices: [String: Price], serverTime: Int64? = nil) {
        self.prices = prices
        self.serverTime = serverTime
    }
}
