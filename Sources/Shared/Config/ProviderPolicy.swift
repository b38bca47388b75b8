/// What every provider (LLM, exchange, market) must declare: how long a call may take, how it is retried,
/// how its health is checked, and what it can do. Missing any of the four is a load error.
package struct ProviderPolicy: Sendable, Equatable {
    package struct Retry: Sendable, Equatable {
        package let maxRetries: Int
        package let backoff: Duration
        package let maxBackoff: Duration

        package init(maxRetries: Int, backoff: Duration, maxBackoff: Duration) {
            self.maxRetries = maxRetries
            self.backoff = backoff
            self.maxBackoff = maxBackoff
        }
    }

    package struct Healthcheck: Sendable, Equatable {
        package let isEnabled: Bool
        package let interval: Duration

        package init(isEnabled: Bool, interval: Duration) {
            self.isEnabled = isEnabled
            self.interval = interval
        }
    }

    package let timeout: Duration
    package let retry: Retry
    package let healthcheck: Healthcheck
    package let capabilities: [String: Bool]

    package init(timeout: Duration, retry: Retry, healthcheck: Healthcheck, capabilities: [String: Bool]) {
        self.timeout = timeout
        self.retry = retry
        self.healthcheck = healthcheck
        self.capabilities = capabilities
    }

    package func supports(_ capability: String) -> Bool { capabilities[capability] ?? false }

    /// Reads the four required policy keys of a provider and reports each one that is missing.
    static func read(from reader: MappingReader) -> ProviderPolicy? {
        for key in ["timeout", "retry", "healthcheck", "capabilities"] where !reader.has(key) {
            reader.log.error(
                reader.file,
                reader.keyPath(key),
                "every provider must declare '\(key)'",
                line: reader.line
            )
        }
        let timeout = reader.duration("timeout", minimum: .milliseconds(1))
        var retry: Retry?
        if let section = reader.mapping("retry") {
            let backoff = section.duration("backoff", default: .seconds(1))
            retry = Retry(
                maxRetries: section.int("max_retries", required: true, range: 0...20) ?? 0,
                backoff: backoff,
                maxBackoff: section.duration("max_backoff", default: max(backoff, .seconds(30)))
            )
            section.finish()
        }
        var healthcheck: Healthcheck?
        if let section = reader.mapping("healthcheck") {
            healthcheck = Healthcheck(
                isEnabled: section.bool("enabled", default: true),
                interval: section.duration("interval", default: .seconds(60), minimum: .seconds(1))
            )
            section.finish()
        }
        var capabilities: [String: Bool]?
        if let section = reader.mapping("capabilities") {
            var values: [String: Bool] = [:]
            for key in section.keys {
                if let flag = section.bool(key) { values[key] = flag }
            }
            capabilities = values
        }
        guard let timeout, let retry, let healthcheck, let capabilities else { return nil }
        return ProviderPolicy(timeout: timeout, retry: retry, healthcheck: healthcheck, capabilities: capabilities)
    }
}
