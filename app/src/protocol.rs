//! The one message vocabulary between the page and its workers.
//!
//! Modelled on DuckDB-wasm: every request carries an id the page chose, and every message the
//! worker sends for it (progress, then exactly one final answer) carries the same id, so any
//! number of requests may be in flight on one worker and each reply finds its caller. The
//! versioned envelope `{v, id, msg, buffers}` is a plain JS object: `msg` is the serde value
//! (structured clone keeps `NaN` and infinities, which JSON would turn into `null`), and bulk data
//! (file bytes, probabilities) travels beside it as transferred `ArrayBuffer`s, and a series' bars
//! or a stored matrix as a `Blob` handle (`columns`), so a million-row dataset is moved, never
//! copied or stringified.
//!
//! Matrices travel once: `HoldMatrix` hands a worker a matrix (transferred), the worker keeps
//! it under its `matrix_sha`, and every later request names the sha instead of sending bytes.

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
use engine::rebase::Rebased;
use engine::report::Provenance;
use engine::run::{BacktestReport, Run, RunSettings};
use engine::scan::{Scan, ScanSpec};
use engine::strategy::{FinalFit, OwnerRecord, Signal, Strategy};
use engine::sweep::{Judged, Plan, SweepBody};

/// Bumped whenever a variant changes shape; a worker answering another version is refused.
pub const PROTOCOL_VERSION: u32 = 15;
/// SHA-256 of this file without these two lines: `app/tests/shape.rs` fails when the file
/// changes and this pin does not, so a change of shape cannot ship under an old version.
pub const PROTOCOL_SHA: &str = "36201c0fc0d596677d7cb9a2605a487d6245662a582b9f2b3b8ff2dd4bd6875f";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Keep this matrix for the requests that name `matrix_sha`, and drop the ones in `evict`
    /// (the page decides what a worker holds). Buffers: `[matrix bytes]` (`Matrix::to_bytes`).
    HoldMatrix { matrix_sha: String, evict: Vec<String> },
    /// Parse a file. Buffers: `[file bytes]`.
    Load { name: String, options: LoadOptions },
    /// Build a model's matrix from one ticker's bars, unless its `matrix_sha` is among `stored`
    /// (the page's matrices): then the answer is `Sha` and nothing is built
    /// (`engine::matrix::find_or_build`). Buffers: the series' Blob (`columns`).
    BuildMatrix { model: Model, spec: BuildSpec, tz: String, layout: SeriesLayout, stored: Vec<String> },
    /// Move a model to dataset `to_dataset` (`engine::rebase::onto`): its build runs on that
    /// dataset's bars of its ticker and must reproduce every row of its matrix, which is held.
    /// Buffers: the series' Blob (`columns`).
    /// `old_last`: the ticker's last bar in the model's dataset (its summary's `end`), when
    /// it is still stored: a build that ended there reaches the new bars.
    Rebase { record: ModelRecord, to_dataset: String, tz: String, layout: SeriesLayout, old_last: Option<String> },
    /// Rank a dataset's tickers by a scanner (`engine::scan::scan`). Buffers: per entry of
    /// `layout` in order, its series' Blob (`columns`).
    Scan { name: String, tz: String, layout: Vec<SeriesLayout>, spec: ScanSpec },
    /// Train a model on a held matrix.
    Train { matrix_sha: String, options: FitOptions },
    /// Plan a sweep before any training starts (`SweepBody::plan`): its configs under the
    /// model's risk profile (variants checked, budget enforced), the run settings and the
    /// out-of-fold key. `created` stamps the runs. The matrix is held.
    Plan { matrix_sha: String, body: SweepBody, model: Model, created: String },
    /// Train fold `fold` of `spec` on a held matrix and predict its test block.
    OofFold { matrix_sha: String, spec: OofSpec, fold: usize },
    /// Assemble the folds and judge every config. Buffers: per entry of `folds` in order, its
    /// test and inner-holdout probabilities (`Float64Array`s from `FoldDone`).
    Sweep { matrix_sha: String, settings: RunSettings, configs: Vec<SweepConfig>, folds: Vec<FoldMeta> },
    /// Judge every config on cached out-of-fold probabilities. Buffers: `[oof bytes]`.
    SweepCached { matrix_sha: String, settings: RunSettings, configs: Vec<SweepConfig> },
    /// One config's backtest with its equity curve and trades. Buffers: `[oof bytes]`.
    Backtest { matrix_sha: String, settings: RunSettings, config: SweepConfig },
    /// The final model for one config, on every row of a held matrix (`POST /train`).
    TrainStrategy { matrix_sha: String, owner: OwnerRecord, config: Config, base: Policy, how: FinalFit },
    /// A trained strategy's signals over the newest bars of its series, built as `spec` built
    /// its matrix (up to the newest bar). Buffers: the series' Blob (`columns`).
    Signals { model: Model, spec: BuildSpec, strategy: Strategy, model_json: String, tz: String, layout: SeriesLayout },
    /// Write a bundle of `selection` (`engine::bundle::assemble`, then `write`). Buffers, per
    /// source in order: its matrix bytes when `has_matrix`, then its bars' Blob (`columns`) when
    /// it has `bars`; then the bytes of each of `oof_keys`.
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

impl Request {
    /// What the worker is doing while it answers, in the words an error names it with ("the
    /// engine worker failed while training fold 3 of 5 of matrix 1a2b3c4").
    pub fn describe(&self) -> String {
        let short = |sha: &str| sha.chars().take(7).collect::<String>();
        match self {
            Request::HoldMatrix { matrix_sha, .. } => format!("reading matrix {}", short(matrix_sha)),
            Request::Load { name, .. } => format!("reading {name}"),
            Request::BuildMatrix { model, .. } => format!("building the matrix of {}", model.model_id),
            Request::Rebase { record, to_dataset, .. } => {
                format!("moving {} to dataset {to_dataset}", record.model_id)
            }
            Request::Scan { name, spec, .. } => format!("scanning {name} for {}", spec.kind),
            Request::Train { matrix_sha, options } => {
                format!("training {} trees on matrix {}", options.params.num_trees, short(matrix_sha))
            }
            Request::Plan { model, .. } => format!("planning a sweep of {}", model.model_id),
            Request::OofFold { matrix_sha, spec, fold } => {
                format!("training fold {} of {} of matrix {}", fold + 1, spec.splits, short(matrix_sha))
            }
            Request::Sweep { settings, configs, .. } | Request::SweepCached { settings, configs, .. } => {
                format!("judging {} configs of {}", configs.len(), settings.model_id)
            }
            Request::Backtest { settings, config, .. } => {
                format!("backtesting config {} of {}", short(&config.config_sha), settings.model_id)
            }
            Request::TrainStrategy { owner, .. } => format!("training the final model of {}", owner.model_id),
            Request::Signals { model, .. } => format!("computing the signals of {}", model.model_id),
            Request::Export { .. } => "writing a bundle".to_string(),
            Request::ImportBundle { name, .. } => format!("reading the bundle {name}"),
            Request::RunReport { .. } => "writing a run report".to_string(),
            Request::LeaderboardReport { model_id, .. } => format!("writing the leaderboard report of {model_id}"),
        }
    }
}

/// One model's records for an export; its matrix, bars and out-of-fold bytes travel as buffers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportSource {
    pub record: ModelRecord,
    pub has_matrix: bool,
    /// Every trained strategy of the model (one per config), each with its model file.
    pub strategies: Vec<(Strategy, String)>,
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
/// dataset's bars (one Blob per series, `columns`), each matrix's bytes, each of
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
    /// The worker's wasm is initialised and it takes requests (id 0, before any request).
    Ready,
    /// The matrix of a `HoldMatrix` is read and kept.
    Held {
        matrix_sha: String,
    },
    Progress {
        fraction: f64,
    },
    /// Buffers: per series, in order, its Blob (`columns`).
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
    /// The model moved: its new record and what was checked. Buffers: `[matrix bytes]` as a
    /// Blob, like `Built`'s (the page stores it under `summary.matrix_sha`, then the record).
    Rebased {
        record: ModelRecord,
        rebased: Rebased,
        summary: BuildSummary,
        preview: Preview,
        feature_names: Vec<String>,
        build_ms: f64,
    },
    /// A `BuildMatrix` whose matrix the page already stores under this sha.
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
    /// The runs are judged alone: the page deflates every model variant's together
    /// (`engine::sweep::deflate`).
    Swept {
        judged: Judged,
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
    Scanned {
        scan: Scan,
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
    /// The engine panicked on this request (a bug, or a file a dependency cannot read): the
    /// worker's wasm instance is ending; the page replaces the worker.
    Crashed {
        message: String,
        /// The error `btb` gives the same bytes, when the panic happened decoding a file
        /// (`engine::data::panicked`): the page shows that instead of the panic.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Report>,
    },
    /// The request could not be used at all (a buffer missing or damaged, an unreadable
    /// envelope); no engine step ran.
    Rejected {
        message: String,
    },
}

impl Response {
    /// Progress of a request still running; every other message is its final answer.
    pub fn is_progress(&self) -> bool {
        matches!(self, Response::Progress { .. } | Response::TreeDone { .. } | Response::FoldProgress { .. })
    }

    /// The variant's name, for an error about a reply nobody asked for.
    pub fn name(&self) -> &'static str {
        match self {
            Response::Ready => "Ready",
            Response::Held { .. } => "Held",
            Response::Progress { .. } => "Progress",
            Response::Loaded { .. } => "Loaded",
            Response::Built { .. } => "Built",
            Response::Rebased { .. } => "Rebased",
            Response::Sha { .. } => "Sha",
            Response::TreeDone { .. } => "TreeDone",
            Response::Trained { .. } => "Trained",
            Response::Planned { .. } => "Planned",
            Response::FoldProgress { .. } => "FoldProgress",
            Response::FoldDone { .. } => "FoldDone",
            Response::Swept { .. } => "Swept",
            Response::BacktestDone { .. } => "BacktestDone",
            Response::StrategyTrained { .. } => "StrategyTrained",
            Response::SignalsDone { .. } => "SignalsDone",
            Response::Scanned { .. } => "Scanned",
            Response::Exported { .. } => "Exported",
            Response::Imported { .. } => "Imported",
            Response::Html { .. } => "Html",
            Response::Failed { .. } => "Failed",
            Response::Crashed { .. } => "Crashed",
            Response::Rejected { .. } => "Rejected",
        }
    }
}

/// A request's id: chosen by the page, unique among its requests to one worker, echoed on every
/// message the worker sends for it. `0` is the worker's own `Ready`.
pub type RequestId = u32;

/// The envelope both directions share, `{v, id, msg, buffers}` as a plain JS object. A worker's
/// messages also carry `heap`: the bytes its wasm instance holds (an instance never gives memory
/// back, so the page stops a worker that grew large as soon as it is idle).
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub v: u32,
    pub id: RequestId,
    pub msg: T,
}

/// `msg` as the envelope's JS value (maps as objects, `NaN` kept).
// The JS codec is wasm-only; the vocabulary above also builds natively, where `fuzz/` feeds it
// hostile envelopes.
#[cfg(target_arch = "wasm32")]
pub fn encode<T: Serialize>(id: RequestId, msg: &T) -> Result<wasm_bindgen::JsValue, ProtocolError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    Envelope { v: PROTOCOL_VERSION, id, msg }.serialize(&ser).map_err(|e| ProtocolError::Malformed(e.to_string()))
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
    /// A final answer of the wrong kind: a bug on one side, reported instead of waited on.
    #[error("the engine worker answered {reply} while {request}")]
    Unexpected { request: String, reply: &'static str },
}

/// The envelope's id and message. The id is read first, so a message that fails to decode
/// still reaches the request it belongs to.
#[cfg(target_arch = "wasm32")]
pub fn decode<T: for<'de> Deserialize<'de>>(
    value: wasm_bindgen::JsValue,
) -> Result<(RequestId, Result<T, ProtocolError>), ProtocolError> {
    #[derive(Deserialize)]
    struct Head {
        v: u32,
        id: RequestId,
    }
    let head: Head =
        serde_wasm_bindgen::from_value(value.clone()).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if head.v != PROTOCOL_VERSION {
        return Ok((head.id, Err(ProtocolError::Version(head.v))));
    }
    let msg = js_sys::Reflect::get(&value, &"msg".into()).map_err(|_| ProtocolError::Malformed("no msg".into()))?;
    Ok((head.id, serde_wasm_bindgen::from_value(msg).map_err(|e| ProtocolError::Malformed(e.to_string()))))
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn round_trip_keeps_ids_and_nan_and_checks_the_version() {
        let msg = Response::TreeDone { tree: 3, train_loss: f64::NAN, valid_loss: Some(f64::INFINITY) };
        let value = encode(42, &msg).unwrap();
        match decode::<Response>(value.clone()) {
            Ok((42, Ok(Response::TreeDone { tree: 3, train_loss, valid_loss: Some(v) }))) => {
                assert!(train_loss.is_nan());
                assert_eq!(v, f64::INFINITY);
            }
            other => panic!("unexpected {other:?}"),
        }
        js_sys::Reflect::set(&value, &"v".into(), &0.into()).unwrap();
        assert!(matches!(decode::<Response>(value), Ok((42, Err(ProtocolError::Version(0))))));
        // A message that is not ours keeps its id when its body is unreadable.
        let odd = encode(7, &"not a response").unwrap();
        assert!(matches!(decode::<Response>(odd), Ok((7, Err(ProtocolError::Malformed(_))))));
        assert!(decode::<Response>(wasm_bindgen::JsValue::from_str("junk")).is_err());
    }
}
