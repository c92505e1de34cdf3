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

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::bundle::{
    self, Bars, Bundle, BundleError, Depth, Kind, MergeError, OofFile, Source, Stored, TrainedStrategy, Writes,
};
use engine::lineage::sha256_hex;
use engine::model::ModelRecord;
use engine::run::Run;
use engine::strategy::Strategy;

use crate::error::{read_err, write_err, CliError};
use crate::print::{table, to_json};
use crate::store::{Store, StoreError};

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

/// The records of the store the flags select (see [`ExportArgs`]), as [`bundle::assemble`] takes them.
pub(crate) fn collect(
    store: &Store,
    model_ids: &[String],
    run_ids: &[String],
    with_data: bool,
) -> Result<Bundle, CliError> {
    let selection = bundle::select(store.runs()?, &store.model_ids()?, model_ids, run_ids)?;
    let mut sources = Vec::new();
    for id in &selection.model_ids {
        let record = store.model(id)?;
        let matrix = record.matrix_sha.as_ref().and_then(|sha| store.matrix(sha).ok());
        // Every strategy of the model, one per config it was trained with.
        let mut strategies = Vec::new();
        for strategy in store.strategies(id)? {
            let model_json = store.booster(&strategy)?.to_model_json()?;
            strategies.push(TrainedStrategy { strategy, model_json });
        }
        let bars = match store.load(&record.dataset_id) {
            Ok((_, ds)) => ds.series(&record.model.ticker).cloned().map(|series| Bars {
                series,
                tz: ds.tz.clone(),
                name: ds.name.clone(),
                dataset_id: record.dataset_id.clone(),
            }),
            Err(e) if with_data => return Err(e.into()),
            Err(_) => None,
        };
        sources.push(Source { record, matrix, strategies, bars });
    }
    let oof = if with_data {
        selection
            .oof_keys()
            .into_iter()
            .filter_map(|key| store.oof_bytes(&key).map(|bytes| OofFile { key, bytes }))
            .collect()
    } else {
        Vec::new()
    };
    Ok(bundle::assemble(&created_by(), sources, selection, oof, with_data)?)
}

pub fn export(store: &Store, args: ExportArgs) -> Result<String, CliError> {
    let started = std::time::Instant::now();
    let b = collect(store, &args.model_id, &args.run, args.with_data)?;
    let bytes = bundle::write(&b)?;
    let tmp = args.out.with_extension("tmp-export");
    std::fs::write(&tmp, &bytes).map_err(write_err(&tmp))?;
    if let Err(e) = std::fs::rename(&tmp, &args.out) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(&args.out)(e));
    }
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

/// The store as the engine's merge looks at it.
impl Stored for Store {
    type Error = StoreError;
    fn dataset_sha(&self, id: &str) -> Result<Option<String>, StoreError> {
        match self.meta(id) {
            Ok(m) => Ok(Some(m.sha)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn dataset_id(&self, sha: &str) -> String {
        sha.get(..16).unwrap_or(sha).to_string()
    }
    fn has_matrix(&self, matrix_sha: &str) -> Result<bool, StoreError> {
        Ok(self.matrix(matrix_sha).is_ok())
    }
    fn oof(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.oof_bytes(key))
    }
    fn strategy(&self, model_id: &str, config_sha: &str) -> Result<Option<Strategy>, StoreError> {
        Ok(self.strategies(model_id)?.into_iter().find(|s| s.config_sha == config_sha))
    }
    fn model(&self, model_id: &str) -> Result<Option<ModelRecord>, StoreError> {
        if self.has_model(model_id) {
            Store::model(self, model_id).map(Some)
        } else {
            Ok(None)
        }
    }
    fn run(&self, run_id: &str) -> Result<Option<Run>, StoreError> {
        Store::run(self, run_id)
    }
    fn marked(&self, kind: Kind, id: &str) -> Result<bool, StoreError> {
        Ok(self.verification(kind.as_str(), id).is_some())
    }
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
    let b = bundle::read_with(&file, &bytes, &limits)?;
    let depth = if args.deep { Depth::Deep } else { Depth::Standard };
    let v = bundle::verify(&b, depth);
    let merge = bundle::merge(&file, &sha256_hex(&bytes), &b, &v, store).map_err(|e| match e {
        MergeError::Bundle(e) => CliError::from(e),
        MergeError::Store(e) => CliError::Store(e),
    })?;
    write(store, &merge.writes, &file)?;
    let report = merge.report(args.deep, started.elapsed().as_secs_f64());
    if args.json {
        return Ok(to_json(&report));
    }
    let mut rows = vec![["kind", "id", "status", "action", "detail"].map(String::from).to_vec()];
    for l in &report.artifacts {
        rows.push(vec![
            l.kind.as_str().into(),
            l.id.clone(),
            l.status.as_str().into(),
            l.action.as_str().into(),
            l.detail.clone(),
        ]);
    }
    Ok(format!("{}\n{}\n", table(&rows), report.summary()))
}

/// Writes a merge's records into a staging store and renames them into place: all or nothing.
fn write(store: &Store, w: &Writes, file: &str) -> Result<(), CliError> {
    let staging = store.staging()?;
    let staged = (|| -> Result<Vec<String>, CliError> {
        let mut units = Vec::new();
        for (id, meta, ds) in &w.datasets {
            staging.add(ds, &meta.name, &format!("{} ({} bars from {file})", meta.name, meta.ticker))?;
            units.push(format!("datasets/{id}"));
        }
        for m in &w.matrices {
            staging.put_matrix(m)?;
            units.push(format!("matrices/{}.bin", m.matrix_sha));
        }
        for o in &w.oof {
            staging.put_oof_bytes(&o.key, &o.bytes)?;
            units.push(format!("oof/{}.bin", o.key));
        }
        // File by file: the model may hold strategies of other configs already. The model file
        // is content addressed (another config's strategy may share it) and goes first, so a
        // strategy never names a model file that is not there.
        for t in &w.strategies {
            let booster = engine::gbt::Booster::from_model_json(&t.model_json)?;
            staging.put_strategy(&t.strategy, &booster)?;
            let dir = format!("strategies/{}", t.strategy.model_id);
            let model_file = format!("{dir}/{}.model.json", t.strategy.model_sha);
            if !store.root().join(&model_file).exists() && !units.contains(&model_file) {
                units.push(model_file);
            }
            units.push(format!("{dir}/{}.json", t.strategy.config_sha));
        }
        for r in &w.models {
            staging.put_model(r)?;
            units.push(format!("models/{}.json", r.model_id));
        }
        for r in &w.runs {
            staging.put_runs(std::slice::from_ref(r))?;
            units.push(format!("runs/{}.json", r.run_id));
        }
        for m in &w.mark {
            staging.put_verification(m)?;
            units.push(format!("verification/{}/{}.json", m.kind.as_str(), m.id));
        }
        Ok(units)
    })();
    let units = match staged {
        Ok(u) => u,
        Err(e) => {
            let _ = std::fs::remove_dir_all(staging.root());
            return Err(e);
        }
    };
    store.commit(staging, &units)?;
    for (kind, id) in &w.unmark {
        store.remove_verification(kind.as_str(), id);
    }
    Ok(())
}
