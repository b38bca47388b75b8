import ArenaAdapters
import ArenaCore
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import Shared

#if canImport(Glibc)
#endif

/// `engine doctor`: the checks to run before going live, one line each, exit 1 on any failure.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check configuration, providers, services, disk, clock and the journal's replay before going live."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Journal cycles replayed per trader.")
    var replay: Int = 20

    @Option(name: .long, help: "Largest acceptable difference between this clock and a provider's (seconds).")
    var maxSkew: Double = 5

    enum Status: String {
        case ok = "OK"
        case fail = "FAIL"
        case skip = "SKIP"
    }

    struct Line {
        var name: String
        var status: Status
        var detail: String
    }

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        var lines = [
            Line(
                name: "config",
                status: .ok,
                detail: "\(configuration.enabledTraders.count) of \(configuration.traders.count) traders enabled"
            )
        ]
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        lines += await providerChecks(configuration, httpClient: httpClient)
        try? await httpClient.shutdown()
        lines += serviceChecks(configuration)
        lines.append(diskCheck(configuration))
        lines += replayChecks(configuration)
        lines += intentChecks(configuration)
        for line in lines {
            print(
                "\(line.status.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(line.name): \(line.detail)"
            )
        }
        let failures = lines.filter { $0.status == .fail }.count
        print(failures == 0 ? "doctor: all checks passed" : "doctor: \(failures) check(s) failed")
        if failures > 0 { throw ExitCode(1) }
    }

    /// Reachability of every remote provider the enabled traders use, and the clock against the first answer's
    /// `Date` header.
    func providerChecks(_ configuration: ArenaConfiguration, httpClient: HTTPClient) async -> [Line] {
        var lines: [Line] = []
        var skewChecked = false
        let traders = configuration.enabledTraders
        var modelProviders = Set<String>()
        for trader in traders {
            let consensus = configuration.llm.models[trader.model]?.consensus
            for alias in [trader.model] + trader.fallbackModels + (consensus?.members ?? []) {
                if let model = configuration.llm.models[alias] { modelProviders.insert(model.provider) }
            }
        }
        var targets: [(name: String, request: HTTPClientRequest, timeout: Duration)] = []
        for id in modelProviders.sorted() {
            guard let provider = configuration.llm.providers[id], provider.kind != .baseline,
                let base = provider.baseURL
            else { continue }
            var request = HTTPClientRequest(url: base.trimmingSuffix("/") + "/models")
            if provider.kind == .anthropic {
                request.headers.add(name: "x-api-key", value: provider.apiKey.revealed)
                request.headers.add(
                    name: "anthropic-version",
                    value: provider.apiVersion ?? AnthropicMessagesClient.defaultAPIVersion
                )
            } else if !provider.apiKey.isEmpty {
                request.headers.add(name: "Authorization", value: "Bearer \(provider.apiKey.revealed)")
            }
            targets.append(("llm provider \(id)", request, provider.policy.timeout))
        }
        var venues: [(String, String?, Bool, Duration)] = []
        for id in Set(traders.map(\.exchangeProvider)).sorted() {
            guard let venue = configuration.exchange.providers[id], venue.kind == .hyperliquid else { continue }
            venues.append(("exchange \(id)", venue.baseURL, venue.isTestnet, venue.policy.timeout))
        }
        for id in Set(traders.flatMap { $0.marketProvider.split(separator: "|").map(String.init) }).sorted() {
            guard let market = configuration.market.providers[id], market.kind == .hyperliquid else { continue }
            venues.append(("market \(id)", market.baseURL, market.isTestnet, market.policy.timeout))
        }
        for (name, baseURL, isTestnet, timeout) in venues {
            let base = baseURL ?? (isTestnet ? HyperliquidAPI.testnetURL : HyperliquidAPI.mainnetURL)
            var request = HTTPClientRequest(url: base.trimmingSuffix("/") + "/info")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"type":"meta"}"#))
            targets.append((name, request, timeout))
        }
        if targets.isEmpty {
            lines.append(Line(name: "providers", status: .skip, detail: "no remote provider in use"))
        }
        for target in targets {
            let started = ContinuousClock.now
            do {
                let response = try await httpClient.execute(
                    target.request,
                    timeout: .milliseconds(target.timeout.milliseconds)
                )
                _ = try await response.body.collect(upTo: 4 << 20)
                let elapsed = (ContinuousClock.now - started).milliseconds
                let status = Int(response.status.code)
                let healthy = (200..<300).contains(status)
                lines.append(
                    Line(
                        name: target.name,
                        status: healthy ? .ok : .fail,
                        detail: healthy ? "answered in \(elapsed) ms" : "HTTP \(status) in \(elapsed) ms"
                    )
                )
                if !skewChecked, let date = response.headers.first(name: "Date").flatMap(UTCTime.httpDate) {
                    skewChecked = true
                    let skew = Date().timeIntervalSince(date)
                    lines.append(
                        Line(
                            name: "clock",
                            status: abs(skew) <= maxSkew + 1 ? .ok : .fail,
                            detail: String(format: "%+.1f s against %@ (limit %.0f s)", skew, target.name, maxSkew)
                        )
                    )
                }
            } catch {
                lines.append(
                    Line(name: target.name, status: .fail, detail: "unreachable: \(BoundedHTTP.describe(error))")
                )
            }
        }
        if !skewChecked {
            lines.append(Line(name: "clock", status: .skip, detail: "no provider answered with a Date header"))
        }
        return lines
    }

    /// PostgreSQL and Redis, when configured, must accept a TCP connection.
    func serviceChecks(_ configuration: ArenaConfiguration) -> [Line] {
        var lines: [Line] = []
        if configuration.postgres.isEnabled {
            let (host, port) = Self.postgresEndpoint(configuration.postgres.dsn.revealed)
            lines.append(tcpCheck("postgres", host: host, port: port))
        } else {
            lines.append(Line(name: "postgres", status: .skip, detail: "not configured"))
        }
        if let address = configuration.redis.address {
            let parts = address.split(separator: ":")
            lines.append(
                tcpCheck("redis", host: String(parts.first ?? "127.0.0.1"), port: Int(parts.last ?? "") ?? 6379)
            )
        } else {
            lines.append(Line(name: "redis", status: .skip, detail: "not configured"))
        }
        return lines
    }

    /// Host and port of a `postgres://user:pass@host:port/db` DSN (the password is never shown).
    static func postgresEndpoint(_ dsn: String) -> (String, Int) {
        guard let components = URLComponents(string: dsn) else { return ("127.0.0.1", 5432) }
        return (components.host ?? "127.0.0.1", components.port ?? 5432)
    }

    func tcpCheck(_ name: String, host: String, port: Int) -> Line {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            return Line(name: name, status: .fail, detail: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard descriptor >= 0 else { return Line(name: name, status: .fail, detail: "no socket") }
        defer { close(descriptor) }
        let connected = connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
        return Line(
            name: name,
            status: connected ? .ok : .fail,
            detail: connected ? "\(host):\(port) accepts connections" : "\(host):\(port) refused the connection"
        )
    }

    /// The journal's file system must hold at least ten full journal files.
    func diskCheck(_ configuration: ArenaConfiguration) -> Line {
        var path = configuration.journal.path
        while !FileManager.default.fileExists(atPath: path), path != "/", !path.isEmpty {
            path = (path as NSString).deletingLastPathComponent
        }
        if path.isEmpty { path = "." }
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            return Line(name: "disk", status: .fail, detail: "cannot stat \(path)")
        }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        let needed = Int64(configuration.journal.maxFileBytes) * 10
        return Line(
            name: "disk",
            status: free >= needed ? .ok : .fail,
            detail: "\(free >> 20) MiB free for the journal at \(path) (need \(needed >> 20) MiB: ten files)"
        )
    }

    /// Cycles a stopped engine left while their orders were going out (`intent.json`): the next start completes
    /// each from what the venue knows; one that does not decode keeps the engine from starting.
    func intentChecks(_ configuration: ArenaConfiguration) -> [Line] {
        let directory = JournalDirectory(root: configuration.journal.path)
        let lines = directory.traders().compactMap { trader -> Line? in
            do {
                guard let intent = try JournalWriter.intent(directory, trader: trader) else { return nil }
                return Line(
                    name: "intents \(trader)",
                    status: .ok,
                    detail:
                        "cycle \(intent.cycle) stopped while sending \(intent.orders.count) orders; the next start completes it from the venue"
                )
            } catch {
                return Line(
                    name: "intents \(trader)",
                    status: .fail,
                    detail:
                        "\(JournalWriter.intentPath(directory, trader: trader)) does not decode: the engine will not start until it is inspected and moved away"
                )
            }
        }
        return lines.isEmpty ? [Line(name: "intents", status: .ok, detail: "no interrupted cycle")] : lines
    }

    /// The last cycles of every journaled trader replay identically with today's configuration and templates.
    func replayChecks(_ configuration: ArenaConfiguration) -> [Line] {
        let directory = JournalDirectory(root: configuration.journal.path)
        let traders = directory.traders()
        guard !traders.isEmpty else {
            return [Line(name: "replay", status: .skip, detail: "no journal at \(configuration.journal.path)")]
        }
        let replay = JournalReplay(configuration: configuration, templatesDirectory: nil)
        return traders.map { trader in
            do {
                let records = Array(
                    try JournalReplay.records(journal: directory, trader: trader).suffix(max(1, self.replay))
                )
                let summary = try replay.replay(trader: trader, records: records)
                if summary.mismatchedCycles.isEmpty {
                    return Line(
                        name: "replay \(trader)",
                        status: .ok,
                        detail: "last \(summary.cycles) cycles replay identically"
                    )
                }
                let first = summary.differences.first.map { "\($0.cycleID) \($0.field)" } ?? ""
                return Line(
                    name: "replay \(trader)",
                    status: .fail,
                    detail:
                        "\(summary.mismatchedCycles.count) of \(summary.cycles) cycles would now differ (first: \(first))"
                )
            } catch {
                return Line(name: "replay \(trader)", status: .fail, detail: "\(error)")
            }
        }
    }
}
