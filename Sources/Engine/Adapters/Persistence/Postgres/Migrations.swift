import ArenaCore
import Logging
import PostgresNIO

/// The database schema as numbered migrations, applied in order, each in its own transaction together with its
/// row in `schema_migrations`, under an advisory lock so two engines never migrate at once. A migration once
/// shipped is never edited: a change is a new migration.
package enum Migrations {
    package struct Migration: Sendable {
        package let version: Int
        package let name: String
        package let statements: [String]
    }

    package static let lockKey: Int64 = 0x4152_454E_4101  // "AREN" "A" 1

    package static let all: [Migration] = [
        Migration(
            version: 1,
            name: "initial schema",
            statements: [
                // Traders and every configuration they have run with.
                """
                CREATE TABLE traders (
                    id text PRIMARY KEY, name text NOT NULL, model text NOT NULL, exchange text NOT NULL,
                    config_sha256 text NOT NULL, config jsonb NOT NULL, updated_at timestamptz NOT NULL)
                """,
                """
                CREATE TABLE trader_versions (
                    trader_id text NOT NULL, config_sha256 text NOT NULL, config jsonb NOT NULL,
                    first_seen timestamptz NOT NULL,
                    PRIMARY KEY (trader_id, config_sha256))
                """,
                // One row per journaled decision cycle.
                """
                CREATE TABLE decision_cycles (
                    trader_id text NOT NULL, cycle bigint NOT NULL, cycle_id text NOT NULL,
                    started_at timestamptz NOT NULL, ended_at timestamptz NOT NULL,
                    outcome text NOT NULL, reason text, error text,
                    model_asked text NOT NULL, model_answered text, route text, cache_hit boolean NOT NULL,
                    prompt_tokens integer NOT NULL, completion_tokens integer NOT NULL, cost_usd float8 NOT NULL,
                    latency_ms bigint NOT NULL, equity float8, decisions jsonb NOT NULL,
                    PRIMARY KEY (trader_id, cycle))
                """,
                "CREATE INDEX decision_cycles_started ON decision_cycles (started_at)",
                """
                CREATE TABLE llm_conversations (
                    trader_id text NOT NULL, cycle bigint NOT NULL, at timestamptz NOT NULL,
                    model text NOT NULL, provider_model text, system_prompt text, user_prompt text, answer text,
                    prompt_digest text, prompt_tokens integer NOT NULL, completion_tokens integer NOT NULL,
                    cost_usd float8 NOT NULL, cache_hit boolean NOT NULL,
                    PRIMARY KEY (trader_id, cycle))
                """,
                // Every model attempt of a cycle (retries and failovers); budget usage is their sum per day.
                """
                CREATE TABLE llm_attempts (
                    trader_id text NOT NULL, cycle bigint NOT NULL, attempt integer NOT NULL, at timestamptz NOT NULL,
                    model text NOT NULL, outcome text NOT NULL, prompt_tokens integer NOT NULL,
                    completion_tokens integer NOT NULL, cost_usd float8 NOT NULL,
                    PRIMARY KEY (trader_id, cycle, attempt))
                """,
                """
                CREATE VIEW llm_budget_usage AS
                    SELECT (at AT TIME ZONE 'UTC')::date AS day, trader_id, model, count(*) AS requests,
                        sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
                        sum(cost_usd) AS cost_usd
                    FROM llm_attempts GROUP BY 1, 2, 3
                """,
                """
                CREATE TABLE risk_verdicts (
                    trader_id text NOT NULL, cycle bigint NOT NULL, idx integer NOT NULL,
                    symbol text NOT NULL, signal text NOT NULL, accepted boolean NOT NULL, reasons text NOT NULL,
                    PRIMARY KEY (trader_id, cycle, idx))
                """,
                """
                CREATE TABLE orders (
                    cloid text PRIMARY KEY, trader_id text NOT NULL, cycle bigint NOT NULL, at timestamptz NOT NULL,
                    symbol text NOT NULL, side text NOT NULL, kind text NOT NULL, size float8 NOT NULL,
                    limit_price float8, trigger_price float8, status text, venue_order_id bigint, reason text,
                    message text)
                """,
                "CREATE INDEX orders_trader_cycle ON orders (trader_id, cycle)",
                """
                CREATE TABLE fills (
                    cloid text PRIMARY KEY, trader_id text NOT NULL, cycle bigint NOT NULL, at timestamptz NOT NULL,
                    symbol text NOT NULL, side text NOT NULL, size float8 NOT NULL, price float8 NOT NULL,
                    fee float8 NOT NULL)
                """,
                // Equity history: one row per cycle from the journal, or per row of an imported account-totals.
                """
                CREATE TABLE account_snapshots (
                    trader_id text NOT NULL, at timestamptz NOT NULL, equity float8 NOT NULL, cash float8,
                    margin_used float8, unrealized_pnl float8, realized_pnl float8, fees_paid float8,
                    source text NOT NULL, PRIMARY KEY (trader_id, at))
                """,
                """
                CREATE TABLE trader_positions (
                    trader_id text NOT NULL, at timestamptz NOT NULL, symbol text NOT NULL, quantity float8 NOT NULL,
                    entry_price float8 NOT NULL, leverage float8, margin float8, liquidation_price float8,
                    mark_price float8, stop_loss float8, take_profit float8, unrealized_pnl float8,
                    PRIMARY KEY (trader_id, at, symbol))
                """,
                // Closed round trips as the venue reports them (the trades document).
                """
                CREATE TABLE trades (
                    id text PRIMARY KEY, trader_id text NOT NULL, symbol text NOT NULL, side text NOT NULL,
                    quantity float8 NOT NULL, entry_price float8 NOT NULL, exit_price float8 NOT NULL,
                    entry_time timestamptz NOT NULL, exit_time timestamptz NOT NULL,
                    realized_gross_pnl float8 NOT NULL, realized_net_pnl float8 NOT NULL,
                    total_commission float8 NOT NULL, data jsonb NOT NULL)
                """,
                // KPIs as exported (leaderboard, since-inception, analytics), by trader and time.
                """
                CREATE TABLE performance_snapshots (
                    trader_id text NOT NULL, at timestamptz NOT NULL, kind text NOT NULL, data jsonb NOT NULL,
                    PRIMARY KEY (trader_id, at, kind))
                """,
                """
                CREATE TABLE exchange_positions (
                    provider text NOT NULL, trader_id text NOT NULL, symbol text NOT NULL, data jsonb NOT NULL,
                    updated_at timestamptz NOT NULL, PRIMARY KEY (provider, trader_id, symbol))
                """,
                """
                CREATE TABLE exchange_orders (
                    provider text NOT NULL, order_id text NOT NULL, trader_id text NOT NULL, data jsonb NOT NULL,
                    updated_at timestamptz NOT NULL, PRIMARY KEY (provider, order_id))
                """,
                """
                CREATE TABLE assets (
                    symbol text PRIMARY KEY, price float8 NOT NULL, updated_at timestamptz NOT NULL)
                """,
                """
                CREATE TABLE klines (
                    symbol text NOT NULL, interval text NOT NULL, open_time timestamptz NOT NULL,
                    open float8 NOT NULL, high float8 NOT NULL, low float8 NOT NULL, close float8 NOT NULL,
                    volume float8 NOT NULL, PRIMARY KEY (symbol, interval, open_time))
                """,
                """
                CREATE TABLE indicators (
                    symbol text NOT NULL, interval text NOT NULL, at timestamptz NOT NULL, name text NOT NULL,
                    value float8 NOT NULL, PRIMARY KEY (symbol, interval, at, name))
                """,
                // The API documents of an imported snapshot generation, verbatim.
                """
                CREATE TABLE api_documents (
                    name text PRIMARY KEY, generation text NOT NULL, body jsonb NOT NULL,
                    imported_at timestamptz NOT NULL)
                """,
            ]
        )
    ]

    /// Applies every migration not yet applied; returns the versions applied now (empty: already current).
    @discardableResult
    package static func apply(_ database: PostgresDatabase, migrations: [Migration] = all) async throws -> [Int] {
        try await database.query(
            "migrations",
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """
        )
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let didApply = try await database.transaction("migrations") { connection -> Bool in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: database.logger)
                let existing = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)",
                    logger: database.logger
                )
                for try await _ in existing { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: database.logger
                )
                return true
            }
            if didApply {
                applied.append(migration.version)
                database.logger.info(
                    "migration applied",
                    metadata: ["version": "\(migration.version)", "name": "\(migration.name)"]
                )
            }
        }
        return applied
    }

    /// The highest applied version (0: none).
    package static func currentVersion(_ database: PostgresDatabase) async throws -> Int {
        let rows = try await database.query(
            "migrations",
            "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations"
        )
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }
}
