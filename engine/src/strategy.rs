//! A strategy: the final model for one config, trained on the whole matrix, and the policy it
//! trades with; signals come from it (the seed's `POST /train` and `GET /signals`).
//!
//! - **Training** uses every row of the matrix. Its calibrator is fitted on out-of-fold
//!   predictions of purged walk-forward folds over those rows (each fold's model saw only
//!   earlier rows), so the probabilities the ladder compares with are calibrated by data the
//!   model did not learn from.
//! - A `top_pct` config trades a bar whose probability reaches the `(1 − fraction)` quantile of
//!   the final model's probabilities on the year of bars before it, as in the sweep
//!   ([`crate::oof`]): a level that follows the model, where a fixed one (learnt from the fold
//!   models' out-of-fold probabilities, or from its own training rows) was measured to be
//!   crossed by 0–56% of unseen bars for a fraction of 0.10.
//! - **Signals** replay the policy over the newest rows ([`crate::matrix::build_scoring`], which
//!   keeps the bars whose label is not known yet). Entering or adding to a long is `BUY`,
//!   reducing or leaving it is `SELL` (and the mirror image for shorts). `confidence` is the
//!   probability of the side called: `p` for `BUY`, `1 − p` for `SELL`. The decision on the
//!   newest bar is `NEW` (to be filled at the next open), the entry of a position still held is
//!   `OPEN`, everything else `CLOSED`. Rows the model was trained on are in-sample: only the
//!   newest signals, on bars past the matrix, are out of sample.

use serde::{Deserialize, Serialize};

use crate::backtest::{self, BacktestError, BacktestInputs, ExitReason, Side};
use crate::config::Config;
use crate::data::time::{format_ms, format_utc, parse_tz};
use crate::data::Cadence;
use crate::data::Series;
use crate::gbt::fit::{fit, CalibrationKind, FitOptions, FitReport};
use crate::gbt::{Booster, ColumnMatrix, GbtError, TrainParams, TreeProgress};
use crate::matrix::{build_scoring_with_progress, BuildSpec, Matrix};
use crate::model::Model;
use crate::oof::trailing_quantiles;
use crate::policy::{top_pct_window, Policy, PolicyError, PolicyKind};
use crate::risk::RiskProfile;
use crate::run::{atr_column, bars_per_year, session_ends};

/// Body of `POST /train`. `allowed_hours` (top level) overrides the config's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainBody {
    pub model_id: String,
    #[serde(default)]
    pub pack_id: Option<String>,
    #[serde(default)]
    pub allowed_hours: Option<String>,
    #[serde(default)]
    pub calibration: Option<CalibrationKind>,
    pub config: Config,
    /// Out-of-fold folds for the calibrator (default 5).
    #[serde(default)]
    pub calibration_folds: Option<usize>,
}

impl TrainBody {
    /// The config with the body's `allowed_hours` applied and normalised.
    pub fn config(&self) -> Result<Config, PolicyError> {
        let mut c = self.config.clone();
        if let Some(h) = &self.allowed_hours {
            c.allowed_hours = Some(h.clone());
        }
        c.normalised()
    }
}

/// A trained strategy's record (the booster is kept beside it as a model file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    pub model_id: String,
    pub pack_id: String,
    pub ticker: String,
    pub cadence: String,
    pub risk_profile: RiskProfile,
    pub config: Config,
    pub config_sha: String,
    pub policy: Policy,
    pub policy_sha: String,
    /// A fixed `top_pct` threshold: what strategies trained before the trailing rule kept (a
    /// quantile of the final model's say on its training rows); read, never written now.
    pub top_pct_threshold: Option<f64>,
    /// A `top_pct` strategy's trailing window in bars ([`crate::policy::top_pct_window`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_pct_window: Option<usize>,
    pub matrix_sha: String,
    pub model_sha: String,
    pub report: FitReport,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Gbt(#[from] GbtError),
    #[error(transparent)]
    Backtest(#[from] BacktestError),
    #[error("the policy uses an ATR stop or target but the matrix has no `atr_*` column")]
    NoAtr,
    #[error("the scoring rows have features {got:?}, the model was trained on {expected:?}")]
    Features { got: Vec<String>, expected: Vec<String> },
    #[error("model {model_id} has no trained strategy whose config_sha starts with {prefix:?}; it has {have}")]
    NoSuchStrategy { model_id: String, prefix: String, have: String },
    #[error("{prefix:?} names {count} strategies of model {model_id} ({have}); give more of the config_sha")]
    Ambiguous { model_id: String, prefix: String, count: usize, have: String },
}

/// Which of a model's trained strategies a command means (`btb signals --strategy`): one per
/// config, so a config_sha prefix names it; without one, the newest (by `created`, when it was
/// trained, then config_sha, so the choice never depends on listing order; the page lists its
/// strategies in this order and shows the first).
pub fn pick<'a>(all: &'a [Strategy], model_id: &str, config_sha: Option<&str>) -> Result<&'a Strategy, StrategyError> {
    let have = || {
        let list: Vec<String> =
            all.iter().map(|s| format!("{} ({})", crate::lineage::short(&s.config_sha), s.config)).collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    let prefix = config_sha.map(str::trim).unwrap_or("");
    let matching: Vec<&Strategy> = all.iter().filter(|s| s.config_sha.starts_with(prefix)).collect();
    if !prefix.is_empty() && matching.len() > 1 {
        return Err(StrategyError::Ambiguous {
            model_id: model_id.to_string(),
            prefix: prefix.to_string(),
            count: matching.len(),
            have: have(),
        });
    }
    matching
        .into_iter()
        .max_by(|a, b| a.created.cmp(&b.created).then_with(|| a.config_sha.cmp(&b.config_sha)))
        .ok_or_else(|| StrategyError::NoSuchStrategy {
            model_id: model_id.to_string(),
            prefix: prefix.to_string(),
            have: have(),
        })
}

/// [`Owner`], owned (what a page sends a worker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerRecord {
    pub model_id: String,
    pub pack_id: String,
    pub cadence: String,
    pub risk_profile: RiskProfile,
    pub created: String,
}

impl OwnerRecord {
    pub fn owner(&self) -> Owner<'_> {
        Owner {
            model_id: &self.model_id,
            pack_id: &self.pack_id,
            cadence: &self.cadence,
            risk_profile: self.risk_profile,
            created: &self.created,
        }
    }
}

/// Who the strategy is for, besides the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub model_id: &'a str,
    pub pack_id: &'a str,
    pub cadence: &'a str,
    pub risk_profile: RiskProfile,
    pub created: &'a str,
}

/// How the final model is fitted: on every row, its calibrator on out-of-fold predictions of
/// `calibration_folds` purged walk-forward folds (at least 1 unless `calibration` is none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalFit {
    pub params: TrainParams,
    pub calibration: CalibrationKind,
    pub calibration_folds: usize,
}

/// Train the final model for `config` on all of `m`.
pub fn train(
    m: &Matrix,
    owner: Owner<'_>,
    config: &Config,
    base: &Policy,
    how: &FinalFit,
    progress: &mut dyn FnMut(TreeProgress),
) -> Result<(Booster, Strategy), StrategyError> {
    let config = config.normalised()?;
    let policy = config.to_policy(base)?;
    let opts = FitOptions {
        params: TrainParams { early_stopping_rounds: 0, ..how.params.clone() },
        valid_fraction: 0.0,
        calibration: how.calibration,
        calibration_folds: if how.calibration == CalibrationKind::None { 0 } else { how.calibration_folds.max(1) },
        purge: m.distance_max,
    };
    let (booster, report) = fit(&m.feature_names, &m.features, &m.label, &opts, progress)?;
    let top_pct_window = match policy.kind {
        PolicyKind::TopPct { .. } => Some(top_pct_window(bars_per_year(owner.cadence, m))),
        PolicyKind::Thr { .. } => None,
    };
    let s = Strategy {
        model_id: owner.model_id.to_string(),
        pack_id: owner.pack_id.to_string(),
        ticker: m.ticker.clone(),
        cadence: owner.cadence.to_string(),
        risk_profile: owner.risk_profile,
        config_sha: config.config_sha(),
        config,
        policy_sha: policy.policy_sha(),
        policy,
        top_pct_threshold: None,
        top_pct_window,
        matrix_sha: m.matrix_sha.clone(),
        model_sha: booster.model_sha(),
        report,
        created: owner.created.to_string(),
    };
    Ok((booster, s))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SignalSide {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SignalStatus {
    New,
    Open,
    Closed,
}

impl SignalSide {
    /// `BUY` / `SELL`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalSide::Buy => "BUY",
            SignalSide::Sell => "SELL",
        }
    }
}

impl SignalStatus {
    /// `NEW` / `OPEN` / `CLOSED`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalStatus::New => "NEW",
            SignalStatus::Open => "OPEN",
            SignalStatus::Closed => "CLOSED",
        }
    }
}

/// One signal, with the seed's `GET /signals` fields first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// The decision bar's open time, RFC 3339 UTC.
    pub timestamp: String,
    pub model_id: String,
    pub ticker: String,
    pub side: SignalSide,
    pub confidence: f64,
    pub status: SignalStatus,
    /// The decision bar in the dataset's zone (a date for daily bars).
    pub bar: String,
    /// Close of the decision bar (the order fills at the next open).
    pub close: f64,
    /// Position (signed fraction of equity) before and after.
    pub from: f64,
    pub to: f64,
    /// Why a position is left, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_reason: Option<ExitReason>,
}

/// The model's probabilities on the scoring rows `m`.
pub fn probabilities(booster: &Booster, m: &Matrix) -> Result<Vec<f64>, StrategyError> {
    if m.feature_names != booster.feature_names {
        return Err(StrategyError::Features { got: m.feature_names.clone(), expected: booster.feature_names.clone() });
    }
    Ok(booster.predict_proba(&ColumnMatrix::new(&m.feature_names, &m.features)?)?)
}

/// A strategy's signals up to the newest bar of `series`: the rows built the way `spec` built the
/// training matrix but without its end. The Signals page, `btb signals`, an export and a bundle's
/// verification all call this, so they compute the same signals.
pub fn latest_signals(
    model: &Model,
    series: &Series,
    tz: &str,
    spec: &BuildSpec,
    booster: &Booster,
    s: &Strategy,
) -> Result<Vec<Signal>, crate::Error> {
    latest_signals_with_progress(model, series, tz, spec, booster, s, &mut |_| {})
}

/// [`latest_signals`], calling `progress(fraction)`: the features (most of the time on a long
/// history) up to 0.9, then the scoring and the replay.
pub fn latest_signals_with_progress(
    model: &Model,
    series: &Series,
    tz: &str,
    spec: &BuildSpec,
    booster: &Booster,
    s: &Strategy,
    progress: &mut dyn FnMut(f64),
) -> Result<Vec<Signal>, crate::Error> {
    let spec = BuildSpec { end: None, ..spec.clone() };
    let scoring = build_scoring_with_progress(model, series, tz, &spec, &mut |f| progress(0.9 * f))?;
    let out = signals(booster, s, &scoring)?;
    progress(1.0);
    Ok(out)
}

/// Signals over the scoring rows `m`, oldest first (see the module docs).
pub fn signals(booster: &Booster, s: &Strategy, m: &Matrix) -> Result<Vec<Signal>, StrategyError> {
    let prob = probabilities(booster, m)?;
    let n = m.rows();
    let threshold = match (s.policy.kind.clone(), s.top_pct_window, s.top_pct_threshold) {
        (PolicyKind::TopPct { fraction }, Some(w), _) => Some(trailing_quantiles(&prob, 0, w, 1.0 - fraction)),
        (_, _, Some(t)) => Some(vec![t; n]),
        _ => None,
    };
    let atr = if s.policy.uses_atr() { Some(atr_column(m).ok_or(StrategyError::NoAtr)?) } else { None };
    let ends = s.policy.flat_at_session_end.then(|| session_ends(m));
    let inputs = BacktestInputs {
        threshold: threshold.as_deref(),
        atr,
        session_end: ends.as_deref(),
        ..BacktestInputs::from_matrix(m, 0..n, &prob)
    };
    let r = backtest::run(&s.policy, &inputs, &s.risk_profile.params(), bars_per_year(&s.cadence, m))?;
    let tz = parse_tz(&m.tz).unwrap_or(chrono_tz::UTC);
    let date_only = !Cadence::from_name(&s.cadence).is_some_and(Cadence::is_intraday);
    let make = |row: usize, from: f64, to: f64, status, exit_reason| {
        let p = prob[row];
        let side = if to > from { SignalSide::Buy } else { SignalSide::Sell };
        Signal {
            timestamp: format_utc(m.ts[row]),
            model_id: s.model_id.clone(),
            ticker: m.ticker.clone(),
            side,
            confidence: if side == SignalSide::Buy { p } else { 1.0 - p },
            status,
            bar: format_ms(m.ts[row], tz, date_only),
            close: m.close[row],
            from,
            to,
            exit_reason,
        }
    };
    let mut out = Vec::with_capacity(2 * r.trades.len() + 1);
    for t in &r.trades {
        let sign = match t.side {
            Side::Long => 1.0,
            Side::Short => -1.0,
        };
        let held = t.exit_reason == ExitReason::EndOfData;
        let status = if held { SignalStatus::Open } else { SignalStatus::Closed };
        out.push(make(t.entry_row, 0.0, sign * t.size, status, None));
        if !held {
            out.push(make(t.exit_row, sign * t.size, 0.0, SignalStatus::Closed, Some(t.exit_reason)));
        }
    }
    if let Some(p) = r.pending {
        let leaving = p.from != 0.0 && (p.to == 0.0 || p.to.signum() != p.from.signum());
        let reason = leaving
            .then(|| p.exit_reason.unwrap_or(if p.to == 0.0 { ExitReason::Signal } else { ExitReason::Reversal }));
        out.push(make(p.row, p.from, p.to, SignalStatus::New, reason));
    }
    out.sort_by_key(|x| (x.timestamp.clone(), x.status == SignalStatus::New));
    Ok(out)
}

/// The newest `limit` signals, newest first (`GET /signals?limit=N`).
pub fn latest(mut signals: Vec<Signal>, limit: usize) -> Vec<Signal> {
    signals.reverse();
    signals.truncate(limit);
    signals
}
