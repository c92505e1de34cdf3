//! `btb scan` as a user runs it on the demo's five tickers (the numbers themselves are checked
//! against pandas in `engine/tests/scan.rs`).

mod common;
use common::*;

#[test]
fn scan_ranks_the_demo_universe_as_of_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let id = json(&store, &["data", "add", demo().to_str().unwrap(), "--json"])["id"].as_str().unwrap().to_string();

    let s = json(&store, &["scan", "--dataset", &id, "--kind", "breakout", "--top-n", "3", "--json"]);
    assert_eq!(s["asof"], "2013-03-01");
    assert_eq!(s["universe"], 5);
    assert_eq!(s["scored"], 5);
    let rows = s["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let tickers: Vec<&str> = rows.iter().map(|r| r["ticker"].as_str().unwrap()).collect();
    assert_eq!(tickers, ["GOOG", "IBM", "MSFT"]);
    assert_eq!(rows[0]["facts"][1]["name"], "high_20");

    // As of 2010-06-01 FB had not listed yet; the table names the facts and the skip.
    let text = ok(&store, &["scan", "--dataset", &id, "--kind", "highmomo", "--asof", "2010-06-01"]);
    assert!(text.starts_with("highmomo scan of dataset"), "{text}");
    assert!(text.contains("as of 2010-06-01: 4 of 5 tickers scored"), "{text}");
    assert!(text.contains("return_252_21"), "{text}");
    assert!(text.contains("skipped FB: no bar on or before the as-of date"), "{text}");

    let two = json(&store, &["scan", "--dataset", &id, "--kind", "rs", "--tickers", "IBM,aapl", "--json"]);
    assert_eq!(two["universe"], 2);

    let e = fails(&store, &["scan", "--dataset", &id, "--kind", "breakouts"]);
    assert!(e.contains("unknown scanner \"breakouts\""), "{e}");
    let e = fails(&store, &["scan", "--dataset", &id, "--kind", "trend", "--tickers", "TSLA"]);
    assert!(e.contains("no ticker TSLA"), "{e}");
    let e = fails(&store, &["scan", "--dataset", &id, "--kind", "trend", "--asof", "2010-02-30"]);
    assert!(e.contains("not a date"), "{e}");
}

/// `btb calibrate-scanner`: a threshold from the model's out-of-fold probabilities, the table it
/// chose from, and a plain "cannot" when the universe is too small for the Top-N asked.
#[test]
fn calibrate_scanner_picks_a_threshold_from_out_of_fold_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ok(&store, &["data", "add", demo().to_str().unwrap()]);
    ok(&store, &["init", "--ticker", "AAPL"]);
    ok(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2006-01-01"]);
    let fast = ["--trees", "40", "--leaves", "15"];
    let mut args = vec!["calibrate-scanner", "--model-id", "aapl_swing_daily", "--top-n", "2", "--json"];
    args.extend(fast);
    let c = json(&store, &args);
    assert_eq!(c["universe"], 5, "the demo's tickers");
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 10, "0.50 to 0.95");
    let per_day: Vec<f64> = rows.iter().map(|r| r["per_day"].as_f64().unwrap()).collect();
    assert!(per_day.windows(2).all(|w| w[0] >= w[1]), "fewer signals at higher thresholds: {per_day:?}");
    let days = c["days"].as_f64().unwrap();
    for r in rows {
        let want = r["signal_bars"].as_f64().unwrap() / days * 5.0;
        assert!((r["per_day"].as_f64().unwrap() - want).abs() < 1e-12);
    }
    let t = c["recommended"].as_f64().unwrap();
    let best = rows.iter().find(|r| r["threshold"].as_f64() == Some(t)).unwrap()["per_day"].as_f64().unwrap();
    assert!(
        per_day.iter().all(|p| (best - 2.0).abs() <= (p - 2.0).abs() + 1e-12),
        "{t} is nearest 2 a day: {per_day:?}"
    );

    // The same probabilities again, from the cache; Top-50 of five tickers cannot be had.
    let mut text = vec!["calibrate-scanner", "--model-id", "aapl_swing_daily", "--top-n", "50", "--grid", "0.5,0.6"];
    text.extend(fast);
    let out = ok(&store, &text);
    assert!(out.contains("(from the cache)"), "{out}");
    assert!(out.contains("fewer than the Top-50 asked"), "{out}");
    let e = fails(&store, &["calibrate-scanner", "--model-id", "aapl_swing_daily", "--grid", "0.5,1.5"]);
    assert!(e.contains("1.5 is not a probability"), "{e}");
}
