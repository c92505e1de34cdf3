//! A run: one policy config judged by a backtest on out-of-fold probabilities, with its metrics,
//! gate verdict and lineage. Sweeps produce runs; the leaderboard ranks them; `btb backtest` and
//! the Backtest page show one with its equity curve and trades.
//!
//! The backtest covers the rows the folds test ([`Oof::tested`]), so every decision in it comes
//! from a model that was trained without that row (and, walk-forward, without anything after
//! it). `top_pct` thresholds trail each fold model's own honest probabilities
//! ([`Oof::top_pct_thresholds`]), and a run reports the share of tested rows that reached them
//! ([`Run::top_pct_share`]) beside the fraction it asked for.
//!
//! A run's `run_id` hashes everything its numbers depend on (matrix, out-of-fold key, config,
//! policy, risk profile, gate overrides, [`crate::backtest::BACKTEST_CODE_VERSION`]) and its tag, so running the same sweep twice gives the
//! same ids and a store keeps one copy.

use serde::{Deserialize, Serialize};

use crate::backtest::{self, BacktestError, BacktestInputs, BacktestResult};
use crate::config::{Config, SweepConfig};
use crate::cv::CvKind;
use crate::data::cadence::estimate_bars_per_session;
use crate::data::time::{local_day, parse_tz};
use crate::data::Cadence;
use crate::gate::{gate, Gate, GateOverrides};
use crate::lineage::sha_of;
use crate::matrix::Matrix;
use crate::metrics::Metrics;
use crate::oof::{Crossing, Oof, OofSpec};
use crate::policy::{Policy, PolicyError, PolicyKind};
use crate::risk::RiskProfile;
use crate::significance::Trials;

/// The hashes that tie a run to its inputs (the seed's `lineage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    pub matrix_sha: String,
    pub config_sha: String,
    pub policy_sha: String,
    pub risk_sha: String,
    pub risk_profile: RiskProfile,
    /// Key of the out-of-fold probabilities (model parameters, splits, CV kind, purge).
    pub oof_key: String,
}

/// One evaluated config, as stored and as the leaderboard ranks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub run_id: String,
    pub model_id: String,
    pub pack_id: String,
    pub ticker: String,
    #[serde(default)]
    pub tag: Option<String>,
    /// When the run was made (ISO 8601 UTC), supplied by the caller.
    pub created: String,
    pub config: Config,
    pub policy: Policy,
    pub splits: usize,
    pub cv: CvKind,
    /// Everything the out-of-fold probabilities were made with (model parameters, purge,
    /// calibration): with the matrix, enough to make them again.
    pub oof_spec: OofSpec,
    pub overrides: GateOverrides,
    /// First and last bar of the backtest (the tested rows).
    pub start: String,
    pub end: String,
    pub metrics: Metrics,
    /// A `top_pct` run's fraction asked for and the share of tested rows that reached their
    /// threshold; `None` for a ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_pct_share: Option<TopPctShare>,
    /// The configs this run was judged among (its sweep), which `metrics.dsr` deflates by;
    /// `None` for a run judged alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<Trials>,
    pub gate: Gate,
    pub lineage: Lineage,
}

/// A `top_pct` run's realised share: of the tested rows, those whose probability reached their
/// threshold ([`Oof::crossings`]; before hours and the momentum gate, which only ever take
/// trades away), beside the fraction asked for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopPctShare {
    pub asked: f64,
    pub realised: f64,
}

impl TopPctShare {
    /// Within a factor of 1.5 of the fraction asked; the shells mark the others.
    pub fn met(&self) -> bool {
        self.realised >= self.asked / 1.5 && self.realised <= self.asked * 1.5
    }

    /// `11.1%`.
    pub fn realised_text(&self) -> String {
        format!("{:.1}%", 100.0 * self.realised)
    }

    /// `10%`, `12.5%`.
    pub fn asked_text(&self) -> String {
        let asked = format!("{:.1}", 100.0 * self.asked);
        format!("{}%", asked.strip_suffix(".0").unwrap_or(&asked))
    }
}

/// `11.1% (asked 10%)`, or `2.9% (asked 10%, not met)`: what both shells print.
impl std::fmt::Display for TopPctShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let met = if self.met() { "" } else { ", not met" };
        write!(f, "{} (asked {}{met})", self.realised_text(), self.asked_text())
    }
}

/// What a run is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    pub model_id: &'a str,
    pub pack_id: &'a str,
    /// The model's cadence name (`daily`, `five_minute`, …): annualisation and session ends.
    pub cadence: &'a str,
    pub matrix: &'a Matrix,
    pub oof: &'a Oof,
    pub oof_spec: &'a OofSpec,
    /// Exits, costs, momentum gate, shorts; each config sets the rule and the hours.
    pub base: &'a Policy,
    pub risk_profile: RiskProfile,
    pub overrides: GateOverrides,
    pub tag: Option<&'a str>,
    pub created: &'a str,
    /// The tries a run is deflated by when it is judged again ([`Run::trials`]); a sweep
    /// works them out itself ([`crate::sweep::run`]).
    pub trials: Option<Trials>,
}

/// The owned, serialisable half of a [`RunContext`] (everything but the matrix and its
/// out-of-fold probabilities): what a page sends a worker, what the CLI fills from a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub model_id: String,
    pub pack_id: String,
    pub cadence: String,
    pub oof_spec: OofSpec,
    pub base: Policy,
    pub risk_profile: RiskProfile,
    #[serde(default)]
    pub overrides: GateOverrides,
    #[serde(default)]
    pub tag: Option<String>,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<Trials>,
}

impl RunSettings {
    /// The settings `run` was judged with, to judge it again (its backtest with curves, on the
    /// same matrix and out-of-fold probabilities, gives the same run back).
    pub fn of_run(run: &Run, cadence: &str) -> RunSettings {
        RunSettings {
            model_id: run.model_id.clone(),
            pack_id: run.pack_id.clone(),
            cadence: cadence.to_string(),
            oof_spec: run.oof_spec.clone(),
            base: run.policy.clone(),
            risk_profile: run.lineage.risk_profile,
            overrides: run.overrides,
            tag: run.tag.clone(),
            created: run.created.clone(),
            trials: run.trials,
        }
    }

    pub fn context<'a>(&'a self, matrix: &'a Matrix, oof: &'a Oof) -> RunContext<'a> {
        RunContext {
            model_id: &self.model_id,
            pack_id: &self.pack_id,
            cadence: &self.cadence,
            matrix,
            oof,
            oof_spec: &self.oof_spec,
            base: &self.base,
            risk_profile: self.risk_profile,
            overrides: self.overrides,
            tag: self.tag.as_deref(),
            created: &self.created,
            trials: self.trials,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("config {config}: {source}")]
    Policy { config: String, source: PolicyError },
    #[error("config {config}: {source}")]
    Backtest { config: String, source: BacktestError },
    #[error("the out-of-fold probabilities are for matrix {oof}, not {matrix}")]
    WrongMatrix { oof: String, matrix: String },
    #[error("the policy uses an ATR stop or target but the matrix has no `atr_*` column; add `atr:14` to the model's indicators")]
    NoAtr,
}

/// A run with the backtest behind it (equity per tested bar, trades) and the matrix rows those
/// bars are.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub run: Run,
    pub result: BacktestResult,
    pub rows: std::ops::Range<usize>,
}

/// How a bar's time is written: in the matrix's zone, a date alone unless the cadence is intraday.
fn bar_format(m: &Matrix, cadence: &str) -> (chrono_tz::Tz, bool) {
    let tz = parse_tz(&m.tz).unwrap_or(chrono_tz::UTC);
    (tz, !Cadence::from_name(cadence).is_some_and(Cadence::is_intraday))
}

/// What judging a config needs from the matrix and the cadence besides the config itself:
/// the same for every config of a sweep, so [`crate::sweep::run`] works it out once (session
/// ends and an intraday session length each convert every timestamp to local time).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixFacts {
    pub bars_per_year: f64,
    /// Only when the shared policy goes flat at session ends (configs never change that).
    pub session_ends: Option<Vec<bool>>,
    tz: chrono_tz::Tz,
    date_only: bool,
}

impl MatrixFacts {
    pub fn of(ctx: &RunContext<'_>) -> MatrixFacts {
        let m = ctx.matrix;
        let (tz, date_only) = bar_format(m, ctx.cadence);
        MatrixFacts {
            bars_per_year: bars_per_year(ctx.cadence, m),
            session_ends: ctx.base.flat_at_session_end.then(|| session_ends(m)),
            tz,
            date_only,
        }
    }

    fn format(&self, t: i64) -> String {
        crate::data::time::format_ms(t, self.tz, self.date_only)
    }
}

/// Bars per year for `cadence` on the matrix's timestamps. Intraday: 252 × the median rows per
/// local day of the matrix, because the equity has one value (one return) per matrix row and a
/// matrix keeps fewer rows than a session has bars (opening-range warm-up, labels that would
/// cross the close).
pub fn bars_per_year(cadence: &str, m: &Matrix) -> f64 {
    let c = Cadence::from_name(cadence).unwrap_or(Cadence::Daily);
    if c.is_intraday() {
        let tz = parse_tz(&m.tz).unwrap_or(chrono_tz::UTC);
        c.bars_per_year_with_session(estimate_bars_per_session(&m.ts, tz))
    } else {
        c.bars_per_year()
    }
}

/// `true` on a row whose next row is on another local day (and on the last row): the last bar
/// of its session, for `flat_at_session_end`.
pub fn session_ends(m: &Matrix) -> Vec<bool> {
    let tz = parse_tz(&m.tz).unwrap_or(chrono_tz::UTC);
    let days: Vec<i64> = m.ts.iter().map(|&t| local_day(t, tz)).collect();
    (0..days.len()).map(|i| i + 1 == days.len() || days[i + 1] != days[i]).collect()
}

/// The matrix's ATR column for ATR stops and targets: `atr_14` if present, else the first
/// `atr_*` one.
pub fn atr_column(m: &Matrix) -> Option<&[f64]> {
    m.feature("atr_14").or_else(|| m.feature_names.iter().find(|n| n.starts_with("atr_")).and_then(|n| m.feature(n)))
}

/// Half a year of bars: a shorter tested period fails the gate with `insufficient_data`.
pub fn min_tested_bars(bars_per_year: f64) -> usize {
    (bars_per_year / 2.0).ceil() as usize
}

/// Backtest `config` on the tested rows and judge it.
pub fn evaluate(ctx: &RunContext<'_>, config: &SweepConfig) -> Result<Evaluation, RunError> {
    evaluate_with(ctx, config, &MatrixFacts::of(ctx))
}

/// [`evaluate`] with the matrix facts already worked out (`facts` must be `MatrixFacts::of(ctx)`).
pub fn evaluate_with(ctx: &RunContext<'_>, config: &SweepConfig, facts: &MatrixFacts) -> Result<Evaluation, RunError> {
    let m = ctx.matrix;
    if ctx.oof.matrix_sha != m.matrix_sha || ctx.oof.prob.len() != m.rows() {
        return Err(RunError::WrongMatrix { oof: ctx.oof.matrix_sha.clone(), matrix: m.matrix_sha.clone() });
    }
    let cfg_name = || serde_json::to_string(&config.config).unwrap_or_default();
    let policy = config.config.to_policy(ctx.base).map_err(|source| RunError::Policy { config: cfg_name(), source })?;
    let thresholds = match policy.kind {
        PolicyKind::TopPct { fraction } => {
            Some(ctx.oof.top_pct_thresholds(fraction, crate::policy::top_pct_window(facts.bars_per_year)))
        }
        PolicyKind::Thr { .. } => None,
    };
    let atr = if policy.uses_atr() { Some(atr_column(m).ok_or(RunError::NoAtr)?) } else { None };
    let ends = if policy.flat_at_session_end { facts.session_ends.as_deref() } else { None };
    let top_pct_share = match (&policy.kind, thresholds.as_deref()) {
        (PolicyKind::TopPct { fraction }, Some(t)) => {
            Some(TopPctShare { asked: *fraction, realised: Crossing::pooled(&ctx.oof.crossings(t)) })
        }
        _ => None,
    };
    let r = ctx.oof.tested();
    let inputs = BacktestInputs {
        threshold: thresholds.as_deref().map(|t| &t[r.clone()]),
        atr: atr.map(|a| &a[r.clone()]),
        session_end: ends.map(|e| &e[r.clone()]),
        ..BacktestInputs::from_matrix(m, r.clone(), &ctx.oof.prob)
    };
    let risk = ctx.risk_profile.params();
    let bpy = facts.bars_per_year;
    let result = backtest::run(&policy, &inputs, &risk, bpy)
        .map_err(|source| RunError::Backtest { config: cfg_name(), source })?;
    let verdict = gate(&result.metrics, &risk, ctx.overrides, r.len() >= min_tested_bars(bpy));
    let lineage = Lineage {
        matrix_sha: m.matrix_sha.clone(),
        config_sha: config.config_sha.clone(),
        policy_sha: policy.policy_sha(),
        risk_sha: ctx.risk_profile.risk_sha(),
        risk_profile: ctx.risk_profile,
        oof_key: ctx.oof.key.clone(),
    };
    let run_id = run_id(&lineage, &ctx.overrides, ctx.tag, ctx.model_id, None);
    let mut run = Run {
        run_id,
        model_id: ctx.model_id.to_string(),
        pack_id: ctx.pack_id.to_string(),
        ticker: m.ticker.clone(),
        tag: ctx.tag.map(str::to_string),
        created: ctx.created.to_string(),
        config: config.config.clone(),
        policy,
        splits: ctx.oof_spec.splits,
        cv: ctx.oof_spec.cv,
        oof_spec: ctx.oof_spec.clone(),
        overrides: ctx.overrides,
        start: inputs.ts.first().map(|&t| facts.format(t)).unwrap_or_default(),
        end: inputs.ts.last().map(|&t| facts.format(t)).unwrap_or_default(),
        metrics: result.metrics,
        top_pct_share,
        trials: None,
        gate: verdict,
        lineage,
    };
    let mut result = result;
    if let Some(t) = ctx.trials {
        deflate(&mut run, t, bpy);
        result.metrics = run.metrics;
    }
    Ok(Evaluation { run, result, rows: r })
}

/// Judge `run` as one of `trials`: its `dsr`, then the gate (which may ask for a minimum DSR)
/// and the id, which names the tries. The one way a run gets its trials, whether its sweep
/// works them out or a stored run is judged again, so both give the same bits. Everything else
/// it needs (risk profile, gate overrides, tag, model) the run itself keeps.
pub fn deflate(run: &mut Run, trials: Trials, bars_per_year: f64) {
    run.metrics.deflate(trials, bars_per_year);
    run.trials = Some(trials);
    let data_ok = run.metrics.bars >= min_tested_bars(bars_per_year);
    run.gate = gate(&run.metrics, &run.lineage.risk_profile.params(), run.overrides, data_ok);
    run.run_id = run_id(&run.lineage, &run.overrides, run.tag.as_deref(), &run.model_id, Some(&trials));
}

/// A run's id: the first 16 hex digits of the SHA-256 of the canonical JSON of
/// `{backtest_code_version, lineage, overrides, tag, model_id, trials}`, everything its numbers
/// depend on (through the lineage's hashes; the tries its DSR is deflated by) and what names it.
/// Public so a bundle's reader can recompute it from a run's content instead of trusting the id
/// it was given.
pub fn run_id(
    lineage: &Lineage,
    overrides: &GateOverrides,
    tag: Option<&str>,
    model_id: &str,
    trials: Option<&Trials>,
) -> String {
    #[derive(Serialize)]
    struct IdCanon<'a> {
        backtest_code_version: u32,
        lineage: &'a Lineage,
        overrides: &'a GateOverrides,
        tag: Option<&'a str>,
        model_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        trials: Option<&'a Trials>,
    }
    let canon = IdCanon {
        backtest_code_version: crate::backtest::BACKTEST_CODE_VERSION,
        lineage,
        overrides,
        tag,
        model_id,
        trials,
    };
    sha_of(&canon)[..16].to_string()
}

/// One bar of a backtest's curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// The bar in the dataset's zone (a date for daily bars).
    pub time: String,
    pub equity: f64,
    pub drawdown: f64,
    /// Buying the ticker at the first tested bar's close and holding it (`close / first
    /// close`), the curve a strategy has to beat.
    pub hold: f64,
}

/// A trade with its decision bars' times written out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRow {
    pub entry_time: String,
    pub exit_time: String,
    #[serde(flatten)]
    pub trade: crate::backtest::Trade,
}

/// What `POST /backtest` answers: the run (metrics, gate, lineage), the equity and drawdown
/// curves aligned with the bars' times, and the trades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    #[serde(flatten)]
    pub run: Run,
    pub equity: Vec<EquityPoint>,
    pub trades: Vec<TradeRow>,
    /// The metrics of [`EquityPoint::hold`] over the same bars (fully invested, no costs).
    pub buy_and_hold: Metrics,
}

impl Evaluation {
    /// The report of this evaluation of `m` (the matrix it was judged on).
    pub fn report(&self, m: &Matrix, cadence: &str) -> BacktestReport {
        let (zone, date_only) = bar_format(m, cadence);
        let fmt = |t: i64| crate::data::time::format_ms(t, zone, date_only);
        let dd = crate::metrics::drawdown_series(&self.result.equity);
        let close = &m.close[self.rows.clone()];
        let first = close.first().copied().unwrap_or(f64::NAN);
        let hold: Vec<f64> = close.iter().map(|c| c / first).collect();
        BacktestReport {
            run: self.run.clone(),
            equity: m.ts[self.rows.clone()]
                .iter()
                .zip(&self.result.equity)
                .zip(dd)
                .zip(&hold)
                .map(|(((&t, &equity), drawdown), &hold)| EquityPoint { time: fmt(t), equity, drawdown, hold })
                .collect(),
            buy_and_hold: crate::metrics::from_equity(&hold, bars_per_year(cadence, m)),
            trades: self
                .result
                .trades
                .iter()
                .map(|t| TradeRow { entry_time: fmt(t.entry_ts), exit_time: fmt(t.exit_ts), trade: t.clone() })
                .collect(),
        }
    }
}

/// A run with every field filled and none meaningful, for tests that rank, filter or show runs
/// (each sets the fields it is about).
#[cfg(test)]
pub(crate) fn sample_run(id: &str, model: &str) -> Run {
    use crate::config::ConfigKind;
    Run {
        run_id: id.into(),
        model_id: model.into(),
        pack_id: "swingsigma".into(),
        ticker: "SPY".into(),
        tag: None,
        created: "2026-11-25T00:00:00Z".into(),
        config: Config { kind: ConfigKind::Thr, value: "0.60".into(), allowed_hours: None },
        policy: Policy::thr(vec![0.6]),
        splits: 5,
        cv: CvKind::WalkForward,
        oof_spec: OofSpec {
            params: Default::default(),
            splits: 5,
            cv: CvKind::WalkForward,
            purge: 7,
            embargo: 0,
            calibration: Default::default(),
            valid_fraction: 0.2,
        },
        overrides: GateOverrides::default(),
        start: "2020-01-01".into(),
        end: "2021-01-01".into(),
        metrics: Metrics::default(),
        top_pct_share: None,
        trials: None,
        gate: Gate::from_reasons(vec![]),
        lineage: Lineage {
            matrix_sha: "m".into(),
            config_sha: "c".into(),
            policy_sha: "p".into(),
            risk_sha: "r".into(),
            risk_profile: RiskProfile::Balanced,
            oof_key: "o".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::TopPctShare;

    #[test]
    fn top_pct_share_reads_and_is_met_within_a_factor_of_one_and_a_half() {
        let s = |asked, realised| TopPctShare { asked, realised };
        assert_eq!(s(0.1, 0.111).to_string(), "11.1% (asked 10%)");
        assert_eq!(s(0.125, 0.03).to_string(), "3.0% (asked 12.5%, not met)");
        assert!(s(0.15, 0.1001).met() && s(0.15, 0.2249).met());
        assert!(!s(0.15, 0.099).met() && !s(0.15, 0.226).met());
    }
}
