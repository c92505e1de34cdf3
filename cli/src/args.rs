//! Flag groups that several commands share, so a flag reads and means the same wherever it
//! appears. Each command takes the seed's API body as JSON (`--spec FILE`) or the same fields as
//! flags; flags win over the file.

use std::path::Path;

use clap::Args;

use engine::cv::CvKind;
use engine::gbt::fit::CalibrationKind;
use engine::gbt::TrainParams;
use engine::policy::PolicyOptions;
use engine::sweep::ResearchOptions;

use crate::error::{read_err, CliError};

/// `target.f = source.f` for each named field whose flag was given (flags win over the spec).
macro_rules! override_with {
    ($target:expr, $source:expr; $($f:ident),*) => {$(
        if $source.$f.is_some() {
            $target.$f = $source.$f.clone();
        }
    )*};
}
pub(crate) use override_with;

/// A `--spec FILE`: the seed's API body the flags then override.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let bytes = std::fs::read(path).map_err(read_err(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Spec { path: path.display().to_string(), detail: e.to_string() })
}

#[derive(Args)]
pub(crate) struct ReadArgs {
    /// Ticker for a single-ticker file (default: the file name), or the one ticker to keep from a long file.
    #[arg(long)]
    pub ticker: Option<String>,
    /// IANA time zone that naive timestamps are in (default: the file's, else UTC).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// Model parameters, shared by `train`, `sweep`, `backtest` and `pipeline`. Unset flags keep
/// the spec's value, else LightGBM's default.
#[derive(Args, Clone, Default)]
pub struct ParamArgs {
    /// Boosting rounds [default: 100].
    #[arg(long)]
    pub trees: Option<usize>,
    /// Leaves per tree [default: 31].
    #[arg(long)]
    pub leaves: Option<usize>,
    /// Learning rate [default: 0.1].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Value bins per feature [default: 255].
    #[arg(long)]
    pub max_bin: Option<usize>,
    /// ≤ 0: no limit [default: -1].
    #[arg(long, allow_hyphen_values = true)]
    pub max_depth: Option<i32>,
    /// [default: 20]
    #[arg(long)]
    pub min_data_in_leaf: Option<usize>,
    /// [default: 0]
    #[arg(long)]
    pub lambda_l2: Option<f64>,
    /// [default: 1]
    #[arg(long)]
    pub bagging_fraction: Option<f64>,
    /// [default: 0]
    #[arg(long)]
    pub bagging_freq: Option<usize>,
    /// [default: 1]
    #[arg(long)]
    pub feature_fraction: Option<f64>,
    /// [default: 0]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after this many trees without validation improvement (0 = never) [default: 0].
    #[arg(long)]
    pub early_stopping: Option<usize>,
}

impl ParamArgs {
    pub fn apply(&self, mut p: TrainParams) -> TrainParams {
        macro_rules! set {
            ($($flag:ident => $field:ident),*) => {$( if let Some(v) = self.$flag { p.$field = v; } )*};
        }
        set!(trees => num_trees, leaves => max_leaves, lr => learning_rate, max_bin => max_bin,
            max_depth => max_depth, min_data_in_leaf => min_data_in_leaf, lambda_l2 => lambda_l2,
            bagging_fraction => bagging_fraction, bagging_freq => bagging_freq,
            feature_fraction => feature_fraction, seed => seed, early_stopping => early_stopping_rounds);
        p
    }
}

/// Policy settings every config shares (exits, costs, filters).
#[derive(Args, Clone, Default)]
pub struct PolicyArgs {
    /// Momentum gate: open longs only when momentum_score_total ≥ this.
    #[arg(long, allow_hyphen_values = true)]
    pub momentum_min: Option<f64>,
    /// Exit after this many bars in a trade (0 = no time exit) [default: the label horizon].
    #[arg(long)]
    pub hold_bars: Option<usize>,
    /// Stop at this many ATRs against the entry (needs an atr_* feature).
    #[arg(long)]
    pub atr_stop: Option<f64>,
    /// Take profit at this many ATRs from the entry.
    #[arg(long)]
    pub atr_target: Option<f64>,
    /// Go flat on every session's last bar [default: true for intraday models].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub flat_at_session_end: Option<bool>,
    /// Commission per unit traded, in basis points [default: 0].
    #[arg(long)]
    pub commission_bps: Option<f64>,
    /// Slippage per unit traded, in basis points [default: 0].
    #[arg(long)]
    pub slippage_bps: Option<f64>,
    /// Trade the mirror-image short side too.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_short: Option<bool>,
}

impl PolicyArgs {
    pub fn apply(&self, o: &mut PolicyOptions) {
        override_with!(o, self; momentum_min, hold_bars, atr_stop, atr_target, flat_at_session_end, commission_bps, slippage_bps, allow_short);
    }
}

/// How configs are judged: CV, model, calibration, policy settings.
#[derive(Args, Clone, Default)]
pub struct ResearchArgs {
    /// Cross-validation folds [default: 5].
    #[arg(long)]
    pub splits: Option<usize>,
    /// walk_forward (default) or k_fold.
    #[arg(long, value_parser = ["walk_forward", "k_fold"])]
    pub cv: Option<String>,
    /// Rows dropped after each k-fold test block besides the purge [default: 0].
    #[arg(long)]
    pub embargo: Option<usize>,
    /// Calibrator of each fold's model [default: sigmoid].
    #[arg(long, value_parser = ["sigmoid", "isotonic", "none"])]
    pub calibration: Option<String>,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl ResearchArgs {
    pub fn apply(&self, r: &mut ResearchOptions) -> Result<(), CliError> {
        override_with!(r, self; splits, embargo);
        if let Some(cv) = &self.cv {
            r.cv = Some(if cv == "k_fold" { CvKind::KFold } else { CvKind::WalkForward });
        }
        if let Some(c) = &self.calibration {
            r.calibration = Some(c.parse::<CalibrationKind>()?);
        }
        let p = self.params.apply(r.params.clone().unwrap_or_default());
        if p != TrainParams::default() || r.params.is_some() {
            r.params = Some(p);
        }
        self.policy.apply(&mut r.policy);
        Ok(())
    }
}
