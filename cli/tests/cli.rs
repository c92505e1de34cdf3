//! The built `btb` binary run on the fixtures.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
}

fn btb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btb")).args(args).env_remove("RUST_BACKTRACE").output().expect("run btb")
}

fn ok_json(args: &[&str]) -> Value {
    let out = btb(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn inspect_json_shape() {
    let f = fixture("long_multi.csv");
    let v = ok_json(&["inspect", f.to_str().unwrap(), "--json"]);
    assert_eq!(v["rows"], 246);
    let tickers = v["tickers"].as_array().unwrap();
    assert_eq!(tickers.len(), 3);
    for t in tickers {
        for k in ["ticker", "rows", "start", "end", "cadence"] {
            assert!(t.get(k).is_some(), "missing {k} in {t}");
        }
        assert_eq!(t["cadence"], "daily");
        assert_eq!(t["start"], "2005-01-03");
        assert_eq!(t["end"], "2005-04-29");
        assert_eq!(t["rows"], 82);
    }
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1);
    for k in ["kind", "ticker", "row", "message"] {
        assert!(issues[0].get(k).is_some(), "missing {k}");
    }
    assert_eq!(issues[0]["kind"], "suspected_split");
    assert_eq!(issues[0]["ticker"], "AAPL");

    // --ticker and --tz.
    let f = fixture("intraday_5min.csv");
    let v = ok_json(&["inspect", f.to_str().unwrap(), "--json", "--ticker", "SPY", "--tz", "America/New_York"]);
    assert_eq!(v["tickers"][0]["ticker"], "SPY");
    assert_eq!(v["tickers"][0]["cadence"], "five_minute");
    assert_eq!(v["tickers"][0]["start"], "2024-01-02T09:30:00-05:00");
    assert_eq!(v["tz"], "America/New_York");
}

#[test]
fn inspect_human() {
    let f = fixture("quality_issues.csv");
    let out = btb(&["inspect", f.to_str().unwrap()]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("QUALITY_ISSUES"), "{s}");
    assert!(s.contains("high_below_low"), "{s}");
    assert!(s.contains("daily"), "{s}");
}

#[test]
fn bad_input_exit_1_one_line() {
    for (f, needle) in [
        ("bad/text_in_price.csv", r#"text_in_price.csv line 7, column "Close": expected a number, found "abc""#),
        ("bad/junk.bin", "junk.bin line 1: not a CSV or Parquet file"),
        ("bad/fake.parquet", "fake.parquet: not a readable Parquet file"),
        // The `parquet` crate panics on it: caught, and said in one line with no backtrace.
        (
            "bad/parquet_panics.parquet",
            "parquet_panics.parquet: not a readable Parquet file (the Parquet decoder failed: ",
        ),
        ("bad/empty.csv", "empty.csv: the file is empty"),
        ("does_not_exist.csv", "does_not_exist.csv"),
    ] {
        let p = fixture(f);
        let out = btb(&["inspect", p.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(1), "{f}");
        assert!(out.stdout.is_empty(), "{f}: stdout not empty");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{f}: {err}");
        assert!(err.contains(needle), "{f}: {err}");
    }
    let out = btb(&["inspect", fixture("tab.tsv").to_str().unwrap(), "--tz", "Nowhere/City"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
}

/// A developer still gets the panic, its place and the backtrace hint with `RUST_BACKTRACE=1`.
#[test]
fn rust_backtrace_shows_a_caught_panic() {
    let p = fixture("bad/parquet_panics.parquet");
    let out = Command::new(env!("CARGO_BIN_EXE_btb"))
        .args(["inspect", p.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("panicked at"), "{err}");
    assert!(
        err.trim_end().ends_with(')') && err.lines().last().unwrap().starts_with("parquet_panics.parquet: "),
        "{err}"
    );
}

#[test]
fn data_add_stamps_the_fixed_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().join("store");
    let f = fixture("long_multi.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_btb"))
        .env("SOURCE_DATE_EPOCH", "1764028800")
        .args(["--store", s.to_str().unwrap(), "data", "add", f.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["created"], engine::data::time::format_utc(1_764_028_800_000));
}

#[test]
fn data_add_list_show_rm() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let s = store.to_str().unwrap();
    let f = fixture("long_multi.csv.gz");

    assert_eq!(ok_json(&["--store", s, "data", "list", "--json"]), serde_json::json!([]));

    let added = ok_json(&["--store", s, "data", "add", f.to_str().unwrap(), "--name", "demo", "--json"]);
    let id = added["id"].as_str().unwrap().to_string();
    assert_eq!(added["name"], "demo");
    assert_eq!(added["rows"], 246);
    assert_eq!(added["tickers"], serde_json::json!(["AAPL", "IBM", "MSFT"]));
    assert_eq!(added["sha"].as_str().unwrap().len(), 64);
    assert_eq!(added["existing"], false);
    assert!(added["sha"].as_str().unwrap().starts_with(&id));

    // Layout on disk.
    let dir = store.join("datasets").join(&id);
    let meta: Value = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["sha"], added["sha"]);
    assert_eq!(meta["tz"], "UTC");
    assert!(meta["summary"]["tickers"].is_array());
    assert_eq!(std::fs::metadata(dir.join("columns/ts.i64le")).unwrap().len(), 246 * 8);
    for c in ["open", "high", "low", "close", "volume", "adj_close"] {
        assert_eq!(std::fs::metadata(dir.join(format!("columns/{c}.f64le"))).unwrap().len(), 246 * 8, "{c}");
    }
    // No temp leftovers.
    let names: Vec<String> = std::fs::read_dir(store.join("datasets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, std::slice::from_ref(&id));

    // Same content again: found, not duplicated.
    let again = ok_json(&["--store", s, "data", "add", f.to_str().unwrap(), "--json"]);
    assert_eq!(again["id"], added["id"]);
    assert_eq!(again["existing"], true);

    // The same bars from Parquet/CSV in another layout hash differently only if content differs:
    // the plain CSV copy has the same content and so the same id.
    let plain = ok_json(&["--store", s, "data", "add", fixture("long_multi.csv").to_str().unwrap(), "--json"]);
    assert_eq!(plain["id"], added["id"]);

    let other = ok_json(&["--store", s, "data", "add", fixture("tab.tsv").to_str().unwrap(), "--json"]);
    assert_ne!(other["id"], added["id"]);

    let list = ok_json(&["--store", s, "data", "list", "--json"]);
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id.as_str()));

    let shown = ok_json(&["--store", s, "data", "show", &id[..8], "--json"]);
    assert_eq!(shown["verified"], true);
    assert_eq!(shown["summary"]["rows"], 246);

    let out = btb(&["--store", s, "data", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo"));

    // A failed add leaves nothing behind and prints nothing on stdout.
    let out = btb(&["--store", s, "data", "add", fixture("bad/ragged.csv").to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(ok_json(&["--store", s, "data", "list", "--json"]).as_array().unwrap().len(), 2);

    let out = btb(&["--store", s, "data", "rm", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.exists());
    let out = btb(&["--store", s, "data", "rm", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dataset"));
    let list = ok_json(&["--store", s, "data", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn default_store_is_dot_btb() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_btb"))
        .current_dir(tmp.path())
        .args(["data", "add", fixture("tab.tsv").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tmp.path().join(".btb/datasets").is_dir());
}

/// The exit status says which side is at fault: 1 the data or an engine step, 2 the command line
/// (as clap's own usage errors). Either way one line on stderr and nothing on stdout.
#[test]
fn exit_status_1_for_engine_failures_2_for_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().join("store");
    let s = s.to_str().unwrap();
    let tab = fixture("tab.tsv");
    let tab = tab.to_str().unwrap();
    let csv = tmp.path().join("ind.csv");
    let csv = csv.to_str().unwrap();
    let bad_spec = tmp.path().join("build.json");
    std::fs::write(&bad_spec, "{\"model_id\": 7}").unwrap();
    let not_a_model = tmp.path().join("model.json");
    std::fs::write(&not_a_model, "{\"trees\": 3}").unwrap();
    for (args, code, needle) in [
        // Engine steps: the indicator, the model file, the file reader keep their own text.
        (vec!["indicators", tab, "--ind", "rsi:0", "--csv", csv], 1, "rsi:0"),
        (vec!["indicators", tab, "--ind", "nonsense:3", "--csv", csv], 1, "nonsense"),
        (vec!["predict", "--model", not_a_model.to_str().unwrap(), "--matrix", tab, "--out", csv], 1, "model.json: "),
        (vec!["inspect", fixture("bad/empty.csv").to_str().unwrap(), "--json"], 1, "the file is empty"),
        (vec!["--store", s, "build", "--model-id", "nope"], 1, "no model"),
        // The command line: a missing flag, a spec with a mistyped field, clap's own check.
        (vec!["--store", s, "build"], 2, "build needs --model-id or --spec"),
        (vec!["--store", s, "build", "--spec", bad_spec.to_str().unwrap(), "--json"], 2, "not a valid spec"),
        (vec!["--store", s, "sweep", "--json"], 2, "sweep needs --model-id"),
        (vec!["train", "--matrix", tab], 2, "needs --out"),
        (vec!["inspect"], 2, "FILE"),
    ] {
        let out = btb(&args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
        assert!(err.contains(needle), "{args:?}: {err}");
        if args != ["inspect"] {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        }
    }
}
