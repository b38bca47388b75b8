"""A loopback stand-in for the four Hyperliquid `/info` metadata calls ccxt makes when freqtrade loads its
markets (`spotMeta`, `spotMetaAndAssetCtxs`, `metaAndAssetCtxs`, `perpDexs`), so `freqtrade backtesting` runs
offline. It serves BTC, ETH and SOL perpetuals and the USDC token; the shapes follow Hyperliquid's documented
responses. Usage: python standin.py PORTFILE (writes the port it listens on to PORTFILE, serves until killed)."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COINS = [("BTC", 5, 40, "100000.0"), ("ETH", 4, 25, "3500.0"), ("SOL", 2, 20, "150.0")]
USDC = {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
        "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True, "evmContract": None, "fullName": None}


def asset_context(price):
    return {"dayNtlVlm": "1000000.0", "funding": "0.0000125", "impactPxs": [price, price], "markPx": price,
            "midPx": price, "openInterest": "1000.0", "oraclePx": price, "premium": "0.0", "prevDayPx": price}


def answer(kind):
    universe = [{"name": name, "szDecimals": decimals, "maxLeverage": leverage} for name, decimals, leverage, _ in COINS]
    if kind == "metaAndAssetCtxs":
        return [{"universe": universe, "marginTables": []}, [asset_context(price) for *_, price in COINS]]
    if kind == "meta":
        return {"universe": universe}
    if kind == "spotMeta":
        return {"tokens": [USDC], "universe": []}
    if kind == "spotMetaAndAssetCtxs":
        return [{"tokens": [USDC], "universe": []}, []]
    if kind == "perpDexs":
        return [None]
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        result = answer(body.get("type"))
        data = json.dumps(result).encode()
        self.send_response(200 if result is not None else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        sys.stderr.write("standin: %s\n" % (format % args))


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()
