//! `btb export` / `btb import` through the built binary: a store's results moved to a fresh
//! store give the same leaderboard; importing twice changes nothing; a forged metric, a
//! conflicting record and every hostile bundle are refused with one line naming the file, and
//! the store is left exactly as it was.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
mod common;
use common::*;

/// Every file of a store with its content, to see that a refused import changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.map(|e| e.unwrap()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The demo data, `aapl_swing_daily` built on 2008–2012, a quick sweep of 3 configs and a
/// strategy of two of them.
fn research_store(dir: &Path) -> PathBuf {
    let store = dir.join("source");
    ok(&store, &["data", "add", demo().to_str().unwrap()]);
    ok(&store, &["init", "--ticker", "AAPL"]);
    ok(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2008-01-01", "--end", "2012-12-31"]);
    let fast = ["--trees", "20", "--leaves", "7", "--splits", "3"];
    let mut sweep = vec!["sweep", "--model-id", "aapl_swing_daily", "--thresholds-variants", "0.50,0.55", "0.55,0.60"];
    sweep.extend(["--top-pct-variants", "0.20", "--tag", "<img src=x onerror=alert(1)>"]);
    sweep.extend(fast);
    ok(&store, &sweep);
    let mut train =
        vec!["train", "--model-id", "aapl_swing_daily", "--config-kind", "thr", "--config-value", "0.50,0.55"];
    train.extend(["--trees", "20", "--leaves", "7"]);
    ok(&store, &train);
    let mut train =
        vec!["train", "--model-id", "aapl_swing_daily", "--config-kind", "top_pct", "--config-value", "0.20"];
    train.extend(["--trees", "20", "--leaves", "7"]);
    ok(&store, &train);
    store
}

fn export(store: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["export", "--out", out.to_str().unwrap()];
    args.extend(extra);
    ok(store, &args);
}

#[test]
fn export_import_round_trip_idempotence_forgery_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let src = research_store(dir.path());
    let full = dir.path().join("full.btb.zip");
    export(&src, &full, &["--with-data"]);
    let again = dir.path().join("again.btb.zip");
    export(&src, &again, &["--with-data"]);
    assert_eq!(std::fs::read(&full).unwrap(), std::fs::read(&again).unwrap(), "same store, same bundle bytes");

    // Into a fresh store: every artifact verified (the out-of-fold probabilities need --deep).
    let dst = dir.path().join("fresh");
    let r = json(&dst, &["import", full.to_str().unwrap(), "--json"]);
    let arts = r["artifacts"].as_array().unwrap();
    assert!(arts.iter().any(|a| a["kind"] == "run"));
    for a in arts {
        let expected = if a["kind"] == "oof" { "unverifiable" } else { "verified" };
        assert_eq!(a["status"], expected, "{a}");
        for k in ["kind", "id", "status", "detail"] {
            assert!(a[k].is_string(), "{k}: {a}");
        }
    }
    assert!(r["new"].as_u64().unwrap() > 0);
    assert_eq!(
        json(&dst, &["leaderboard", "--json"]),
        json(&src, &["leaderboard", "--json"]),
        "the same leaderboard on both sides"
    );
    // Both strategies came, and each works on the bars it came with.
    let strategies = json(&src, &["strategies", "--model-id", "aapl_swing_daily", "--json"]);
    assert_eq!(strategies.as_array().unwrap().len(), 2);
    assert_eq!(json(&dst, &["strategies", "--model-id", "aapl_swing_daily", "--json"]), strategies);
    assert_eq!(arts.iter().filter(|a| a["kind"] == "strategy").count(), 2);
    assert_eq!(arts.iter().filter(|a| a["kind"] == "signals").count(), 2);
    for st in strategies.as_array().unwrap() {
        let sha = st["config_sha"].as_str().unwrap();
        let args = ["signals", "--model-id", "aapl_swing_daily", "--strategy", sha, "--limit", "1000", "--json"];
        assert_eq!(json(&dst, &args), json(&src, &args), "{sha}");
        let id = format!("aapl_swing_daily@{sha}");
        assert!(arts.iter().any(|a| a["kind"] == "strategy" && a["id"] == id.as_str()), "{id}");
    }

    // Importing again changes nothing and says so.
    let before = snapshot(&dst);
    let r = json(&dst, &["import", full.to_str().unwrap(), "--json"]);
    assert_eq!((r["new"].as_u64(), r["changed"].as_bool()), (Some(0), Some(false)));
    assert!(ok(&dst, &["import", full.to_str().unwrap()]).contains("nothing changed"));
    assert_eq!(snapshot(&dst), before);

    // --deep re-trains the folds: now every artifact is verified.
    let deep = json(&dir.path().join("deep"), &["import", full.to_str().unwrap(), "--deep", "--json"]);
    assert!(deep["artifacts"].as_array().unwrap().iter().all(|a| a["status"] == "verified"), "{deep}");

    // A forged metric, the manifest re-hashed to match: caught by re-judging, nothing stored.
    let bytes = std::fs::read(&full).unwrap();
    let mut b = engine::bundle::read("full", &bytes).unwrap();
    b.runs[0].metrics.sharpe += 1.0;
    let forged = dir.path().join("forged.btb.zip");
    std::fs::write(&forged, engine::bundle::write(&b).unwrap()).unwrap();
    let fresh = dir.path().join("victim");
    let e = fails_with(1, &fresh, &["import", forged.to_str().unwrap()]);
    assert!(e.contains("forged.btb.zip") && e.contains("mismatch") && e.contains("metrics.sharpe"), "{e}");
    assert!(snapshot(&fresh).is_empty(), "nothing stored");

    // A run stored here with other content: the bundle is refused, both versions named.
    let run_id = b.runs[0].run_id.clone();
    let path = dst.join("runs").join(format!("{run_id}.json"));
    let mut stored: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    stored["metrics"]["trades"] = Value::from(12345);
    std::fs::write(&path, serde_json::to_vec_pretty(&stored).unwrap()).unwrap();
    let before = snapshot(&dst);
    let e = fails_with(1, &dst, &["import", full.to_str().unwrap()]);
    assert!(e.contains(&run_id) && e.contains("trades 12345") && e.contains("different content"), "{e}");
    assert_eq!(snapshot(&dst), before);
}

#[test]
fn without_data_runs_are_imported_as_unverifiable_and_shown_so() {
    let dir = tempfile::tempdir().unwrap();
    let src = research_store(dir.path());
    let lean = dir.path().join("lean.btb.zip");
    let top = json(&src, &["leaderboard", "--limit", "1", "--json"]);
    let run_id = top[0]["run_id"].as_str().unwrap().to_string();
    export(&src, &lean, &["--run", &run_id]);
    let dst = dir.path().join("fresh");
    let r = json(&dst, &["import", lean.to_str().unwrap(), "--json"]);
    let run = r["artifacts"].as_array().unwrap().iter().find(|a| a["kind"] == "run").unwrap().clone();
    assert_eq!(run["status"], "unverifiable");
    assert!(run["detail"].as_str().unwrap().contains("--with-data"), "{run}");
    let lb = json(&dst, &["leaderboard", "--json"]);
    assert_eq!(lb.as_array().unwrap().len(), 1);
    assert_eq!(lb[0]["verification"]["status"], "unverifiable");
    let text = ok(&dst, &["leaderboard"]);
    assert!(text.contains("verification") && text.contains("unverifiable"), "{text}");
    // The exporting store's own runs print as before: no verification column.
    assert!(!ok(&src, &["leaderboard"]).contains("verification"));
    // The same run with its data, later: now verified, and the mark is gone.
    let full = dir.path().join("full.btb.zip");
    export(&src, &full, &["--run", &run_id, "--with-data"]);
    ok(&dst, &["import", full.to_str().unwrap()]);
    assert!(json(&dst, &["leaderboard", "--json"])[0].get("verification").is_none());
    assert!(fails_with(1, &src, &["export", "--out", lean.to_str().unwrap(), "--run", "nope"]).contains("no run nope"));
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in files {
        z.start_file(*n, o).unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn unpack(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut out).unwrap();
            (f.name().to_string(), out)
        })
        .collect()
}

#[test]
fn hostile_bundles_leave_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let src = research_store(dir.path());
    let good_path = dir.path().join("good.btb.zip");
    export(&src, &good_path, &[]);
    let good = std::fs::read(&good_path).unwrap();
    let files = unpack(&good);
    let refs = |f: &[(String, Vec<u8>)]| zip_of(&f.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect::<Vec<_>>());
    let i = files.iter().position(|(n, _)| n.starts_with("runs/")).unwrap();

    let mut corpus: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not-a-zip", b"timestamp,open\n1,2\n".to_vec(), "not a ZIP archive"),
        ("truncated", good[..good.len() * 2 / 3].to_vec(), "truncated or damaged"),
        ("no-manifest", zip_of(&[("runs/x.json", b"{}")]), "no manifest.json"),
        (
            "newer",
            zip_of(&[("manifest.json", br#"{"format":"btb-bundle","version":9}"#)]),
            "made by a newer version of btb",
        ),
        (
            "wrong-types",
            zip_of(&[("manifest.json", br#"{"format":"btb-bundle","version":1,"entries":"all"}"#)]),
            "wrong JSON",
        ),
        (
            "traversal",
            {
                let mut f = files.clone();
                f.push(("../x".into(), b"x".to_vec()));
                refs(&f)
            },
            "unsafe entry name \"../x\"",
        ),
        (
            "hash",
            {
                let mut f = files.clone();
                f[i].1[5] ^= 1;
                refs(&f)
            },
            "does not match the manifest's sha256",
        ),
        (
            "bomb",
            {
                let mut f = files.clone();
                f[i].1 = vec![b'0'; 64 << 20];
                refs(&f)
            },
            "inflates past",
        ),
    ];
    let names: Vec<String> = (0..11_000).map(|k| format!("runs/{k:016x}.json")).collect();
    let mut many: Vec<(&str, &[u8])> = vec![("manifest.json", b"{}")];
    many.extend(names.iter().map(|n| (n.as_str(), b"x".as_slice())));
    corpus.push(("tiny-entries", zip_of(&many), "more than the 10000"));
    let mut dup = files.clone();
    let name = files[i].0.clone();
    let alt = name.replace("runs/", "rUns/");
    dup.push((alt.clone(), files[i].1.clone()));
    let mut d = refs(&dup);
    for k in 0..d.len() - alt.len() {
        if d[k..].starts_with(alt.as_bytes()) {
            d[k..k + alt.len()].copy_from_slice(name.as_bytes());
        }
    }
    corpus.push(("duplicate", d, "duplicate entry"));

    let before = snapshot(&src);
    for (case, bytes, expected) in corpus {
        let path = dir.path().join(format!("{case}.btb.zip"));
        std::fs::write(&path, bytes).unwrap();
        let e = fails_with(1, &src, &["import", path.to_str().unwrap(), "--json"]);
        assert!(e.contains(&format!("{case}.btb.zip")) && e.contains(expected), "{case}: {e}");
        assert_eq!(snapshot(&src), before, "{case}: the store is unchanged");
    }
}

/// A bundle's strategy of another config joins the ones the model already has (a store keeps one
/// per config): the import adds its files beside them instead of refusing the model's folder.
#[test]
fn an_imported_strategy_joins_the_models_other_configs() {
    let dir = tempfile::tempdir().unwrap();
    let src = research_store(dir.path());
    let bundle = dir.path().join("b.btb.zip");
    export(&src, &bundle, &[]);
    let dest = dir.path().join("dest");
    ok(&dest, &["data", "add", demo().to_str().unwrap()]);
    ok(&dest, &["init", "--ticker", "AAPL"]);
    ok(&dest, &["build", "--model-id", "aapl_swing_daily", "--start", "2008-01-01", "--end", "2012-12-31"]);
    let mut train =
        vec!["train", "--model-id", "aapl_swing_daily", "--config-kind", "thr", "--config-value", "0.60,0.65"];
    train.extend(["--trees", "20", "--leaves", "7"]);
    ok(&dest, &train);
    ok(&dest, &["import", bundle.to_str().unwrap()]);
    let all = json(&dest, &["strategies", "--model-id", "aapl_swing_daily", "--json"]);
    let configs: Vec<&str> = all.as_array().unwrap().iter().map(|s| s["config"]["value"].as_str().unwrap()).collect();
    assert_eq!(configs.len(), 3, "{configs:?}");
    for c in ["0.50,0.55", "0.20", "0.60,0.65"] {
        assert!(configs.contains(&c), "{configs:?}");
    }
    // Both replay: each one's model file is there.
    for s in all.as_array().unwrap() {
        let sha = s["config_sha"].as_str().unwrap();
        ok(&dest, &["signals", "--model-id", "aapl_swing_daily", "--strategy", &sha[..10]]);
    }
    ok(&dest, &["import", bundle.to_str().unwrap()]);
}

/// A bundle that format 1 wrote (one strategy per model, `signals/<model_id>.json`) imports
/// into a fresh store, verified, and its strategy gives the signals it carried.
#[test]
fn a_format_1_bundle_imports_verified() {
    let dir = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bundle-format1.btb.zip");
    let dst = dir.path().join("fresh");
    let r = json(&dst, &["import", file.to_str().unwrap(), "--json"]);
    for a in r["artifacts"].as_array().unwrap() {
        let expected = if a["kind"] == "oof" { "unverifiable" } else { "verified" };
        assert_eq!(a["status"], expected, "{a}");
    }
    let b = engine::bundle::read("format1", &std::fs::read(&file).unwrap()).unwrap();
    let lb = json(&dst, &["leaderboard", "--json"]);
    assert_eq!(lb.as_array().map(Vec::len), Some(b.runs.len()), "{lb}");
    let all = json(&dst, &["strategies", "--model-id", "aapl_swing_daily", "--json"]);
    assert_eq!(all[0]["config_sha"].as_str(), Some(b.strategies[0].strategy.config_sha.as_str()));
    let signals = json(&dst, &["signals", "--model-id", "aapl_swing_daily", "--limit", "100000", "--json"]);
    let carried: Vec<Value> = b.signals[0].signals.iter().map(|s| serde_json::to_value(s).unwrap()).collect();
    let mut shown = signals.as_array().unwrap().clone();
    shown.reverse();
    assert_eq!(shown.len(), carried.len());
    assert_eq!(shown, carried, "the signals the bundle carried, newest first");
}
