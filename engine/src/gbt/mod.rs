//! Gradient-boosted decision trees for binary classification (logistic loss), written to match
//! LightGBM's algorithm and accuracy while staying pure Rust, single-threaded and bit-for-bit
//! deterministic natively and in wasm32.
//!
//! - [`binning`]: per-feature quantile bins (≤ 255 value bins, `u8`), a separate bin for missing
//!   values (`NaN`); the column-major binned dataset.
//! - [`histogram`]: per-leaf (Σgrad, Σhess, count) histograms; the smaller child is built, the
//!   larger one is the parent minus it.
//! - [`tree`]: leaf-wise (best-first) growth with LightGBM's split gain, L1/L2 regularisation,
//!   learned default directions for missing values and basic monotone constraints.
//! - [`booster`]: the boosting loop ([`train`]), bagging and feature subsampling from a seeded
//!   PRNG, early stopping, prediction, importance, TreeSHAP contributions.
//! - [`calibration`]: Platt sigmoid and isotonic calibrators, reliability bins, Brier score.
//! - [`model_file`]: the versioned, hashed JSON model file.
//!
//! Determinism: all sums are f64 in a fixed order (rows in partition order, features in index
//! order), ties are broken by the lowest index, no hash maps are iterated and no threads run.

pub mod binning;
pub mod booster;
pub mod calibration;
pub mod histogram;
pub mod metrics;
pub mod fit;
pub mod model_file;
mod shap;
pub mod tree;

pub use booster::{train, Booster, FeatureImportance, TreeProgress};
pub use calibration::{brier, reliability, Calibrator, ReliabilityBin};
pub use metrics::{auc, logloss};
pub use tree::{Node, Tree};

use serde::{Deserialize, Serialize};

/// The trainer's code version, hashed into every out-of-fold key ([`crate::oof::OofSpec::key`]):
/// cached fold probabilities are reused only when the code that trained them is this code.
/// Bump it with any change to binning, growth, boosting, calibration or prediction that can move
/// a probability; `engine/tests/matrix.rs` pins a trained model's bytes so such a change cannot
/// go unnoticed.
pub const TRAINER_CODE_VERSION: u32 = 1;

/// Column-major features: `columns[j][i]` is feature `j` at row `i`; `NaN` is a missing value.
/// Borrowed slices, so a block of rows of a large matrix (a fold's training rows, a validation
/// tail) is trained on or predicted without copying it.
#[derive(Clone, Debug)]
pub struct ColumnMatrix<'a> {
    pub names: &'a [String],
    pub columns: Vec<&'a [f64]>,
}

impl<'a> ColumnMatrix<'a> {
    pub fn new(names: &'a [String], columns: &'a [Vec<f64>]) -> Result<Self, GbtError> {
        ColumnMatrix::of_slices(names, columns.iter().map(Vec::as_slice).collect())
    }

    pub fn of_slices(names: &'a [String], columns: Vec<&'a [f64]>) -> Result<Self, GbtError> {
        let m = ColumnMatrix { names, columns };
        m.check()?;
        Ok(m)
    }

    /// Rows `rows` of every column, borrowed. Panics if `rows` runs past the end (callers pass
    /// ranges of their own rows).
    pub fn slice(&self, rows: std::ops::Range<usize>) -> ColumnMatrix<'a> {
        ColumnMatrix { names: self.names, columns: self.columns.iter().map(|c| &c[rows.clone()]).collect() }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.len())
    }

    pub fn n_features(&self) -> usize {
        self.columns.len()
    }

    pub(crate) fn check(&self) -> Result<(), GbtError> {
        if self.names.len() != self.columns.len() {
            return Err(GbtError::Shape(format!(
                "{} feature names for {} columns",
                self.names.len(),
                self.columns.len()
            )));
        }
        let n = self.rows();
        if let Some((j, c)) = self.columns.iter().enumerate().find(|(_, c)| c.len() != n) {
            return Err(GbtError::Shape(format!("column {} has {} rows, expected {n}", self.names[j], c.len())));
        }
        Ok(())
    }
}

/// Training parameters; names and defaults follow LightGBM's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainParams {
    /// Boosting rounds (`num_iterations`).
    pub num_trees: usize,
    pub learning_rate: f64,
    /// Maximum leaves per tree (`num_leaves`).
    pub max_leaves: usize,
    /// Maximum depth; ≤ 0 means none.
    pub max_depth: i32,
    /// Maximum value bins per feature (2..=255); missing values get one more bin.
    pub max_bin: usize,
    pub min_data_in_leaf: usize,
    pub min_sum_hessian_in_leaf: f64,
    pub lambda_l1: f64,
    pub lambda_l2: f64,
    pub min_gain_to_split: f64,
    /// Fraction of rows drawn for each bagging period (1 = no bagging).
    pub bagging_fraction: f64,
    /// Redraw the bag every this many trees (0 = no bagging).
    pub bagging_freq: usize,
    /// Fraction of features each tree may split on.
    pub feature_fraction: f64,
    pub seed: u64,
    /// Stop when the validation logloss has not improved for this many rounds (0 = never).
    pub early_stopping_rounds: usize,
    /// Weight of positive rows.
    pub scale_pos_weight: f64,
    /// Per feature +1 (non-decreasing), -1 (non-increasing) or 0; empty = none.
    pub monotone_constraints: Vec<i8>,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            num_trees: 100,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: -1,
            max_bin: 255,
            min_data_in_leaf: 20,
            min_sum_hessian_in_leaf: 1e-3,
            lambda_l1: 0.0,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            feature_fraction: 1.0,
            seed: 0,
            early_stopping_rounds: 0,
            scale_pos_weight: 1.0,
            monotone_constraints: Vec::new(),
        }
    }
}

impl TrainParams {
    pub fn validate(&self, n_features: usize) -> Result<(), GbtError> {
        let bad = |m: String| Err(GbtError::Param(m));
        if self.num_trees == 0 {
            return bad("num_trees must be at least 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(format!("learning_rate must be > 0, not {}", self.learning_rate));
        }
        if self.max_leaves < 2 || self.max_leaves > 131_072 {
            return bad(format!("max_leaves must be in 2..=131072, not {}", self.max_leaves));
        }
        if !(2..=255).contains(&self.max_bin) {
            return bad(format!("max_bin must be in 2..=255, not {}", self.max_bin));
        }
        if !(self.min_sum_hessian_in_leaf >= 0.0 && self.min_sum_hessian_in_leaf.is_finite()) {
            return bad("min_sum_hessian_in_leaf must be ≥ 0".into());
        }
        for (n, v) in [
            ("lambda_l1", self.lambda_l1),
            ("lambda_l2", self.lambda_l2),
            ("min_gain_to_split", self.min_gain_to_split),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(format!("{n} must be ≥ 0, not {v}"));
            }
        }
        for (n, v) in [("bagging_fraction", self.bagging_fraction), ("feature_fraction", self.feature_fraction)] {
            if !(v > 0.0 && v <= 1.0) {
                return bad(format!("{n} must be in (0, 1], not {v}"));
            }
        }
        if !(self.scale_pos_weight > 0.0 && self.scale_pos_weight.is_finite()) {
            return bad(format!("scale_pos_weight must be > 0, not {}", self.scale_pos_weight));
        }
        if !self.monotone_constraints.is_empty() {
            if self.monotone_constraints.len() != n_features {
                return bad(format!(
                    "{} monotone constraints for {n_features} features",
                    self.monotone_constraints.len()
                ));
            }
            if let Some(c) = self.monotone_constraints.iter().find(|c| !(-1..=1).contains(*c)) {
                return bad(format!("monotone constraints must be -1, 0 or 1, not {c}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GbtError {
    #[error("invalid parameter: {0}")]
    Param(String),
    #[error("bad input shape: {0}")]
    Shape(String),
    #[error("labels must be 0 or 1; row {row} has {value}")]
    Label { row: usize, value: f64 },
    #[error("no training rows")]
    Empty,
    #[error("labels are all {0}: nothing to learn")]
    OneClass(f64),
    #[error("model has {expected} features, input has {got}")]
    FeatureCount { expected: usize, got: usize },
    #[error("model file: {0}")]
    ModelFile(String),
    #[error("calibration: {0}")]
    Calibration(String),
}

/// A small deterministic PRNG (SplitMix64): identical streams natively and in wasm.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as usize
    }
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}
