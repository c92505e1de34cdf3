#!/usr/bin/env python3
"""Holdout AUC, training time and prediction throughput of `btb train` against LightGBM.

    pip install lightgbm scikit-learn pandas numpy pyarrow
    cargo build --release -p cli          # or: cargo build --profile bench -p cli (opt-level 3, same output dir)
    python tests/gbt/compare_lightgbm.py [--rows 60000] [--features 40] [--trees 200]
                                         [--tickers AAPL,IBM,MSFT] [--skip-real] [--sensitivity] [--json FILE]

1. Synthetic: make_classification (seeded) with ~5% missing cells, first 50k rows train, last 10k
   holdout. Both sides: 200 trees, 31 leaves, 255 bins, lr 0.1, min_data_in_leaf 20, no validation
   split, no calibration, one thread. Ours: the train time the CLI reports (binning + boosting, no
   file I/O); LightGBM: wall time of lgb.train (Dataset construction included). LightGBM's
   Booster.predict (one thread, best of 5) is timed on the 10k holdout and on the 50k training
   rows; ours is timed by `cargo bench -p engine --bench gbt` (predict_proba, same shapes), and
   the wall time of `btb predict` (CSV read + predict + CSV write) is printed for context.
2. Real bars: for each ticker of public/demo/stocks-daily-2000-2013.csv.gz the CLI builds the
   swingsigma matrix (`btb data add`, `btb init --pack-id swingsigma`, `btb build`,
   `btb matrix export`) in a fresh store under target/gbt/store. Time-ordered split: first 80%
   of rows train, last 20% holdout, no shuffling. Both sides: 200 trees, 31 leaves, 255 bins,
   lr 0.05, min_data_in_leaf 20, no validation split / early stopping, no calibration, one thread.
   The timestamp column is not a feature (btb skips it; it is dropped for LightGBM). Also printed:
   Spearman correlation of the two models' holdout probabilities, a paired-bootstrap 95% interval
   of the AUC difference, and (--sensitivity) LightGBM's own AUC range when one parameter is nudged
   (max_bin 254, min_data_in_leaf 19/21, lr 0.049/0.051).
Goal: AUC(ours) >= AUC(LightGBM) - 0.002 (and, synthetic, time ratio <= 1.0). On the noisy
daily-bar labels holdout AUCs near 0.5 are expected.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def btb_path():
    for p in ("target/release/btb", "target/debug/btb"):
        full = os.path.join(ROOT, p)
        if os.path.exists(full):
            return full
    sys.exit("build the CLI first: cargo build --release -p cli")


LGB_BASE = dict(objective="binary", num_leaves=31, max_bin=255, min_data_in_leaf=20, num_threads=1,
                deterministic=True, force_col_wise=True, verbose=-1, seed=0)


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{what} failed ({' '.join(cmd)}):\n{r.stderr}")
    return r.stdout


def train_ours(btb, train_csv, model, trees, lr):
    cmd = [btb, "train", "--matrix", train_csv, "--label", "label", "--trees", str(trees), "--leaves", "31",
           "--lr", str(lr), "--max-bin", "255", "--min-data-in-leaf", "20", "--valid-fraction", "0",
           "--calibration", "none", "--out", model, "--json"]
    return json.loads(run(cmd, "btb train"))


def predict_ours(btb, model, matrix_csv, preds):
    t0 = time.perf_counter()
    run([btb, "predict", "--model", model, "--matrix", matrix_csv, "--out", preds], "btb predict")
    wall = time.perf_counter() - t0
    return pd.read_csv(preds)["probability"].to_numpy(), wall


def train_lgb(X, y, trees, lr):
    params = dict(LGB_BASE, learning_rate=lr)
    t0 = time.perf_counter()
    ds = lgb.Dataset(X, label=y, params={"max_bin": 255, "verbose": -1})
    booster = lgb.train(params, ds, num_boost_round=trees)
    return booster, time.perf_counter() - t0


def predict_rate(booster, X, reps=5):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        booster.predict(X, num_threads=1)
        best = min(best, time.perf_counter() - t0)
    return best, X.shape[0] / best


def synthetic(a, btb, out):
    X, y = make_classification(n_samples=a.rows, n_features=a.features, n_informative=20, n_redundant=10,
                               n_clusters_per_class=4, flip_y=0.05, class_sep=0.8, random_state=a.seed)
    rng = np.random.default_rng(a.seed)
    X[rng.random(X.shape) < 0.05] = np.nan
    cols = [f"f{j}" for j in range(a.features)]
    df = pd.DataFrame(X, columns=cols)
    df["label"] = y
    train_csv, hold_csv = os.path.join(out, "train.csv"), os.path.join(out, "holdout.csv")
    n = a.train_rows
    df.iloc[:n].to_csv(train_csv, index=False, float_format="%.17g")
    df.iloc[n:].to_csv(hold_csv, index=False, float_format="%.17g")

    model = os.path.join(out, "model.json")
    preds = os.path.join(out, "preds.csv")
    ours = train_ours(btb, train_csv, model, a.trees, 0.1)
    p_ours, wall_predict_ours = predict_ours(btb, model, hold_csv, preds)
    y_hold = y[n:]
    auc_ours = roc_auc_score(y_hold, p_ours)

    booster, t_lgb = train_lgb(X[:n], y[:n], a.trees, 0.1)
    auc_lgb = roc_auc_score(y_hold, booster.predict(X[n:], num_threads=1))
    s_hold, rate_hold = predict_rate(booster, X[n:])
    s_train, rate_train = predict_rate(booster, X[:n])

    t_ours = ours["train_seconds"]
    res = {"auc_ours": auc_ours, "auc_lightgbm": auc_lgb, "auc_diff": auc_ours - auc_lgb,
           "seconds_ours": t_ours, "seconds_lightgbm": t_lgb, "time_ratio": t_ours / t_lgb,
           "trees_ours": ours["trees_built"], "model_sha": ours["model_sha"],
           "lightgbm_predict_holdout_rows": int(X.shape[0] - n), "lightgbm_predict_holdout_seconds": s_hold,
           "lightgbm_predict_holdout_rows_per_s": rate_hold,
           "lightgbm_predict_train_rows": n, "lightgbm_predict_train_seconds": s_train,
           "lightgbm_predict_train_rows_per_s": rate_train,
           "btb_predict_wall_seconds_holdout_csv": wall_predict_ours}
    print(f"== synthetic make_classification {a.rows} x {a.features} (train {n}, holdout {a.rows - n}), lr 0.1")
    print(f"holdout AUC   ours {auc_ours:.5f}   LightGBM {auc_lgb:.5f}   diff {auc_ours - auc_lgb:+.5f}")
    print(f"train time    ours {t_ours:.3f} s   LightGBM {t_lgb:.3f} s   ratio {t_ours / t_lgb:.2f}")
    print(f"LightGBM predict (1 thread, best of 5): holdout {a.rows - n} rows {s_hold:.4f} s = {rate_hold:,.0f} rows/s; "
          f"train {n} rows {s_train:.4f} s = {rate_train:,.0f} rows/s")
    print(f"btb predict wall time on holdout CSV (read + predict + write): {wall_predict_ours:.3f} s "
          f"-- in-process predict_proba rate: cargo bench -p engine --bench gbt")
    ok_auc = auc_ours >= auc_lgb - 0.002
    ok_time = t_ours / t_lgb <= 1.0
    print(f"goals: AUC {'met' if ok_auc else 'MISSED'}, time {'met' if ok_time else 'MISSED'}")
    return res


def paired_bootstrap_ci(y, p1, p2, reps=1000, seed=0):
    """95% interval of AUC(p1) - AUC(p2) over holdout rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    d = []
    for _ in range(reps):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        d.append(roc_auc_score(y[i], p1[i]) - roc_auc_score(y[i], p2[i]))
    return float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))


SENSITIVITY = [("max_bin", 254), ("min_data_in_leaf", 19), ("min_data_in_leaf", 21), ("learning_rate", 0.049),
               ("learning_rate", 0.051)]


def lgb_spread(X, y, n, trees):
    """LightGBM's own holdout AUC under tiny parameter nudges: how much AUC moves for reasons unrelated
    to the implementation."""
    aucs = []
    for k, v in SENSITIVITY:
        params = dict(LGB_BASE, learning_rate=0.05)
        params[k] = v
        ds = lgb.Dataset(X[:n], label=y[:n], params={"max_bin": params["max_bin"], "verbose": -1})
        b = lgb.train(params, ds, num_boost_round=trees)
        aucs.append(roc_auc_score(y[n:], b.predict(X[n:], num_threads=1)))
    return float(min(aucs)), float(max(aucs))


def real_bars(a, btb, out):
    bars = os.path.join(ROOT, "public", "demo", "stocks-daily-2000-2013.csv.gz")
    store = os.path.join(out, "store")
    shutil.rmtree(store, ignore_errors=True)
    run([btb, "--store", store, "data", "add", bars], "btb data add")
    rows = []
    print(f"\n== real bars: swingsigma matrices from {os.path.relpath(bars, ROOT)}, time-ordered 80/20 split, lr 0.05")
    print(f"{'ticker':<7}{'rows':>6}{'train':>7}{'hold':>6}{'pos%hold':>9}{'AUC ours':>10}{'AUC LGB':>10}{'diff':>9}"
          f"{'t ours s':>10}{'t LGB s':>9}{'rank corr':>10}  goal")
    for ticker in a.tickers.split(","):
        mid = f"{ticker.lower()}_swing_daily"
        run([btb, "--store", store, "init", "--pack-id", "swingsigma", "--ticker", ticker], "btb init")
        built = json.loads(run([btb, "--store", store, "build", "--model-id", mid, "--json"], "btb build"))
        mcsv = os.path.join(out, f"{mid}.csv")
        run([btb, "--store", store, "matrix", "export", "--model-id", mid, "--out", mcsv], "btb matrix export")
        df = pd.read_csv(mcsv)
        if "timestamp" in df.columns and not df["timestamp"].is_monotonic_increasing:
            sys.exit(f"{mcsv}: rows are not in time order")
        n = int(len(df) * 0.8)
        train_csv, hold_csv = os.path.join(out, f"{mid}_train.csv"), os.path.join(out, f"{mid}_holdout.csv")
        df.iloc[:n].to_csv(train_csv, index=False, float_format="%.17g")
        df.iloc[n:].to_csv(hold_csv, index=False, float_format="%.17g")
        feats = [c for c in df.columns if c not in ("timestamp", "label")]
        X = df[feats].to_numpy(dtype=float)
        y = df["label"].to_numpy(dtype=float)

        model = os.path.join(out, f"{mid}_model.json")
        ours = train_ours(btb, train_csv, model, a.trees, 0.05)
        p_ours, _ = predict_ours(btb, model, hold_csv, os.path.join(out, f"{mid}_preds.csv"))
        booster, t_lgb = train_lgb(X[:n], y[:n], a.trees, 0.05)
        p_lgb = booster.predict(X[n:], num_threads=1)
        auc_ours, auc_lgb = roc_auc_score(y[n:], p_ours), roc_auc_score(y[n:], p_lgb)
        corr = pd.Series(p_ours).corr(pd.Series(p_lgb), method="spearman")
        ci = paired_bootstrap_ci(y[n:], p_ours, p_lgb)
        spread = lgb_spread(X, y, n, a.trees) if a.sensitivity else None
        ok = auc_ours >= auc_lgb - 0.002
        r = {"ticker": ticker, "model_id": mid, "matrix_sha": built.get("matrix_sha"), "rows": len(df),
             "features": len(feats), "train_rows": n, "holdout_rows": len(df) - n,
             "holdout_positive_rate": float(y[n:].mean()), "auc_ours": auc_ours, "auc_lightgbm": auc_lgb,
             "auc_diff": auc_ours - auc_lgb, "seconds_ours": ours["train_seconds"], "seconds_lightgbm": t_lgb,
             "trees_ours": ours["trees_built"], "model_sha": ours["model_sha"],
             "prediction_rank_correlation": corr, "auc_diff_bootstrap_95": ci,
             "lightgbm_auc_range_under_nudges": spread, "goal_met": ok}
        rows.append(r)
        print(f"{ticker:<7}{len(df):>6}{n:>7}{len(df) - n:>6}{100 * y[n:].mean():>8.1f}%{auc_ours:>10.5f}{auc_lgb:>10.5f}"
              f"{auc_ours - auc_lgb:>+9.5f}{ours['train_seconds']:>10.3f}{t_lgb:>9.3f}{corr:>10.3f}  {'met' if ok else 'MISSED'}")
        extra = f"diff 95% CI (paired bootstrap of holdout rows) [{ci[0]:+.4f}, {ci[1]:+.4f}]"
        if spread:
            extra += f"; LightGBM AUC under tiny nudges ({', '.join(f'{k}={v}' for k, v in SENSITIVITY)}): {spread[0]:.4f}..{spread[1]:.4f}"
        print(f"       {extra}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--train-rows", type=int, default=50000)
    ap.add_argument("--features", type=int, default=40)
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tickers", default="AAPL,IBM,MSFT", help="tickers of the demo bars for the real-data comparison")
    ap.add_argument("--skip-real", action="store_true", help="only the synthetic comparison")
    ap.add_argument("--sensitivity", action="store_true",
                    help="real bars: also retrain LightGBM with tiny parameter nudges and print its AUC range")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()

    out = os.path.join(ROOT, "target", "gbt")
    os.makedirs(out, exist_ok=True)
    btb = btb_path()
    res = synthetic(a, btb, out)
    res = {"synthetic": res, "btb": btb, "lightgbm_version": lgb.__version__}
    if not a.skip_real:
        res["real_bars"] = real_bars(a, btb, out)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
