#!/usr/bin/env python3
"""Golden scans for the engine's `scan` module, computed independently with pandas.

    python3 -m pip install pandas            # 2.x; the version used is written into the file
    python3 tests/scan/cross_check.py        # rewrites tests/scan/golden_scan.json

For the demo file's five tickers (AAPL, FB, GOOG, IBM, MSFT), every scanner kind at three
as-of dates (the newest bar, 2010-06-01 when FB did not trade yet, 2012-09-14), this computes
each ticker's score and facts with pandas' rolling windows on prices adjusted as the engine
adjusts them (every price times adj_close / close, volume divided by it), ranks them and lists
the tickers that are skipped. `engine/tests/scan.rs` runs `engine::scan::scan` on the same file
and compares the order, the skipped tickers and every number within 1e-9 (relative).
"""
import gzip
import json
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "public/demo/stocks-daily-2000-2013.csv.gz")
NEEDS = {"breakout": 21, "meanrevert": 20, "trend": 200, "squeeze": 139, "rs": 64, "highmomo": 253}
ASOFS = [None, "2010-06-01", "2012-09-14"]


def adjusted(df):
    f = df["Adj Close"] / df["Close"]
    f = f.where(np.isfinite(f) & (f > 0), 1.0)
    out = pd.DataFrame(index=df.index)
    for c in ["Open", "High", "Low", "Close"]:
        out[c] = df[c] * f
    out["Volume"] = df["Volume"] / f
    return out


def facts(kind, p):
    """Score and facts at every bar (NaN where the window is short), as columns."""
    c, h, v = p["Close"], p["High"], p["Volume"]
    if kind == "breakout":
        hh = h.rolling(20).max().shift(1)
        return c / hh - 1, {"close": c, "high_20": hh, "volume_ratio_20": v / v.rolling(20).mean().shift(1)}
    if kind == "meanrevert":
        m, sd = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
        z = (c - m) / sd
        return -z, {"close": c, "sma_20": m, "std_20": sd, "z_20": z}
    if kind == "trend":
        s50, s200 = c.rolling(50).mean(), c.rolling(200).mean()
        return s50 / s200 - 1, {"close": c, "sma_50": s50, "sma_200": s200}
    if kind == "squeeze":
        bw = 4 * c.rolling(20).std(ddof=0) / c.rolling(20).mean()
        low = bw.rolling(120).min()
        return low / bw, {"close": c, "bandwidth_20": bw, "min_bandwidth_120": low}
    if kind == "rs":
        r = c / c.shift(63) - 1
        return r, {"close": c, "return_63": r}
    if kind == "highmomo":
        r = c.shift(21) / c.shift(252) - 1
        return r, {"close": c, "return_252_21": r, "off_high_252": c / c.rolling(252).max() - 1}
    raise ValueError(kind)


def scan(frames, kind, asof):
    cut = {}
    skipped = []
    for t, p in frames.items():
        q = p if asof is None else p[p.index <= asof]
        if len(q) == 0:
            skipped.append(t)
        else:
            cut[t] = q
    newest = max(q.index[-1] for q in cut.values())
    rows = []
    for t, q in cut.items():
        if q.index[-1] < newest or len(q) < NEEDS[kind]:
            skipped.append(t)
            continue
        score, fs = facts(kind, q)
        s = score.iloc[-1]
        if not np.isfinite(s):
            skipped.append(t)
            continue
        rows.append({"ticker": t, "bar": q.index[-1], "score": float(s),
                     "facts": {k: float(col.iloc[-1]) for k, col in fs.items()}})
    if kind == "rs" and rows:
        med = float(np.median([r["score"] for r in rows]))
        for r in rows:
            r["score"] -= med
            r["facts"]["universe_median"] = med
    rows.sort(key=lambda r: (-r["score"], r["ticker"]))
    return {"kind": kind, "asof": asof, "newest": newest, "rows": rows, "skipped": sorted(skipped)}


def main():
    with gzip.open(DEMO, "rt") as fh:
        df = pd.read_csv(fh, dtype={"Date": str})
    frames = {t: adjusted(g.set_index("Date").sort_index()) for t, g in df.groupby("Ticker")}
    out = {"pandas": pd.__version__, "numpy": np.__version__, "scans": []}
    for kind in NEEDS:
        for asof in ASOFS:
            out["scans"].append(scan(frames, kind, asof))
    path = os.path.join(HERE, "golden_scan.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(f"wrote {path}: {len(out['scans'])} scans")


if __name__ == "__main__":
    main()
