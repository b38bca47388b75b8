"""Converts the replay market's CSV files (open_time_ms,open,high,low,close,volume; funding_time_ms,funding_rate)
into freqtrade's feather files with freqtrade's own data handler: the 5-minute futures candles, the 1-hour mark
candles and the funding rates of BTC, ETH and SOL. Usage: python convert.py CSV_DIR FREQTRADE_DATA_DIR"""
import sys
from pathlib import Path

import pandas as pd
from freqtrade.data.history import get_datahandler
from freqtrade.enums import CandleType

source, target = Path(sys.argv[1]), Path(sys.argv[2])
target.mkdir(parents=True, exist_ok=True)
handler = get_datahandler(target, "feather")
for coin in ("BTC", "ETH", "SOL"):
    pair = f"{coin}/USDC:USDC"
    # Hyperliquid has no separate mark candles: freqtrade reads its 1-hour futures candles as marks.
    for interval, candle_type in (("5m", CandleType.FUTURES), ("1h", CandleType.FUTURES)):
        frame = pd.read_csv(source / f"hyperliquid_{coin}_{interval}.csv")
        frame["date"] = pd.to_datetime(frame.pop("open_time_ms"), unit="ms", utc=True)
        frame = frame[["date", "open", "high", "low", "close", "volume"]]
        handler.ohlcv_store(pair, interval, frame, candle_type)
    funding = pd.read_csv(source / f"hyperliquid_{coin}_funding_1h.csv")
    # Settlement times carry a few ms of jitter; freqtrade joins funding to candles on the hour.
    dates = pd.to_datetime(funding.pop("funding_time_ms"), unit="ms", utc=True).dt.floor("h")
    frame = pd.DataFrame({"date": dates, "funding_rate": funding["funding_rate"]})
    frame = frame.drop_duplicates("date", keep="last")
    handler.ohlcv_store(pair, "1h", frame, CandleType.FUNDING_RATE)
print(f"converted BTC, ETH, SOL into {target}")
