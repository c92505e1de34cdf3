//! Round trip, determinism, verification and the hostile corpus, on a small real bundle (the demo
//! bars, a quick model, two configs, a strategy of each and their signals), and a bundle that
//! format 1 wrote.

use std::io::Write;
use std::sync::OnceLock;

use super::*;
use crate::config::{Config, ConfigKind, SweepConfig};
use crate::data::{load, LoadOptions};
use crate::gbt::fit::CalibrationKind;
use crate::gbt::TrainParams;
use crate::matrix::build_matrix;
use crate::model::ModelSpec;
use crate::oof::{self, OofSpec};
use crate::policy::PolicyOptions;
use crate::run::{self, RunSettings};
use crate::strategy::{FinalFit, OwnerRecord};

fn fixture() -> &'static Bundle {
    static B: OnceLock<Bundle> = OnceLock::new();
    B.get_or_init(|| {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/stocks-daily-2000-2013.csv.gz"))
            .unwrap();
        let ds = load("demo.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap();
        let model = ModelSpec::new("swingsigma", "AAPL").resolve().unwrap();
        let spec =
            BuildSpec { start: Some("2008-01-01".into()), end: Some("2012-06-30".into()), ..BuildSpec::default() };
        let series = ds.series("AAPL").unwrap();
        let m = build_matrix(&model, series, &ds.tz, &spec).unwrap();
        let params = TrainParams { num_trees: 15, max_leaves: 7, ..TrainParams::default() };
        let oof_spec = OofSpec { splits: 3, ..OofSpec::for_matrix(&m, params.clone()) };
        let o = oof::compute(&m, &oof_spec, &mut |_| {}).unwrap();
        let settings = RunSettings {
            model_id: model.model_id.clone(),
            pack_id: model.pack_id.clone(),
            cadence: model.cadence.clone(),
            oof_spec,
            base: PolicyOptions::default().base(m.distance_max, false),
            risk_profile: model.risk_profile,
            overrides: Default::default(),
            tag: Some("<img src=x onerror=alert(1)>".into()),
            created: "2025-11-25T00:00:00Z".into(),
            trials: None,
        };
        let runs: Vec<_> = [("thr", "0.50,0.55"), ("top_pct", "0.20")]
            .iter()
            .map(|(k, v)| {
                let kind = if *k == "thr" { ConfigKind::Thr } else { ConfigKind::TopPct };
                let config = Config { kind, value: v.to_string(), allowed_hours: None };
                let sc = SweepConfig { config_sha: config.config_sha(), config };
                run::evaluate(&settings.context(&m, &o), &sc).unwrap().run
            })
            .collect();
        let owner = OwnerRecord {
            model_id: model.model_id.clone(),
            pack_id: model.pack_id.clone(),
            cadence: model.cadence.clone(),
            risk_profile: model.risk_profile,
            created: "2025-11-25T00:00:00Z".into(),
        };
        let how = FinalFit { params, calibration: CalibrationKind::Sigmoid, calibration_folds: 2 };
        // Both configs trained: a model carries a strategy per config (format 2).
        let trained: Vec<_> = runs
            .iter()
            .map(|r| crate::strategy::train(&m, owner.owner(), &r.config, &settings.base, &how, &mut |_| {}).unwrap())
            .collect();
        // In the order a bundle keeps them (by run id), so a read gives back the same value.
        let mut runs = runs;
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        let record = ModelRecord {
            model_id: model.model_id.clone(),
            model: model.clone(),
            dataset_id: ds.sha()[..16].to_string(),
            created: "2025-11-25T00:00:00Z".into(),
            matrix_sha: Some(m.matrix_sha.clone()),
            build_spec: Some(spec.clone()),
        };
        let mut strategies = Vec::new();
        let mut signals = Vec::new();
        for (booster, strat) in trained {
            let list = crate::strategy::latest_signals(&model, series, &ds.tz, &spec, &booster, &strat).unwrap();
            let config_sha = strat.config_sha.clone();
            signals.push(ModelSignals { model_id: model.model_id.clone(), config_sha, signals: list });
            strategies.push(TrainedStrategy { strategy: strat, model_json: booster.to_model_json().unwrap() });
        }
        strategies.sort_by(|a, b| a.strategy.config_sha.cmp(&b.strategy.config_sha));
        signals.sort_by(|a, b| a.config_sha.cmp(&b.config_sha));
        Bundle {
            created_by: "btb test".into(),
            builds: vec![Build::of(&model.model_id, &spec, &m)],
            datasets: vec![DataSlice::of(&model.model_id, &ds, "AAPL", &spec, &record.dataset_id).unwrap()],
            oof: vec![OofFile { key: o.key.clone(), bytes: o.to_bytes() }],
            models: vec![record],
            runs,
            strategies,
            signals,
        }
    })
}

/// What `btb export --with-data` of format 1 wrote (see tests/fixtures/README.md).
const FORMAT1: &[u8] = include_bytes!("../../../tests/fixtures/bundle-format1.btb.zip");

fn without_data() -> Bundle {
    Bundle { datasets: vec![], oof: vec![], ..fixture().clone() }
}

/// A zip of `files` as given (names, order and content untouched), for the hostile cases.
fn raw_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in files {
        z.start_file(*n, o).unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// The entries of a bundle, decompressed, manifest first.
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

/// `files` with the manifest's entry for each file re-hashed to match, as a forger would.
fn rehashed(mut files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let mut man: Manifest = serde_json::from_slice(&files[0].1).unwrap();
    for e in &mut man.entries {
        let content = &files.iter().find(|(n, _)| *n == e.path).unwrap().1;
        e.sha256 = sha256_hex(content);
        e.bytes = content.len() as u64;
    }
    files[0].1 = serde_json::to_vec(&man).unwrap();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    raw_zip(&refs)
}

fn err(bytes: &[u8]) -> String {
    read("x.btb.zip", bytes).unwrap_err().to_string()
}

#[test]
fn round_trip_and_same_records_same_bytes() {
    let b = fixture();
    let bytes = write(b).unwrap();
    assert_eq!(bytes, write(&b.clone()).unwrap(), "same records, same bundle bytes");
    let back = read("x.btb.zip", &bytes).unwrap();
    assert_eq!(&back, b);
    let names: Vec<String> = unpack(&bytes).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], MANIFEST);
    assert!(names.iter().any(|n| n.ends_with(".parquet")));
    let man: serde_json::Value = serde_json::from_slice(&unpack(&bytes)[0].1).unwrap();
    assert_eq!((man["format"].as_str(), man["version"].as_u64()), (Some("btb-bundle"), Some(2)));
    assert_eq!(
        (&man["holds"]["runs"], &man["holds"]["strategies"], &man["holds"]["signals"]),
        (&2.into(), &2.into(), &2.into())
    );
    // One folder per config of the model, and its signals beside it.
    for t in &b.strategies {
        let dir = format!("strategies/{}/{}/", t.strategy.model_id, t.strategy.config_sha);
        assert!(
            names.contains(&format!("{dir}strategy.json")) && names.contains(&format!("{dir}model.json")),
            "{names:?}"
        );
        assert!(names.contains(&format!("signals/{}/{}.json", t.strategy.model_id, t.strategy.config_sha)));
    }
}

#[test]
fn a_format_1_bundle_still_reads_and_verifies() {
    let b = read("format1.btb.zip", FORMAT1).unwrap();
    assert_eq!((b.models.len(), b.runs.len(), b.strategies.len(), b.signals.len()), (1, 2, 1, 1));
    // Its signals take the config of the model's one strategy.
    let s = &b.strategies[0].strategy;
    assert_eq!((&b.signals[0].model_id, &b.signals[0].config_sha), (&s.model_id, &s.config_sha));
    assert!(!b.signals[0].signals.is_empty());
    let v = verify(&b, Depth::Standard);
    for a in &v.artifacts {
        let expected = if a.kind == Kind::Oof { Status::Unverifiable } else { Status::Verified };
        assert_eq!(a.status, expected, "{a:?}");
    }
    assert_eq!(v.status(Kind::Signals, &b.signals[0].id()).unwrap().status, Status::Verified);
    // Written again it is format 2, with the same content.
    let again = write(&b).unwrap();
    assert_eq!(read("x.btb.zip", &again).unwrap(), b);
    assert!(unpack(&again).iter().any(|(n, _)| *n == format!("strategies/{}/{}/model.json", s.model_id, s.config_sha)));
}

#[test]
fn a_strategy_or_signals_under_another_config_or_layout_is_refused() {
    let good = write(&without_data()).unwrap();
    let files = unpack(&good);
    let t = &fixture().strategies[0].strategy;
    let other = &fixture().strategies[1].strategy.config_sha;
    let moved = |from: &str, to: &str| {
        let mut f = files.clone();
        for (n, _) in &mut f {
            if n == from {
                *n = to.to_string();
            }
        }
        let mut man: Manifest = serde_json::from_slice(&f[0].1).unwrap();
        for e in &mut man.entries {
            if e.path == from {
                e.path = to.to_string();
            }
        }
        f[0].1 = serde_json::to_vec(&man).unwrap();
        f.sort_by(|a, b| (a.0 != MANIFEST, &a.0).cmp(&(b.0 != MANIFEST, &b.0)));
        rehashed(f)
    };
    let dir = format!("strategies/{}/{}", t.model_id, t.config_sha);
    // Its strategy.json under a folder named for a config it is not: refused, both named.
    let bogus = "0".repeat(64);
    let e = err(&moved(&format!("{dir}/strategy.json"), &format!("strategies/{}/{bogus}/strategy.json", t.model_id)));
    assert!(e.contains(&bogus) && e.contains("it holds the strategy of config"), "{e}");
    // Signals filed under the other strategy's config.
    let e = err(&moved(
        &format!("signals/{}/{}.json", t.model_id, t.config_sha),
        &format!("signals/{}/{bogus}.json", t.model_id),
    ));
    assert!(e.contains("it holds the signals of config"), "{e}");
    // Format 1's layout in a format 2 bundle is not a file it holds.
    let e = err(&moved(&format!("{dir}/model.json"), &format!("strategies/{}/model.json", t.model_id)));
    assert!(e.contains("not a file a bundle of format 2 holds"), "{e}");
    // A model file without its strategy.json.
    let mut f = files.clone();
    f.retain(|(n, _)| *n != format!("strategies/{}/{other}/strategy.json", t.model_id));
    let mut man: Manifest = serde_json::from_slice(&f[0].1).unwrap();
    man.entries.retain(|e| e.path != format!("strategies/{}/{other}/strategy.json", t.model_id));
    man.holds.strategies = 1;
    f[0].1 = serde_json::to_vec(&man).unwrap();
    let e = err(&rehashed(f));
    let dir = format!("strategies/{}/{other}", t.model_id);
    assert!(
        e.ends_with(&format!("{dir}/strategy.json is missing: the bundle holds {dir}/model.json, which needs it")),
        "{e}"
    );

    // Signals of a config whose strategy the bundle does not hold.
    let mut f = files.clone();
    let gone = |p: &str| p.starts_with(&format!("strategies/{}/{other}/", t.model_id));
    f.retain(|(n, _)| !gone(n));
    let mut man: Manifest = serde_json::from_slice(&f[0].1).unwrap();
    man.entries.retain(|e| !gone(&e.path));
    man.holds.strategies = 1;
    f[0].1 = serde_json::to_vec(&man).unwrap();
    let e = err(&rehashed(f));
    let sig = format!("signals/{}/{other}.json", t.model_id);
    assert!(e.ends_with(&format!("{dir}/strategy.json is missing: the bundle holds {sig}, which needs it")), "{e}");
}

#[test]
fn with_data_every_artifact_verifies() {
    let v = verify(fixture(), Depth::Standard);
    assert!(v.accepted(), "{:#?}", v.artifacts);
    for a in &v.artifacts {
        let expected = if a.kind == Kind::Oof { Status::Unverifiable } else { Status::Verified };
        assert_eq!(a.status, expected, "{a:?}");
    }
    assert_eq!((v.matrices.len(), v.datasets.len(), v.oof.len()), (1, 1, 1));
    let deep = verify(fixture(), Depth::Deep);
    assert!(deep.artifacts.iter().all(|a| a.status == Status::Verified), "{:#?}", deep.artifacts);
}

#[test]
fn without_data_runs_are_unverifiable_and_say_why() {
    let v = verify(&without_data(), Depth::Standard);
    assert!(v.accepted());
    let r = v.status(Kind::Run, &fixture().runs[0].run_id).unwrap();
    assert_eq!(r.status, Status::Unverifiable);
    assert!(r.detail.contains("--with-data"), "{}", r.detail);
    for t in &fixture().strategies {
        let id = strategy_id("aapl_swing_daily", &t.strategy.config_sha);
        assert_eq!(v.status(Kind::Strategy, &id).unwrap().status, Status::Verified);
    }
    assert_eq!(v.artifacts.iter().filter(|a| a.kind == Kind::Strategy).count(), 2);
}

#[test]
fn a_forged_metric_with_the_manifest_rehashed_is_caught_by_re_judging() {
    let bytes = write(fixture()).unwrap();
    let mut files = unpack(&bytes);
    let run_path = format!("runs/{}.json", fixture().runs[0].run_id);
    let i = files.iter().position(|(n, _)| *n == run_path).unwrap();
    let mut run: serde_json::Value = serde_json::from_slice(&files[i].1).unwrap();
    run["metrics"]["sharpe"] = serde_json::json!(9.99);
    files[i].1 = serde_json::to_vec_pretty(&run).unwrap();
    let forged = read("x.btb.zip", &rehashed(files.clone())).unwrap();
    let v = verify(&forged, Depth::Standard);
    let r = v.status(Kind::Run, &fixture().runs[0].run_id).unwrap();
    assert_eq!(r.status, Status::Mismatch);
    assert!(r.detail.contains("metrics.sharpe: stated 9.99"), "{}", r.detail);
    // A forged id is caught without the data.
    run["lineage"]["config_sha"] = serde_json::json!("0".repeat(64));
    files[i].1 = serde_json::to_vec_pretty(&run).unwrap();
    files.retain(|(n, _)| !n.starts_with("data/") && !n.starts_with("oof/"));
    let mut man: Manifest = serde_json::from_slice(&files[0].1).unwrap();
    man.entries.retain(|e| !e.path.starts_with("data/") && !e.path.starts_with("oof/"));
    (man.holds.datasets, man.holds.oof, man.with_data) = (0, 0, false);
    files[0].1 = serde_json::to_vec(&man).unwrap();
    let v = verify(&read("x.btb.zip", &rehashed(files)).unwrap(), Depth::Standard);
    let r = v.status(Kind::Run, &fixture().runs[0].run_id).unwrap();
    assert_eq!(r.status, Status::Mismatch);
    assert!(r.detail.contains("config_sha"), "{}", r.detail);
}

#[test]
fn hostile_bundles_are_refused_with_a_clear_message() {
    let good = write(&without_data()).unwrap();
    assert!(err(b"").contains("not a ZIP archive"));
    assert!(err(b"hello, world").contains("x.btb.zip: not a bundle: it is not a ZIP archive"));
    assert!(err(&good[..good.len() / 2]).contains("truncated or damaged"));
    assert!(err(&raw_zip(&[("models/a.json", b"{}")])).contains("no manifest.json"));
    let newer = format!(r#"{{"format":"btb-bundle","version":{},"whatever":[]}}"#, BUNDLE_FORMAT_VERSION + 1);
    assert!(err(&raw_zip(&[(MANIFEST, newer.as_bytes())])).contains("made by a newer version of btb"));
    let other = br#"{"format":"something-else","version":1}"#;
    assert!(err(&raw_zip(&[(MANIFEST, other)])).contains("not a btb bundle"));
    let typed = br#"{"format":"btb-bundle","version":1,"created_by":7,"with_data":false,"holds":{},"entries":[]}"#;
    let e = err(&raw_zip(&[(MANIFEST, typed)]));
    assert!(e.contains("manifest.json: wrong JSON") && e.contains("invalid type"), "{e}");

    // An entry changed after the manifest was written: hash; cut short: size.
    let mut files = unpack(&good);
    let i = files.iter().position(|(n, _)| n.starts_with("runs/")).unwrap();
    let name = files[i].0.clone();
    let keep = files[i].1.clone();
    files[i].1[10] ^= 1;
    let refs =
        |f: &[(String, Vec<u8>)]| raw_zip(&f.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect::<Vec<_>>());
    let e = err(&refs(&files));
    assert!(e.contains(&name) && e.contains("sha256"), "{e}");
    files[i].1 = keep[..keep.len() - 1].to_vec();
    assert!(err(&refs(&files)).contains("its size does not match"));
    files[i].1 = keep.clone();
    // A wrongly typed record with its hash made to match.
    let mut run: serde_json::Value = serde_json::from_slice(&keep).unwrap();
    run["metrics"]["trades"] = serde_json::json!("many");
    files[i].1 = serde_json::to_vec(&run).unwrap();
    let e = err(&rehashed(files.clone()));
    assert!(e.contains(&format!("{name}: wrong JSON")), "{e}");
    files[i].1 = keep;

    // Duplicates, traversal, unlisted entries.
    // (the zip crate will not write one: write another name of the same length, then rename it)
    let mut dup = files.clone();
    let alt = name.replace("runs/", "rUns/");
    dup.push((alt.clone(), files[i].1.clone()));
    let mut bytes = refs(&dup);
    for k in 0..bytes.len() - alt.len() {
        if bytes[k..].starts_with(alt.as_bytes()) {
            bytes[k..k + alt.len()].copy_from_slice(name.as_bytes());
        }
    }
    assert!(err(&bytes).contains(&format!("duplicate entry {name}")));
    for bad in ["../x", "/etc/passwd", "runs\\..\\x", "C:/x", "runs/./x"] {
        let mut f = files.clone();
        f.push((bad.to_string(), b"x".to_vec()));
        let e = err(&refs(&f));
        assert!(e.contains("unsafe entry name"), "{bad}: {e}");
    }
    let mut extra = files.clone();
    extra.push(("notes.txt".into(), b"hi".to_vec()));
    assert!(err(&refs(&extra)).contains("notes.txt is in the archive but not in manifest.json"));

    // A deflate bomb: the manifest states a small size; inflating stops just past it.
    let mut bomb = files.clone();
    bomb[i].1 = vec![b' '; 50 << 20];
    let e = err(&refs(&bomb));
    assert!(e.contains("inflates past"), "{e}");
    // ... and one that states a huge size is stopped by the limit, before inflating.
    let mut man: Manifest = serde_json::from_slice(&bomb[0].1).unwrap();
    man.entries.iter_mut().find(|e| e.path == name).unwrap().bytes = 50 << 20;
    bomb[0].1 = serde_json::to_vec(&man).unwrap();
    let small = Limits { max_entry_bytes: 1 << 20, ..Limits::default() };
    let e = read_with("x.btb.zip", &refs(&bomb), &small).unwrap_err().to_string();
    assert!(e.contains(&format!("{name} inflates past the limit of 1048576 bytes")), "{e}");

    // Thousands of tiny entries.
    let names: Vec<String> = (0..12_000).map(|k| format!("runs/{k:016x}.json")).collect();
    let mut many: Vec<(&str, &[u8])> = vec![(MANIFEST, b"{}")];
    many.extend(names.iter().map(|n| (n.as_str(), b"x".as_slice())));
    let e = err(&raw_zip(&many));
    assert!(e.contains("12001 entries, more than the 10000"), "{e}");

    // Random garbage after a zip signature never panics.
    let mut g = good.clone();
    for k in (30..g.len()).step_by(97) {
        g[k] = g[k].wrapping_mul(31).wrapping_add(7);
    }
    assert!(read("x.btb.zip", &g).is_err());
    for cut in (0..good.len()).step_by(good.len() / 40 + 1) {
        let _ = read("x.btb.zip", &good[..cut]);
    }
}

#[test]
fn hostile_out_of_fold_files_are_mismatches_not_panics() {
    let mut b = fixture().clone();
    let mut o = crate::oof::Oof::from_bytes(&b.oof[0].bytes).unwrap();
    o.folds[0].test.end = 1 << 40;
    b.oof[0].bytes = o.to_bytes();
    let back = read("x.btb.zip", &write(&b).unwrap()).unwrap();
    let v = verify(&back, Depth::Standard);
    let a = v.status(Kind::Oof, &b.oof[0].key).unwrap();
    assert_eq!(a.status, Status::Mismatch, "{a:?}");
    assert!(!v.accepted());
}

/// A store holding what a merge wrote, in memory.
fn apply(s: &mut Snapshot, w: &Writes) {
    for (id, meta, _) in &w.datasets {
        s.datasets.insert(id.clone(), meta.sha.clone());
    }
    s.matrices.extend(w.matrices.iter().map(|m| m.matrix_sha.clone()));
    s.oof.extend(w.oof.iter().map(|o| (o.key.clone(), o.bytes.clone())));
    s.strategies.extend(w.strategies.iter().map(|t| t.strategy.clone()));
    s.models.extend(w.models.iter().map(|m| (m.model_id.clone(), m.clone())));
    s.runs.extend(w.runs.iter().map(|r| (r.run_id.clone(), r.clone())));
    s.marks.retain(|m| !w.unmark.contains(m));
    s.marks.extend(w.mark.iter().map(|m| (m.kind, m.id.clone())));
}

#[test]
fn merging_twice_changes_nothing_and_a_changed_record_is_refused_naming_both() {
    let b = fixture();
    let v = verify(b, Depth::Standard);
    let mut store = Snapshot { dataset_prefix: "ds-".into(), ..Snapshot::default() };
    let first = merge("a.btb.zip", "00", b, &v, &store).unwrap();
    assert!(first.lines.iter().all(|l| l.action != Action::Unchanged));
    assert_eq!(first.writes.runs.len(), b.runs.len());
    assert_eq!(first.writes.datasets[0].0, format!("ds-{}", &b.datasets[0].meta.sha[..16]));
    // The model points at the slice it came with, the one its own dataset id does not name here.
    assert_eq!(first.writes.models[0].dataset_id, first.writes.datasets[0].0);
    assert!(first.report(false, 0.0).changed);
    apply(&mut store, &first.writes);

    let again = merge("a.btb.zip", "00", b, &v, &store).unwrap();
    assert!(again.writes.is_empty(), "{:?}", again.writes.runs.len());
    assert!(again.lines.iter().all(|l| l.action != Action::New));
    assert!(again.report(false, 0.0).summary().starts_with("nothing changed"));

    let mut changed = b.clone();
    changed.runs[0].metrics.sharpe += 1.0;
    let e = merge("b.btb.zip", "01", &changed, &verify(&changed, Depth::Standard), &store).unwrap_err().to_string();
    assert!(e.starts_with("b.btb.zip: refused, nothing was stored"), "{e}");
}

#[test]
fn without_data_what_is_stored_is_marked_and_a_later_verified_import_unmarks_it() {
    let bare = without_data();
    let mut store = Snapshot::default();
    let first = merge("bare.btb.zip", "aa", &bare, &verify(&bare, Depth::Standard), &store).unwrap();
    let marked: Vec<Kind> = first.writes.mark.iter().map(|m| m.kind).collect();
    assert!(marked.contains(&Kind::Run), "{marked:?}");
    assert!(first.writes.mark.iter().all(|m| m.bundle == "bare.btb.zip" && m.bundle_sha256 == "aa"));
    apply(&mut store, &first.writes);
    assert!(merge("bare.btb.zip", "aa", &bare, &verify(&bare, Depth::Standard), &store).unwrap().writes.is_empty());

    let full = fixture();
    let later = merge("full.btb.zip", "bb", full, &verify(full, Depth::Standard), &store).unwrap();
    assert!(later.writes.unmark.iter().any(|(k, _)| *k == Kind::Run));
    assert!(later.writes.mark.is_empty());
}

#[test]
fn a_selection_takes_runs_with_their_models_and_refuses_unknown_ids() {
    let b = fixture();
    let ids = vec![b.models[0].model_id.clone(), "other".to_string()];
    let one = select(b.runs.clone(), &ids, &[], &[b.runs[1].run_id.clone()]).unwrap();
    assert_eq!(one.runs.len(), 1);
    assert_eq!(one.model_ids, vec![b.models[0].model_id.clone()]);
    let all = select(b.runs.clone(), &ids, &[], &[]).unwrap();
    assert_eq!((all.runs.len(), all.model_ids.len()), (b.runs.len(), 2));
    assert_eq!(all.oof_keys(), vec![b.runs[0].lineage.oof_key.clone()]);
    let e = select(b.runs.clone(), &ids, &[], &["nope".into()]).unwrap_err();
    assert_eq!(e, BundleError::NotStored { kind: "run", id: "nope".into() });
}
