#!/usr/bin/env python3
"""Regenerate the TA-Lib golden files used by `engine/tests/talib.rs`.

    pip install ta-lib numpy pandas      # binary wheel, bundles the TA-Lib C library
    python tests/golden/make_golden.py   # run from the repository root (or anywhere)

Inputs
  * AAPL and IBM daily bars from `public/demo/stocks-daily-2000-2013.csv.gz` (3270 bars each).
  * A synthetic series (deterministic LCG, written to `synthetic.csv.gz` with the outputs) that
    has flat stretches (constant OHLC), zero-range bars, zero-volume bars, gaps and a monotone
    run, to exercise the zero-division and epsilon branches of the indicators.
  * Two small degenerate series for edge parameters (`edge_level`: a 1e6 level moving by cents;
    `edge_zero`: prices through zero and below), inputs stored alongside.

Outputs (all gzip'd CSV, floats written with `repr` = shortest round-trip, empty = NaN)
  * `<dataset>.csv.gz`  one column per indicator output, named like the engine registry names
                        them (`rsi_14`, `macd_signal_12_26_9`, ...). The synthetic file also
                        carries its inputs (`open,high,low,close,volume`) first.
  * `<dataset>.specs`   the registry spec strings (`rsi:14`, ...) whose outputs are the columns.
  * `VERSIONS.txt`      the talib wheel / C library / numpy versions used.
"""

import gzip
import io
import os
import sys

import numpy as np
import pandas as pd
import talib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "public", "demo", "stocks-daily-2000-2013.csv.gz")

# --------------------------------------------------------------------------------------------
# Specs: name -> (talib call, output suffixes). Column names follow the engine registry:
#   single output:  <name>_<p1>_<p2>...          (no params: <name>)
#   multi output:   <name>_<output>_<p1>_...     (e.g. macd_signal_12_26_9, bbands_upper_20_2)
# --------------------------------------------------------------------------------------------


def fmt(p):
    if isinstance(p, float) and p.is_integer():
        return str(int(p))
    return repr(p) if isinstance(p, float) else str(p)


def compute(spec, o, h, l, c, v):
    """Return [(column_name, array)] for one spec string."""
    parts = spec.split(":")
    name = parts[0]
    args = parts[1:]

    def i(k):
        return int(args[k])

    def f(k):
        return float(args[k])

    def single(arr, params):
        col = name + "".join("_" + fmt(p) for p in params)
        return [(col, arr)]

    def multi(arrs, outs, params):
        suffix = "".join("_" + fmt(p) for p in params)
        return [(f"{name}_{out}{suffix}" if out else f"{name}{suffix}", a) for out, a in zip(outs, arrs)]

    if name in ("sma", "ema", "wma", "dema", "tema", "kama", "rsi", "roc", "mom", "cmo", "linearreg_slope"):
        fn = {
            "sma": talib.SMA, "ema": talib.EMA, "wma": talib.WMA, "dema": talib.DEMA,
            "tema": talib.TEMA, "kama": talib.KAMA, "rsi": talib.RSI, "roc": talib.ROC,
            "mom": talib.MOM, "cmo": talib.CMO, "linearreg_slope": talib.LINEARREG_SLOPE,
        }[name]
        return single(fn(c, timeperiod=i(0)), [i(0)])
    if name in ("cci", "willr", "adx", "plus_di", "minus_di", "dx", "atr", "natr"):
        fn = {
            "cci": talib.CCI, "willr": talib.WILLR, "adx": talib.ADX, "plus_di": talib.PLUS_DI,
            "minus_di": talib.MINUS_DI, "dx": talib.DX, "atr": talib.ATR, "natr": talib.NATR,
        }[name]
        return single(fn(h, l, c, timeperiod=i(0)), [i(0)])
    if name == "mfi":
        return single(talib.MFI(h, l, c, v, timeperiod=i(0)), [i(0)])
    if name == "trange":
        return single(talib.TRANGE(h, l, c), [])
    if name == "obv":
        return single(talib.OBV(c, v), [])
    if name == "ad":
        return single(talib.AD(h, l, c, v), [])
    if name == "adosc":
        return single(talib.ADOSC(h, l, c, v, fastperiod=i(0), slowperiod=i(1)), [i(0), i(1)])
    if name == "stddev":
        return single(talib.STDDEV(c, timeperiod=i(0), nbdev=f(1)), [i(0), f(1)])
    if name == "ppo":
        return single(talib.PPO(c, fastperiod=i(0), slowperiod=i(1), matype=1), [i(0), i(1)])
    if name == "aroonosc":
        return single(talib.AROONOSC(h, l, timeperiod=i(0)), [i(0)])
    if name == "ultosc":
        return single(
            talib.ULTOSC(h, l, c, timeperiod1=i(0), timeperiod2=i(1), timeperiod3=i(2)),
            [i(0), i(1), i(2)],
        )
    if name == "macd":
        m, s, hh = talib.MACD(c, fastperiod=i(0), slowperiod=i(1), signalperiod=i(2))
        return multi([m, s, hh], ["", "signal", "hist"], [i(0), i(1), i(2)])
    if name == "bbands":
        period, up = i(0), f(1)
        dn = f(2) if len(args) > 2 else up
        u, m, lo = talib.BBANDS(c, timeperiod=period, nbdevup=up, nbdevdn=dn, matype=0)
        params = [period, up] if up == dn else [period, up, dn]
        return multi([u, m, lo], ["upper", "middle", "lower"], params)
    if name == "stoch":
        k, d = talib.STOCH(h, l, c, fastk_period=i(0), slowk_period=i(1), slowk_matype=0,
                           slowd_period=i(2), slowd_matype=0)
        return multi([k, d], ["slowk", "slowd"], [i(0), i(1), i(2)])
    if name == "stochrsi":
        k, d = talib.STOCHRSI(c, timeperiod=i(0), fastk_period=i(1), fastd_period=i(2), fastd_matype=0)
        return multi([k, d], ["fastk", "fastd"], [i(0), i(1), i(2)])
    if name == "aroon":
        dn, up = talib.AROON(h, l, timeperiod=i(0))
        return multi([dn, up], ["down", "up"], [i(0)])
    raise SystemExit(f"unknown spec {spec}")


FULL = [
    "sma:5", "sma:20",
    "ema:5", "ema:20",
    "wma:5", "wma:20",
    "dema:5", "dema:20",
    "tema:5", "tema:20",
    "kama:10", "kama:30",
    "rsi:2", "rsi:14",
    "stoch:5:3:3", "stoch:14:3:3", "stoch:14:1:5",
    "stochrsi:14:5:3", "stochrsi:9:14:1",
    "macd:12:26:9", "macd:5:35:5", "macd:26:12:9",
    "ppo:12:26", "ppo:5:10",
    "roc:1", "roc:10",
    "mom:1", "mom:10",
    "cci:14", "cci:20",
    "cmo:9", "cmo:14",
    "willr:5", "willr:14",
    "mfi:5", "mfi:14",
    "adx:7", "adx:14",
    "plus_di:7", "plus_di:14",
    "minus_di:7", "minus_di:14",
    "dx:7", "dx:14",
    "aroon:14", "aroon:25",
    "aroonosc:14", "aroonosc:25",
    "ultosc:7:14:28", "ultosc:5:10:20",
    "bbands:20:2", "bbands:10:1.5:2.5", "bbands:5:2",
    "atr:1", "atr:5", "atr:14",
    "natr:5", "natr:14",
    "trange", "obv", "ad",
    "adosc:3:10", "adosc:5:20",
    "stddev:5:1", "stddev:20:2",
    "linearreg_slope:5", "linearreg_slope:14",
]

# Default-ish subset for the second ticker (keeps the files small).
SECOND = [
    "kama:30", "rsi:14", "stoch:5:3:3", "macd:12:26:9", "cci:14", "mfi:14", "adx:14",
    "aroon:14", "ultosc:7:14:28", "bbands:20:2", "atr:14", "adosc:3:10", "stddev:5:1",
]


def synthetic(n=900, seed=20240601):
    """Random walk with deliberately degenerate stretches. Deterministic (64-bit LCG)."""
    state = seed

    def rnd():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return ((state >> 11) & ((1 << 53) - 1)) / float(1 << 53)

    o = np.empty(n); h = np.empty(n); l = np.empty(n); c = np.empty(n); v = np.empty(n)
    px = 37.13
    for t in range(n):
        phase = t % 300
        if 60 <= phase < 100:            # flat: identical OHLC, constant volume
            op = hi = lo = cl = round(px, 2)
            vol = 1500.0
        elif 150 <= phase < 165:         # zero-range bars that still move, zero volume
            px = max(1.0, px + (rnd() - 0.5) * 0.6)
            op = hi = lo = cl = round(px, 2)
            vol = 0.0
        elif 200 <= phase < 230:         # steady monotone climb (no losses)
            px = px + 0.25
            op = round(px - 0.1, 2); cl = round(px, 2); hi = round(px + 0.05, 2); lo = round(px - 0.15, 2)
            vol = 1000.0 + t
        else:
            op = round(px, 2)
            px = max(1.0, px * (1.0 + (rnd() - 0.5) * 0.06))
            cl = round(px, 2)
            hi = round(max(op, cl) * (1.0 + rnd() * 0.02), 2)
            lo = round(min(op, cl) * (1.0 - rnd() * 0.02), 2)
            vol = float(int(1000 + rnd() * 100000))
        o[t], h[t], l[t], c[t], v[t] = op, hi, lo, cl, vol
        px = cl
    return o, h, l, c, v


# Edge parameters (periods of 1 and 2, swapped MACD/PPO periods, unsorted ULTOSC periods, ...)
# run on two small degenerate series.
EDGE = [
    "plus_di:1", "minus_di:1", "plus_di:2", "minus_di:3", "dx:2", "dx:3", "adx:2", "atr:1", "atr:2",
    "natr:1", "sma:1", "ema:1", "ema:2", "wma:1", "wma:2", "dema:1", "dema:2", "tema:1", "tema:2",
    "kama:1", "kama:2", "stoch:1:1:1", "stoch:3:1:1", "stoch:2:5:1", "stochrsi:2:1:1", "stochrsi:3:2:7",
    "macd:2:3:1", "macd:12:12:9", "macd:3:2:2", "ppo:2:3", "ppo:26:12", "ultosc:1:2:3",
    "ultosc:28:14:7", "ultosc:5:5:5", "aroon:2", "aroonosc:2", "bbands:2:1", "bbands:3:0.5:3",
    "bbands:30:2", "stddev:2:1", "stddev:3:2.5", "stddev:50:1", "linearreg_slope:2",
    "linearreg_slope:40", "cci:2", "cci:3", "cmo:2", "willr:2", "mfi:2", "mfi:3", "roc:1", "mom:1",
    "adosc:2:2", "adosc:10:3", "rsi:3", "trange", "obv", "ad",
]


def edge_series(n=400, seed=5):
    """(1) a level of 1e6 moving by cents, with flat runs, zero ranges and zero volume;
    (2) a walk through zero and negative prices, with a run of exact zeros."""
    rng = np.random.default_rng(seed)
    c = 1e6 + np.cumsum(np.where(rng.random(n) < 0.3, 0.0, rng.normal(0, 0.01, n)))
    c = np.round(c, 2)
    o = np.roll(c, 1); o[0] = c[0]
    h = np.maximum(o, c) + np.where(rng.random(n) < 0.5, 0.0, 0.01)
    l = np.minimum(o, c) - np.where(rng.random(n) < 0.5, 0.0, 0.01)
    v = np.where(rng.random(n) < 0.2, 0.0, np.floor(rng.random(n) * 1e4))
    level = (o, h, l, c, v)
    c = np.round(np.cumsum(rng.normal(0, 1, n)), 1)
    c[100:140] = 0.0
    o = np.roll(c, 1); o[0] = c[0]
    h = np.maximum(o, c) + np.round(rng.random(n), 1)
    l = np.minimum(o, c) - np.round(rng.random(n), 1)
    v = np.floor(rng.random(n) * 1e3)
    return level, (o, h, l, c, v)


def write(dataset, specs, o, h, l, c, v, with_inputs):
    cols = []
    if with_inputs:
        cols += [("open", o), ("high", h), ("low", l), ("close", c), ("volume", v)]
    for spec in specs:
        cols += compute(spec, o, h, l, c, v)
    names = [n for n, _ in cols]
    assert len(set(names)) == len(names), "duplicate column"
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    arrs = [a for _, a in cols]
    n = len(c)
    for r in range(n):
        buf.write(",".join("" if np.isnan(a[r]) else repr(float(a[r])) for a in arrs))
        buf.write("\n")
    with gzip.GzipFile(os.path.join(HERE, f"{dataset}.csv.gz"), "wb", compresslevel=9, mtime=0) as fh:
        fh.write(buf.getvalue().encode())
    with open(os.path.join(HERE, f"{dataset}.specs"), "w") as fh:
        fh.write("\n".join(specs) + "\n")
    print(dataset, n, "rows", len(names), "columns")


def main():
    bars = pd.read_csv(DEMO)
    for ticker, specs in (("AAPL", FULL), ("IBM", SECOND)):
        b = bars[bars["Ticker"] == ticker].sort_values("Date")
        o, h, l, c, v = (b[k].to_numpy(dtype=float) for k in ("Open", "High", "Low", "Close", "Volume"))
        write(ticker.lower(), specs, o, h, l, c, v, with_inputs=False)
    write("synthetic", FULL, *synthetic(), with_inputs=True)
    level, through_zero = edge_series()
    write("edge_level", EDGE, *level, with_inputs=True)
    write("edge_zero", EDGE, *through_zero, with_inputs=True)
    with open(os.path.join(HERE, "VERSIONS.txt"), "w") as fh:
        fh.write(f"python-ta-lib {talib.__version__}\n")
        fh.write(f"ta-lib C {talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else talib.__ta_version__}\n")
        fh.write(f"numpy {np.__version__}\n")
        fh.write(f"python {sys.version.split()[0]}\n")


if __name__ == "__main__":
    main()
