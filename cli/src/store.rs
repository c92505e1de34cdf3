//! The store directory: the command line twin of the page's IndexedDB.
//!
//! ```text
//! <store>/datasets/<id>/meta.json          Meta: id, name, source, tz, sha, created, summary, layout
//! <store>/datasets/<id>/columns/ts.i64le   i64 little-endian, every series concatenated
//! <store>/datasets/<id>/columns/<c>.f64le  f64 little-endian; c = open high low close volume adj_close
//!
//! <store>/models/<model_id>.json          ModelRecord (the resolved model, its dataset, last build)
//! <store>/matrices/<matrix_sha>.bin        built matrices, content addressed
//! <store>/oof/<key>.bin                    out-of-fold probabilities (engine::oof), by key
//! <store>/runs/<run_id>.json               one evaluated sweep config (engine::run::Run)
//! <store>/strategies/<model_id>/<config_sha>.json      a trained strategy: one per config
//!                                                      (`strategy.json` in older stores, still read)
//! <store>/strategies/<model_id>/<model_sha>.model.json its booster (the model file)
//! <store>/verification/<kind>/<id>.json    an imported artifact that is not verified (VerificationRecord)
//! ```
//!
//! Every file is written to a temporary name and renamed into place. A strategy's model file is
//! written before the strategy file that names it, so a reader never follows a dangling name.
//!
//! `<id>` is the first 16 hex digits of the dataset's SHA-256 (content addressed: adding the same
//! bars with the same zone again finds the stored copy). A dataset is written into
//! `datasets/.tmp-…` and renamed into place, so a failure never leaves a half-written dataset.
//! Removal renames to `datasets/.rm-…` before deleting.

use engine::data::{
    f64s_to_le, i64s_to_le, le_to_f64s, le_to_i64s, ColumnSet, Dataset, SeriesLayout, Summary, COLUMN_NAMES,
};
use engine::model::ModelRecord;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "btb-dataset-v1";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: damaged store entry ({detail})")]
    Damaged { path: String, detail: String },
    #[error("no dataset \"{0}\" in the store")]
    NotFound(String),
    #[error("\"{0}\" matches more than one dataset; give more of the id")]
    Ambiguous(String),
    #[error("no model \"{0}\" in the store; create it with `btb init`")]
    NoModel(String),
    #[error("model \"{0}\" has no trained strategy; train one with `btb train --model-id {0} --config-kind thr --config-value …`")]
    NoStrategy(String),
    /// `--strategy` names none or several of the model's strategies.
    #[error(transparent)]
    Pick(#[from] engine::strategy::StrategyError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.display().to_string(), source }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnFile {
    pub name: String,
    pub file: String,
    /// `i64le` or `f64le`.
    pub dtype: String,
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub id: String,
    pub name: String,
    /// The file the dataset was read from, as given.
    pub source: String,
    pub tz: String,
    pub sha: String,
    /// RFC 3339 UTC.
    pub created: String,
    pub rows: usize,
    pub tickers: Vec<String>,
    pub layout: Vec<SeriesLayout>,
    pub columns: Vec<ColumnFile>,
    pub summary: Summary,
}

pub struct Store {
    root: PathBuf,
}

/// Whether `add` wrote a new entry or found the same content already stored.
pub enum Added {
    New(Meta),
    Existing(Meta),
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    fn datasets(&self) -> PathBuf {
        self.root.join("datasets")
    }

    pub fn add(&self, ds: &Dataset, name: &str, source: &str) -> Result<Added, StoreError> {
        let sha = ds.sha();
        let id = sha[..16].to_string();
        let dir = self.datasets();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let target = dir.join(&id);
        if target.join("meta.json").is_file() {
            return Ok(Added::Existing(self.meta(&id)?));
        }
        // The staging name uses the wall clock (it must not collide); the record's stamp is
        // `created()`, so `SOURCE_DATE_EPOCH` makes `data add --json` print the same bytes.
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = dir.join(format!(".tmp-{id}-{}-{stamp}", std::process::id()));
        let result = (|| {
            let cols_dir = tmp.join("columns");
            fs::create_dir_all(&cols_dir).map_err(io(&cols_dir))?;
            let cols = ds.to_columns();
            let mut files = Vec::new();
            let mut write = |name: &str, dtype: &str, len: usize, bytes: Vec<u8>| -> Result<(), StoreError> {
                let file = format!("columns/{name}.{dtype}");
                let p = tmp.join(&file);
                fs::write(&p, bytes).map_err(io(&p))?;
                files.push(ColumnFile { name: name.to_string(), file, dtype: dtype.to_string(), len });
                Ok(())
            };
            write("ts", "i64le", cols.ts.len(), i64s_to_le(&cols.ts))?;
            for (name, col) in cols.f64_columns() {
                write(name, "f64le", col.len(), f64s_to_le(col))?;
            }
            let summary = ds.summary();
            let meta = Meta {
                format: FORMAT.to_string(),
                id: id.clone(),
                name: name.to_string(),
                source: source.to_string(),
                tz: ds.tz.clone(),
                sha: sha.clone(),
                created: created(),
                rows: ds.rows(),
                tickers: ds.series.iter().map(|s| s.ticker.clone()).collect(),
                layout: cols.layout.clone(),
                columns: files,
                summary,
            };
            let p = tmp.join("meta.json");
            let json = serde_json::to_vec_pretty(&meta).unwrap_or_default();
            fs::write(&p, json).map_err(io(&p))?;
            Ok(meta)
        })();
        let meta = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_dir_all(&tmp);
            if target.join("meta.json").is_file() {
                return Ok(Added::Existing(self.meta(&id)?));
            }
            return Err(StoreError::Io { path: target.display().to_string(), source: e });
        }
        Ok(Added::New(meta))
    }

    /// Every stored dataset, oldest first.
    pub fn list(&self) -> Result<Vec<Meta>, StoreError> {
        let dir = self.datasets();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            out.push(self.meta(&name)?);
        }
        out.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        Ok(out)
    }

    /// The full id for an id or an unambiguous prefix of one.
    pub fn resolve(&self, id: &str) -> Result<String, StoreError> {
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit());
        if !valid {
            return Err(StoreError::NotFound(id.to_string()));
        }
        let ids: Vec<String> = self.list()?.into_iter().map(|m| m.id).filter(|m| m.starts_with(id)).collect();
        match ids.len() {
            0 => Err(StoreError::NotFound(id.to_string())),
            1 => Ok(ids.into_iter().next().unwrap_or_default()),
            _ => Err(StoreError::Ambiguous(id.to_string())),
        }
    }

    pub fn meta(&self, id: &str) -> Result<Meta, StoreError> {
        let p = self.datasets().join(id).join("meta.json");
        let bytes = fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::NotFound(id.to_string())
            } else {
                StoreError::Io { path: p.display().to_string(), source: e }
            }
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Damaged { path: p.display().to_string(), detail: e.to_string() })
    }

    /// Read a dataset back from its columns and check its hash.
    pub fn load(&self, id: &str) -> Result<(Meta, Dataset), StoreError> {
        let meta = self.meta(id)?;
        let dir = self.datasets().join(id);
        let damaged = |detail: String| StoreError::Damaged { path: dir.display().to_string(), detail };
        let mut cols = ColumnSet {
            layout: meta.layout.clone(),
            ts: Vec::new(),
            open: Vec::new(),
            high: Vec::new(),
            low: Vec::new(),
            close: Vec::new(),
            volume: Vec::new(),
            adj_close: Vec::new(),
        };
        for name in COLUMN_NAMES {
            let cf = meta
                .columns
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| damaged(format!("column {name} is not listed")))?;
            if cf.file.contains("..") || cf.file.starts_with('/') {
                return Err(damaged(format!("bad column path {}", cf.file)));
            }
            let p = dir.join(&cf.file);
            let bytes = fs::read(&p).map_err(io(&p))?;
            if name == "ts" {
                cols.ts = le_to_i64s(&bytes).ok_or_else(|| damaged(format!("{} has a partial value", cf.file)))?;
            } else if let Some(col) = cols.f64_column_mut(name) {
                *col = le_to_f64s(&bytes).ok_or_else(|| damaged(format!("{} has a partial value", cf.file)))?;
            }
        }
        let ds = Dataset::from_columns(
            &meta.name,
            &meta.tz,
            &cols,
            meta.summary.issues.clone(),
            meta.summary.issue_counts.clone(),
        )
        .ok_or_else(|| damaged("columns do not match the layout".to_string()))?;
        if ds.sha() != meta.sha {
            return Err(damaged("content does not match its sha".to_string()));
        }
        Ok((meta, ds))
    }

    pub fn remove(&self, id: &str) -> Result<Meta, StoreError> {
        let meta = self.meta(id)?;
        let dir = self.datasets();
        let from = dir.join(id);
        let to = dir.join(format!(".rm-{id}-{}", std::process::id()));
        fs::rename(&from, &to).map_err(io(&from))?;
        fs::remove_dir_all(&to).map_err(io(&to))?;
        Ok(meta)
    }
}

/// The time stamped on a new dataset, model, run or strategy: now, or `SOURCE_DATE_EPOCH` (seconds) when
/// set, so that two runs can print identical JSON.
pub(crate) fn created() -> String {
    engine::data::time::format_utc(now_ms())
}

fn now_ms() -> i64 {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok()) {
        return s.saturating_mul(1000);
    }
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Reads a JSON record; floats come back bit-identical (the workspace's serde_json has
/// `float_roundtrip`), so a stored run prints exactly as it was computed.
fn read_record<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let bytes = fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Damaged { path: path.display().to_string(), detail: e.to_string() })
}

impl Store {
    fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    fn matrices_dir(&self) -> PathBuf {
        self.root.join("matrices")
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
    /// sees the old content or the new, never half of one.
    fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io(dir))?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
        fs::write(&tmp, bytes).map_err(io(&tmp))?;
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StoreError::Io { path: path.display().to_string(), source: e }
        })
    }

    pub fn put_model(&self, record: &ModelRecord) -> Result<(), StoreError> {
        let path = self.models_dir().join(format!("{}.json", record.model_id));
        let json = serde_json::to_vec_pretty(record).unwrap_or_default();
        Self::write_atomic(&path, &json)
    }

    pub fn model(&self, model_id: &str) -> Result<ModelRecord, StoreError> {
        let path = self.models_dir().join(format!("{model_id}.json"));
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoModel(model_id.to_string()))
            }
            Err(e) => return Err(StoreError::Io { path: path.display().to_string(), source: e }),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Damaged { path: path.display().to_string(), detail: e.to_string() })
    }

    pub fn has_model(&self, model_id: &str) -> bool {
        self.models_dir().join(format!("{model_id}.json")).is_file()
    }

    /// Caches a matrix under its sha (content-addressed: the same inputs land on the same file).
    pub fn put_matrix(&self, matrix: &engine::matrix::Matrix) -> Result<(), StoreError> {
        let path = self.matrices_dir().join(format!("{}.bin", matrix.matrix_sha));
        if path.is_file() {
            return Ok(());
        }
        Self::write_atomic(&path, &matrix.to_bytes())
    }

    pub fn matrix(&self, sha: &str) -> Result<engine::matrix::Matrix, StoreError> {
        let path = self.matrices_dir().join(format!("{sha}.bin"));
        let bytes = fs::read(&path).map_err(io(&path))?;
        let m = engine::matrix::Matrix::from_bytes(&bytes)
            .map_err(|e| StoreError::Damaged { path: path.display().to_string(), detail: e.to_string() })?;
        if m.matrix_sha != sha {
            return Err(StoreError::Damaged { path: path.display().to_string(), detail: "sha does not match".into() });
        }
        Ok(m)
    }
}

impl Store {
    fn oof_path(&self, key: &str) -> PathBuf {
        self.root.join("oof").join(format!("{key}.bin"))
    }

    /// Cached out-of-fold probabilities; `None` when absent or unreadable (they are recomputed).
    pub fn oof(&self, key: &str) -> Option<engine::oof::Oof> {
        let bytes = fs::read(self.oof_path(key)).ok()?;
        engine::oof::Oof::from_bytes(&bytes).ok().filter(|o| o.key == key)
    }

    pub fn put_oof(&self, oof: &engine::oof::Oof) -> Result<(), StoreError> {
        Self::write_atomic(&self.oof_path(&oof.key), &oof.to_bytes())
    }

    /// Out-of-fold bytes as an import received (and verified) them.
    pub fn put_oof_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        Self::write_atomic(&self.oof_path(key), bytes)
    }

    fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// Stores each run under its id (the same run again replaces its file). A run computed here
    /// is no longer one an import could not verify, so its verification record goes.
    pub fn put_runs(&self, runs: &[engine::run::Run]) -> Result<(), StoreError> {
        for r in runs {
            let json = serde_json::to_vec_pretty(r).unwrap_or_default();
            Self::write_atomic(&self.runs_dir().join(format!("{}.json", r.run_id)), &json)?;
            self.remove_verification("run", &r.run_id);
        }
        Ok(())
    }

    /// Every stored run, in file-name order.
    pub fn runs(&self) -> Result<Vec<engine::run::Run>, StoreError> {
        let dir = self.runs_dir();
        let mut names: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json")
                        && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        };
        names.sort();
        names.iter().map(|p| read_record(p)).collect()
    }

    fn strategy_dir(&self, model_id: &str) -> PathBuf {
        self.root.join("strategies").join(model_id)
    }

    /// Stores a trained strategy beside the model's others: one per config, so training the
    /// same config again replaces it. The model file (content addressed) is written first.
    pub fn put_strategy(
        &self,
        s: &engine::strategy::Strategy,
        booster: &engine::gbt::Booster,
    ) -> Result<(), StoreError> {
        let dir = self.strategy_dir(&s.model_id);
        let model_json = booster
            .to_model_json()
            .map_err(|e| StoreError::Damaged { path: dir.display().to_string(), detail: e.to_string() })?;
        Self::write_atomic(&dir.join(format!("{}.model.json", s.model_sha)), model_json.as_bytes())?;
        let json = serde_json::to_vec_pretty(s).unwrap_or_default();
        Self::write_atomic(&dir.join(format!("{}.json", s.config_sha)), &json)?;
        // A store written before strategies were kept per config holds one `strategy.json`;
        // the same config trained again takes its place.
        let legacy = dir.join(LEGACY_STRATEGY);
        if legacy.is_file() && read_record::<engine::strategy::Strategy>(&legacy)?.config_sha == s.config_sha {
            fs::remove_file(&legacy).map_err(io(&legacy))?;
        }
        Ok(())
    }

    /// Every trained strategy of a model, oldest first (by `created`, then config_sha).
    pub fn strategies(&self, model_id: &str) -> Result<Vec<engine::strategy::Strategy>, StoreError> {
        let dir = self.strategy_dir(model_id);
        let mut paths: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                    name.ends_with(".json") && !name.ends_with(".model.json") && !name.starts_with('.')
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        };
        paths.sort();
        let mut all: Vec<engine::strategy::Strategy> = Vec::new();
        for p in &paths {
            let s: engine::strategy::Strategy = read_record(p)?;
            if s.model_id != model_id {
                return Err(StoreError::Damaged {
                    path: p.display().to_string(),
                    detail: format!("a strategy of model {} in the folder of {model_id}", s.model_id),
                });
            }
            // The legacy file and a per-config file of the same config: the per-config one.
            let legacy = p.file_name().is_some_and(|n| n == LEGACY_STRATEGY);
            match all.iter().position(|x| x.config_sha == s.config_sha) {
                Some(_) if legacy => {}
                Some(i) => all[i] = s,
                None => all.push(s),
            }
        }
        all.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.config_sha.cmp(&b.config_sha)));
        Ok(all)
    }

    /// The model file of a stored strategy, checked against its `model_sha`.
    pub fn booster(&self, s: &engine::strategy::Strategy) -> Result<engine::gbt::Booster, StoreError> {
        let dir = self.strategy_dir(&s.model_id);
        let mpath = dir.join(format!("{}.model.json", s.model_sha));
        let text = fs::read_to_string(&mpath).map_err(io(&mpath))?;
        let b = engine::gbt::Booster::from_model_json(&text)
            .map_err(|e| StoreError::Damaged { path: mpath.display().to_string(), detail: e.to_string() })?;
        if b.model_sha() != s.model_sha {
            return Err(StoreError::Damaged {
                path: mpath.display().to_string(),
                detail: "model_sha does not match".into(),
            });
        }
        Ok(b)
    }
}

/// What a store written before strategies were kept per config calls its one strategy.
const LEGACY_STRATEGY: &str = "strategy.json";

/// What an import recorded about an artifact it could not fully verify, kept beside the record
/// (`<store>/verification/<kind>/<id>.json`) so the record itself stays byte-identical to the
/// exporter's and every listing can show the status. A record computed here (a sweep writing
/// the same run) removes it.
pub use engine::bundle::VerificationRecord;

impl Store {
    /// The store directory (imports stage their records beside it, on the same file system).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every stored model id, sorted.
    pub fn model_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.models_dir();
        let mut ids: Vec<String> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_string))
                .filter(|n| !n.starts_with('.'))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        };
        ids.sort();
        Ok(ids)
    }

    /// One stored run, if there is one under that id.
    pub fn run(&self, run_id: &str) -> Result<Option<engine::run::Run>, StoreError> {
        let path = self.runs_dir().join(format!("{run_id}.json"));
        if !path.is_file() {
            return Ok(None);
        }
        read_record(&path).map(Some)
    }

    /// The raw out-of-fold bytes under `key`, if stored.
    pub fn oof_bytes(&self, key: &str) -> Option<Vec<u8>> {
        fs::read(self.oof_path(key)).ok()
    }

    fn verification_path(&self, kind: &str, id: &str) -> PathBuf {
        self.root.join("verification").join(kind).join(format!("{id}.json"))
    }

    pub fn put_verification(&self, v: &VerificationRecord) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(v).unwrap_or_default();
        Self::write_atomic(&self.verification_path(v.kind.as_str(), &v.id), &json)
    }

    pub fn verification(&self, kind: &str, id: &str) -> Option<VerificationRecord> {
        read_record(&self.verification_path(kind, id)).ok()
    }

    /// Forget what an import recorded (the artifact is now verified, or computed here).
    pub fn remove_verification(&self, kind: &str, id: &str) {
        let _ = fs::remove_file(self.verification_path(kind, id));
    }

    /// Every verification record of one kind, by id.
    pub fn verifications(&self, kind: &str) -> std::collections::BTreeMap<String, VerificationRecord> {
        let dir = self.root.join("verification").join(kind);
        let mut out = std::collections::BTreeMap::new();
        if let Ok(rd) = fs::read_dir(&dir) {
            for e in rd.filter_map(|e| e.ok()) {
                if let Ok(v) = read_record::<VerificationRecord>(&e.path()) {
                    out.insert(v.id.clone(), v);
                }
            }
        }
        out
    }

    /// A fresh staging store inside this one (`.import-…`): an import writes everything there
    /// with the ordinary `put_*` methods, then [`Store::commit`] renames it into place.
    pub fn staging(&self) -> Result<Store, StoreError> {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = self.root.join(format!(".import-{}-{stamp}", std::process::id()));
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Store::new(dir))
    }

    /// Renames each of `units` (paths relative to the store: a file, or a directory such as
    /// `datasets/<id>`) from `staging` into this store, in order; if any fails, the ones already
    /// renamed are removed again, so the store is left as it was. The staging directory is
    /// removed either way.
    pub fn commit(&self, staging: Store, units: &[String]) -> Result<(), StoreError> {
        let mut done: Vec<PathBuf> = Vec::new();
        let result = (|| {
            for u in units {
                let from = staging.root.join(u);
                let to = self.root.join(u);
                if to.exists() {
                    return Err(StoreError::Damaged {
                        path: to.display().to_string(),
                        detail: "appeared while importing".into(),
                    });
                }
                if let Some(dir) = to.parent() {
                    fs::create_dir_all(dir).map_err(io(dir))?;
                }
                fs::rename(&from, &to).map_err(io(&to))?;
                done.push(to);
            }
            Ok(())
        })();
        if result.is_err() {
            for p in done.iter().rev() {
                let _ = if p.is_dir() { fs::remove_dir_all(p) } else { fs::remove_file(p) };
            }
        }
        let _ = fs::remove_dir_all(&staging.root);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit that fails half way (a target appeared meanwhile) removes what it had renamed,
    /// and the staging directory, so the store is left as it was.
    #[test]
    fn a_failed_commit_leaves_the_store_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let staging = store.staging().unwrap();
        let staged = staging.root().to_path_buf();
        for name in ["runs/a.json", "runs/b.json"] {
            Store::write_atomic(&staging.root().join(name), b"{}").unwrap();
        }
        Store::write_atomic(&store.root().join("runs/b.json"), b"mine").unwrap();
        let units = vec!["runs/a.json".to_string(), "runs/b.json".to_string()];
        assert!(store.commit(staging, &units).is_err());
        assert!(!store.root().join("runs/a.json").exists(), "the renamed unit is removed again");
        assert_eq!(fs::read(store.root().join("runs/b.json")).unwrap(), b"mine");
        assert!(!staged.exists(), "staging is cleaned up");
    }
}
