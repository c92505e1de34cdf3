#!/usr/bin/env python3
"""Time TA-Lib on the same 1M synthetic bars as `engine/benches/indicators.rs`.

    python tests/golden/bench_talib.py --json target/talib_bench.json
    cargo bench -p engine --bench indicators     # prints ours, TA-Lib (from that JSON), ratio

    cargo bench -p engine --bench indicators     # also writes target/indicator-bench.json
    python tests/golden/bench_talib.py            # prints TA-Lib times and ours/TA-Lib ratios

The bars come from the same 64-bit LCG and the same float operations as the Rust bench, so the
arrays are identical (the close checksum printed by both must agree). Each call is timed as one
TA-Lib call on numpy arrays (what a Python user pays), best of `--runs` (default 15). On a noisy
machine run both sides in the same session, e.g. both under `taskset -c 1`.
"""

import argparse
import json
import os
import time

import numpy as np
import talib

N = 1_000_000
RUNS = 15
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bars():
    state = 12345
    mask = (1 << 64) - 1
    o = np.empty(N); h = np.empty(N); l = np.empty(N); c = np.empty(N); v = np.empty(N)
    px = 100.0

    def nxt():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        return (state >> 11) / 9007199254740992.0

    for i in range(N):
        op = px
        px *= 1.0 + (nxt() - 0.5) * 0.04
        hi = max(op, px) * (1.0 + nxt() * 0.01)
        lo = min(op, px) * (1.0 - nxt() * 0.01)
        vol = float(int(nxt() * 1e6)) + 1.0
        o[i], h[i], l[i], c[i], v[i] = op, hi, lo, px, vol
    return o, h, l, c, v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", metavar="PATH", help="write TA-Lib seconds per spec to PATH "
                    "(read by engine/benches/indicators.rs from target/talib_bench.json)")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"best of this many runs (default {RUNS})")
    args = ap.parse_args()
    runs = max(1, args.runs)
    o, h, l, c, v = bars()
    checksum = round(float(c.sum()), 6)
    print(f"{N} bars, close checksum {c.sum():.6f}, best of {runs} runs (talib {talib.__version__})")
    calls = {
        "sma:30": lambda: talib.SMA(c, 30),
        "ema:30": lambda: talib.EMA(c, 30),
        "wma:30": lambda: talib.WMA(c, 30),
        "dema:30": lambda: talib.DEMA(c, 30),
        "tema:30": lambda: talib.TEMA(c, 30),
        "kama:30": lambda: talib.KAMA(c, 30),
        "rsi:14": lambda: talib.RSI(c, 14),
        "stoch:5:3:3": lambda: talib.STOCH(h, l, c, 5, 3, 0, 3, 0),
        "stochrsi:14:5:3": lambda: talib.STOCHRSI(c, 14, 5, 3, 0),
        "macd:12:26:9": lambda: talib.MACD(c, 12, 26, 9),
        "ppo:12:26": lambda: talib.PPO(c, 12, 26, 1),
        "roc:10": lambda: talib.ROC(c, 10),
        "mom:10": lambda: talib.MOM(c, 10),
        "cci:14": lambda: talib.CCI(h, l, c, 14),
        "cmo:14": lambda: talib.CMO(c, 14),
        "willr:14": lambda: talib.WILLR(h, l, c, 14),
        "mfi:14": lambda: talib.MFI(h, l, c, v, 14),
        "adx:14": lambda: talib.ADX(h, l, c, 14),
        "plus_di:14": lambda: talib.PLUS_DI(h, l, c, 14),
        "minus_di:14": lambda: talib.MINUS_DI(h, l, c, 14),
        "dx:14": lambda: talib.DX(h, l, c, 14),
        "aroon:14": lambda: talib.AROON(h, l, 14),
        "aroonosc:14": lambda: talib.AROONOSC(h, l, 14),
        "ultosc:7:14:28": lambda: talib.ULTOSC(h, l, c, 7, 14, 28),
        "bbands:20:2": lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0),
        "atr:14": lambda: talib.ATR(h, l, c, 14),
        "natr:14": lambda: talib.NATR(h, l, c, 14),
        "trange": lambda: talib.TRANGE(h, l, c),
        "obv": lambda: talib.OBV(c, v),
        "ad": lambda: talib.AD(h, l, c, v),
        "adosc:3:10": lambda: talib.ADOSC(h, l, c, v, 3, 10),
        "stddev:5:1": lambda: talib.STDDEV(c, 5, 1.0),
        "linearreg_slope:14": lambda: talib.LINEARREG_SLOPE(c, 14),
    }

    def best(f):
        t_best = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            f()
            t_best = min(t_best, time.perf_counter() - t0)
        return t_best

    ours = {}
    path = os.path.join(ROOT, "target", "indicator-bench.json")
    if os.path.exists(path):
        with open(path) as fh:
            data = json.load(fh)
        ours = data["seconds"]
        if abs(data["checksum"] - round(c.sum(), 6)) > 1e-3:
            print(f"WARNING: checksum differs from the Rust bench ({data['checksum']})")
    total = 0.0
    seconds = {}
    print(f"{'indicator':<20} {'talib ms':>10} {'ours ms':>10} {'ours/talib':>11}")
    for spec, f in calls.items():
        t = best(f)
        seconds[spec] = t
        total += t
        o_ = ours.get(spec)
        ratio = f"{o_ / t:11.2f}" if o_ else ""
        ours_ms = f"{o_ * 1e3:10.3f}" if o_ else ""
        print(f"{spec:<20} {t * 1e3:10.3f} {ours_ms:>10} {ratio}")
    t_all = best(lambda: [f() for f in calls.values()])
    seconds["__all__"] = t_all
    o_all = ours.get("__all__")
    print(f"{'whole set':<20} {t_all * 1e3:10.3f} {o_all * 1e3 if o_all else float('nan'):10.3f} "
          f"{(o_all / t_all) if o_all else float('nan'):11.2f}")
    print(f"(sum of per-indicator bests: talib {total * 1e3:.3f} ms)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"bars": N, "checksum": checksum, "runs": runs, "talib": talib.__version__,
                       "seconds": seconds}, fh, indent=1)
            fh.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
