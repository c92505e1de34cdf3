#!/usr/bin/env python3
"""Holdout AUC and training time of `btb train` against LightGBM on the same data.

    pip install lightgbm scikit-learn pandas numpy pyarrow
    cargo build --release -p cli          # or: cargo build --profile bench -p cli (opt-level 3, same output dir)
    python tests/gbt/compare_lightgbm.py [--rows 60000] [--features 40] [--trees 200]

make_classification (seeded) with ~5% missing cells, first 50k rows train, last 10k holdout.
Both sides: 200 trees, 31 leaves, 255 bins, lr 0.1, min_data_in_leaf 20, no validation split,
no calibration, one thread. Ours: the train time the CLI reports (binning + boosting, no file
I/O); LightGBM: wall time of lgb.train (Dataset construction included).
Goal: AUC(ours) >= AUC(LightGBM) - 0.002 and time ratio <= 1.0.
"""
import argparse
import json
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--train-rows", type=int, default=50000)
    ap.add_argument("--features", type=int, default=40)
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()

    X, y = make_classification(n_samples=a.rows, n_features=a.features, n_informative=20, n_redundant=10,
                               n_clusters_per_class=4, flip_y=0.05, class_sep=0.8, random_state=a.seed)
    rng = np.random.default_rng(a.seed)
    X[rng.random(X.shape) < 0.05] = np.nan
    cols = [f"f{j}" for j in range(a.features)]
    df = pd.DataFrame(X, columns=cols)
    df["label"] = y
    out = os.path.join(ROOT, "target", "gbt")
    os.makedirs(out, exist_ok=True)
    train_csv, hold_csv = os.path.join(out, "train.csv"), os.path.join(out, "holdout.csv")
    n = a.train_rows
    df.iloc[:n].to_csv(train_csv, index=False, float_format="%.17g")
    df.iloc[n:].to_csv(hold_csv, index=False, float_format="%.17g")

    btb = btb_path()
    model = os.path.join(out, "model.json")
    preds = os.path.join(out, "preds.csv")
    cmd = [btb, "train", "--matrix", train_csv, "--label", "label", "--trees", str(a.trees), "--leaves", "31",
           "--lr", "0.1", "--max-bin", "255", "--min-data-in-leaf", "20", "--valid-fraction", "0",
           "--calibration", "none", "--out", model, "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"btb train failed: {r.stderr}")
    ours = json.loads(r.stdout)
    r = subprocess.run([btb, "predict", "--model", model, "--matrix", hold_csv, "--out", preds], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"btb predict failed: {r.stderr}")
    p_ours = pd.read_csv(preds)["probability"].to_numpy()
    y_hold = y[n:]
    auc_ours = roc_auc_score(y_hold, p_ours)

    params = dict(objective="binary", num_leaves=31, learning_rate=0.1, max_bin=255, min_data_in_leaf=20,
                  num_threads=1, deterministic=True, force_col_wise=True, verbose=-1, seed=0)
    t0 = time.perf_counter()
    ds = lgb.Dataset(X[:n], label=y[:n], params={"max_bin": 255, "verbose": -1})
    booster = lgb.train(params, ds, num_boost_round=a.trees)
    t_lgb = time.perf_counter() - t0
    auc_lgb = roc_auc_score(y_hold, booster.predict(X[n:]))

    t_ours = ours["train_seconds"]
    res = {"auc_ours": auc_ours, "auc_lightgbm": auc_lgb, "auc_diff": auc_ours - auc_lgb,
           "seconds_ours": t_ours, "seconds_lightgbm": t_lgb, "time_ratio": t_ours / t_lgb,
           "trees_ours": ours["trees_built"], "model_sha": ours["model_sha"], "btb": btb,
           "lightgbm_version": lgb.__version__}
    print(f"holdout AUC   ours {auc_ours:.5f}   LightGBM {auc_lgb:.5f}   diff {auc_ours - auc_lgb:+.5f}")
    print(f"train time    ours {t_ours:.3f} s   LightGBM {t_lgb:.3f} s   ratio {t_ours / t_lgb:.2f}")
    ok_auc = auc_ours >= auc_lgb - 0.002
    ok_time = t_ours / t_lgb <= 1.0
    print(f"goals: AUC {'met' if ok_auc else 'MISSED'}, time {'met' if ok_time else 'MISSED'}  ({btb})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
