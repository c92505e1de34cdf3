//! Bundles: one ZIP file (`*.btb.zip`) that carries selected results to another copy of the page
//! or of `btb`, which verifies everything in it before storing anything. This doc is the format's
//! one description; [`BUNDLE_FORMAT_VERSION`] is its version.
//!
//! # Layout (format version 2)
//!
//! ```text
//! manifest.json                                      the index (below); always the first entry
//! models/<model_id>.json                             engine::model::ModelRecord
//! builds/<matrix_sha>.json                           Build: model_id, BuildSpec, matrix_sha, the matrix bytes' size and SHA-256
//! runs/<run_id>.json                                 engine::run::Run (config, policy, metrics, gate, lineage)
//! strategies/<model_id>/<config_sha>/strategy.json   engine::strategy::Strategy (config_sha, policy_sha, model_sha …)
//! strategies/<model_id>/<config_sha>/model.json      its booster's model file (Booster::to_model_json; hashes to model_sha)
//! signals/<model_id>/<config_sha>.json               ModelSignals: that strategy's signals when it was exported
//! data/<model_id>.json                               DataMeta: the slice's sha, ticker, zone, rows, source dataset   (--with-data)
//! data/<model_id>.parquet                            the bars of the model's ticker from its build's start to the last bar (--with-data)
//! oof/<oof_key>.bin                                  engine::oof::Oof::to_bytes, out-of-fold probabilities            (--with-data)
//! ```
//!
//! A model may carry several strategies, one per config it was trained with (both shells keep one
//! per config). Format 1 carried one per model, as `strategies/<model_id>/{strategy,model}.json`
//! and `signals/<model_id>.json` (without `config_sha`); [`read()`] still reads it, taking the
//! signals' config from the model's one strategy.
//!
//! `manifest.json`:
//!
//! ```json
//! {"format": "btb-bundle", "version": 2, "created_by": "btb 0.1.0", "with_data": true,
//!  "holds": {"models": 1, "builds": 1, "runs": 16, "strategies": 1, "signals": 1, "datasets": 1, "oof": 2},
//!  "entries": [{"path": "builds/….json", "sha256": "<64 hex>", "bytes": 412}, …]}
//! ```
//!
//! `entries` lists every other file of the archive exactly once, sorted by path, with the SHA-256
//! and length of its uncompressed bytes. JSON entries are pretty-printed serde JSON (floats
//! round-trip bit for bit); the Parquet entries are stored, every other entry deflated. Every zip
//! entry has the same fixed time (1980-01-01) and mode, and nothing in the archive records when it
//! was written, so the same records always give the same bundle bytes.
//!
//! # Reading ([`read()`])
//!
//! The bytes are hostile until proven otherwise: the archive's own directory is parsed with
//! checked bounds first (entry count within [`Limits::max_entries`], no duplicate names, no
//! absolute paths, `..`, backslashes or drive letters), every entry is inflated through a
//! [`std::io::Read::take`] of at most the size the manifest states (never the zip header's), so a
//! deflate bomb stops at the limit; its SHA-256 and length must match the manifest; a manifest of
//! a newer version is refused as "made by a newer version of btb". Every failure is a
//! [`BundleError`] naming the file and what is wrong.
//!
//! # Verifying ([`verify()`])
//!
//! Before a shell stores anything, every content-derived id is recomputed from the content:
//! `config_sha`, `policy_sha`, `risk_sha`, the out-of-fold key and `run_id` of every run,
//! `model_sha` of every strategy's model file, the dataset slice's sha. With the data, each build's
//! matrix is rebuilt from the bars and must give its `matrix_sha` and bytes, each run is judged again
//! on the bundled out-of-fold probabilities and must give the same run bit for bit, and each
//! strategy's signals are computed again; [`Depth::Deep`] also re-trains every fold and compares
//! the out-of-fold bytes. Each artifact gets a [`Status`]; any [`Status::Mismatch`] refuses the
//! whole bundle.

mod export;
mod merge;
mod read;
mod verify;
mod write;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::lineage::sha256_hex;
use crate::matrix::{BuildSpec, Matrix};
use crate::model::ModelRecord;
use crate::run::Run;
use crate::strategy::{Signal, Strategy};

pub use export::{assemble, select, Bars, Selection, Source};
pub use merge::{merge, Action, ImportReport, Line, Merge, MergeError, Snapshot, Stored, VerificationRecord, Writes};
pub use read::{read, read_with, Limits};
pub use verify::{verify, ArtifactReport, Depth, Kind, Status, Verification};
pub use write::write;

#[cfg(test)]
mod tests;

/// Version of the bundle format described above; a reader refuses a newer one.
pub const BUNDLE_FORMAT_VERSION: u32 = 2;
/// The manifest's `format`.
pub const FORMAT: &str = "btb-bundle";
/// The manifest's path in the archive.
pub const MANIFEST: &str = "manifest.json";

/// A bundle's content, typed: what [`write()`] writes and [`read()`] gives back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bundle {
    /// `btb <version>` or the page's equivalent.
    pub created_by: String,
    pub models: Vec<ModelRecord>,
    pub builds: Vec<Build>,
    pub runs: Vec<Run>,
    pub strategies: Vec<TrainedStrategy>,
    pub signals: Vec<ModelSignals>,
    pub datasets: Vec<DataSlice>,
    pub oof: Vec<OofFile>,
}

impl Bundle {
    /// Whether it carries bars (and so can be re-judged).
    pub fn with_data(&self) -> bool {
        !self.datasets.is_empty()
    }
}

/// One build of a model: enough to rebuild its matrix from the bars and check the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    pub model_id: String,
    pub matrix_sha: String,
    pub spec: BuildSpec,
    /// Length and SHA-256 of `Matrix::to_bytes` of the built matrix.
    pub matrix_bytes: u64,
    pub matrix_bytes_sha256: String,
}

impl Build {
    pub fn of(model_id: &str, spec: &BuildSpec, m: &Matrix) -> Build {
        let bytes = m.to_bytes();
        Build {
            model_id: model_id.to_string(),
            matrix_sha: m.matrix_sha.clone(),
            spec: spec.clone(),
            matrix_bytes: bytes.len() as u64,
            matrix_bytes_sha256: sha256_hex(&bytes),
        }
    }
}

/// A trained strategy with its model file (text, as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedStrategy {
    pub strategy: Strategy,
    pub model_json: String,
}

impl TrainedStrategy {
    /// Its id in verification and import reports: [`strategy_id`].
    pub fn id(&self) -> String {
        strategy_id(&self.strategy.model_id, &self.strategy.config_sha)
    }
}

/// The id of a model's strategy of one config in reports and verification marks:
/// `<model_id>@<config_sha>`. A model id has no `@` and neither has a sha, so it is unambiguous,
/// and it has no `/`, so a store can name a file by it.
pub fn strategy_id(model_id: &str, config_sha: &str) -> String {
    format!("{model_id}@{config_sha}")
}

/// A strategy's signals as the exporter computed them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSignals {
    pub model_id: String,
    /// The config of the strategy that gave them (a model may carry several).
    pub config_sha: String,
    pub signals: Vec<Signal>,
}

impl ModelSignals {
    /// The id of the strategy they came from ([`strategy_id`]), which is also theirs in reports.
    pub fn id(&self) -> String {
        strategy_id(&self.model_id, &self.config_sha)
    }
}

/// What a dataset slice is: stated by the exporter, checked against the bars on import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataMeta {
    /// The model whose build and signals the slice serves.
    pub model_id: String,
    /// [`Dataset::sha`] of the slice (one series).
    pub sha: String,
    pub ticker: String,
    pub tz: String,
    pub rows: usize,
    /// The dataset's name where it came from.
    pub name: String,
    /// The id of the dataset it was cut from, in the exporting store.
    pub from_dataset: String,
}

/// A dataset slice: its description and its bars as Parquet.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSlice {
    pub meta: DataMeta,
    pub parquet: Vec<u8>,
}

impl DataSlice {
    /// The slice of `ds` that `model_id` needs: its `ticker` from the build's start to the end.
    pub fn of(
        model_id: &str,
        ds: &Dataset,
        ticker: &str,
        spec: &BuildSpec,
        from: &str,
    ) -> Result<DataSlice, BundleError> {
        let series = ds.series(ticker).ok_or_else(|| BundleError::Write {
            what: format!("dataset {from}"),
            detail: format!("it has no ticker {ticker}"),
        })?;
        let bars = crate::matrix::bars_from_start(series, &ds.tz, spec);
        let parquet = crate::data::parquet_writer::series_to_parquet(&bars, &ds.tz)
            .map_err(|detail| BundleError::Write { what: format!("the bars of {model_id}"), detail })?;
        let slice = Dataset {
            name: ds.name.clone(),
            tz: ds.tz.clone(),
            series: vec![bars],
            issues: Vec::new(),
            issue_counts: Vec::new(),
        };
        Ok(DataSlice {
            meta: DataMeta {
                model_id: model_id.to_string(),
                sha: slice.sha(),
                ticker: ticker.to_string(),
                tz: ds.tz.clone(),
                rows: slice.rows(),
                name: ds.name.clone(),
                from_dataset: from.to_string(),
            },
            parquet,
        })
    }
}

/// Out-of-fold probabilities, as bytes (compared byte for byte by a deep verification).
#[derive(Debug, Clone, PartialEq)]
pub struct OofFile {
    pub key: String,
    pub bytes: Vec<u8>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub created_by: String,
    pub with_data: bool,
    pub holds: Holds,
    pub entries: Vec<Entry>,
}

/// How many of each artifact the bundle holds (checked against the entries on reading).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holds {
    pub models: usize,
    pub builds: usize,
    pub runs: usize,
    pub strategies: usize,
    pub signals: usize,
    pub datasets: usize,
    pub oof: usize,
}

impl Holds {
    /// What `b` holds: written into the manifest, and compared with it on reading.
    pub fn of(b: &Bundle) -> Holds {
        Holds {
            models: b.models.len(),
            builds: b.builds.len(),
            runs: b.runs.len(),
            strategies: b.strategies.len(),
            signals: b.signals.len(),
            datasets: b.datasets.len(),
            oof: b.oof.len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Why a bundle could not be written, read or accepted. Every message starts with the bundle's
/// file name (or what was being written) and says what is wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    #[error("{file}: not a bundle: it is not a ZIP archive")]
    NotZip { file: String },
    #[error("{file}: the archive is truncated or damaged ({detail})")]
    Damaged { file: String, detail: String },
    #[error("{file}: not a btb bundle: it has no manifest.json")]
    NoManifest { file: String },
    #[error("{file}: not a btb bundle: manifest.json has format {found}, not \"btb-bundle\"")]
    NotABundle { file: String, found: String },
    #[error("{file}: made by a newer version of btb (bundle format {found}; this btb reads format {supported}); update btb to import it")]
    Newer { file: String, found: u64, supported: u32 },
    #[error("{file}: {entry}: wrong JSON: {detail}")]
    Json { file: String, entry: String, detail: String },
    #[error(
        "{file}: {entry}: its content does not match the manifest's sha256 (manifest {expected}, content {found})"
    )]
    HashMismatch { file: String, entry: String, expected: String, found: String },
    #[error("{file}: {entry}: its size does not match the manifest ({detail})")]
    SizeMismatch { file: String, entry: String, detail: String },
    #[error("{file}: duplicate entry {entry}")]
    Duplicate { file: String, entry: String },
    #[error("{file}: unsafe entry name {entry:?} ({detail})")]
    UnsafePath { file: String, entry: String, detail: String },
    #[error("{file}: {entry} inflates past the limit of {limit} bytes")]
    TooLarge { file: String, entry: String, limit: u64 },
    #[error("{file}: {count} entries, more than the {limit} a bundle may hold")]
    TooManyEntries { file: String, count: usize, limit: usize },
    #[error("{file}: {entry} is in the archive but not in manifest.json")]
    Unlisted { file: String, entry: String },
    #[error("{file}: {entry} is listed in manifest.json but not in the archive")]
    Missing { file: String, entry: String },
    #[error("{file}: {entry} is missing: the bundle holds {with}, which needs it")]
    Incomplete { file: String, entry: String, with: String },
    #[error("{file}: unexpected entry {entry} ({detail})")]
    Unexpected { file: String, entry: String, detail: String },
    #[error("{file}: refused, nothing was stored: {detail}")]
    Refused { file: String, detail: String },
    #[error("{file}: refused, nothing was stored: {kind} {id} is already stored with different content ({detail})")]
    Conflict { file: String, kind: String, id: String, detail: String },
    #[error("no {kind} {id} is stored; see the leaderboard for what is")]
    NotStored { kind: &'static str, id: String },
    #[error("cannot write the bundle: {what}: {detail}")]
    Write { what: String, detail: String },
}
