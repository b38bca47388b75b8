import Foundation
import Shared

/// The OpenAPI 3 description of every route, built from small schema helpers so that each document's schema
/// sits beside its fields.
enum OpenAPIDocument {
    static let json: String = {
        // Built from literals only; serialization cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }()

    // The schema tables below are immutable literals read once to build `json`; nothing ever mutates them,
    // which is why `nonisolated(unsafe)` is sound here.
    private typealias Schema = [String: Any]

    nonisolated(unsafe) private static let number: Schema = ["type": "number"]
    nonisolated(unsafe) private static let integer: Schema = ["type": "integer", "format": "int64"]
    nonisolated(unsafe) private static let string: Schema = ["type": "string"]
    nonisolated(unsafe) private static let boolean: Schema = ["type": "boolean"]
    nonisolated(unsafe) private static let nullableNumber: Schema = ["type": "number", "nullable": true]
    nonisolated(unsafe) private static let nullableString: Schema = ["type": "string", "nullable": true]

    private static func object(_ properties: [String: Schema], optional: Set<String> = []) -> Schema {
        var schema: Schema = ["type": "object", "properties": properties]
        let required = properties.keys.filter { !optional.contains($0) }.sorted()
        // OpenAPI 3.0 requires a non-empty `required` list when the key is present.
        if !required.isEmpty { schema["required"] = required }
        return schema
    }

    private static func array(_ items: Schema) -> Schema { ["type": "array", "items": items] }
    private static func map(_ values: Schema) -> Schema { ["type": "object", "additionalProperties": values] }
    private static func ref(_ name: String) -> Schema { ["$ref": "#/components/schemas/\(name)"] }
    nonisolated(unsafe) private static let numberTable: Schema = map(number)

    nonisolated(unsafe) private static let exitPlan = object(
        ["profit_target": number, "stop_loss": number, "invalidation_condition": string],
        optional: ["profit_target", "stop_loss", "invalidation_condition"]
    )

    nonisolated(unsafe) private static let schemas: [String: Schema] = [
        "ExitPlan": exitPlan,
        "Error": object([
            "error": object(["status": integer, "message": string]),
            "serverTime": integer,
        ]),
        "CryptoPrices": object([
            "prices": map(object(["symbol": string, "price": number, "timestamp": integer])),
            "serverTime": integer,
        ]),
        "AccountTotals": object([
            "accountTotals": array(
                object(
                    [
                        "id": string, "model_id": string, "llm_model": string, "timestamp": number,
                        "dollar_equity": number, "realized_pnl": number, "total_unrealized_pnl": number,
                        "cum_pnl_pct": number, "sharpe_ratio": number, "since_inception_hourly_marker": integer,
                        "since_inception_minute_marker": integer, "llm_cost_usd": number,
                        "pnl_net_of_llm_usd": number,
                        "positions": map(
                            object(
                                [
                                    "entry_oid": integer, "oid": integer, "tp_oid": integer, "sl_oid": integer,
                                    "risk_usd": number, "confidence": number, "index_col": nullableString,
                                    "exit_plan": ref("ExitPlan"), "entry_time": number, "symbol": string,
                                    "entry_price": number, "margin": number, "wait_for_fill": boolean,
                                    "current_price": number, "closed_pnl": number, "liquidation_price": number,
                                    "commission": number, "leverage": number, "slippage": number,
                                    "quantity": number, "unrealized_pnl": number,
                                ])
                        ),
                    ],
                    optional: ["llm_model", "llm_cost_usd", "pnl_net_of_llm_usd"]
                )
            ),
            "lastHourlyMarkerRead": integer,
            "serverTime": integer,
        ]),
        "Trades": object([
            "trades": array(
                object(
                    [
                        "id": string, "model_id": string, "llm_model": string, "trade_id": string, "symbol": string,
                        "side": string, "trade_type": string, "quantity": number, "leverage": number,
                        "confidence": number, "exit_plan": ref("ExitPlan"), "entry_oid": integer,
                        "entry_tid": integer, "entry_time": number, "entry_human_time": string,
                        "entry_price": number, "entry_sz": number, "entry_crossed": boolean,
                        "entry_commission_dollars": number, "entry_closed_pnl": number,
                        "entry_liquidation": nullableNumber, "exit_oid": integer, "exit_tid": integer,
                        "exit_time": number, "exit_human_time": string, "exit_price": number, "exit_sz": number,
                        "exit_crossed": boolean, "exit_commission_dollars": number, "exit_closed_pnl": number,
                        "exit_liquidation": nullableNumber, "total_commission_dollars": number,
                        "realized_gross_pnl": number, "realized_net_pnl": number, "funding_dollars": number,
                    ],
                    optional: ["llm_model", "funding_dollars"]
                )
            ),
            "serverTime": integer,
        ]),
        "Positions": object([
            "accountTotals": array(
                object(
                    [
                        "model_id": string, "llm_model": string,
                        "positions": map(
                            object(
                                [
                                    "entry_oid": integer, "risk_usd": number, "confidence": number,
                                    "exit_plan": ref("ExitPlan"), "entry_time": number, "symbol": string,
                                    "entry_price": number, "margin": number, "leverage": number, "quantity": number,
                                    "current_price": number, "unrealized_pnl": number, "closed_pnl": number,
                                    "liquidation_price": number,
                                ],
                                optional: ["liquidation_price"]
                            )
                        ),
                    ],
                    optional: ["llm_model"]
                )
            ),
            "serverTime": integer,
        ]),
        "Analytics": object([
            "analytics": array(
                object(
                    [
                        "id": string, "model_id": string, "llm_model": string, "updated_at": number,
                        "fee_pnl_moves_breakdown_table": numberTable, "winners_losers_breakdown_table": numberTable,
                        "signals_breakdown_table": numberTable, "last_trade_exit_time": number,
                        "invocation_breakdown_table": numberTable, "longs_shorts_breakdown_table": numberTable,
                        "last_convo_doc_id": string, "last_convo_timestamp": number,
                        "overall_trades_overview_table": numberTable, "last_trade_doc_id": string,
                        "llm_cost_breakdown_table": object([
                            "models": array(
                                object([
                                    "model": string, "requests": integer, "failures": integer,
                                    "cache_hits": integer, "prompt_tokens": integer, "completion_tokens": integer,
                                    "cost_usd": number,
                                ])
                            ),
                            "total_cost_usd": number, "total_tokens": integer, "pnl_usd": number,
                            "pnl_net_of_llm_usd": number, "cost_per_trade_usd": number,
                        ]),
                    ],
                    optional: ["llm_model", "llm_cost_breakdown_table"]
                )
            ),
            "serverTime": integer,
        ]),
        "Leaderboard": object(
            [
                "leaderboard": array(
                    object(
                        [
                            "id": string, "llm_model": string, "num_trades": integer, "sharpe": number,
                            "win_dollars": number, "num_losses": integer, "lose_dollars": number, "return_pct": number,
                            "equity": number, "num_wins": integer, "llm_cost_usd": number,
                            "pnl_net_of_llm_usd": number, "name": string,
                            "status": ["type": "string", "enum": ["active", "paused", "halted"]],
                            "status_reason": string, "model_in_use": string, "max_drawdown_pct": number,
                            "fees_usd": number, "last_outcome": string, "last_cycle_at": number,
                        ],
                        optional: [
                            "llm_model", "llm_cost_usd", "pnl_net_of_llm_usd", "name", "status", "status_reason",
                            "model_in_use", "max_drawdown_pct", "fees_usd", "last_outcome", "last_cycle_at",
                        ]
                    )
                ),
                "reserve_usd": number,
                "serverTime": integer,
            ],
            optional: ["reserve_usd"]
        ),
        "SinceInceptionValues": object([
            "sinceInceptionValues": array(
                object(
                    [
                        "id": string, "nav_since_inception": number, "inception_date": number,
                        "num_invocations": integer, "model_id": string, "llm_model": string,
                    ],
                    optional: ["llm_model"]
                )
            ),
            "serverTime": integer,
        ]),
        "Conversations": object([
            "conversations": array(
                object(
                    [
                        "model_id": string, "llm_model": string, "cycle_id": string,
                        "messages": array(object(["role": string, "content": string, "timestamp": number])),
                        "outcome": string, "reason": string,
                        "verdicts": array(
                            object([
                                "symbol": string, "signal": string, "accepted": boolean, "reasons": array(string),
                            ])
                        ),
                        "orders": array(
                            object(
                                [
                                    "symbol": string, "side": string, "kind": string, "size": number,
                                    "reduce_only": boolean, "status": string, "filled_size": number,
                                    "average_price": number, "reason": string,
                                ],
                                optional: ["status", "filled_size", "average_price", "reason"]
                            )
                        ),
                    ],
                    optional: ["llm_model", "cycle_id", "outcome", "reason", "verdicts", "orders"]
                )
            ),
            "serverTime": integer,
        ]),
        "Rebalances": object([
            "rebalances": array(
                object([
                    "id": integer, "timestamp": integer, "pool_usd": number,
                    "moves": array(
                        object([
                            "model_id": string, "equity_before": number, "amount_usd": number, "target_pct": number,
                            "score": number, "sharpe": number, "drawdown_pct": number, "utilisation_pct": number,
                            "margin_used": number,
                        ])
                    ),
                    "skipped": array(object(["model_id": string, "reason": string])),
                ])
            )
        ]),
        "PromptVersions": object([
            "promptVersions": array(ref("PromptVersion")),
            "acrossTraders": array(ref("PromptVersion")),
            "serverTime": integer,
        ]),
        "PromptVersion": object(
            [
                "model_id": string, "llm_model": string, "key": string,
                "templates": array(object(["id": string, "version": string, "sha256": string])),
                "first_used_at": number, "last_used_at": number, "cycles": integer, "failed_cycles": integer,
                "trades": integer, "wins": integer, "win_rate_pct": number, "net_pnl_usd": number,
                "llm_cost_usd": number, "pnl_net_of_llm_usd": number, "sharpe": number,
                "refusals": map(integer),
            ],
            optional: ["model_id", "llm_model"]
        ),
        "Health": object(
            [
                "status": ["type": "string", "enum": ["ok", "unavailable"]],
                "generation": nullableString,
                "source": ["type": "string", "enum": ["files", "redis"]],
                "snapshotAgeSeconds": nullableNumber,
                "stale": boolean,
                "staleAfterSeconds": number,
                "serverTime": integer,
            ],
            optional: ["source"]
        ),
    ]

    private static func jsonResponse(_ schema: String, _ description: String) -> Schema {
        ["description": description, "content": ["application/json": ["schema": ref(schema)]]]
    }

    nonisolated(unsafe) private static let errorResponses: Schema = [
        "304": ["description": "Not modified: the ETag (the snapshot generation) matches If-None-Match"],
        "400": jsonResponse("Error", "Malformed parameter"),
        "405": jsonResponse("Error", "Only GET and HEAD are allowed"),
        "503": jsonResponse("Error", "No snapshot has been published yet"),
    ]

    private static func documentPath(
        _ schema: String,
        summary: String,
        parameters: [Schema] = []
    ) -> Schema {
        var responses = errorResponses
        responses["200"] = jsonResponse(schema, summary)
        return ["get": ["summary": summary, "parameters": parameters, "responses": responses]]
    }

    private static func queryParameter(_ name: String, _ description: String, _ bounds: ClosedRange<Int>) -> Schema {
        [
            "name": name, "in": "query", "required": false, "description": description,
            "schema": ["type": "integer", "minimum": bounds.lowerBound, "maximum": bounds.upperBound],
        ]
    }

    nonisolated(unsafe) private static let paths: [String: Schema] = [
        "/api/crypto-prices": documentPath("CryptoPrices", summary: "Latest price per symbol"),
        "/api/account-totals": documentPath(
            "AccountTotals",
            summary: "Equity rows per trader and hourly marker",
            parameters: [
                queryParameter(
                    "lastHourlyMarker",
                    "Only rows with a larger hourly marker",
                    QueryBounds.lastHourlyMarker
                )
            ]
        ),
        "/api/trades": documentPath(
            "Trades",
            summary: "Closed trades",
            parameters: [queryParameter("limit", "At most this many trades", QueryBounds.limit)]
        ),
        "/api/positions": documentPath(
            "Positions",
            summary: "Open positions per trader",
            parameters: [queryParameter("limit", "At most this many traders", QueryBounds.limit)]
        ),
        "/api/analytics": documentPath("Analytics", summary: "Statistics tables per trader"),
        "/api/analytics/{modelId}": documentPath(
            "Analytics",
            summary: "Statistics tables of one trader (empty for an unknown id)",
            parameters: [
                [
                    "name": "modelId", "in": "path", "required": true,
                    "schema": ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"],
                ]
            ]
        ),
        "/api/leaderboard": documentPath("Leaderboard", summary: "Ranking of the traders"),
        "/api/since-inception-values": documentPath("SinceInceptionValues", summary: "Starting NAV per trader"),
        "/api/conversations": documentPath("Conversations", summary: "Recent prompts and answers per trader"),
        "/api/rebalances": documentPath(
            "Rebalances",
            summary: "Capital moved between traders (performance_based allocation), newest first; not a nof1 document"
        ),
        "/api/prompt-versions": documentPath(
            "PromptVersions",
            summary:
                "Results by prompt template version (id, version, sha256), per trader and across traders; not a nof1 document"
        ),
        "/api/health": [
            "get": [
                "summary": "Whether a snapshot is being served, and how old it is",
                "responses": [
                    "200": jsonResponse("Health", "A snapshot is being served"),
                    "503": jsonResponse("Health", "No snapshot yet"),
                ],
            ]
        ],
        "/api/openapi.json": [
            "get": ["summary": "This document", "responses": ["200": ["description": "OpenAPI 3 document"]]]
        ],
        "/metrics": [
            "get": [
                "summary": "Prometheus metrics",
                "responses": ["200": ["description": "Prometheus text exposition", "content": ["text/plain": [:]]]],
            ]
        ],
    ]

    nonisolated(unsafe) private static let document: Schema = [
        "openapi": "3.0.3",
        "info": [
            "title": "Arena control API",
            "version": "1.0.0",
            "description":
                "Read-only snapshots of the Arena engine in the format of the nof1 Alpha Arena API. Every JSON response carries serverTime (Unix ms).",
        ],
        "paths": paths,
        "components": ["schemas": schemas],
    ]
}
