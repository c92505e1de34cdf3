//! Bundles: `btb export` writes selected results of the store as one verified ZIP file
//! (`engine::bundle`), `btb import` verifies one and merges it into the store by content id.
//!
//! ```text
//! btb export --out FILE.btb.zip [--model-id ID …] [--run RUN_ID …] [--with-data] [--json]
//! btb import FILE.btb.zip [--deep] [--json]
//! ```
//!
//! Import is all or nothing: the bundle is read and verified by the engine, every artifact is
//! compared with the store (the same content is left alone, an id already stored with different
//! content refuses the bundle), everything new is written into a staging directory inside the
//! store, and only then renamed into place; a failure on the way removes what was renamed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use engine::bundle::{
    self, Build, Bundle, BundleError, DataSlice, Depth, Kind, ModelSignals, OofFile, Status, TrainedStrategy,
};
use engine::lineage::{sha256_hex, short};
use engine::run::Run;

use crate::commands::signals::model_signals;
use crate::error::{read_err, CliError};
use crate::print::{table, to_json};
use crate::store::{Store, StoreError, VerificationRecord};

#[derive(Args)]
pub struct ExportArgs {
    /// The bundle to write (by convention FILE.btb.zip).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Models to export, with all their runs (default: every model and run).
    #[arg(long = "model-id", value_name = "ID", num_args = 1..)]
    pub model_id: Vec<String>,
    /// Runs to export, with their models.
    #[arg(long = "run", value_name = "RUN_ID", num_args = 1..)]
    pub run: Vec<String>,
    /// Also the bars (Parquet) and out-of-fold probabilities, so the importer can re-judge every run.
    #[arg(long)]
    pub with_data: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Also re-train every fold and compare the out-of-fold probabilities byte for byte.
    #[arg(long)]
    pub deep: bool,
    /// Print {"artifacts": [{"kind", "id", "status", "detail", "action"}], ...}.
    #[arg(long)]
    pub json: bool,
}

fn created_by() -> String {
    format!("btb {}", env!("CARGO_PKG_VERSION"))
}

/// The records of the store the flags select (see [`ExportArgs`]).
pub(crate) fn collect(
    store: &Store,
    model_ids: &[String],
    run_ids: &[String],
    with_data: bool,
) -> Result<Bundle, CliError> {
    let all = store.runs()?;
    let everything = model_ids.is_empty() && run_ids.is_empty();
    for id in run_ids {
        if !all.iter().any(|r| &r.run_id == id) {
            return Err(CliError::Data(format!("no run {id} in the store; see `btb leaderboard`")));
        }
    }
    let runs: Vec<Run> = all
        .into_iter()
        .filter(|r| everything || run_ids.contains(&r.run_id) || model_ids.contains(&r.model_id))
        .collect();
    let mut models: Vec<String> = if everything { store.model_ids()? } else { model_ids.to_vec() };
    models.extend(runs.iter().map(|r| r.model_id.clone()));
    models.sort();
    models.dedup();
    let mut b = Bundle { created_by: created_by(), ..Bundle::default() };
    for id in &models {
        let record = store.model(id)?;
        let build = match (&record.matrix_sha, &record.build_spec) {
            (Some(sha), Some(spec)) => store.matrix(sha).ok().map(|m| (Build::of(id, spec, &m), spec.clone())),
            _ => None,
        };
        match store.strategy(id) {
            Ok((strategy, booster)) => {
                let model_json = booster.to_model_json()?;
                if let Ok(signals) = model_signals(store, id) {
                    b.signals.push(ModelSignals { model_id: id.clone(), signals });
                }
                b.strategies.push(TrainedStrategy { strategy, model_json });
            }
            Err(StoreError::NoStrategy(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if with_data {
            let (_, ds) = store.load(&record.dataset_id)?;
            let spec = build.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
            b.datasets.push(DataSlice::of(id, &ds, &record.model.ticker, &spec, &record.dataset_id)?);
        }
        if let Some((x, _)) = build {
            b.builds.push(x);
        }
        b.models.push(record);
    }
    if with_data {
        let mut keys: Vec<&str> = runs.iter().map(|r| r.lineage.oof_key.as_str()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            if let Some(bytes) = store.oof_bytes(key) {
                b.oof.push(OofFile { key: key.to_string(), bytes });
            }
        }
    }
    b.runs = runs;
    Ok(b)
}

pub fn export(store: &Store, args: ExportArgs) -> Result<String, CliError> {
    let started = std::time::Instant::now();
    let b = collect(store, &args.model_id, &args.run, args.with_data)?;
    let bytes = bundle::write(&b)?;
    let tmp = args.out.with_extension("tmp-export");
    std::fs::write(&tmp, &bytes).map_err(read_err(&tmp))?;
    std::fs::rename(&tmp, &args.out).map_err(read_err(&args.out))?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        return Ok(to_json(&json!({
            "file": args.out.display().to_string(),
            "bytes": bytes.len(),
            "sha256": sha256_hex(&bytes),
            "with_data": b.with_data(),
            "models": b.models.len(),
            "runs": b.runs.len(),
            "strategies": b.strategies.len(),
            "datasets": b.datasets.len(),
            "oof": b.oof.len(),
            "seconds": seconds,
        })));
    }
    Ok(format!(
        "wrote {} ({} bytes{}): {} models, {} runs, {} strategies{} in {seconds:.2} s\n",
        args.out.display(),
        bytes.len(),
        if b.with_data() { ", with data" } else { "" },
        b.models.len(),
        b.runs.len(),
        b.strategies.len(),
        if b.with_data() {
            format!(", {} bar slices, {} out-of-fold files", b.datasets.len(), b.oof.len())
        } else {
            String::new()
        },
    ))
}

/// A record as compared for merging: its JSON without `created`, which says when it was made
/// here or there and not what it is (the same sweep run twice gives the same run).
fn content<T: serde::Serialize>(v: &T) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("created");
    }
    v
}

/// What an import stages: the report's lines, the store paths to rename into place (in order),
/// and the verification records to drop once they are in.
type Plan = (Vec<Line>, Vec<String>, Vec<(&'static str, String)>);

/// One line of the import report.
struct Line {
    kind: Kind,
    id: String,
    status: Status,
    detail: String,
    /// `new`, `unchanged` or `not stored`.
    action: &'static str,
}

pub fn import(store: &Store, args: ImportArgs) -> Result<String, CliError> {
    let started = std::time::Instant::now();
    let file = args.file.display().to_string();
    let limits = bundle::Limits::default();
    let len = std::fs::metadata(&args.file).map_err(read_err(&args.file))?.len();
    if len > limits.max_bundle_bytes {
        return Err(BundleError::TooLarge { file, entry: "the archive".into(), limit: limits.max_bundle_bytes }.into());
    }
    let bytes = std::fs::read(&args.file).map_err(read_err(&args.file))?;
    let bundle_sha = sha256_hex(&bytes);
    let b = bundle::read_with(&file, &bytes, &limits)?;
    let depth = if args.deep { Depth::Deep } else { Depth::Standard };
    let v = bundle::verify(&b, depth);
    let bad = v.mismatches();
    if !bad.is_empty() {
        let detail = bad.iter().map(|a| format!("{} {}: {}", a.kind.as_str(), a.id, a.detail)).collect::<Vec<_>>();
        let n = detail.len();
        return Err(BundleError::Refused {
            file,
            detail: format!("{n} mismatch{}: {}", if n == 1 { "" } else { "es" }, detail.join("; ")),
        }
        .into());
    }
    let report = |kind: Kind, id: &str| {
        v.status(kind, id).map(|a| (a.status, a.detail.clone())).unwrap_or((Status::Unverifiable, String::new()))
    };
    let conflict = |kind: Kind, id: &str, detail: String| -> CliError {
        BundleError::Conflict { file: file.clone(), kind: kind.as_str().into(), id: id.into(), detail }.into()
    };

    let staging = store.staging()?;
    let result = (|| -> Result<Plan, CliError> {
        let mut lines = Vec::new();
        let mut units: Vec<String> = Vec::new();
        let mut now_verified: Vec<(&'static str, String)> = Vec::new();
        let line = |kind: Kind, id: &str, new: bool, units_of: Option<String>, units: &mut Vec<String>| {
            let (status, detail) = report(kind, id);
            if let Some(u) = units_of.filter(|_| new) {
                units.push(u);
            }
            Line { kind, id: id.to_string(), status, detail, action: if new { "new" } else { "unchanged" } }
        };
        // Bars, matrices and out-of-fold files first: records that name them come after.
        let mut slice_ids: BTreeMap<String, String> = BTreeMap::new();
        for (meta, ds) in &v.datasets {
            let id = meta.sha.get(..16).unwrap_or(&meta.sha).to_string();
            slice_ids.insert(meta.model_id.clone(), id.clone());
            let new = match store.meta(&id) {
                Ok(m) if m.sha == meta.sha => false,
                Ok(m) => {
                    return Err(conflict(
                        Kind::Dataset,
                        &id,
                        format!("stored sha {}, bundle's {}", short(&m.sha), short(&meta.sha)),
                    ))
                }
                Err(StoreError::NotFound(_)) => {
                    staging.add(ds, &meta.name, &format!("{} ({} bars from {file})", meta.name, meta.ticker))?;
                    true
                }
                Err(e) => return Err(e.into()),
            };
            lines.push(line(Kind::Dataset, &meta.sha, new, Some(format!("datasets/{id}")), &mut units));
        }
        for m in &v.matrices {
            let new = store.matrix(&m.matrix_sha).is_err();
            if new {
                staging.put_matrix(m)?;
            }
            lines.push(line(
                Kind::Build,
                &m.matrix_sha,
                new,
                Some(format!("matrices/{}.bin", m.matrix_sha)),
                &mut units,
            ));
        }
        for x in &b.builds {
            if !v.matrices.iter().any(|m| m.matrix_sha == x.matrix_sha) {
                let (status, detail) = report(Kind::Build, &x.matrix_sha);
                lines.push(Line { kind: Kind::Build, id: x.matrix_sha.clone(), status, detail, action: "not stored" });
            }
        }
        for o in &b.oof {
            let new = match store.oof_bytes(&o.key) {
                Some(stored) if stored == o.bytes => false,
                Some(_) => return Err(conflict(Kind::Oof, &o.key, "the stored probabilities differ".into())),
                None => {
                    let oof = v.oof.iter().find(|x| x.key == o.key);
                    match oof {
                        Some(x) => staging.put_oof(x)?,
                        None => continue,
                    }
                    true
                }
            };
            lines.push(line(Kind::Oof, &o.key, new, Some(format!("oof/{}.bin", o.key)), &mut units));
        }
        for t in &b.strategies {
            let id = &t.strategy.model_id;
            let new = match store.strategy(id) {
                Ok((s, _)) if content(&s) == content(&t.strategy) => false,
                Ok((s, _)) => {
                    return Err(conflict(
                        Kind::Strategy,
                        id,
                        format!("stored model_sha {}, bundle's {}", short(&s.model_sha), short(&t.strategy.model_sha)),
                    ))
                }
                Err(StoreError::NoStrategy(_)) => {
                    let booster = engine::gbt::Booster::from_model_json(&t.model_json)?;
                    staging.put_strategy(&t.strategy, &booster)?;
                    true
                }
                Err(e) => return Err(e.into()),
            };
            lines.push(line(Kind::Strategy, id, new, Some(format!("strategies/{id}")), &mut units));
        }
        for rec in &b.models {
            let id = &rec.model_id;
            let new = if store.has_model(id) {
                let stored = store.model(id)?;
                let (ours, theirs) = (stored.model.model_sha(), rec.model.model_sha());
                if ours != theirs {
                    return Err(conflict(
                        Kind::Model,
                        id,
                        format!("stored model_sha {}, bundle's {}", short(&ours), short(&theirs)),
                    ));
                }
                false
            } else {
                let mut r = rec.clone();
                // Point the model at the bars it came with when its own dataset is not here.
                if let (Err(_), Some(slice)) = (store.meta(&r.dataset_id), slice_ids.get(id)) {
                    r.dataset_id = slice.clone();
                }
                staging.put_model(&r)?;
                true
            };
            lines.push(line(Kind::Model, id, new, Some(format!("models/{id}.json")), &mut units));
        }
        for r in &b.runs {
            let new = match store.run(&r.run_id)? {
                Some(stored) if content(&stored) == content(r) => false,
                Some(stored) => {
                    let d = |x: &Run| {
                        format!("sharpe {}, trades {}, created {}", x.metrics.sharpe, x.metrics.trades, x.created)
                    };
                    return Err(conflict(Kind::Run, &r.run_id, format!("stored: {}; bundle's: {}", d(&stored), d(r))));
                }
                None => {
                    staging.put_runs(std::slice::from_ref(r))?;
                    true
                }
            };
            lines.push(line(Kind::Run, &r.run_id, new, Some(format!("runs/{}.json", r.run_id)), &mut units));
        }
        for s in &b.signals {
            let (status, detail) = report(Kind::Signals, &s.model_id);
            lines.push(Line { kind: Kind::Signals, id: s.model_id.clone(), status, detail, action: "not stored" });
        }
        // What is stored without being verified carries its status; what is now verified loses it.
        for l in &lines {
            let kind = l.kind.as_str();
            if !matches!(l.kind, Kind::Run | Kind::Model | Kind::Strategy) || l.action == "not stored" {
                continue;
            }
            match l.status {
                Status::Verified if store.verification(kind, &l.id).is_some() => {
                    now_verified.push((kind, l.id.clone()));
                }
                Status::Verified => {}
                _ if store.verification(kind, &l.id).is_none() || l.action == "new" => {
                    staging.put_verification(&VerificationRecord {
                        kind: kind.to_string(),
                        id: l.id.clone(),
                        status: l.status,
                        detail: l.detail.clone(),
                        bundle: file.clone(),
                        bundle_sha256: bundle_sha.clone(),
                    })?;
                    units.push(format!("verification/{kind}/{}.json", l.id));
                }
                _ => {}
            }
        }
        Ok((lines, units, now_verified))
    })();
    let (lines, units, now_verified) = match result {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_dir_all(staging.root());
            return Err(e);
        }
    };
    store.commit(staging, &units)?;
    for (kind, id) in &now_verified {
        store.remove_verification(kind, id);
    }
    let new = lines.iter().filter(|l| l.action == "new").count();
    let unchanged = lines.iter().filter(|l| l.action == "unchanged").count();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let artifacts: Vec<Value> = lines
            .iter()
            .map(|l| json!({"kind": l.kind, "id": l.id, "status": l.status, "detail": l.detail, "action": l.action}))
            .collect();
        return Ok(to_json(&json!({
            "file": file,
            "created_by": b.created_by,
            "deep": args.deep,
            "artifacts": artifacts,
            "new": new,
            "unchanged": unchanged,
            "changed": new > 0 || !now_verified.is_empty(),
            "seconds": seconds,
        })));
    }
    let mut rows = vec![["kind", "id", "status", "action", "detail"].map(String::from).to_vec()];
    for l in &lines {
        rows.push(vec![
            l.kind.as_str().into(),
            l.id.clone(),
            l.status.as_str().into(),
            l.action.into(),
            l.detail.clone(),
        ]);
    }
    let summary = if new == 0 && now_verified.is_empty() {
        format!("nothing changed: everything in {file} is already in the store\n")
    } else {
        format!("imported {file} in {seconds:.2} s: {new} new, {unchanged} already stored\n")
    };
    Ok(format!("{}\n{summary}", table(&rows)))
}
