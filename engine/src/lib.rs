//! The research engine: every number, hash and verdict the workbench shows, in pure Rust so the
//! browser (wasm32) and the command line compute the same bits from the same input.
//!
//! The modules follow the data path, each step reading only what the steps before it produce:
//!
//! - [`data`]: a file (CSV or Parquet, gzip or not) → a columnar [`data::Dataset`] of bars, with
//!   its cadence and quality report; file errors name file, line and column.
//! - [`indicators`]: TA-Lib-exact indicators and their string registry (`"macd:12:26:9"`).
//! - [`features`]: the feature-spec language a model names its columns in ([`features::FeatureSpec`])
//!   and the machine-learning features TA-Lib lacks.
//! - [`matrix`]: a model over a dataset → the rows a model learns from (features, label, prices),
//!   hashed ([`matrix::matrix_sha`]) and stored by that hash.
//! - out of fold: [`cv`] (purged walk-forward and k-fold splits), [`gbt`] (the gradient-boosted
//!   tree trainer), [`oof`] (one model per fold → probabilities for rows no model saw, cached).
//! - runs: [`policy`] (when to hold a position), [`backtest`] (next-bar-open fills, equity),
//!   [`metrics`] (quantstats' definitions), [`significance`] (probabilistic and deflated Sharpe
//!   ratios: a Sharpe weighed by its track record and the tries it was picked from), [`gate`] (pass or fail, with reasons), [`run`] (a config
//!   judged on the out-of-fold probabilities, with its lineage), [`config`] (the unit a sweep
//!   varies), [`sweep`] (a request → the configs to run, within the risk profile's budget).
//! - [`leaderboard`]: filtering and ranking runs.
//! - [`report`]: a run or a model's leaderboard as one self-contained HTML file.
//! - [`heatmap`]: a metric over two of a sweep's dimensions, for a sweep at a glance.
//! - [`sheet`]: the leaderboard, trades, equity and signals as CSV files.
//! - [`remedy`]: what to try for each reason a run failed its gate, as steps the page offers.
//! - [`strategy`]: the final model for a config, and its signals over the newest bars.
//! - [`bundle`]: results as one verified ZIP file, to move them to another store or page.
//!
//! Cross-cutting: [`error`] (one error over every step, and its wire form), [`lineage`]
//! (canonical JSON → SHA-256), `frame` (the byte framing of stored matrices and out-of-fold
//! files), [`determinism`] (the demo whose hashes native and wasm tests pin), [`synth`]
//! (reproducible bars for benchmarks), [`risk`] (the risk profiles), [`model`] (a model from a pack
//! template), [`pack`] (packs and templates), [`label`] (what a row is trained to predict).
//!
//! Determinism: no step starts a thread; parallelism belongs to the callers (workers training
//! folds side by side), and the engine assembles their results in a fixed order, so a result
//! never depends on how many ran.

// The engine returns what it computes; only the shells print (progress goes through callbacks).
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod data;
pub mod indicators;
pub mod features;
pub mod matrix;
pub mod cv;
pub mod gbt;
pub mod oof;
pub mod policy;
pub mod backtest;
pub mod metrics;
pub mod significance;
pub mod gate;
pub mod remedy;
pub mod run;
pub mod config;
pub mod sweep;
pub mod grid;
pub mod leaderboard;
pub mod heatmap;
pub mod study;
pub mod report;
pub mod sheet;
pub mod strategy;
pub mod rebase;
pub mod scan;
pub mod bundle;

pub mod error;
pub mod lineage;
mod frame;
pub mod determinism;
pub mod synth;
pub mod risk;
pub mod model;
pub mod pack;
pub mod label;

pub use error::{Error, ErrorKind, Report};
