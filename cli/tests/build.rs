//! The Build phase through the built `btb` binary, as the seed's Makefile flow runs it:
//! `data add` → `init` → `build` → `preview` → `matrix export`, plus `indicators`.

use serde_json::Value;
mod common;
use common::*;

#[test]
fn init_build_preview_export() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let demo = demo();
    ok(&store, &["data", "add", demo.to_str().unwrap()]);

    // POST /models as a spec file.
    let model_json = dir.path().join("model.json");
    std::fs::write(&model_json, r#"{"pack_id": "swingsigma", "ticker": "AAPL", "asset": "eq", "horizon": "swing", "risk_profile": "balanced",
        "custom_indicators": [{"name": "custom_rsi", "params": {"period": 21}}, {"name": "volatility_filter", "params": {"threshold": 0.02}}]}"#).unwrap();
    let model: Value =
        serde_json::from_str(&ok(&store, &["init", "--spec", model_json.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(model["model_id"], "aapl_swing_daily");
    assert_eq!(model["model"]["cadence"], "daily");
    let err = fails(&store, &["init", "--spec", model_json.to_str().unwrap()]);
    assert!(err.contains("exists already"), "{err}");

    // POST /build_matrix as a spec file, and the same fields as flags: same sha.
    let build_json = dir.path().join("build.json");
    std::fs::write(&build_json, r#"{"model_id": "aapl_swing_daily", "pack_id": "swingsigma", "start": "2005-01-01", "end": "2012-12-31", "ticker": "AAPL", "distance_max": 7}"#).unwrap();
    let built: Value =
        serde_json::from_str(&ok(&store, &["build", "--spec", build_json.to_str().unwrap(), "--json"])).unwrap();
    let sha = built["matrix_sha"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    assert_eq!(built["features"], 72, "swingsigma's 70 plus custom_rsi and volatility_filter");
    assert!(built["rows"].as_u64().unwrap() > 1900);
    assert_eq!(built["dropped"]["label_horizon"], 7);
    let again: Value = serde_json::from_str(&ok(
        &store,
        &[
            "build",
            "--model-id",
            "aapl_swing_daily",
            "--start",
            "2005-01-01",
            "--end",
            "2012-12-31",
            "--distance-max",
            "7",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(again["matrix_sha"], sha.as_str());
    assert_eq!(built["cached"], false);
    assert_eq!(again["cached"], true, "the same inputs reuse the stored matrix");
    let other: Value = serde_json::from_str(&ok(
        &store,
        &["build", "--model-id", "aapl_swing_daily", "--distance-max", "5", "--json"],
    ))
    .unwrap();
    assert_ne!(other["matrix_sha"], sha.as_str());

    let preview: Value =
        serde_json::from_str(&ok(&store, &["preview", "--model-id", "aapl_swing_daily", "--json"])).unwrap();
    assert_eq!(preview["summary"]["matrix_sha"], other["matrix_sha"]);
    assert_eq!(preview["preview"]["stats"].as_array().unwrap().len(), 72);

    let csv = dir.path().join("m.csv");
    ok(&store, &["matrix", "export", "--model-id", "aapl_swing_daily", "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("timestamp,") && header.ends_with(",label"), "{header}");
    assert_eq!(text.lines().count() as u64, 1 + other["rows"].as_u64().unwrap());
    let pq = dir.path().join("m.parquet");
    ok(&store, &["matrix", "export", "--model-id", "aapl_swing_daily", "--out", pq.to_str().unwrap()]);
    assert_eq!(&std::fs::read(&pq).unwrap()[..4], b"PAR1");
    let err = fails(&store, &["matrix", "export", "--model-id", "aapl_swing_daily", "--out", "m.xlsx"]);
    assert!(err.contains(".csv or .parquet"), "{err}");

    // Clear errors: unknown model, unknown feature, bad dates.
    assert!(fails(&store, &["build", "--model-id", "nope"]).contains("no model"));
    assert!(fails(&store, &["init", "--ticker", "ZZZZ"]).contains("no stored dataset"));
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"pack_id": "swingsigma", "ticker": "IBM", "custom_indicators": [{"name": "nonsense", "params": {}}]}"#,
    )
    .unwrap();
    assert!(fails(&store, &["init", "--spec", bad.to_str().unwrap()]).contains("nonsense"));
    assert!(fails(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2005-02-30"]).contains("2005-02-30"));
}

#[test]
fn indicators_to_csv() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = dir.path().join("ind.csv");
    let demo = demo();
    ok(
        &store,
        &[
            "indicators",
            demo.to_str().unwrap(),
            "--ticker",
            "IBM",
            "--ind",
            "rsi:14,macd:12:26:9,bbands:20:2",
            "--csv",
            out.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3270, "every input row");
    assert_eq!(
        lines[0],
        "timestamp,rsi_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,bbands_upper_20_2,bbands_middle_20_2,bbands_lower_20_2"
    );
    // RSI(14) is empty for the first 14 rows (TA-Lib's lookback), then present.
    assert!(lines[14].split(',').nth(1).unwrap().is_empty());
    assert!(!lines[15].split(',').nth(1).unwrap().is_empty());
    // MACD(12,26,9) warms up for 33 bars.
    assert!(lines[33].split(',').nth(2).unwrap().is_empty());
    assert!(!lines[34].split(',').nth(2).unwrap().is_empty());
    assert!(fails(&store, &["indicators", demo.to_str().unwrap(), "--ind", "rsi", "--csv", out.to_str().unwrap()])
        .contains("--ticker"));
    assert!(fails(
        &store,
        &["indicators", demo.to_str().unwrap(), "--ticker", "IBM", "--ind", "rsi:0", "--csv", out.to_str().unwrap()]
    )
    .contains("rsi:0"));
}
