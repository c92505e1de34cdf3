#!/usr/bin/env python3
"""Golden metrics for the engine's `metrics` module, from quantstats.

    python3 -m pip install quantstats        # 0.0.86 was used for the committed golden file
    python3 tests/backtest/cross_check.py    # rewrites tests/backtest/golden_metrics.json

For each fixed, seeded returns series this computes the metrics twice: with quantstats
(`qs.stats.*`, rf = 0, `periods` = bars per year) and with plain numpy formulas written to be
identical to quantstats' (sample std, ddof=1; downside deviation sqrt(sum(r[r<0]^2)/n);
CAGR over years = n/periods; max drawdown of the equity with a 1.0 baseline), asserts the two
agree to 1e-12, and writes the series and the quantstats values to `golden_metrics.json`.
`engine/tests/backtest.rs` rebuilds the equity from the returns and compares within 1e-9.
Without quantstats installed it falls back to the numpy formulas and says so.
"""
import json
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def series():
    rng = np.random.default_rng(20241125)
    daily = rng.normal(0.0004, 0.011, 750)
    daily[100:130] = 0.0  # flat stretch (out of the market)
    hourly = rng.normal(-0.00002, 0.003, 2000)
    hourly[0] = -0.004  # first return is a loss: drawdown from the 1.0 baseline
    hourly[500:900] = 0.0
    return [("daily_252", daily, 252), ("hourly_1764", hourly, 1764)]


def numpy_metrics(r, periods):
    r = np.asarray(r, dtype=float)
    n = len(r)
    equity = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    mean = r.mean()
    std = r.std(ddof=1)
    downside = np.sqrt((r[r < 0] ** 2).sum() / n)
    total = equity[-1] - 1.0
    cagr = abs(total + 1.0) ** (1.0 / (n / periods)) - 1.0
    dd = (equity / np.maximum.accumulate(equity) - 1.0).min()
    return {
        "return": total,
        "cagr": cagr,
        "volatility": std * np.sqrt(periods),
        "sharpe": mean / std * np.sqrt(periods),
        "sortino": mean / downside * np.sqrt(periods),
        "max_dd": dd,
        "calmar": cagr / abs(dd),
    }


def quantstats_metrics(r, periods):
    import quantstats as qs

    idx = pd.date_range("2020-01-01", periods=len(r), freq="D")
    s = pd.Series(r, index=idx)
    st = qs.stats
    return {
        "return": float(st.comp(s)),
        "cagr": float(st.cagr(s, periods=periods)),
        "volatility": float(st.volatility(s, periods=periods)),
        "sharpe": float(st.sharpe(s, periods=periods)),
        "sortino": float(st.sortino(s, periods=periods)),
        "max_dd": float(st.max_drawdown(s)),
        "calmar": float(st.calmar(s, periods=periods)),
    }


def main():
    try:
        import quantstats

        source = f"quantstats {quantstats.__version__}"
    except ImportError:
        quantstats = None
        source = "numpy formulas identical to quantstats (quantstats not installed)"
        print("quantstats not installed: using the numpy formulas only", file=sys.stderr)
    cases = []
    for name, r, periods in series():
        ref = numpy_metrics(r, periods)
        got = quantstats_metrics(r, periods) if quantstats else ref
        for k, v in ref.items():
            assert abs(got[k] - v) <= 1e-12 * max(1.0, abs(v)), (name, k, got[k], v)
        cases.append({"name": name, "bars_per_year": periods, "returns": [float(x) for x in r],
                      "metrics": got})
        print(name, {k: round(v, 6) for k, v in got.items()})
    out = os.path.join(HERE, "golden_metrics.json")
    with open(out, "w") as f:
        json.dump({"source": source, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
