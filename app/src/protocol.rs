//! The one message vocabulary between the page and its workers.
//!
//! Modelled on DuckDB-wasm: a versioned request/response enum travels as a small JSON header,
//! while bulk data (file bytes, bar columns) travels beside it as transferred `ArrayBuffer`s, so a
//! million-row dataset is moved, never copied or stringified.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use engine::bundle::{Holds, ImportReport, Kind, Selection, VerificationRecord};
use engine::config::{Config, SweepConfig};
use engine::data::{LoadOptions, SeriesLayout, Summary};
use engine::error::Report;
use engine::gbt::fit::{FitOptions, FitReport};
use engine::leaderboard::{Query, Row};
use engine::matrix::{BuildSpec, BuildSummary, Preview};
use engine::model::{Model, ModelRecord};
use engine::oof::OofSpec;
use engine::policy::Policy;
use engine::report::Provenance;
use engine::run::{BacktestReport, Run, RunSettings};
use engine::strategy::{FinalFit, OwnerRecord, Signal, Strategy};
use engine::sweep::{Plan, SweepBody};

/// Bumped whenever a variant changes shape; a worker answering another version is refused.
pub const PROTOCOL_VERSION: u32 = 6;
/// SHA-256 of this file without these two lines: `app/tests/shape.rs` fails when the file
/// changes and this pin does not, so a change of shape cannot ship under an old version.
pub const PROTOCOL_SHA: &str = "65bf25baa354ee82cdd255df66c72a985c60f7f22e69ce46add3ec71d2c5fa84";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Parse a file. Buffers: `[file bytes]`.
    Load { name: String, options: LoadOptions },
    /// Build a model's matrix from one ticker's bars. Buffers: the series' columns in
    /// `columns::names(layout)` order.
    BuildMatrix { model: Model, spec: BuildSpec, tz: String, layout: SeriesLayout },
    /// The `matrix_sha` a `BuildMatrix` with these inputs would give, to look up the cache
    /// first. Buffers as for `BuildMatrix`.
    MatrixSha { model: Model, spec: BuildSpec, tz: String, layout: SeriesLayout },
    /// Train a model on a stored matrix. Buffers: `[matrix bytes]` (`Matrix::to_bytes`).
    Train { options: FitOptions },
    /// Plan a sweep before any training starts (`SweepBody::plan`): its configs under the
    /// model's risk profile (variants checked, budget enforced), the run settings and the
    /// out-of-fold key. `created` stamps the runs. Buffers: `[matrix bytes]`.
    Plan { body: SweepBody, model: Model, created: String },
    /// Train fold `fold` of `spec` and predict its test block. Buffers: `[matrix bytes]`.
    OofFold { spec: OofSpec, fold: usize },
    /// Assemble the folds and judge every config. Buffers: `[matrix bytes]` then, per entry of
    /// `folds` in order, its test and training probabilities (`Float64Array`s from `FoldDone`).
    Sweep { settings: RunSettings, configs: Vec<SweepConfig>, folds: Vec<FoldMeta> },
    /// Judge every config on cached out-of-fold probabilities. Buffers: `[matrix bytes, oof bytes]`.
    SweepCached { settings: RunSettings, configs: Vec<SweepConfig> },
    /// One config's backtest with its equity curve and trades. Buffers: `[matrix bytes, oof bytes]`.
    Backtest { settings: RunSettings, config: SweepConfig },
    /// The final model for one config, on every row of the matrix (`POST /train`).
    /// Buffers: `[matrix bytes]`.
    TrainStrategy { owner: OwnerRecord, config: Config, base: Policy, how: FinalFit },
    /// A trained strategy's signals over the newest bars of its series, built as `spec` built
    /// its matrix (up to the newest bar). Buffers: the series' columns in `columns::names(layout)` order.
    Signals { model: Model, spec: BuildSpec, strategy: Strategy, model_json: String, tz: String, layout: SeriesLayout },
    /// Write a bundle of `selection` (`engine::bundle::assemble`, then `write`). Buffers, per
    /// source in order: its matrix bytes when `has_matrix`, then its bars' columns (in
    /// `columns::names(layout)` order) when it has `bars`; then the bytes of each of `oof_keys`.
    Export {
        created_by: String,
        sources: Vec<ExportSource>,
        selection: Selection,
        oof_keys: Vec<String>,
        with_data: bool,
    },
    /// Read, verify and merge a bundle into what the page's store holds (`engine::bundle::merge`).
    /// Buffers: `[bundle bytes]`, then the bytes of each of `snapshot.oof_keys`.
    ImportBundle { name: String, deep: bool, snapshot: StoreSnapshot },
    /// A run's standalone HTML report (`engine::report::run_html`).
    RunReport { report: Box<BacktestReport>, model: Option<ModelRecord>, status: String, provenance: Provenance },
    /// A model's leaderboard as a standalone HTML report (`engine::report::leaderboard_html`).
    LeaderboardReport {
        model_id: String,
        model: Option<ModelRecord>,
        query: Query,
        rows: Vec<Row>,
        statuses: BTreeMap<String, String>,
        provenance: Provenance,
    },
}

/// One model's records for an export; its matrix, bars and out-of-fold bytes travel as buffers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportSource {
    pub record: ModelRecord,
    pub has_matrix: bool,
    /// The trained strategy and its model file.
    pub strategy: Option<(Strategy, String)>,
    pub bars: Option<ExportBars>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportBars {
    pub layout: SeriesLayout,
    pub tz: String,
    pub name: String,
    pub dataset_id: String,
}

/// What the page's store holds, for the merge (`engine::bundle::Snapshot` without the
/// out-of-fold bytes, which travel as buffers in `oof_keys` order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoreSnapshot {
    /// Dataset id → sha.
    pub datasets: BTreeMap<String, String>,
    pub matrices: Vec<String>,
    pub oof_keys: Vec<String>,
    pub strategies: Vec<Strategy>,
    pub models: Vec<ModelRecord>,
    pub runs: Vec<Run>,
    pub marks: Vec<(Kind, String)>,
}

/// What an accepted import writes, in one IndexedDB transaction. Buffers, in order: each
/// dataset's columns (per series, `columns::names` order), each matrix's bytes, each of
/// `oof_keys`' bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportWrites {
    pub datasets: Vec<DatasetWrite>,
    pub matrices: Vec<MatrixWrite>,
    pub oof_keys: Vec<String>,
    /// Strategies with their model files.
    pub strategies: Vec<(Strategy, String)>,
    pub models: Vec<ModelRecord>,
    pub runs: Vec<Run>,
    pub mark: Vec<VerificationRecord>,
    pub unmark: Vec<(Kind, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetWrite {
    pub id: String,
    pub name: String,
    pub sha: String,
    pub summary: Summary,
    pub layout: Vec<SeriesLayout>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixWrite {
    pub model_id: String,
    pub summary: BuildSummary,
    pub preview: Preview,
    pub feature_names: Vec<String>,
    pub spec: Option<BuildSpec>,
}

/// A trained fold, as `FoldDone` reports it (its probabilities travel as buffers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldMeta {
    pub fold: usize,
    /// `None` when the test block has one class only.
    pub auc: Option<f64>,
    pub model_sha: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    /// The worker's wasm is initialised and it takes requests.
    Ready,
    Progress {
        fraction: f64,
    },
    /// Buffers: per series, in order, the columns named by `columns::names`.
    /// `parse_ms`: wall time of the engine's load in the worker, shown to the user.
    Loaded {
        summary: Summary,
        sha: String,
        layout: Vec<SeriesLayout>,
        parse_ms: f64,
    },
    /// Buffers: `[matrix bytes]` (`Matrix::to_bytes`), to be cached under `summary.matrix_sha`.
    Built {
        summary: BuildSummary,
        preview: Preview,
        feature_names: Vec<String>,
        build_ms: f64,
    },
    Sha {
        matrix_sha: String,
    },
    /// After each tree: its losses (valid is `None` without a validation set).
    TreeDone {
        tree: usize,
        train_loss: f64,
        valid_loss: Option<f64>,
    },
    Trained {
        report: FitReport,
        model_json: String,
        train_ms: f64,
    },
    /// `plan.warnings`: configs that cannot trade on this matrix (see `engine::sweep::warnings`).
    Planned {
        plan: Plan,
    },
    /// After each tree of a fold.
    FoldProgress {
        fold: usize,
        tree: usize,
        trees: usize,
    },
    /// Buffers: `[test probabilities, training probabilities]` as `Float64Array`s.
    FoldDone {
        meta: FoldMeta,
    },
    /// Buffers: `[out-of-fold bytes]` (`Oof::to_bytes`), to be cached under its key.
    /// `oof_sha`: SHA-256 of those bytes (the same whichever workers trained which folds).
    Swept {
        runs: Vec<Run>,
        oof_key: String,
        oof_sha: String,
    },
    /// Boxed: a report (curves, trades) is far larger than every other reply; the JSON is the same.
    BacktestDone {
        report: Box<BacktestReport>,
    },
    StrategyTrained {
        strategy: Strategy,
        model_json: String,
    },
    SignalsDone {
        signals: Vec<Signal>,
    },
    /// Buffers: `[bundle bytes]`.
    Exported {
        holds: Holds,
        with_data: bool,
    },
    /// The bundle was accepted; buffers as `ImportWrites` says.
    Imported {
        report: ImportReport,
        writes: ImportWrites,
    },
    Html {
        html: String,
    },
    /// An engine step failed: its kind and message as the engine wrote them.
    Failed {
        error: Report,
    },
    /// The request could not be used at all (a buffer missing or damaged, an unreadable
    /// envelope); no engine step ran.
    Rejected {
        message: String,
    },
}

/// The envelope both directions share: `{v, msg, buffers}` as a plain JS object.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub v: u32,
    pub msg: T,
}

pub fn encode<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(&Envelope { v: PROTOCOL_VERSION, msg }).unwrap_or_default()
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ProtocolError {
    #[error("worker speaks protocol version {0}, the page speaks {PROTOCOL_VERSION}; reload the page")]
    Version(u32),
    #[error("malformed worker message: {0}")]
    Malformed(String),
    /// The worker's reply to a request it could not use.
    #[error("{0}")]
    Rejected(String),
}

pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, ProtocolError> {
    let env: Envelope<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if env.v != PROTOCOL_VERSION {
        return Err(ProtocolError::Version(env.v));
    }
    serde_json::from_value(env.msg).map_err(|e| ProtocolError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn round_trip_and_version_check() {
        let text = encode(&Response::Progress { fraction: 0.5 });
        match decode::<Response>(&text) {
            Ok(Response::Progress { fraction }) => assert_eq!(fraction, 0.5),
            other => panic!("unexpected {other:?}"),
        }
        let old = text.replace(&format!("\"v\":{PROTOCOL_VERSION}"), "\"v\":0");
        assert_eq!(decode::<Response>(&old).unwrap_err(), ProtocolError::Version(0));
    }
}
