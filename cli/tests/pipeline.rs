//! Sweep → Leaderboard → Train → Backtest → Signals through the built `btb` binary, with the
//! seed's API bodies as spec files and the same fields as flags.

use serde_json::Value;
use std::path::{Path, PathBuf};
mod common;
use common::*;

/// A store with the demo data, `aapl_swing_daily` and its 2003–2012 matrix.
fn store_with_matrix(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    ok(&store, &["data", "add", demo().to_str().unwrap()]);
    ok(&store, &["init", "--ticker", "AAPL"]);
    ok(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2003-01-01", "--end", "2012-12-31"]);
    store
}

const FAST: [&str; 4] = ["--trees", "40", "--leaves", "15"];

#[test]
fn sweep_leaderboard_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_matrix(dir.path());

    // The seed's body verbatim: 3 ladders + 2 top fractions × 2 hour sets = 10 runs. Daily bars
    // open at 00:00, so hours 13–15 never allow an entry: every run fails for want of trades.
    let seed = dir.path().join("sweep.json");
    std::fs::write(
        &seed,
        r#"{"model_id":"aapl_swing_daily","pack_id":"swingsigma",
            "thresholds_variants":["0.50,0.55,0.60","0.55,0.60,0.65","0.60,0.65,0.70"],
            "allowed_hours_variants":["13,14","13,14,15"],"top_pct_variants":[0.10,0.15],
            "splits":5,"tag":"initial_sweep","min_trades":30,"min_sharpe":0.5,
            "params":{"num_trees":40,"max_leaves":15}}"#,
    )
    .unwrap();
    let v = json(&store, &["sweep", "--spec", seed.to_str().unwrap(), "--json"]);
    assert_eq!(v["configs"], 10);
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "both hour sets are flagged: {warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("never occur"));
    assert_eq!(v["oof_cached"], false);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 10);
    for r in runs {
        assert_eq!(r["metrics"]["trades"], 0);
        assert!(r["gate"]["reasons"].as_array().unwrap().contains(&Value::from("min_trades_not_met")));
        assert!(r["config"]["allowed_hours"].is_string());
    }

    // The same sweep without hours, as flags: 6 configs over the cached out-of-fold probabilities.
    let args = [
        "sweep",
        "--model-id",
        "aapl_swing_daily",
        "--thresholds-variants",
        "0.50,0.55,0.60",
        "0.55,0.60,0.65",
        "0.60,0.65,0.70",
        "--top-pct-variants",
        "0.10",
        "0.15",
        "0.30",
        "--splits",
        "5",
        "--tag",
        "no_hours",
        "--min-trades",
        "30",
        "--min-sharpe",
        "0.5",
        "--trees",
        "40",
        "--leaves",
        "15",
        "--json",
    ];
    let a = json(&store, &args);
    assert_eq!(a["oof_cached"], true, "same model, splits and parameters: the folds are not retrained");
    assert_eq!(a["oof_key"], v["oof_key"]);
    let b = json(&store, &args);
    assert_eq!(a["runs"], b["runs"], "identical inputs, identical JSON");
    let rows = a["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r["metrics"]["trades"].as_u64().unwrap() > 30));
    let sharpe: Vec<f64> = rows.iter().map(|r| r["metrics"]["sharpe"].as_f64().unwrap()).collect();
    assert!(sharpe.windows(2).all(|w| w[0] >= w[1]), "ranked by Sharpe: {sharpe:?}");

    // GET /leaderboard: every stored run (16 files, the rerun replaced its own), filters, limit.
    let all = json(&store, &["leaderboard", "--model-id", "aapl_swing_daily", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 16);
    let top =
        json(&store, &["leaderboard", "--model-id", "aapl_swing_daily", "--tag", "no_hours", "--limit", "3", "--json"]);
    let top = top.as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0]["rank"], 1);
    assert_eq!(top[0]["run_id"], rows[0]["run_id"]);
    for k in ["rank", "config", "metrics", "gate", "lineage"] {
        assert!(top[0].get(k).is_some(), "{k}");
    }
    for k in
        ["sharpe", "return", "trades", "max_dd", "sortino", "calmar", "cagr", "win_rate", "profit_factor", "exposure"]
    {
        assert!(top[0]["metrics"].get(k).is_some(), "metrics.{k}");
    }
    for k in ["matrix_sha", "config_sha", "policy_sha", "risk_sha", "risk_profile"] {
        assert!(top[0]["lineage"][k].is_string(), "lineage.{k}");
    }
    let passed = json(&store, &["leaderboard", "--model-id", "aapl_swing_daily", "--pass-gate", "--json"]);
    assert!(passed.as_array().unwrap().iter().all(|r| r["gate"]["pass"] == true));
    let none = json(&store, &["leaderboard", "--model-id", "spy_swing_daily", "--json"]);
    assert_eq!(none, Value::Array(vec![]));
    let by_dd = json(&store, &["leaderboard", "--tag", "no_hours", "--rank-by", "max_dd", "--json"]);
    let dd: Vec<f64> = by_dd.as_array().unwrap().iter().map(|r| r["metrics"]["max_dd"].as_f64().unwrap()).collect();
    assert!(dd.windows(2).all(|w| w[0] >= w[1]), "shallowest drawdown first: {dd:?}");
    // Deflated Sharpe ratios: each run deflated by its sweep's 6 configs, ranked by, gated on.
    let by_dsr = json(&store, &["leaderboard", "--tag", "no_hours", "--rank-by", "dsr", "--json"]);
    let by_dsr = by_dsr.as_array().unwrap();
    let dsr: Vec<f64> = by_dsr.iter().map(|r| r["metrics"]["dsr"].as_f64().unwrap()).collect();
    assert!(dsr.windows(2).all(|w| w[0] >= w[1]), "highest DSR first: {dsr:?}");
    for r in by_dsr {
        assert_eq!(r["trials"]["count"], 6);
        assert!(r["metrics"]["dsr"].as_f64() <= r["metrics"]["psr"].as_f64());
    }
    let mut strict_args: Vec<&str> = args.iter().map(|a| if *a == "no_hours" { "strict" } else { a }).collect();
    strict_args.extend(["--min-dsr", "0.999"]);
    let strict = json(&store, &strict_args);
    let strict = strict["runs"].as_array().unwrap();
    let poor = |r: &Value| r["gate"]["reasons"].as_array().unwrap().contains(&Value::from("poor_dsr"));
    assert!(strict.iter().all(|r| (r["metrics"]["dsr"].as_f64().unwrap() < 0.999) == poor(r)));
    assert!(strict.iter().any(poor), "a DSR of 0.999 is not met by chance");
    assert!(ok(&store, &["leaderboard", "--tag", "no_hours"]).contains("rank"));
    assert!(fails(&store, &["leaderboard", "--rank-by", "alpha"]).contains("unknown metric"));

    // POST /backtest of the best config: the very numbers its sweep run has, plus the curves.
    let best = &rows[0]["config"];
    let mut bt = vec![
        "backtest",
        "--model-id",
        "aapl_swing_daily",
        "--splits",
        "5",
        "--trees",
        "40",
        "--leaves",
        "15",
        "--min-trades",
        "30",
        "--min-sharpe",
        "0.5",
        "--json",
    ];
    let value = best["value"].as_str().unwrap().to_string();
    if best["kind"] == "thr" {
        bt.extend(["--thresholds", &value]);
    } else {
        bt.extend(["--top-pct", &value]);
    }
    let eq_csv = dir.path().join("equity.csv");
    let tr_csv = dir.path().join("trades.csv");
    bt.extend(["--equity-csv", eq_csv.to_str().unwrap(), "--trades-csv", tr_csv.to_str().unwrap()]);
    let r = json(&store, &bt);
    // The same numbers, but judged alone: its DSR is its PSR, where the sweep's run was deflated
    // by the sweep's configs.
    let (mut alone, mut swept) = (r["metrics"].clone(), rows[0]["metrics"].clone());
    assert_eq!(alone["dsr"], alone["psr"]);
    assert!(swept["dsr"].as_f64() < swept["psr"].as_f64());
    assert_eq!(rows[0]["trials"]["count"], rows.len());
    assert!(r.get("trials").is_none());
    alone.as_object_mut().unwrap().remove("dsr");
    swept.as_object_mut().unwrap().remove("dsr");
    assert_eq!(alone, swept);
    assert_eq!(r["gate"], rows[0]["gate"]);
    assert_eq!(r["lineage"], rows[0]["lineage"]);
    let equity = r["equity"].as_array().unwrap();
    assert_eq!(equity.len() as u64, r["metrics"]["bars"].as_u64().unwrap());
    assert_eq!(equity[0]["equity"], 1.0);
    assert_eq!(equity[0]["time"], r["start"]);
    assert_eq!(equity.last().unwrap()["time"], r["end"]);
    assert!(equity.iter().all(|p| p["drawdown"].as_f64().unwrap() <= 0.0));
    let min_dd = equity.iter().map(|p| p["drawdown"].as_f64().unwrap()).fold(0.0, f64::min);
    assert_eq!(min_dd, r["metrics"]["max_dd"].as_f64().unwrap());
    let trades = r["trades"].as_array().unwrap();
    assert_eq!(trades.len() as u64, r["metrics"]["trades"].as_u64().unwrap());
    for k in ["entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl", "prob", "exit_reason"] {
        assert!(trades[0].get(k).is_some(), "trade.{k}");
    }
    let csv = std::fs::read_to_string(&eq_csv).unwrap();
    assert_eq!(csv.lines().count(), equity.len() + 1);
    assert_eq!(csv.lines().next(), Some("time,equity,drawdown,buy_and_hold"));
    // Buy and hold starts at 1 and its metrics are those of its own curve.
    assert_eq!(equity[0]["hold"], 1.0);
    let hold_last = equity.last().unwrap()["hold"].as_f64().unwrap();
    assert!((r["buy_and_hold"]["return"].as_f64().unwrap() - (hold_last - 1.0)).abs() < 1e-12);
    assert_eq!(r["buy_and_hold"]["trades"], 0);
    let last_line = csv.lines().last().unwrap().split(',').collect::<Vec<_>>();
    assert_eq!(last_line[0], equity.last().unwrap()["time"].as_str().unwrap());
    assert_eq!(last_line[3].parse::<f64>().unwrap(), hold_last, "the CSV keeps the exact f64");
    let tcsv = std::fs::read_to_string(&tr_csv).unwrap();
    assert_eq!(tcsv.lines().count(), trades.len() + 1);
    assert!(tcsv
        .starts_with("entry_time,exit_time,side,entry_price,exit_price,size,pnl,return,bars_held,prob,exit_reason\n"));
    let first_trade = tcsv.lines().nth(1).unwrap().split(',').collect::<Vec<_>>();
    assert_eq!(first_trade[0], trades[0]["entry_time"].as_str().unwrap());
    assert_eq!(first_trade[6].parse::<f64>().unwrap(), trades[0]["pnl"].as_f64().unwrap());
    // The leaderboard as CSV: the rows `--json` gives, in the same order.
    let lb_csv = dir.path().join("leaderboard.csv");
    let ranked =
        json(&store, &["leaderboard", "--model-id", "aapl_swing_daily", "--csv", lb_csv.to_str().unwrap(), "--json"]);
    let ranked = ranked.as_array().unwrap();
    let lb = std::fs::read_to_string(&lb_csv).unwrap();
    assert_eq!(lb.lines().count(), ranked.len() + 1);
    for (line, row) in lb.lines().skip(1).zip(ranked) {
        assert!(line.contains(row["run_id"].as_str().unwrap()), "{line}");
    }
    assert_eq!(bt.iter().filter(|a| **a == "--json").count(), 1);
    assert_eq!(r, json(&store, &bt), "identical JSON twice");
    let human = ok(&store, &["backtest", "--model-id", "aapl_swing_daily", "--thresholds", "0.55,0.60,0.65"]);
    assert!(human.contains("sharpe") && human.contains("gate") && human.contains("lineage"), "{human}");

    // Errors are one clear line.
    assert!(fails(&store, &["backtest", "--model-id", "aapl_swing_daily", "--thresholds", "0.6", "--top-pct", "0.1"])
        .contains("either thresholds or top_pct"));
    assert!(
        fails(&store, &["backtest", "--model-id", "aapl_swing_daily", "--thresholds", "0.7,0.6"]).contains("ascending")
    );
    assert!(fails(&store, &["sweep", "--model-id", "nope", "--thresholds-variants", "0.6"]).contains("no model"));
    let many: Vec<String> = (0..51).map(|i| format!("0.{:02}", 40 + i)).collect();
    let mut over = vec!["sweep", "--model-id", "aapl_swing_daily", "--thresholds-variants"];
    over.extend(many.iter().map(String::as_str));
    assert!(fails(&store, &over).contains("budget of 50"));
    assert!(fails(
        &store,
        &["sweep", "--model-id", "aapl_swing_daily", "--thresholds-variants", "0.6", "--splits", "400"]
    )
    .contains("too few"));
}

#[test]
fn train_signals_alerts_and_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_matrix(dir.path());
    assert!(fails(&store, &["signals", "--model-id", "aapl_swing_daily"]).contains("no trained strategy"));
    assert!(fails(&store, &["train", "--model-id", "aapl_swing_daily"]).contains("--config-kind"));

    // POST /train as a spec file
    let spec = dir.path().join("train.json");
    std::fs::write(
        &spec,
        r#"{"model_id":"aapl_swing_daily","pack_id":"swingsigma","allowed_hours":"0","calibration":"sigmoid",
            "config":{"kind":"thr","value":"0.55, 0.60,0.65"}}"#,
    )
    .unwrap();
    let mut args = vec!["train", "--spec", spec.to_str().unwrap(), "--json"];
    args.extend(FAST);
    let t = json(&store, &args);
    assert_eq!(t["ok"], true);
    assert_eq!(t["config"], "thr 0.55,0.60,0.65 · hours 0");
    assert_eq!(t["calibration"], "sigmoid");
    assert_eq!(t["calibration_folds"], 5);
    assert_eq!(t["trees"], 40);
    assert_eq!(t, json(&store, &args), "same inputs, same model_sha and JSON");

    // GET /signals
    let s = json(&store, &["signals", "--model-id", "aapl_swing_daily", "--limit", "4", "--json"]);
    let s = s.as_array().unwrap();
    assert!(!s.is_empty() && s.len() <= 4);
    for x in s {
        for k in ["timestamp", "model_id", "ticker", "side", "confidence", "status"] {
            assert!(x.get(k).is_some(), "signal.{k}");
        }
        assert!(["BUY", "SELL"].contains(&x["side"].as_str().unwrap()));
        assert!(["NEW", "OPEN", "CLOSED"].contains(&x["status"].as_str().unwrap()));
        assert_eq!(x["ticker"], "AAPL");
    }
    let ts: Vec<&str> = s.iter().map(|x| x["timestamp"].as_str().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
    // signals reach past the matrix (it ends 2012-12; the data runs to 2013-03-01)
    let all = json(&store, &["signals", "--model-id", "aapl_swing_daily", "--limit", "1000", "--json"]);
    assert!(all.as_array().unwrap().iter().any(|x| x["timestamp"].as_str().unwrap() > "2013-01-01"), "{all}");

    // alerts CSV
    let csv = dir.path().join("alerts.csv");
    let out = ok(&store, &["alerts", "--model-id", "aapl_swing_daily", "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("timestamp,bar,model_id,ticker,side,confidence,status"));
    assert_eq!(text.lines().count() - 1, all.as_array().unwrap().len());
    assert!(out.contains(&format!("wrote {} signals", all.as_array().unwrap().len())));

    // make pipeline / pipeline-gated
    let mut p =
        vec!["pipeline", "--model-id", "aapl_swing_daily", "--start", "2003-01-01", "--end", "2012-12-31", "--json"];
    p.extend(FAST);
    let plain = json(&store, &p);
    p.extend(["--momentum-min", "0.0"]);
    let gated = json(&store, &p);
    assert_eq!(plain["build"]["matrix_sha"], gated["build"]["matrix_sha"]);
    assert!(plain["backtest"]["run"]["policy"]["momentum_min"].is_null());
    assert_eq!(gated["backtest"]["run"]["policy"]["momentum_min"], 0.0);
    assert_ne!(plain["backtest"]["run"]["lineage"]["policy_sha"], gated["backtest"]["run"]["lineage"]["policy_sha"]);
    assert!(
        gated["backtest"]["run"]["metrics"]["exposure"].as_f64().unwrap()
            <= plain["backtest"]["run"]["metrics"]["exposure"].as_f64().unwrap()
    );
    assert!(gated["train"]["model_sha"].is_string());
    // a new model straight from the pipeline
    let mut q = vec!["pipeline", "--model-id", "ibm_swing_daily", "--ticker", "IBM", "--start", "2004-01-01"];
    q.extend(FAST);
    let human = ok(&store, &q);
    assert!(human.contains("build: matrix") && human.contains("backtest (out-of-fold)"), "{human}");
    assert!(fails(&store, &["pipeline", "--model-id", "msft_swing_daily"]).contains("--ticker"));
}

/// `--jobs` trains folds on threads: one thread and three give the same out-of-fold file and
/// the same runs, byte for byte.
#[test]
fn sweep_jobs_are_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let one = store_with_matrix(dir.path());
    let three = dir.path().join("store3");
    copy_dir(&one, &three);
    let args = |jobs: &'static str| {
        let mut a = vec!["sweep", "--model-id", "aapl_swing_daily", "--thresholds-variants", "0.50,0.55,0.60"];
        a.extend(["--top-pct-variants", "0.10", "--jobs", jobs, "--json"]);
        a.extend(FAST);
        a
    };
    let a = json(&one, &args("1"));
    let b = json(&three, &args("3"));
    assert_eq!(a["oof_cached"], false);
    assert_eq!(b["oof_cached"], false);
    assert_eq!(a["oof_key"], b["oof_key"]);
    assert_eq!(a["fold_auc"], b["fold_auc"]);
    assert_eq!(a["runs"], b["runs"]);
    let oof = |s: &Path| std::fs::read(s.join("oof").join(format!("{}.bin", a["oof_key"].as_str().unwrap())));
    assert_eq!(oof(&one).unwrap(), oof(&three).unwrap());
    let zero = btb(&one, &["sweep", "--model-id", "aapl_swing_daily", "--jobs", "0"]);
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("'0' for '--jobs"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The seed's `make sweep-config`, edited, then run: a file of two model variants is one sweep
/// whose runs are ranked and deflated together; a one-variant file is the JSON body's sweep.
#[test]
fn sweep_file_round_trip_with_model_variants() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_matrix(dir.path());
    let file = dir.path().join("sweeps").join("aapl_swing_daily_sweep.yaml");
    let f = file.to_str().unwrap();
    let out = ok(&store, &["sweep-config", "--model-id", "aapl_swing_daily", "--out", f]);
    assert!(out.contains("1 model variant × 5 configs"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# Sweep of aapl_swing_daily.") && text.contains("model_id: \"aapl_swing_daily\""));
    let again = fails_with(2, &store, &["sweep-config", "--model-id", "aapl_swing_daily", "--out", f]);
    assert!(again.contains("exists") && again.contains("--force"), "{again}");

    // One model variant, as fast as the other tests' sweeps: the same runs as the same sweep
    // given as the seed's JSON body with the file's costs and gate left to their defaults (the
    // gate: the risk profile's, in both).
    let fast = text.replace("trees: [100]", "trees: [40]").replace("leaves: [31]", "leaves: [15]");
    std::fs::write(&file, &fast).unwrap();
    let one = json(&store, &["sweep", "--config", f, "--json"]);
    assert_eq!((one["configs"].as_u64(), one["variants"].as_array().unwrap().len()), (Some(5), 1));
    let body = dir.path().join("sweep.json");
    std::fs::write(
        &body,
        r#"{"model_id":"aapl_swing_daily","thresholds_variants":["0.50,0.55,0.60","0.55,0.60,0.65","0.60,0.65,0.70"],
            "top_pct_variants":[0.10,0.15],"tag":"initial_sweep","params":{"num_trees":40,"max_leaves":15}}"#,
    )
    .unwrap();
    let same = json(&store, &["sweep", "--spec", body.to_str().unwrap(), "--json"]);
    assert_eq!(same["runs"], one["runs"], "a file and a body judge alike, defaults included");
    // The file's gate is the balanced profile's (Sharpe above 0.7), not a looser one of its own.
    for r in one["runs"].as_array().unwrap() {
        let poor = r["gate"]["reasons"].as_array().unwrap().iter().any(|x| x == "poor_sharpe");
        assert_eq!(poor, r["metrics"]["sharpe"].as_f64().unwrap() <= 0.7, "{}", r["gate"]);
    }
    assert_eq!(same["oof_cached"], true);

    // Two calibrations: two model variants, each with its own out-of-fold probabilities, every
    // config judged on both, all ten runs deflated by ten tries.
    let two = fast.replace("calibration: [sigmoid]", "calibration: [sigmoid, isotonic]");
    std::fs::write(&file, &two).unwrap();
    let v = json(&store, &["sweep", "--config", f, "--json"]);
    let variants = v["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["oof_cached"], true, "the first variant's folds were cached by the first sweep");
    assert_eq!(variants[1]["oof_cached"], false);
    assert_ne!(variants[0]["oof_key"], variants[1]["oof_key"]);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 10);
    assert!(runs.iter().all(|r| r["trials"]["count"] == 10));
    let isotonic = variants[1]["variant"].as_str().unwrap();
    assert!(isotonic.contains("isotonic · 40 trees · 15 leaves"), "{isotonic}");
    assert_eq!(runs.iter().filter(|r| r["variant"] == isotonic).count(), 5);
    let table = ok(&store, &["sweep", "--config", f]);
    assert!(table.contains("2 model variants × 5 configs") && table.contains("variant"), "{table}");
    let lb = json(&store, &["leaderboard", "--model-id", "aapl_swing_daily", "--variant", isotonic, "--json"]);
    assert_eq!(lb.as_array().unwrap().len(), 5);

    // A typo or a bad value is refused with the file and its line.
    let typo = two.replace("  leaves:", "  leafs:");
    std::fs::write(&file, &typo).unwrap();
    let line = typo.lines().position(|l| l.starts_with("  leafs:")).unwrap() + 1;
    let e = fails(&store, &["sweep", "--config", f]);
    assert!(e.contains(f) && e.contains(&format!("line {line}")) && e.contains("unknown field `leafs`"), "{e}");
    std::fs::write(&file, two.replace("top_pct: [0.10, 0.15]", "top_pct: [0.10, 1.5]")).unwrap();
    let e = fails(&store, &["sweep", "--config", f]);
    assert!(e.contains("1.5 is not a top fraction"), "{e}");
}

/// The demo's CSV, only the rows `keep` accepts (`Ticker,Date,…` lines), as a file in `dir`.
fn demo_rows(dir: &Path, name: &str, keep: impl Fn(&str, &str) -> bool, edit: impl Fn(&str) -> String) -> String {
    let out = std::process::Command::new("gzip").arg("-dc").arg(demo()).output().expect("gzip");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let mut csv = format!("{}\n", lines.next().unwrap());
    for l in lines {
        let mut f = l.splitn(3, ',');
        let (t, d) = (f.next().unwrap(), f.next().unwrap());
        if keep(t, d) {
            csv.push_str(&edit(l));
            csv.push('\n');
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, csv).unwrap();
    p.to_str().unwrap().to_string()
}

/// `btb model rebase`: a model trained on bars to mid-2012 moves to the demo file running to
/// 2013-03 after its matrix is reproduced there bit for bit; its strategy's signals then reach
/// the newer bars. Revised past bars and an older file are refused, and nothing changes.
#[test]
fn a_rebased_model_reaches_newer_bars() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let old = demo_rows(dir.path(), "old.csv", |_, d| d < "2012-07-01", str::to_string);
    let old_id = json(&store, &["data", "add", &old, "--json"])["id"].as_str().unwrap().to_string();
    ok(&store, &["init", "--ticker", "AAPL", "--dataset", &old_id]);
    let built = json(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2006-01-01", "--json"]);
    let mut train =
        vec!["train", "--model-id", "aapl_swing_daily", "--config-kind", "thr", "--config-value", "0.50,0.55"];
    train.extend(FAST);
    ok(&store, &train);
    let newest = |store: &Path| {
        let all = json(store, &["signals", "--model-id", "aapl_swing_daily", "--limit", "100000", "--json"]);
        all.as_array().unwrap().iter().map(|x| x["timestamp"].as_str().unwrap().to_string()).max().unwrap()
    };
    let before = newest(&store);
    assert!(before.as_str() < "2012-07-01", "{before}");

    // A past high revised by a dollar, and a file ending before the model's: refused.
    let revised = demo_rows(
        dir.path(),
        "revised.csv",
        |_, _| true,
        |l| if l.starts_with("AAPL,2010-06-01,") { l.replace(",265.94,", ",266.94,") } else { l.to_string() },
    );
    let revised_id = json(&store, &["data", "add", &revised, "--json"])["id"].as_str().unwrap().to_string();
    let e = fails(&store, &["model", "rebase", "--model-id", "aapl_swing_daily", "--dataset", &revised_id]);
    assert!(e.contains("at 2010-06-0") && e.contains("another code version"), "{e}");
    let older = demo_rows(dir.path(), "older.csv", |_, d| d < "2012-01-01", str::to_string);
    let older_id = json(&store, &["data", "add", &older, "--json"])["id"].as_str().unwrap().to_string();
    let e = fails(&store, &["model", "rebase", "--model-id", "aapl_swing_daily", "--dataset", &older_id]);
    assert!(e.contains("not newer"), "{e}");
    assert_eq!(newest(&store), before, "a refused move changes nothing");

    // The full file: the model moves, its matrix grows, the same strategy signals on 2013 bars.
    let new_id = json(&store, &["data", "add", demo().to_str().unwrap(), "--json"])["id"].as_str().unwrap().to_string();
    let r = json(&store, &["model", "rebase", "--model-id", "aapl_swing_daily", "--dataset", &new_id, "--json"]);
    assert_eq!(r["from_dataset"], old_id.as_str());
    assert_eq!(r["to_dataset"], new_id.as_str());
    assert_eq!(r["from_matrix"], built["matrix_sha"]);
    assert_eq!(r["rows_checked"], built["rows"]);
    assert!(r["rows_added"].as_u64().unwrap() > 100, "{r}");
    assert_ne!(r["to_matrix"], r["from_matrix"]);
    let after = newest(&store);
    assert!(after.as_str() > "2013-02-01", "{after}");
    let preview = json(&store, &["preview", "--model-id", "aapl_swing_daily", "--json"]);
    assert_eq!(preview["summary"]["matrix_sha"], r["to_matrix"], "{preview}");
    let e = fails(&store, &["model", "rebase", "--model-id", "aapl_swing_daily", "--dataset", &new_id]);
    assert!(e.contains("already"), "{e}");
}

/// "Train the top 3–5": each config trained keeps its own strategy (training one again replaces
/// it), `btb strategies` lists them, and `--strategy` picks whose signals `btb signals` and
/// `btb alerts` give; a store written with one `strategy.json` per model still reads.
#[test]
fn several_strategies_per_model_give_their_own_signals() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_matrix(dir.path());
    let train = |value: &str| {
        let mut a =
            vec!["train", "--model-id", "aapl_swing_daily", "--config-kind", "thr", "--config-value", value, "--json"];
        a.extend(FAST);
        json(&store, &a)["config_sha"].as_str().unwrap().to_string()
    };
    let low = train("0.50,0.55");
    let high = train("0.70,0.75");
    assert_ne!(low, high);
    assert_eq!(train("0.50,0.55"), low, "the same config again replaces its strategy");
    let listed = json(&store, &["strategies", "--model-id", "aapl_swing_daily", "--json"]);
    let shas: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["config_sha"].as_str().unwrap()).collect();
    assert_eq!(shas.len(), 2, "{shas:?}");
    let text = ok(&store, &["strategies", "--model-id", "aapl_swing_daily"]);
    assert!(text.starts_with("2 trained strategies of aapl_swing_daily"), "{text}");
    assert!(text.contains("thr 0.50,0.55") && text.contains("thr 0.70,0.75"), "{text}");

    let signals = |pick: &str| {
        json(&store, &["signals", "--model-id", "aapl_swing_daily", "--strategy", pick, "--limit", "100000", "--json"])
    };
    let (a, b) = (signals(&low[..8]), signals(&high[..8]));
    assert_ne!(a, b, "two strategies, two sets of signals");
    let buys = |v: &serde_json::Value| v.as_array().unwrap().iter().filter(|s| s["side"] == "BUY").count();
    assert!(buys(&a) > buys(&b), "a lower ladder buys more often: {} vs {}", buys(&a), buys(&b));
    // The default is the newest; with the fixed clock of these tests, ties go to the larger config_sha.
    let newest = if low > high { &a } else { &b };
    let all = json(&store, &["signals", "--model-id", "aapl_swing_daily", "--limit", "100000", "--json"]);
    assert_eq!(&all, newest);
    let text = ok(&store, &["signals", "--model-id", "aapl_swing_daily", "--strategy", &high[..8]]);
    assert!(text.starts_with(&format!("strategy {} (thr 0.70,0.75) of 2", &high[..7])), "{text}");
    let out = dir.path().join("alerts.csv");
    let written = ok(
        &store,
        &["alerts", "--model-id", "aapl_swing_daily", "--strategy", &low[..8], "--out", out.to_str().unwrap()],
    );
    assert!(written.contains("thr 0.50,0.55"), "{written}");
    let nowhere = dir.path().join("no/such/folder/alerts.csv");
    let e = fails(&store, &["alerts", "--model-id", "aapl_swing_daily", "--out", nowhere.to_str().unwrap()]);
    assert!(e.starts_with("cannot write ") && e.contains("no/such/folder"), "{e}");
    let e = fails(&store, &["signals", "--model-id", "aapl_swing_daily", "--strategy", "zzzz"]);
    assert!(
        e.contains("no trained strategy whose config_sha starts with \"zzzz\"") && e.contains("thr 0.70,0.75"),
        "{e}"
    );

    // An older store: one strategy.json for the model, still read and replaced by retraining it.
    let folder = store.join("strategies").join("aapl_swing_daily");
    std::fs::rename(folder.join(format!("{high}.json")), folder.join("strategy.json")).unwrap();
    assert_eq!(signals(&high[..8]), b);
    assert_eq!(json(&store, &["strategies", "--model-id", "aapl_swing_daily", "--json"]).as_array().unwrap().len(), 2);
    assert_eq!(train("0.70,0.75"), high);
    assert!(!folder.join("strategy.json").exists());
    assert_eq!(signals(&high[..8]), b);
}
