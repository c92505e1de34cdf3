//! Sweep expansion: the seed's `POST /backtest_sweep` body into the list of configs to run.
//!
//! Every ladder in `thresholds_variants` and every fraction in `top_pct_variants` is crossed with
//! every `allowed_hours_variants` entry (none given → one config each, without hours). Values are
//! normalised (`"0.6, 0.65"` → `"0.60,0.65"`, hours sorted, `"14,13"` → `"13,14"`), configs are
//! deduplicated by `config_sha` (first occurrence kept, order otherwise preserved), and the
//! count must not exceed the risk profile's `sweep_budget`.

use serde::{Deserialize, Serialize};

use crate::config::{join, Config, ConfigKind, SweepConfig};
use crate::cv::CvKind;
use crate::error::Error;
use crate::gate::GateOverrides;
use crate::gbt::fit::CalibrationKind;
use crate::gbt::TrainParams;
use crate::matrix::Matrix;
use crate::model::Model;
use crate::oof::OofSpec;
use crate::policy::{fmt_level, parse_hours, parse_ladder, Policy, PolicyError, PolicyOptions};
use crate::risk::RiskParams;
use crate::run::{deflate as deflate_run, evaluate_with, MatrixFacts, Run, RunContext, RunError, RunSettings};
use crate::significance::Trials;

/// The sweep request (unknown fields are ignored).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SweepBody {
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub pack_id: Option<String>,
    #[serde(default)]
    pub thresholds_variants: Vec<String>,
    #[serde(default)]
    pub allowed_hours_variants: Vec<String>,
    #[serde(default)]
    pub top_pct_variants: Vec<f64>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub min_trades: Option<usize>,
    #[serde(default)]
    pub min_sharpe: Option<f64>,
    /// A minimum deflated Sharpe ratio for the gate (off unless given).
    #[serde(default)]
    pub min_dsr: Option<f64>,
    /// Splits, CV kind, model parameters, calibration, exits and costs.
    #[serde(flatten)]
    pub research: ResearchOptions,
}

/// How configs are judged, shared by `POST /backtest_sweep` and `POST /backtest`: the
/// cross-validation and model behind the out-of-fold probabilities, and the policy settings
/// every config shares. Unset fields take the defaults of [`OofSpec::for_matrix`] and
/// [`PolicyOptions::base`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResearchOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<CvKind>,
    /// Rows dropped after a k-fold test block, on top of the purge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<TrainParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationKind>,
    #[serde(flatten)]
    pub policy: PolicyOptions,
}

impl ResearchOptions {
    /// The out-of-fold spec for `m` (purge = its label horizon).
    pub fn oof_spec(&self, m: &Matrix) -> OofSpec {
        let mut s = OofSpec::for_matrix(m, self.params.clone().unwrap_or_default());
        if let Some(k) = self.splits {
            s.splits = k;
        }
        if let Some(cv) = self.cv {
            s.cv = cv;
        }
        if let Some(e) = self.embargo {
            s.embargo = e;
        }
        if let Some(c) = self.calibration {
            s.calibration = c;
        }
        s
    }

    /// The policy settings every config shares, for a model of `cadence` on `m`.
    pub fn base_policy(&self, m: &Matrix, cadence: &str) -> Policy {
        let intraday = crate::data::Cadence::from_name(cadence).is_some_and(crate::data::Cadence::is_intraday);
        self.policy.base(m.distance_max, intraday)
    }

    /// What every config of a request on `model`'s matrix `m` is judged with: the shells (the
    /// CLI, the page's workers) fill nothing in themselves, so they cannot judge differently.
    pub fn settings(
        &self,
        model: &Model,
        m: &Matrix,
        overrides: GateOverrides,
        tag: Option<String>,
        created: String,
    ) -> Result<RunSettings, PolicyError> {
        let base = self.base_policy(m, &model.cadence);
        base.validate()?;
        Ok(RunSettings {
            model_id: model.model_id.clone(),
            pack_id: model.pack_id.clone(),
            cadence: model.cadence.clone(),
            oof_spec: self.oof_spec(m),
            base,
            risk_profile: model.risk_profile,
            overrides,
            tag,
            created,
            trials: None,
        })
    }
}

/// A sweep worked out before any model is trained: its configs within the risk profile's
/// budget, what they are judged with, the out-of-fold cache key to look up first, and the
/// configs that cannot trade on this matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub configs: Vec<SweepConfig>,
    pub settings: RunSettings,
    pub oof_key: String,
    /// See [`warnings`].
    pub warnings: Vec<String>,
}

/// Body of `POST /backtest`: one config (a ladder in `thresholds`, or `top_pct`), judged the
/// way a sweep judges each of its configs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BacktestBody {
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub pack_id: Option<String>,
    #[serde(default)]
    pub thresholds: Option<String>,
    #[serde(default)]
    pub top_pct: Option<f64>,
    #[serde(default)]
    pub allowed_hours: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub min_trades: Option<usize>,
    #[serde(default)]
    pub min_sharpe: Option<f64>,
    /// A minimum deflated Sharpe ratio for the gate (off unless given).
    #[serde(default)]
    pub min_dsr: Option<f64>,
    #[serde(flatten)]
    pub research: ResearchOptions,
}

impl BacktestBody {
    pub fn gate_overrides(&self) -> GateOverrides {
        GateOverrides { min_trades: self.min_trades, min_sharpe: self.min_sharpe, min_dsr: self.min_dsr }
    }

    /// The one config this body names and what it is judged with, as a sweep would judge it.
    pub fn plan(&self, model: &Model, m: &Matrix, created: String) -> Result<(SweepConfig, RunSettings), Error> {
        let config = self.config()?;
        let settings = self.research.settings(model, m, self.gate_overrides(), self.tag.clone(), created)?;
        Ok((config, settings))
    }

    /// The one config this body names (exactly one of `thresholds` and `top_pct`).
    pub fn config(&self) -> Result<SweepConfig, SweepError> {
        let body = SweepBody {
            thresholds_variants: self.thresholds.iter().cloned().collect(),
            top_pct_variants: self.top_pct.into_iter().collect(),
            allowed_hours_variants: self.allowed_hours.iter().cloned().collect(),
            ..SweepBody::default()
        };
        let all = expand(&body, &crate::risk::RiskProfile::Aggressive.params())?;
        match <[SweepConfig; 1]>::try_from(all) {
            Ok([one]) => Ok(one),
            Err(_) => Err(SweepError::NotOne),
        }
    }
}

impl SweepBody {
    /// The sweep of `model` on its matrix `m`, planned: variants checked and expanded under the
    /// model's risk profile, the shared policy validated, before anything is trained.
    pub fn plan(&self, model: &Model, m: &Matrix, created: String) -> Result<Plan, Error> {
        let configs = expand(self, &model.risk_profile.params())?;
        let settings = self.research.settings(model, m, self.gate_overrides(), self.tag.clone(), created)?;
        Ok(Plan { warnings: warnings(&configs, m), oof_key: settings.oof_spec.key(&m.matrix_sha), configs, settings })
    }

    pub fn gate_overrides(&self) -> GateOverrides {
        GateOverrides { min_trades: self.min_trades, min_sharpe: self.min_sharpe, min_dsr: self.min_dsr }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    #[error("thresholds variant `{variant}`: {source}")]
    Thresholds { variant: String, source: PolicyError },
    #[error("allowed hours variant `{variant}`: {source}")]
    Hours { variant: String, source: PolicyError },
    #[error("top_pct variant {0} is outside (0, 1)")]
    TopPct(f64),
    #[error("the sweep has no variants: give thresholds_variants or top_pct_variants")]
    Empty,
    #[error("the sweep has no model variant: give at least one calibration, trees, leaves, learning rate, feature fraction and splits")]
    NoModelVariant,
    #[error("a backtest takes one rule: give either thresholds or top_pct, not both")]
    NotOne,
    #[error(
        "the sweep expands to {count} configs, over the risk profile's budget of {budget}; drop some variants or pick a profile with a larger budget"
    )]
    OverBudget { count: usize, budget: usize },
}

/// Expand `body` into configs (see the module docs); errors on a malformed variant, an empty
/// sweep, or more configs than `risk.sweep_budget`.
pub fn expand(body: &SweepBody, risk: &RiskParams) -> Result<Vec<SweepConfig>, SweepError> {
    let mut rules: Vec<(ConfigKind, String)> = Vec::new();
    for v in &body.thresholds_variants {
        let ladder = parse_ladder(v).map_err(|source| SweepError::Thresholds { variant: v.clone(), source })?;
        rules.push((ConfigKind::Thr, join(ladder.into_iter().map(fmt_level))));
    }
    for &f in &body.top_pct_variants {
        if !(f > 0.0 && f < 1.0) {
            return Err(SweepError::TopPct(f));
        }
        rules.push((ConfigKind::TopPct, fmt_level(f)));
    }
    if rules.is_empty() {
        return Err(SweepError::Empty);
    }
    let mut hours: Vec<Option<String>> = Vec::new();
    for v in &body.allowed_hours_variants {
        let h = parse_hours(v).map_err(|source| SweepError::Hours { variant: v.clone(), source })?;
        hours.push(Some(join(h.into_iter().map(|h| h.to_string()))));
    }
    if hours.is_empty() {
        hours.push(None);
    }
    let mut out: Vec<SweepConfig> = Vec::with_capacity(rules.len() * hours.len());
    let mut seen = std::collections::BTreeSet::new();
    for (kind, value) in &rules {
        for h in &hours {
            let config = Config { kind: *kind, value: value.clone(), allowed_hours: h.clone() };
            let config_sha = config.config_sha();
            if seen.insert(config_sha.clone()) {
                out.push(SweepConfig { config_sha, config });
            }
        }
    }
    if out.len() > risk.sweep_budget {
        return Err(SweepError::OverBudget { count: out.len(), budget: risk.sweep_budget });
    }
    Ok(out)
}

/// Warnings about configs that cannot trade on `m` whatever the model says: allowed hours that no
/// row of the matrix has (daily bars all open at 00:00, so the seed's `"13,14,15"` never
/// matches). One line per distinct hour set, in expansion order.
pub fn warnings(configs: &[SweepConfig], m: &Matrix) -> Vec<String> {
    let mut present = [false; 24];
    for &h in &m.hour {
        if (0.0..24.0).contains(&h) {
            present[h as usize] = true;
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for c in configs {
        let Some(hours) = &c.config.allowed_hours else { continue };
        if !seen.insert(hours.clone()) {
            continue;
        }
        let ok = parse_hours(hours).map(|hs| hs.iter().any(|&h| present[h as usize])).unwrap_or(true);
        if !ok {
            let have: Vec<String> = (0..24).filter(|&h| present[h]).map(|h| h.to_string()).collect();
            out.push(format!(
                "allowed hours {hours} never occur in this matrix (its bars open at hour {}): those configs cannot trade",
                have.join(",")
            ));
        }
    }
    out
}

/// Evaluate every config against the same out-of-fold probabilities (see [`crate::run`]), in
/// expansion order, each run's DSR deflated by all of them. The runs keep their metrics and
/// verdicts; equity curves are not kept. A sweep of several model variants judges each and
/// deflates them together instead ([`judge`], [`deflate`]).
pub fn run(ctx: &RunContext<'_>, configs: &[SweepConfig]) -> Result<Vec<Run>, RunError> {
    Ok(deflate(vec![judge(ctx, configs)?]))
}

/// One model variant's configs, each judged alone on its out-of-fold probabilities: what
/// [`deflate`] needs of it, with the annualisation its matrix gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub runs: Vec<Run>,
    pub bars_per_year: f64,
}

pub fn judge(ctx: &RunContext<'_>, configs: &[SweepConfig]) -> Result<Judged, RunError> {
    judge_with_progress(ctx, configs, &mut |_, _| {})
}

/// [`judge`], calling `progress(done, total)` after each config: a thousand configs on a million
/// bars take minutes, and the shells show how far they got.
pub fn judge_with_progress(
    ctx: &RunContext<'_>,
    configs: &[SweepConfig],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Judged, RunError> {
    let facts = MatrixFacts::of(ctx);
    let alone = RunContext { trials: None, ..*ctx };
    let mut runs = Vec::with_capacity(configs.len());
    for (k, c) in configs.iter().enumerate() {
        runs.push(evaluate_with(&alone, c, &facts)?.run);
        progress(k + 1, configs.len());
    }
    Ok(Judged { runs, bars_per_year: facts.bars_per_year })
}

/// Every run of a sweep, in the order given, each deflated by all of them: every config of every
/// model variant was a try. Needs no matrix, so it runs wherever the variants' runs meet.
pub fn deflate(judged: Vec<Judged>) -> Vec<Run> {
    let sharpes: Vec<f64> =
        judged.iter().flat_map(|j| j.runs.iter().map(|r| r.metrics.sharpe_per_bar(j.bars_per_year))).collect();
    let trials = Trials::of(&sharpes);
    let mut out = Vec::with_capacity(sharpes.len());
    for Judged { runs, bars_per_year } in judged {
        for mut r in runs {
            if let Some(t) = trials {
                deflate_run(&mut r, t, bars_per_year);
            }
            out.push(r);
        }
    }
    out
}

/// A sweep of several model variants as both shells run it, one variant at a time (each on its
/// own out-of-fold probabilities, trained wherever the shell trains): each variant's judged
/// configs and its plan's warnings as they come, then [`Tally::finish`] deflates every run by
/// all the tries and gives each warning once, in the order met.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    judged: Vec<Judged>,
    warnings: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, judged: Judged, warnings: Vec<String>) {
        self.judged.push(judged);
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
    }

    /// The runs (variant by variant, each in its plan's order), deflated together, and the warnings.
    pub fn finish(self) -> (Vec<Run>, Vec<String>) {
        (deflate(self.judged), self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::RiskProfile;

    const SEED: &str = r#"{
      "model_id": "spy_swing_daily",
      "pack_id": "swingsigma",
      "thresholds_variants": ["0.50,0.55,0.60", "0.55,0.60,0.65", "0.60,0.65,0.70"],
      "allowed_hours_variants": ["13,14", "13,14,15"],
      "top_pct_variants": [0.10, 0.15],
      "splits": 5,
      "tag": "initial_sweep",
      "min_trades": 30,
      "min_sharpe": 0.5
    }"#;

    #[test]
    fn seed_body_expands_to_ten() {
        let body: SweepBody = serde_json::from_str(SEED).unwrap();
        let c = expand(&body, &RiskProfile::Balanced.params()).unwrap();
        assert_eq!(c.len(), 10);
        assert_eq!(
            serde_json::to_string(&c[5].config).unwrap(),
            r#"{"kind":"thr","value":"0.60,0.65,0.70","allowed_hours":"13,14,15"}"#
        );
        assert_eq!(
            serde_json::to_string(&c[9].config).unwrap(),
            r#"{"kind":"top_pct","value":"0.15","allowed_hours":"13,14,15"}"#
        );
        assert_eq!(body.gate_overrides().min_sharpe, Some(0.5));
        let loose =
            Config { kind: ConfigKind::Thr, value: "0.6, 0.65,0.7".into(), allowed_hours: Some("15,13,14".into()) };
        assert_eq!(loose.normalised().unwrap(), c[5].config);
    }

    #[test]
    fn bodies_carry_research_options() {
        let body: SweepBody = serde_json::from_str(SEED).unwrap();
        assert_eq!(body.research.splits, Some(5));
        let b: BacktestBody = serde_json::from_str(
            r#"{"model_id":"spy_swing_daily","thresholds":"0.60,0.65,0.70","splits":4,"cv":"k_fold",
                "allowed_hours":"13,14,15","momentum_min":0.0,"commission_bps":1.5,
                "params":{"num_trees":50},"calibration":"isotonic"}"#,
        )
        .unwrap();
        let c = b.config().unwrap();
        assert_eq!(
            serde_json::to_string(&c.config).unwrap(),
            r#"{"kind":"thr","value":"0.60,0.65,0.70","allowed_hours":"13,14,15"}"#
        );
        assert_eq!(b.research.cv, Some(CvKind::KFold));
        assert_eq!(b.research.policy.momentum_min, Some(0.0));
        assert_eq!(b.research.params.as_ref().unwrap().num_trees, 50);
        assert_eq!(b.research.params.as_ref().unwrap().max_leaves, 31, "unset parameters keep their defaults");
        let base = b.research.policy.base(7, false);
        assert_eq!((base.hold_bars, base.commission_bps, base.momentum_min), (7, 1.5, Some(0.0)));
        assert!(b.research.policy.base(7, true).flat_at_session_end);
        let both = BacktestBody { thresholds: Some("0.6".into()), top_pct: Some(0.1), ..BacktestBody::default() };
        assert_eq!(both.config().unwrap_err(), SweepError::NotOne);
        assert_eq!(BacktestBody::default().config().unwrap_err(), SweepError::Empty);
    }

    #[test]
    fn no_hours_and_dedupe() {
        let body = SweepBody {
            thresholds_variants: vec!["0.6,0.65".into(), "0.60, 0.65".into(), "0.7".into()],
            top_pct_variants: vec![0.1, 0.10],
            ..SweepBody::default()
        };
        let c = expand(&body, &RiskProfile::Conservative.params()).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(serde_json::to_string(&c[0].config).unwrap(), r#"{"kind":"thr","value":"0.60,0.65"}"#);
        let hours = SweepBody {
            thresholds_variants: vec!["0.6".into()],
            allowed_hours_variants: vec!["14,13".into(), "13,14".into()],
            ..SweepBody::default()
        };
        assert_eq!(expand(&hours, &RiskProfile::Conservative.params()).unwrap().len(), 1);
    }

    #[test]
    fn budget_and_errors() {
        let body = SweepBody {
            thresholds_variants: (0..21).map(|i| format!("{}", 0.5 + i as f64 / 100.0)).collect(),
            ..SweepBody::default()
        };
        let e = expand(&body, &RiskProfile::Conservative.params()).unwrap_err();
        assert_eq!(e, SweepError::OverBudget { count: 21, budget: 20 });
        assert!(e.to_string().contains("21 configs") && e.to_string().contains("budget of 20"));
        assert_eq!(expand(&body, &RiskProfile::Balanced.params()).unwrap().len(), 21);
        let bad = SweepBody { thresholds_variants: vec!["0.7,0.6".into()], ..SweepBody::default() };
        assert!(matches!(expand(&bad, &RiskProfile::Balanced.params()), Err(SweepError::Thresholds { .. })));
        assert_eq!(expand(&SweepBody::default(), &RiskProfile::Balanced.params()), Err(SweepError::Empty));
        let bad = SweepBody { top_pct_variants: vec![1.5], ..SweepBody::default() };
        assert_eq!(expand(&bad, &RiskProfile::Balanced.params()), Err(SweepError::TopPct(1.5)));
        let bad = SweepBody {
            top_pct_variants: vec![0.1],
            allowed_hours_variants: vec!["25".into()],
            ..SweepBody::default()
        };
        assert!(matches!(expand(&bad, &RiskProfile::Balanced.params()), Err(SweepError::Hours { .. })));
    }
}
