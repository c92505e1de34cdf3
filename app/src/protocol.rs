//! The one message vocabulary between the page and its workers.
//!
//! Modelled on DuckDB-wasm: a versioned request/response enum travels as a small JSON header,
//! while bulk data (file bytes, bar columns) travels beside it as transferred `ArrayBuffer`s, so a
//! million-row dataset is moved, never copied or stringified.

use serde::{Deserialize, Serialize};

use engine::config::{Config, SweepConfig};
use engine::data::{LoadOptions, SeriesLayout, Summary};
use engine::error::Report;
use engine::gbt::fit::{FitOptions, FitReport};
use engine::matrix::{BuildSpec, BuildSummary, Preview};
use engine::model::Model;
use engine::oof::OofSpec;
use engine::policy::Policy;
use engine::run::{BacktestReport, Run, RunSettings};
use engine::strategy::{FinalFit, OwnerRecord, Signal, Strategy};
use engine::sweep::{Plan, SweepBody};

/// Bumped whenever a variant changes shape; a worker answering another version is refused.
pub const PROTOCOL_VERSION: u32 = 5;
/// SHA-256 of this file without these two lines: `app/tests/shape.rs` fails when the file
/// changes and this pin does not, so a change of shape cannot ship under an old version.
pub const PROTOCOL_SHA: &str = "630e20ff21c795ca5e45140f712c1e6a37056362e8814f9ddf8112cd8895e472";

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
