# A journal file's records with every continued market series written whole, one per line:
#
#   zcat journal/<trader>/00000001.jsonl.gz | jq -c -n -f scripts/journal-whole.jq
#
# A backtest writes a series that continues the trader's previous record's (the nearest earlier one with a
# market) as {"append": [...], "shift": k}: that series with its first k values dropped and these appended. The
# first record with a market in each file is written whole, so a file reads on its own from its first line.
# (`engine replay` and `engine import` resolve them the same way.)

def whole($previous):
  if .market == null then . else
    .market.symbols |= with_entries(
      .key as $symbol
      | .value |= reduce (
          ["intraday", "prices"], ["intraday", "ema20"], ["intraday", "macd"], ["intraday", "rsi7"],
          ["intraday", "rsi14"], ["context", "macd"], ["context", "rsi14"]
        ) as $path (.;
          getpath($path) as $series
          | if ($series | type) == "object" then
              (($previous.symbols[$symbol] // error("market \($symbol) continues a record before this one: "
                  + "read the file from its first line")) | getpath($path)) as $before
              | setpath($path; $before[$series.shift:] + $series.append)
            else . end))
  end;

foreach inputs as $record ({previous: null};
  .previous as $previous
  | ($record | whole($previous)) as $whole
  | {previous: ($whole.market // $previous), record: $whole};
  .record)
