#!/usr/bin/env python3
"""Our policy backtests against vectorbt's Portfolio.from_signals: same entries, same exits,
same final values, and how long each takes.

    python3 -m pip install vectorbt                       # 1.2.0 was used for the figures in the notes
    cargo bench -p engine --bench policy -- parity         # writes target/bench-data/parity_*
    python3 tests/backtest/vectorbt_compare.py [--json OUT]

The configs are the ones vectorbt expresses exactly: one threshold rung, long only, 100% of
equity, no costs, no time exit. Our rule then is: on bar t's close, be long when p[t] >= thr,
flat otherwise, filled at bar t+1's open. In vectorbt terms the entry signal at bar t+1 is
`p[t] >= thr and not p[t-1] >= thr`, the exit the reverse, both at `price=open` (all cash in,
`size=inf`), valued at each close. The final portfolio value (per unit of initial cash) must equal our
final equity to 1e-9 relative: this checks the accounting, not just the speed.

vectorbt gets every config at once as the columns of one DataFrame (its fastest path; numba
compiled, first call excluded from the timing).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("BTB_BENCH_OUT", os.path.join(ROOT, "target", "bench-data"))


def load(label, name):
    return np.fromfile(os.path.join(DATA, f"parity_{label}_{name}.f64"), dtype="<f8")


def signals(prob, thresholds):
    on = prob[:, None] >= np.asarray(thresholds)[None, :]  # decision on each close
    prev = np.vstack([np.zeros((1, on.shape[1]), bool), on[:-1]])
    entries_dec = on & ~prev
    exits_dec = ~on & prev
    # executed one bar later, at that bar's open
    shift = lambda a: np.vstack([np.zeros((1, a.shape[1]), bool), a[:-1]])
    return shift(entries_dec), shift(exits_dec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import vectorbt as vbt

    with open(os.path.join(DATA, "policy_parity.json")) as f:
        cases = json.load(f)
    out = []
    for case in cases:
        label, k = case["label"], case["configs"]
        close, open_, prob = load(label, "close"), load(label, "open"), load(label, "prob")
        thr = case["thresholds"]
        entries, exits = signals(prob, thr)
        idx = pd.RangeIndex(len(close))
        cols = pd.RangeIndex(k)
        close_df = pd.DataFrame(np.repeat(close[:, None], k, axis=1), index=idx, columns=cols)
        open_df = pd.DataFrame(np.repeat(open_[:, None], k, axis=1), index=idx, columns=cols)
        e = pd.DataFrame(entries, index=idx, columns=cols)
        x = pd.DataFrame(exits, index=idx, columns=cols)
        # Our equity starts at 1.0; vectorbt's cash starts at 1e9 (it refuses orders below an
        # absolute minimum size, which a unit of cash hits at trillion-dollar prices).
        cash = 1e9
        kw = dict(price=open_df, size=np.inf, init_cash=cash, fees=0.0, freq="1D")
        vbt.Portfolio.from_signals(close_df.iloc[:100], e.iloc[:100], x.iloc[:100],
                                   **{**kw, "price": open_df.iloc[:100]})  # compile
        best = float("inf")
        for _ in range(args.runs):
            t = time.perf_counter()
            pf = vbt.Portfolio.from_signals(close_df, e, x, **kw)
            final = pf.final_value().to_numpy() / cash
            trades = pf.trades.count().to_numpy()
            best = min(best, time.perf_counter() - t)
        # one config per call, as a parameter loop in a notebook does it
        m = min(k, 50)
        t = time.perf_counter()
        for j in range(m):
            vbt.Portfolio.from_signals(close, entries[:, j], exits[:, j], price=open_, size=np.inf,
                                       init_cash=cash, fees=0.0, freq="1D").final_value()
        one_by_one = m / (time.perf_counter() - t)
        ours = np.asarray(case["final_equity"])
        rel = np.abs(final - ours) / np.abs(ours)
        worst = float(rel.max())
        trade_diff = int(np.abs(trades - np.asarray(case["trades"])).max())
        row = {
            "case": f"{k} configs x {label} bars",
            "vectorbt_seconds": best,
            "vectorbt_configs_per_s": k / best,
            "vectorbt_one_call_per_config_configs_per_s": one_by_one,
            "ours_seconds": case["seconds"],
            "ours_configs_per_s": case["configs_per_s"],
            "speedup": (k / case["seconds"]) / (k / best),
            "speedup_vs_one_call_per_config": (k / case["seconds"]) / one_by_one,
            "max_rel_diff_final_value": worst,
            "max_trade_count_diff": trade_diff,
        }
        out.append(row)
        print(f"{row['case']:<26} vectorbt {row['vectorbt_configs_per_s']:>9.1f} configs/s all columns at once, "
              f"{one_by_one:>7.1f} one call per config; ours {row['ours_configs_per_s']:>9.1f} configs/s "
              f"(x{row['speedup']:.1f}, x{row['speedup_vs_one_call_per_config']:.0f})  "
              f"final value max rel diff {worst:.2e}, trade count diff {trade_diff}")
        if worst > 1e-9 or trade_diff:
            print("MISMATCH between vectorbt and the engine", file=sys.stderr)
            sys.exit(1)
    out.append({"vectorbt": vbt.__version__, "numpy": np.__version__, "pandas": pd.__version__})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
