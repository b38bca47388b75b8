// The Arena dashboard: reads the control-api's documents (same origin, read-only) and draws them. Polls
// /api/health; when a new generation is published it refetches the documents with If-None-Match on their ETags
// and redraws in place. Everything from the API is inserted as text, never as HTML.
"use strict";

const DOCUMENTS = [
  "leaderboard", "account-totals", "since-inception-values", "positions", "trades", "conversations",
  "analytics", "rebalances", "crypto-prices", "prompt-versions",
];
const POLL_MS = 2000;
const TRADES_PER_PAGE = 10;
const COLORS = ["#1f77b4", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0b7285", "#a0522d", "#5c940d"];

const state = {
  etags: {}, docs: {}, generation: null, health: null, lastOk: 0,
  sort: { key: "rank", dir: 1 }, tradePage: 0, hidden: new Set(), cursor: null, chatTrader: "",
};

// ---- formatting -------------------------------------------------------------------------------------------

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 2 });
const usdSmall = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 4 });
const plain = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const precise = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 });

function money(value) {
  if (value == null || !isFinite(value)) return "–";
  return Math.abs(value) < 1 && value !== 0 ? usdSmall.format(value) : usd.format(value);
}
function signedMoney(value) {
  if (value == null || !isFinite(value)) return "–";
  return (value > 0 ? "+" : "") + money(value);
}
function percent(value) {
  if (value == null || !isFinite(value)) return "–";
  return (value > 0 ? "+" : "") + plain.format(value) + " %";
}
function number(value) { return value == null || !isFinite(value) ? "–" : plain.format(value); }
function price(value) { return value == null || !isFinite(value) ? "–" : precise.format(value); }
function tone(value) { return value > 0 ? "pos" : value < 0 ? "neg" : ""; }

function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return seconds + " s";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes + " min";
  const hours = seconds / 3600;
  if (hours < 48) return plain.format(Math.round(hours * 10) / 10) + " h";
  return plain.format(Math.round(hours / 24 * 10) / 10) + " d";
}
function ago(seconds) { return seconds < 1 ? "just now" : duration(seconds) + " ago"; }
function utc(seconds) {
  if (!seconds) return "–";
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// ---- DOM helpers --------------------------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value == null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    // Styles through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (key === "css") Object.assign(element.style, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value == null) continue;
    if (key === "text") element.textContent = value; else element.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child) element.append(child);
  return element;
}
function byID(id) { return document.getElementById(id); }
function setRows(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { class: "empty left", colspan: columns, text: emptyText }))]));
}
function setHead(table, headers) {
  table.tHead.rows[0].replaceChildren(...headers.map((header) =>
    typeof header === "string" ? h("th", { scope: "col", text: header }) : header));
}

// ---- data ---------------------------------------------------------------------------------------------------

async function fetchDocument(name) {
  const headers = {};
  if (state.etags[name]) headers["If-None-Match"] = state.etags[name];
  const response = await fetch("/api/" + name, { headers, cache: "no-store" });
  if (response.status === 304) return;
  if (!response.ok) {
    // A generation without this document (rebalances are only published with performance_based allocation).
    delete state.docs[name];
    delete state.etags[name];
    return;
  }
  state.docs[name] = await response.json();
  state.etags[name] = response.headers.get("ETag");
}

async function poll() {
  try {
    const response = await fetch("/api/health", { cache: "no-store" });
    const health = await response.json();
    state.health = health;
    state.lastOk = Date.now();
    if (response.status === 503 || health.status !== "ok") {
      showEmpty();
    } else {
      if (health.generation !== state.generation) {
        await Promise.all(DOCUMENTS.map(fetchDocument));
        state.generation = health.generation;
        render();
      }
      showFreshness();
    }
  } catch (error) {
    showOffline(error);
  }
  setTimeout(poll, POLL_MS);
}

function traders() {
  const board = state.docs.leaderboard?.leaderboard || [];
  return board.map((entry, index) => ({ ...entry, rank: index + 1, color: COLORS[index % COLORS.length] }));
}
function traderByID() {
  const map = new Map();
  for (const trader of traders()) map.set(trader.id, trader);
  return map;
}
function nameOf(id) { return traderByID().get(id)?.name || id; }
/// The engine's clock (market time): the newest price's timestamp, else the newest account row.
function marketNow() {
  const prices = Object.values(state.docs["crypto-prices"]?.prices || {});
  if (prices.length) return Math.max(...prices.map((p) => p.timestamp)) / 1000;
  const rows = state.docs["account-totals"]?.accountTotals || [];
  return rows.length ? Math.max(...rows.map((r) => r.timestamp)) : Date.now() / 1000;
}

// ---- status line --------------------------------------------------------------------------------------------

function banner(text, kind) {
  const element = byID("banner");
  element.hidden = !text;
  element.textContent = text || "";
  element.className = "banner" + (kind ? " " + kind : "");
}

function showEmpty() {
  document.body.dataset.state = "empty";
  byID("freshness").textContent = "No snapshot yet";
  banner("The engine has published nothing yet. This page fills in by itself as soon as it does.", "");
}

function showOffline(error) {
  document.body.dataset.state = state.generation ? "offline" : "empty";
  byID("freshness").textContent = state.generation
    ? `Showing generation ${state.generation}; the API stopped answering`
    : "The API does not answer";
  banner(`Cannot reach the API (${error.message || error}); retrying every ${POLL_MS / 1000} s.`, "bad");
}

function showFreshness() {
  const health = state.health;
  const age = (health.snapshotAgeSeconds || 0) + (Date.now() - state.lastOk) / 1000;
  const stale = health.stale === true;
  document.body.dataset.state = stale ? "stale" : "ok";
  document.body.dataset.generation = state.generation;
  byID("freshness").textContent =
    `Generation ${state.generation} · published ${ago(age)} · market time ${utc(marketNow())}`;
  if (stale) {
    banner(`The data is stale: the last snapshot was published ${ago(age)} (more than ` +
      `${duration(health.staleAfterSeconds || 60)}). Is the engine running?`, "");
  } else {
    banner("");
  }
}

// ---- rendering ----------------------------------------------------------------------------------------------

function render() {
  renderLeaderboard();
  renderChart();
  renderPositions();
  renderTrades();
  renderChat();
  renderSpend();
  renderPromptVersions();
  renderRebalances();
}

const LEADERBOARD_COLUMNS = [
  { key: "rank", label: "#", value: (t) => t.rank },
  { key: "name", label: "Trader", value: (t) => (t.name || t.id).toLowerCase(), left: true },
  { key: "equity", label: "Account value", value: (t) => t.equity },
  { key: "return_pct", label: "Return", value: (t) => t.return_pct },
  { key: "pnl_net_of_llm_usd", label: "PnL net of model cost", value: (t) => t.pnl_net_of_llm_usd },
  { key: "sharpe", label: "Sharpe", value: (t) => t.sharpe },
  { key: "max_drawdown_pct", label: "Max drawdown", value: (t) => t.max_drawdown_pct },
  { key: "win_rate", label: "Win rate", value: (t) => (t.num_trades ? t.num_wins / t.num_trades : -1) },
  { key: "num_trades", label: "Trades", value: (t) => t.num_trades },
  { key: "fees_usd", label: "Fees", value: (t) => t.fees_usd },
  { key: "llm_cost_usd", label: "Model spend", value: (t) => t.llm_cost_usd },
];

function renderLeaderboard() {
  const table = byID("leaderboard-table");
  setHead(table, LEADERBOARD_COLUMNS.map((column) => {
    const sorted = state.sort.key === column.key;
    return h("th", {
      scope: "col", class: column.left ? "left" : null,
      "aria-sort": sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : "none",
    }, h("button", {
      type: "button", text: column.label,
      onclick: () => {
        state.sort = { key: column.key, dir: sorted ? -state.sort.dir : (column.key === "rank" || column.key === "name" ? 1 : -1) };
        renderLeaderboard();
      },
    }));
  }));
  const column = LEADERBOARD_COLUMNS.find((c) => c.key === state.sort.key) || LEADERBOARD_COLUMNS[0];
  const rows = traders().sort((a, b) => {
    const x = column.value(a), y = column.value(b);
    return (x < y ? -1 : x > y ? 1 : 0) * state.sort.dir;
  }).map((t) => {
    const badges = [];
    if (t.status && t.status !== "active") {
      badges.push(h("span", { class: "badge " + t.status, title: t.status_reason || t.status, text: t.status }));
    }
    if (t.model_in_use && t.llm_model && t.model_in_use !== t.llm_model) {
      badges.push(h("span", { class: "badge fallback", title: `configured ${t.llm_model}, answered by ${t.model_in_use}`, text: "fallback: " + t.model_in_use }));
    }
    const reason = t.status_reason ? h("div", { class: "sub", text: t.status_reason }) : null;
    return h("tr", { "data-trader": t.id, "data-status": t.status || "active" },
      h("td", { text: t.rank }),
      h("td", { class: "left" },
        h("span", { class: "swatch", css: { background: t.color } }), " ",
        h("strong", { text: t.name || t.id }), ...badges,
        h("div", { class: "sub", text: `${t.id} · ${t.llm_model || "?"}` }), reason),
      h("td", { text: money(t.equity) }),
      h("td", { class: tone(t.return_pct), text: percent(t.return_pct) }),
      h("td", { class: tone(t.pnl_net_of_llm_usd), text: signedMoney(t.pnl_net_of_llm_usd) }),
      h("td", { text: number(t.sharpe) }),
      h("td", { text: t.max_drawdown_pct == null ? "–" : plain.format(t.max_drawdown_pct) + " %" }),
      h("td", { text: t.num_trades ? plain.format(100 * t.num_wins / t.num_trades) + " %" : "–" }),
      h("td", { text: t.num_trades }),
      h("td", { text: money(t.fees_usd) }),
      h("td", { text: money(t.llm_cost_usd) }));
  });
  setRows(table.tBodies[0], rows, LEADERBOARD_COLUMNS.length, "No traders in this snapshot.");
}

// ---- the chart ----------------------------------------------------------------------------------------------

function chartSeries() {
  const rows = state.docs["account-totals"]?.accountTotals || [];
  const inception = new Map((state.docs["since-inception-values"]?.sinceInceptionValues || [])
    .map((v) => [v.model_id, v]));
  const series = traders().map((t) => {
    const points = rows.filter((r) => r.model_id === t.id).map((r) => [r.timestamp, r.dollar_equity]);
    const start = inception.get(t.id);
    if (start && (!points.length || start.inception_date < points[0][0])) {
      points.unshift([start.inception_date, start.nav_since_inception]);
    }
    points.sort((a, b) => a[0] - b[0]);
    const now = marketNow();
    if (points.length && now > points[points.length - 1][0]) points.push([now, t.equity]);
    return { id: t.id, label: t.name || t.id, color: t.color, points, kind: "series" };
  });
  const references = [];
  const capitals = [...new Set([...inception.values()].map((v) => v.nav_since_inception))];
  capitals.forEach((capital, index) => references.push({
    id: "capital-" + index, label: capitals.length > 1 ? `starting capital ${money(capital)}` : "starting capital",
    color: "var(--muted)", value: capital, kind: "reference",
  }));
  const reserve = state.docs.leaderboard?.reserve_usd;
  if (reserve > 0) {
    references.push({ id: "reserve", label: `reserve ${money(reserve)}`, color: "#b08800", value: reserve, kind: "reference" });
    // A reserve far from the account values would flatten every line: it starts hidden then (its legend entry
    // shows it).
    const values = series.flatMap((x) => x.points.map((p) => p[1]));
    const far = values.length && (reserve < 0.5 * Math.min(...values) || reserve > 1.5 * Math.max(...values));
    if (far && !state.reserveDecided) { state.hidden.add("reserve"); }
    state.reserveDecided = true;
  }
  return { series, references };
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}
const TIME_STEPS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400];

function renderChart() {
  const container = byID("chart");
  const { series, references } = chartSeries();
  const visible = series.filter((x) => !state.hidden.has(x.id) && x.points.length);
  const visibleReferences = references.filter((r) => !state.hidden.has(r.id));
  renderLegend(series, references);
  const times = visible.flatMap((x) => x.points.map((p) => p[0]));
  if (!times.length) {
    container.replaceChildren(h("p", { class: "empty", text: "No account values yet." }));
    container.dataset.series = "0";
    return;
  }
  const width = Math.max(320, container.clientWidth || 800);
  const height = width < 600 ? 240 : 320;
  const margin = { left: 64, right: 28, top: 10, bottom: 28 };
  let t0 = Math.min(...times), t1 = Math.max(...times);
  if (t1 - t0 < 60) { t0 -= 30; t1 += 30; }
  const values = visible.flatMap((x) => x.points.map((p) => p[1])).concat(visibleReferences.map((r) => r.value));
  let v0 = Math.min(...values), v1 = Math.max(...values);
  const pad = Math.max((v1 - v0) * 0.08, Math.abs(v1) * 0.001, 1);
  v0 -= pad; v1 += pad;
  const x = (t) => margin.left + (t - t0) / (t1 - t0) * (width - margin.left - margin.right);
  const y = (v) => margin.top + (v1 - v) / (v1 - v0) * (height - margin.top - margin.bottom);

  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  const step = niceStep(v1 - v0, 5);
  for (let v = Math.ceil(v0 / step) * step; v <= v1; v += step) {
    grid.append(s("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end", text: usd.format(v).replace(/\.00$/, "") }));
  }
  const timeStep = TIME_STEPS.find((candidate) => (t1 - t0) / candidate <= Math.max(3, Math.floor(width / 130))) || TIME_STEPS[TIME_STEPS.length - 1];
  for (let t = Math.ceil(t0 / timeStep) * timeStep; t <= t1; t += timeStep) {
    const date = new Date(t * 1000);
    const label = timeStep >= 86400 || t % 86400 === 0
      ? date.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })
      : date.toISOString().slice(11, 16);
    grid.append(s("line", { x1: x(t), x2: x(t), y1: margin.top, y2: height - margin.bottom }));
    axis.append(s("text", { x: x(t), y: height - 8, "text-anchor": "middle", text: label }));
  }
  const lines = s("g", {});
  for (const reference of visibleReferences) {
    lines.append(s("line", {
      class: "reference", "data-reference": reference.id, x1: margin.left, x2: width - margin.right,
      y1: y(reference.value), y2: y(reference.value), stroke: reference.color,
    }));
  }
  for (const item of visible) {
    const d = item.points.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
    lines.append(s("path", { class: "series", "data-trader": item.id, d, stroke: item.color },
      s("title", { text: item.label })));
  }
  const cursor = s("line", { class: "cursor", y1: margin.top, y2: height - margin.bottom, visibility: "hidden" });
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true" }, grid, axis, lines, cursor);
  container.replaceChildren(svg);
  container.dataset.series = String(visible.length);

  const allTimes = [...new Set(times)].sort((a, b) => a - b);
  const tip = byID("chart-tip");
  function show(index) {
    if (index == null || !allTimes.length) { cursor.setAttribute("visibility", "hidden"); tip.hidden = true; return; }
    state.cursor = Math.max(0, Math.min(allTimes.length - 1, index));
    const t = allTimes[state.cursor];
    cursor.setAttribute("x1", x(t)); cursor.setAttribute("x2", x(t)); cursor.setAttribute("visibility", "visible");
    const lines = visible.map((item) => {
      let value = null;
      for (const p of item.points) { if (p[0] <= t) value = p[1]; else break; }
      return h("div", {}, h("span", { class: "swatch", css: { background: item.color } }), " ", item.label + ": ", h("strong", { text: money(value) }));
    });
    tip.replaceChildren(h("div", { class: "sub", text: utc(t) }), ...lines);
    tip.hidden = false;
    const box = container.getBoundingClientRect();
    const section = byID("chart-section").getBoundingClientRect();
    const left = box.left - section.left + x(t) * (box.width / width);
    tip.style.left = Math.min(Math.max(0, left + 12), section.width - tip.offsetWidth - 8) + "px";
    tip.style.top = (box.top - section.top + 8) + "px";
  }
  function nearest(clientX) {
    const box = svg.getBoundingClientRect();
    const t = t0 + ((clientX - box.left) * (width / box.width) - margin.left) / (width - margin.left - margin.right) * (t1 - t0);
    let best = 0;
    for (let i = 1; i < allTimes.length; i++) if (Math.abs(allTimes[i] - t) < Math.abs(allTimes[best] - t)) best = i;
    return best;
  }
  svg.addEventListener("mousemove", (event) => show(nearest(event.clientX)));
  svg.addEventListener("mouseleave", () => show(null));
  container.onkeydown = (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      const current = state.cursor == null ? allTimes.length - 1 : state.cursor + (event.key === "ArrowLeft" ? -1 : 1);
      show(current);
    } else if (event.key === "Escape") { show(null); }
  };
  container.onblur = () => show(null);
  container.onfocus = () => show(state.cursor == null ? allTimes.length - 1 : state.cursor);
}

function renderLegend(series, references) {
  const items = series.map((item) => ({ ...item, dashed: false })).concat(references.map((r) => ({ ...r, dashed: true })));
  byID("legend").replaceChildren(...items.map((item) => h("li", {},
    h("button", {
      type: "button", "aria-pressed": String(!state.hidden.has(item.id)), "data-series": item.id,
      onclick: () => {
        if (state.hidden.has(item.id)) state.hidden.delete(item.id); else state.hidden.add(item.id);
        renderChart();
      },
    }, h("span", { class: "swatch" + (item.dashed ? " dashed" : ""), css: { background: item.color, color: item.color } }), item.label))));
}

// ---- positions, trades, chat, spend, rebalances --------------------------------------------------------------

function renderPositions() {
  const entries = state.docs.positions?.accountTotals || [];
  const now = marketNow();
  const blocks = entries.filter((entry) => Object.keys(entry.positions || {}).length).map((entry) => {
    const rows = Object.values(entry.positions).sort((a, b) => a.symbol.localeCompare(b.symbol)).map((p) => {
      const plan = p.exit_plan || {};
      return h("tr", { "data-symbol": p.symbol },
        h("td", { text: p.symbol }),
        h("td", { class: "left", text: p.quantity < 0 ? "short" : "long" }),
        h("td", { text: price(Math.abs(p.quantity)) }),
        h("td", { text: price(p.entry_price) }),
        h("td", { text: price(p.current_price) }),
        h("td", { text: number(p.leverage) + "×" }),
        h("td", { class: tone(p.unrealized_pnl), text: signedMoney(p.unrealized_pnl) }),
        h("td", { text: price(p.liquidation_price) }),
        h("td", { text: price(plan.stop_loss) }),
        h("td", { text: price(plan.profit_target) }),
        h("td", { class: "wrap", text: plan.invalidation_condition || "–" }),
        h("td", { text: p.entry_time ? ago(now - p.entry_time) : "–", title: utc(p.entry_time) }));
    });
    const table = h("table", {}, h("thead", {}, h("tr", {}, ...["Symbol", "Side", "Size", "Entry", "Mark", "Leverage",
      "Unrealized PnL", "Liquidation", "Stop", "Target", "Invalidation", "Opened"].map((label, i) =>
      h("th", { scope: "col", class: i === 1 || i === 10 ? "left" : null, text: label })))), h("tbody", {}, rows));
    return h("div", { class: "trader-block", "data-trader": entry.model_id },
      h("h3", { text: nameOf(entry.model_id) }), h("div", { class: "scroll" }, table));
  });
  byID("positions-body").replaceChildren(...(blocks.length ? blocks : [h("p", { class: "empty", text: "No open positions." })]));
}

function renderTrades() {
  const trades = [...(state.docs.trades?.trades || [])].sort((a, b) => b.exit_time - a.exit_time);
  const pages = Math.max(1, Math.ceil(trades.length / TRADES_PER_PAGE));
  state.tradePage = Math.min(state.tradePage, pages - 1);
  const table = byID("trades-table");
  setHead(table, ["Closed", h("th", { class: "left", scope: "col", text: "Trader" }), "Symbol", "Side", "Size",
    "Entry", "Exit", "Leverage", "Net PnL", "Fees", "Held"]);
  const rows = trades.slice(state.tradePage * TRADES_PER_PAGE, (state.tradePage + 1) * TRADES_PER_PAGE).map((t) =>
    h("tr", { "data-trade": t.trade_id || t.id },
      h("td", { text: utc(t.exit_time) }),
      h("td", { class: "left", text: nameOf(t.model_id) }),
      h("td", { text: t.symbol }),
      h("td", { text: t.side + (t.exit_liquidation != null ? " (liquidated)" : "") }),
      h("td", { text: price(Math.abs(t.quantity)) }),
      h("td", { text: price(t.entry_price) }),
      h("td", { text: price(t.exit_price) }),
      h("td", { text: number(t.leverage) + "×" }),
      h("td", { class: tone(t.realized_net_pnl), text: signedMoney(t.realized_net_pnl) }),
      h("td", { text: money(t.total_commission_dollars) }),
      h("td", { text: duration(t.exit_time - t.entry_time) })));
  setRows(table.tBodies[0], rows, 11, "No completed trades yet.");
  byID("trades-page").textContent = trades.length
    ? `Page ${state.tradePage + 1} of ${pages} · ${trades.length} trades` : "";
  byID("trades-prev").disabled = state.tradePage === 0;
  byID("trades-next").disabled = state.tradePage >= pages - 1;
}

function decisionsOf(answer) {
  try {
    const parsed = JSON.parse(answer);
    return Array.isArray(parsed?.decisions) ? parsed.decisions : null;
  } catch {
    const start = answer.indexOf("{"), end = answer.lastIndexOf("}");
    if (start < 0 || end <= start) return null;
    try { const parsed = JSON.parse(answer.slice(start, end + 1)); return Array.isArray(parsed?.decisions) ? parsed.decisions : null; } catch { return null; }
  }
}

function renderChat() {
  const conversations = [...(state.docs.conversations?.conversations || [])]
    .map((c) => ({ ...c, time: Math.max(0, ...c.messages.map((m) => m.timestamp)) }))
    .sort((a, b) => b.time - a.time);
  const ids = [...new Set(conversations.map((c) => c.model_id))];
  if (state.chatTrader && !ids.includes(state.chatTrader)) state.chatTrader = "";
  const select = h("select", {
    id: "chat-trader", onchange: (event) => { state.chatTrader = event.target.value; renderChat(); },
  }, h("option", { value: "", text: "All traders" }), ...ids.map((id) => h("option", { value: id, text: nameOf(id), selected: id === state.chatTrader })));
  const filter = h("div", { class: "chat-filter" }, h("label", { for: "chat-trader", text: "Show" }), select);
  const now = marketNow();
  const items = conversations.filter((c) => !state.chatTrader || c.model_id === state.chatTrader).map((c) => {
    const message = (role) => c.messages.find((m) => m.role === role)?.content || "";
    const answer = message("assistant");
    const decisions = decisionsOf(answer);
    const outcome = c.reason || c.outcome;
    const head = h("header", {},
      h("strong", { text: nameOf(c.model_id) }),
      h("span", { class: "sub", text: `${c.llm_model || ""} · ${c.cycle_id || ""} · ${utc(c.time)} (${ago(now - c.time)})` }),
      outcome ? h("span", { class: "badge" + (c.outcome === "failed_closed" ? " refused" : ""), text: outcome }) : null);
    const body = [];
    if (decisions == null) {
      body.push(h("p", { class: "reasoning", text: answer || "(no answer)" }));
    } else if (!decisions.length) {
      body.push(h("p", { class: "sub", text: "No decisions: the model held everything." }));
    } else {
      for (const d of decisions) {
        const details = [d.signal];
        if (d.leverage) details.push(number(d.leverage) + "×");
        if (d.position_size_usd) details.push(money(d.position_size_usd));
        if (d.confidence != null) details.push("confidence " + plain.format(d.confidence));
        body.push(h("div", { class: "decision" }, h("strong", { text: d.symbol }), " " + details.join(" · "),
          d.reasoning ? h("p", { class: "reasoning", text: d.reasoning }) : null));
      }
    }
    const verdicts = c.verdicts || [];
    if (verdicts.length) {
      body.push(h("table", { class: "verdicts" },
        h("thead", {}, h("tr", {}, ...["Symbol", "Signal", "Risk", "Reason codes"].map((label) => h("th", { scope: "col", class: "left", text: label })))),
        h("tbody", {}, verdicts.map((v) => h("tr", { "data-verdict": v.accepted ? "accepted" : "refused" },
          h("td", { class: "left", text: v.symbol }), h("td", { class: "left", text: v.signal }),
          h("td", { class: "left" }, h("span", { class: "badge " + (v.accepted ? "accepted" : "refused"), text: v.accepted ? "accepted" : "refused" })),
          h("td", { class: "left", text: v.reasons.length ? v.reasons.join(", ") : "–" }))))));
    }
    const orders = c.orders || [];
    if (orders.length) {
      body.push(h("ul", { class: "orders" }, orders.map((o) => h("li", {
        text: `${o.side} ${price(o.size)} ${o.symbol} ${o.kind}${o.reduce_only ? " reduce-only" : ""} → ${o.status || "sent"}` +
          (o.filled_size ? ` ${price(o.filled_size)} @ ${price(o.average_price)}` : "") + (o.reason ? ` (${o.reason})` : ""),
      }))));
    } else if (verdicts.length || decisions?.length) {
      body.push(h("p", { class: "sub", text: "No orders sent." }));
    }
    body.push(h("details", {}, h("summary", { text: "Prompts sent and the raw answer" }),
      h("h3", { text: "System" }), h("pre", { text: message("system") }),
      h("h3", { text: "User" }), h("pre", { text: message("user") }),
      h("h3", { text: "Answer" }), h("pre", { text: answer })));
    return h("article", { class: "convo", "data-trader": c.model_id, "data-cycle": c.cycle_id || "" }, head, ...body);
  });
  byID("chat-body").replaceChildren(filter, ...(items.length ? items : [h("p", { class: "empty", text: "No model conversations yet." })]));
}

function renderSpend() {
  const table = byID("spend-table");
  setHead(table, [h("th", { class: "left", scope: "col", text: "Trader" }), h("th", { class: "left", scope: "col", text: "Model" }),
    "Requests", "Failures", "Cache hits", "Prompt tokens", "Completion tokens", "Cost"]);
  const rows = [];
  for (const entry of state.docs.analytics?.analytics || []) {
    for (const model of entry.llm_cost_breakdown_table?.models || []) {
      rows.push(h("tr", { "data-trader": entry.model_id },
        h("td", { class: "left", text: nameOf(entry.model_id) }), h("td", { class: "left", text: model.model }),
        h("td", { text: number(model.requests) }), h("td", { text: number(model.failures) }),
        h("td", { text: number(model.cache_hits) }), h("td", { text: number(model.prompt_tokens) }),
        h("td", { text: number(model.completion_tokens) }), h("td", { text: money(model.cost_usd) })));
    }
  }
  setRows(table.tBodies[0], rows, 8, "No model calls yet.");
}

function renderPromptVersions() {
  const table = byID("prompt-versions-table");
  setHead(table, [h("th", { class: "left", scope: "col", text: "Templates" }), "Cycles", "Failed", "Trades",
    "Win rate", "Net PnL", "Model cost", "Net of model cost", "Sharpe", h("th", { class: "left", scope: "col", text: "Refusals" })]);
  const rows = (state.docs["prompt-versions"]?.acrossTraders || []).map((v) => {
    const refusals = Object.entries(v.refusals || {}).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ×${n}`);
    return h("tr", { "data-key": v.key },
      h("td", { class: "left" }, ...v.templates.map((t) => h("div", { text: `${t.id} ${t.version} · ${t.sha256.slice(0, 12)}` })),
        v.templates.length ? null : h("div", { class: "sub", text: "no prompt rendered" }),
        h("div", { class: "sub", text: `${utc(v.first_used_at)} → ${utc(v.last_used_at)}` })),
      h("td", { text: number(v.cycles) }), h("td", { text: number(v.failed_cycles) }), h("td", { text: number(v.trades) }),
      h("td", { text: v.trades ? plain.format(v.win_rate_pct) + " %" : "–" }),
      h("td", { class: tone(v.net_pnl_usd), text: signedMoney(v.net_pnl_usd) }),
      h("td", { text: money(v.llm_cost_usd) }),
      h("td", { class: tone(v.pnl_net_of_llm_usd), text: signedMoney(v.pnl_net_of_llm_usd) }),
      h("td", { text: number(v.sharpe) }),
      h("td", { class: "wrap", text: refusals.join(", ") || "–" }));
  });
  setRows(table.tBodies[0], rows, 10, "No cycles yet.");
}

function renderRebalances() {
  const rebalances = state.docs.rebalances?.rebalances || [];
  const container = byID("rebalances-body");
  if (!rebalances.length) {
    container.replaceChildren(h("p", { class: "empty", text: "No rebalances: capital moves only under performance_based allocation." }));
    return;
  }
  container.replaceChildren(...rebalances.slice(0, 10).map((r) => h("div", { class: "trader-block" },
    h("h3", { text: `#${r.id} · ${utc(r.timestamp / 1000)} · pool ${money(r.pool_usd)}` }),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["Trader", "Before", "Moved", "Target", "Sharpe", "Drawdown"].map((label, i) => h("th", { scope: "col", class: i ? null : "left", text: label })))),
      h("tbody", {}, r.moves.map((m) => h("tr", {},
        h("td", { class: "left", text: nameOf(m.model_id) }), h("td", { text: money(m.equity_before) }),
        h("td", { class: tone(m.amount_usd), text: signedMoney(m.amount_usd) }), h("td", { text: plain.format(m.target_pct) + " %" }),
        h("td", { text: number(m.sharpe) }), h("td", { text: plain.format(m.drawdown_pct) + " %" }))),
        r.skipped.map((k) => h("tr", {}, h("td", { class: "left", text: nameOf(k.model_id) }), h("td", { colspan: 5, class: "left sub", text: "skipped: " + k.reason })))))))));
}

// ---- start --------------------------------------------------------------------------------------------------

byID("trades-prev").addEventListener("click", () => { state.tradePage = Math.max(0, state.tradePage - 1); renderTrades(); });
byID("trades-next").addEventListener("click", () => { state.tradePage += 1; renderTrades(); });
let resizeTimer = null;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderChart, 150); });
// Relative times move on even when no generation arrives.
setInterval(() => { if (document.body.dataset.state === "ok" || document.body.dataset.state === "stale") showFreshness(); }, 1000);
poll();
