//! The sweep file (the seed's `sweeps/<model_id>_sweep.yaml`): a sweep's every dimension, typed.
//!
//! One schema for the three places a sweep is written down: a template's default grid, the file
//! `btb sweep-config` writes and `btb sweep --config` runs, and the Sweeps page's form (which
//! loads and saves the same file). Each list is a dimension; the sweep runs their product:
//!
//! - **model variants**: `build.distance_max` × `train.*` × `backtest.splits`. Each distinct one
//!   gets its own out-of-fold probabilities (its own matrix when the label horizon differs);
//! - **policy configs**: (`backtest.thresholds` + `backtest.top_pct`) × `backtest.allowed_hours`,
//!   every one judged on every model variant's probabilities.
//!
//! The risk profile's budget counts the whole product, and every run's deflated Sharpe ratio is
//! deflated by it. Exits, costs, the momentum gate and the gate's minimums are shared by all.
//!
//! The file is a stranger's bytes: it is read with limits on aliases and nesting (a bomb is
//! refused, not expanded) and a bounded size; unknown keys and bad values are refused with the
//! key's path and the line.

use serde::{de, Deserialize, Deserializer, Serialize};

use crate::cv::CvKind;
use crate::gbt::fit::CalibrationKind;
use crate::gbt::TrainParams;
use crate::policy::{fmt_level, parse_hours, parse_ladder};
use crate::risk::RiskParams;
use crate::sweep::{expand, ResearchOptions, SweepBody, SweepError};

/// Largest sweep file read (a grid is a few hundred bytes; this bounds a hostile one).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// A whole sweep: which model, its model variants, its policy configs, the gate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default)]
    pub build: BuildGrid,
    #[serde(default)]
    pub train: TrainGrid,
    #[serde(default)]
    pub backtest: BacktestGrid,
    #[serde(default)]
    pub gate: GateGrid,
}

/// Build dimensions: each label horizon is its own matrix (the model's build with that horizon).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildGrid {
    /// Label horizons in bars; empty: the model's matrix as built.
    #[serde(deserialize_with = "horizons")]
    pub distance_max: Vec<usize>,
}

/// Trainer dimensions (LightGBM's names in [`TrainParams`]); the other parameters keep their
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainGrid {
    #[serde(deserialize_with = "calibrations")]
    pub calibration: Vec<CalibrationKind>,
    #[serde(deserialize_with = "trees")]
    pub trees: Vec<usize>,
    #[serde(deserialize_with = "leaves")]
    pub leaves: Vec<usize>,
    #[serde(deserialize_with = "rates")]
    pub learning_rate: Vec<f64>,
    #[serde(deserialize_with = "fractions")]
    pub feature_fraction: Vec<f64>,
}

impl Default for TrainGrid {
    fn default() -> TrainGrid {
        let p = TrainParams::default();
        TrainGrid {
            calibration: vec![CalibrationKind::default()],
            trees: vec![p.num_trees],
            leaves: vec![p.max_leaves],
            learning_rate: vec![p.learning_rate],
            feature_fraction: vec![p.feature_fraction],
        }
    }
}

/// Policy dimensions, the cross-validation they are judged under, and what every config shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BacktestGrid {
    #[serde(deserialize_with = "ladders")]
    pub thresholds: Vec<String>,
    #[serde(deserialize_with = "tops")]
    pub top_pct: Vec<f64>,
    /// Hour sets; empty: every hour.
    #[serde(deserialize_with = "hour_sets")]
    pub allowed_hours: Vec<String>,
    /// Cross-validation splits: each count is its own model variant.
    #[serde(deserialize_with = "split_counts")]
    pub splits: Vec<usize>,
    pub cv: CvKind,
    /// Rows dropped after a k-fold test block, on top of the purge.
    pub embargo: usize,
    /// Open (or add to) a long only when `momentum_score_total ≥` this; none: no gate.
    #[serde(deserialize_with = "finite_opt")]
    pub momentum_min: Option<f64>,
    pub allow_short: bool,
    pub exits: Exits,
    pub costs: Costs,
}

impl Default for BacktestGrid {
    fn default() -> BacktestGrid {
        BacktestGrid {
            thresholds: ["0.50,0.55,0.60", "0.55,0.60,0.65", "0.60,0.65,0.70"].map(String::from).to_vec(),
            top_pct: vec![0.10, 0.15],
            allowed_hours: Vec::new(),
            splits: vec![5],
            cv: CvKind::WalkForward,
            embargo: 0,
            momentum_min: None,
            allow_short: false,
            exits: Exits::default(),
            costs: Costs::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exits {
    /// Bars in a trade before a time exit; none: the label horizon; 0: no time exit.
    pub hold_bars: Option<usize>,
    #[serde(deserialize_with = "positive_opt")]
    pub atr_stop: Option<f64>,
    #[serde(deserialize_with = "positive_opt")]
    pub atr_target: Option<f64>,
    /// None: intraday models go flat at every session's end, daily ones never.
    pub flat_at_session_end: Option<bool>,
}

/// Every change of position pays `(commission_bps + slippage_bps) / 10⁴` of the traded value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Costs {
    #[serde(deserialize_with = "bps")]
    pub commission_bps: f64,
    #[serde(deserialize_with = "bps")]
    pub slippage_bps: f64,
}

impl Default for Costs {
    /// The seed's one basis point of commission, and two of slippage a liquid ticker's spread costs.
    fn default() -> Costs {
        Costs { commission_bps: 1.0, slippage_bps: 2.0 }
    }
}

/// The gate's minimums in place of the risk profile's (none: the profile's own). None by
/// default: a template's grid that stated the seed's 30 trades / Sharpe 0.5 would set aside the
/// profile the user chose (a conservative model's Sharpe 1.0), and a sweep body that leaves
/// them out takes the profile's, so the page, a sweep file and `btb sweep` gate alike.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateGrid {
    pub min_trades: Option<usize>,
    #[serde(deserialize_with = "finite_opt")]
    pub min_sharpe: Option<f64>,
    #[serde(deserialize_with = "finite_opt")]
    pub min_dsr: Option<f64>,
}

/// One model variant: what its out-of-fold probabilities are made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The label horizon of its matrix; none: the model's matrix as built.
    pub distance_max: Option<usize>,
    pub calibration: CalibrationKind,
    pub trees: usize,
    pub leaves: usize,
    pub learning_rate: f64,
    pub feature_fraction: f64,
    pub splits: usize,
}

impl Variant {
    pub fn params(&self) -> TrainParams {
        TrainParams {
            num_trees: self.trees,
            max_leaves: self.leaves,
            learning_rate: self.learning_rate,
            feature_fraction: self.feature_fraction,
            ..TrainParams::default()
        }
    }

    /// This variant on the matrix it was judged on: its horizon named, as a run's
    /// ([`Variant::of_run`]) is.
    pub fn on(&self, m: &crate::matrix::Matrix) -> Variant {
        Variant { distance_max: Some(m.distance_max), ..self.clone() }
    }

    /// The variant a run was judged on, from what the run keeps (its out-of-fold spec; the purge
    /// is its matrix's label horizon).
    pub fn of_run(run: &crate::run::Run) -> Variant {
        Variant::of_spec(&run.oof_spec)
    }

    /// The variant out-of-fold probabilities made with `s` stand for.
    pub fn of_spec(s: &crate::oof::OofSpec) -> Variant {
        Variant {
            distance_max: Some(s.purge),
            calibration: s.calibration,
            trees: s.params.num_trees,
            leaves: s.params.max_leaves,
            learning_rate: s.params.learning_rate,
            feature_fraction: s.params.feature_fraction,
            splits: s.splits,
        }
    }
}

/// The one wording of a model variant: `sigmoid · 100 trees · 31 leaves · lr 0.1 · ff 1 · 5 splits`
/// (`· horizon 7` first when the variant names its label horizon).
impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(d) = self.distance_max {
            write!(f, "horizon {d} · ")?;
        }
        let cal = match self.calibration {
            CalibrationKind::Sigmoid => "sigmoid",
            CalibrationKind::Isotonic => "isotonic",
            CalibrationKind::None => "uncalibrated",
        };
        write!(
            f,
            "{cal} · {} trees · {} leaves · lr {} · ff {} · {} splits",
            self.trees, self.leaves, self.learning_rate, self.feature_fraction, self.splits
        )
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// The parser's or the schema's words (a file's with the line and column it stopped at).
    #[error("{0}")]
    Invalid(String),
    #[error("the sweep file is {0} bytes; a sweep file is at most {MAX_FILE_BYTES} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

impl Grid {
    /// The sweep file text, commented so that a user knows what each list means.
    pub fn from_yaml(text: &str) -> Result<Grid, GridError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(GridError::TooLarge(text.len()));
        }
        serde_yaml_ng::from_str::<Grid>(text).map_err(|e| GridError::Invalid(one_line(&e.to_string())))
    }

    /// A grid given as JSON (a form's fields, a request body), under the same checks as a file.
    pub fn from_json(value: serde_json::Value) -> Result<Grid, GridError> {
        serde_json::from_value(value).map_err(|e| GridError::Invalid(e.to_string()))
    }

    /// A template's grid for `model_id` of `pack_id`.
    pub fn for_model(template: &crate::pack::Template, model_id: &str, pack_id: &str) -> Grid {
        Grid { model_id: Some(model_id.to_string()), pack_id: Some(pack_id.to_string()), ..template.sweep.clone() }
    }

    /// Every model variant, in file order (horizon, calibration, trees, leaves, learning rate,
    /// feature fraction, splits; the last varies fastest), each once.
    pub fn variants(&self) -> Vec<Variant> {
        let t = &self.train;
        let horizons: Vec<Option<usize>> = if self.build.distance_max.is_empty() {
            vec![None]
        } else {
            self.build.distance_max.iter().copied().map(Some).collect()
        };
        let mut out: Vec<Variant> = Vec::new();
        for &distance_max in &horizons {
            for &calibration in &t.calibration {
                for &trees in &t.trees {
                    for &leaves in &t.leaves {
                        for &learning_rate in &t.learning_rate {
                            for &feature_fraction in &t.feature_fraction {
                                for &splits in &self.backtest.splits {
                                    let v = Variant {
                                        distance_max,
                                        calibration,
                                        trees,
                                        leaves,
                                        learning_rate,
                                        feature_fraction,
                                        splits,
                                    };
                                    if !out.contains(&v) {
                                        out.push(v);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The sweep body of one model variant: this grid's policy configs, judged on `v`.
    pub fn body(&self, v: &Variant) -> SweepBody {
        let b = &self.backtest;
        let mut research = ResearchOptions {
            splits: Some(v.splits),
            cv: Some(b.cv),
            embargo: Some(b.embargo),
            params: Some(v.params()),
            calibration: Some(v.calibration),
            ..ResearchOptions::default()
        };
        let p = &mut research.policy;
        p.momentum_min = b.momentum_min;
        p.allow_short = Some(b.allow_short);
        p.hold_bars = b.exits.hold_bars;
        p.atr_stop = b.exits.atr_stop;
        p.atr_target = b.exits.atr_target;
        p.flat_at_session_end = b.exits.flat_at_session_end;
        p.commission_bps = Some(b.costs.commission_bps);
        p.slippage_bps = Some(b.costs.slippage_bps);
        SweepBody {
            model_id: self.model_id.clone(),
            pack_id: self.pack_id.clone(),
            thresholds_variants: b.thresholds.clone(),
            allowed_hours_variants: b.allowed_hours.clone(),
            top_pct_variants: b.top_pct.clone(),
            tag: self.tag.clone().filter(|t| !t.trim().is_empty()),
            min_trades: self.gate.min_trades,
            min_sharpe: self.gate.min_sharpe,
            min_dsr: self.gate.min_dsr,
            research,
        }
    }

    /// Model variants × policy configs, checked against the risk profile's budget: the whole
    /// product is what the sweep tries (and what its runs' Sharpe ratios are deflated by).
    pub fn size(&self, risk: &RiskParams) -> Result<(usize, usize), SweepError> {
        let all = self.variants();
        let first = all.first().ok_or(SweepError::NoModelVariant)?;
        let unbounded = RiskParams { sweep_budget: usize::MAX, ..*risk };
        let configs = expand(&self.body(first), &unbounded)?.len();
        let variants = all.len();
        let count = variants * configs;
        if count > risk.sweep_budget {
            return Err(SweepError::OverBudget { count, budget: risk.sweep_budget });
        }
        Ok((variants, configs))
    }

    /// The sweep file: this grid as YAML, every key commented. [`Grid::from_yaml`] reads it back
    /// to the same grid.
    pub fn to_yaml(&self) -> String {
        let mut y = String::new();
        let model = self.model_id.as_deref().unwrap_or("a model");
        y.push_str(&format!(
            "# Sweep of {model}. Every list is a dimension and the sweep runs their product:\n\
             # each model variant (build × train × splits) gets its own out-of-fold probabilities,\n\
             # and every policy config (thresholds and top_pct, × allowed_hours) is judged on each.\n\
             # The risk profile's budget counts the whole product; so does each run's deflated Sharpe.\n\
             # Run it with `btb sweep --config FILE`, or load it on the Sweeps page.\n"
        ));
        if let Some(m) = &self.model_id {
            y.push_str(&format!("model_id: {}\n", quote(m)));
        }
        if let Some(p) = &self.pack_id {
            y.push_str(&format!("pack_id: {}\n", quote(p)));
        }
        y.push_str("# Names the runs on the Leaderboard (optional).\n");
        y.push_str(&format!("tag: {}\n", self.tag.as_deref().map_or("null".to_string(), quote)));
        y.push_str("\nbuild:\n");
        y.push_str("  # Label horizons in bars (the model's label looks this far ahead); each is its own matrix.\n");
        y.push_str("  # [] = the model's matrix as built.\n");
        y.push_str(&format!("  distance_max: {}\n", flow(self.build.distance_max.iter().map(|d| d.to_string()))));
        let t = &self.train;
        y.push_str("\ntrain:\n");
        y.push_str("  # Probability calibration of each fold's model: sigmoid, isotonic or none.\n");
        y.push_str(&format!(
            "  calibration: {}\n",
            flow(t.calibration.iter().map(|c| {
                match c {
                    CalibrationKind::Sigmoid => "sigmoid",
                    CalibrationKind::Isotonic => "isotonic",
                    CalibrationKind::None => "none",
                }
                .to_string()
            }))
        ));
        y.push_str("  # Boosting rounds.\n");
        y.push_str(&format!("  trees: {}\n", flow(t.trees.iter().map(|v| v.to_string()))));
        y.push_str("  # Leaves per tree (2 or more).\n");
        y.push_str(&format!("  leaves: {}\n", flow(t.leaves.iter().map(|v| v.to_string()))));
        y.push_str("  # Shrinkage of each tree, in (0, 1].\n");
        y.push_str(&format!("  learning_rate: {}\n", flow(t.learning_rate.iter().map(|v| v.to_string()))));
        y.push_str("  # Share of the features each tree may split on, in (0, 1].\n");
        y.push_str(&format!("  feature_fraction: {}\n", flow(t.feature_fraction.iter().map(|v| v.to_string()))));
        let b = &self.backtest;
        y.push_str("\nbacktest:\n");
        y.push_str("  # Threshold ladders: a position opens at the first rung the probability reaches and grows\n");
        y.push_str("  # at each higher one. Each ladder, ascending and within (0, 1), is one config.\n");
        if b.thresholds.is_empty() {
            y.push_str("  thresholds: []\n");
        } else {
            y.push_str("  thresholds:\n");
            for l in &b.thresholds {
                y.push_str(&format!("    - {}\n", quote(l)));
            }
        }
        y.push_str("  # Top fractions: trade the bars whose probability is in this top share of the fold model's\n");
        y.push_str("  # probabilities over the year before. Each is one config.\n");
        y.push_str(&format!("  top_pct: {}\n", flow(b.top_pct.iter().map(|&f| fmt_level(f)))));
        y.push_str("  # Hours (0-23, the dataset's zone) when a position may open; each set multiplies the configs.\n");
        y.push_str("  # [] = every hour. Daily bars all open at hour 0.\n");
        y.push_str(&format!("  allowed_hours: {}\n", flow(b.allowed_hours.iter().map(|h| quote(h)))));
        y.push_str("  # Cross-validation splits (2 or more); each count is its own model variant.\n");
        y.push_str(&format!("  splits: {}\n", flow(b.splits.iter().map(|v| v.to_string()))));
        y.push_str("  # walk_forward (train on the past only) or k_fold (purged and embargoed).\n");
        y.push_str(&format!(
            "  cv: {}\n",
            match b.cv {
                CvKind::WalkForward => "walk_forward",
                CvKind::KFold => "k_fold",
            }
        ));
        y.push_str("  # Rows dropped after a k-fold test block, on top of the purge (the label horizon).\n");
        y.push_str(&format!("  embargo: {}\n", b.embargo));
        y.push_str("  # Open a long only when momentum_score_total is at least this; null = no momentum gate.\n");
        y.push_str(&format!("  momentum_min: {}\n", opt(b.momentum_min)));
        y.push_str("  # Also sell short below the mirrored ladder.\n");
        y.push_str(&format!("  allow_short: {}\n", b.allow_short));
        y.push_str("  exits:\n");
        y.push_str("    # Bars in a trade before a time exit; null = the label horizon, 0 = none.\n");
        y.push_str(&format!("    hold_bars: {}\n", b.exits.hold_bars.map_or("null".to_string(), |v| v.to_string())));
        y.push_str("    # Stop loss and take profit, in ATRs from the entry; null = none.\n");
        y.push_str(&format!("    atr_stop: {}\n", opt(b.exits.atr_stop)));
        y.push_str(&format!("    atr_target: {}\n", opt(b.exits.atr_target)));
        y.push_str("    # Go flat on each session's last bar; null = intraday models do, daily ones do not.\n");
        y.push_str(&format!(
            "    flat_at_session_end: {}\n",
            b.exits.flat_at_session_end.map_or("null".to_string(), |v| v.to_string())
        ));
        y.push_str("  # Paid on every change of position, in basis points of the value traded.\n");
        y.push_str("  costs:\n");
        y.push_str(&format!("    commission_bps: {}\n", b.costs.commission_bps));
        y.push_str(&format!("    slippage_bps: {}\n", b.costs.slippage_bps));
        let g = &self.gate;
        y.push_str(
            "\n# A run passes when it meets these (and the profile's drawdown limit); null = the risk profile's own.\n",
        );
        y.push_str("gate:\n");
        y.push_str(&format!("  min_trades: {}\n", g.min_trades.map_or("null".to_string(), |v| v.to_string())));
        y.push_str(&format!("  min_sharpe: {}\n", opt(g.min_sharpe)));
        y.push_str("  # Minimum deflated Sharpe ratio (the chance the Sharpe beats luck over this many tries).\n");
        y.push_str(&format!("  min_dsr: {}\n", opt(g.min_dsr)));
        y
    }
}

/// A YAML double-quoted scalar: JSON's string escapes are YAML's.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn flow(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn opt(v: Option<f64>) -> String {
    v.map_or("null".to_string(), |v| v.to_string())
}

/// The reader's message (`train: unknown field `leafs`, … at line 20 column 3`: the key's path,
/// what is wrong, where) on one line: the shells put the file's name before it.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A list of values each `ok` accepts, non-empty unless `may_be_empty`; a bad value is refused
/// where it stands, so the reader's error names its line.
fn checked<'de, D, T>(
    d: D,
    key: &str,
    may_be_empty: bool,
    what: &str,
    ok: impl Fn(&T) -> bool,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + std::fmt::Debug,
{
    let v = Vec::<T>::deserialize(d)?;
    if v.is_empty() && !may_be_empty {
        return Err(de::Error::custom(format!("{key}: give at least one value ({what})")));
    }
    if let Some(bad) = v.iter().find(|x| !ok(x)) {
        return Err(de::Error::custom(format!("{key}: {bad:?} is not {what}")));
    }
    Ok(v)
}

fn horizons<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    checked(d, "distance_max", true, "a label horizon of 1 bar or more", |&x: &usize| x >= 1)
}
fn calibrations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CalibrationKind>, D::Error> {
    checked(d, "calibration", false, "a calibration", |_: &CalibrationKind| true)
}
fn trees<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    checked(d, "trees", false, "a number of trees from 1 to 100000", |&x: &usize| (1..=100_000).contains(&x))
}
fn leaves<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    checked(d, "leaves", false, "a number of leaves from 2 to 131072", |&x: &usize| (2..=131_072).contains(&x))
}
fn rates<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    checked(d, "learning_rate", false, "a learning rate in (0, 1]", |&x: &f64| x > 0.0 && x <= 1.0)
}
fn fractions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    checked(d, "feature_fraction", false, "a feature fraction in (0, 1]", |&x: &f64| x > 0.0 && x <= 1.0)
}
fn tops<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    checked(d, "top_pct", true, "a top fraction in (0, 1)", |&x: &f64| x > 0.0 && x < 1.0)
}
fn split_counts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    checked(d, "splits", false, "a number of splits from 2 to 100", |&x: &usize| (2..=100).contains(&x))
}
fn ladders<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    for l in &v {
        parse_ladder(l).map_err(|e| de::Error::custom(format!("thresholds: ladder {l:?}: {e}")))?;
    }
    Ok(v)
}
fn hour_sets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    for h in &v {
        parse_hours(h).map_err(|e| de::Error::custom(format!("allowed_hours: {h:?}: {e}")))?;
    }
    Ok(v)
}
fn positive_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !(x > 0.0 && x.is_finite()) => {
            Err(de::Error::custom(format!("{x} is not a positive number of ATRs")))
        }
        _ => Ok(v),
    }
}
fn finite_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !x.is_finite() => Err(de::Error::custom(format!("{x} is not a finite number"))),
        _ => Ok(v),
    }
}
fn bps<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let x = f64::deserialize(d)?;
    if !(0.0..=10_000.0).contains(&x) {
        return Err(de::Error::custom(format!("{x} is not a cost in basis points from 0 to 10000")));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::RiskProfile;

    #[test]
    fn the_written_file_reads_back_to_the_same_grid() {
        for p in crate::pack::packs() {
            for t in &p.templates {
                let g = Grid::for_model(t, "spy_swing_daily", &p.id);
                let text = g.to_yaml();
                assert_eq!(Grid::from_yaml(&text).unwrap(), g, "{text}");
            }
        }
        let mut g = Grid { tag: Some("odd \"tag\": with # and \\".into()), ..Grid::default() };
        g.train.learning_rate = vec![0.05, 0.1];
        g.backtest.exits.atr_stop = Some(1.5);
        g.backtest.thresholds.clear();
        g.gate.min_dsr = Some(0.95);
        assert_eq!(Grid::from_yaml(&g.to_yaml()).unwrap(), g);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_key_and_line() {
        let text = Grid::default().to_yaml();
        let typo = text.replace("  leaves:", "  leafs:");
        let e = Grid::from_yaml(&typo).unwrap_err().to_string();
        let line = typo.lines().position(|l| l.starts_with("  leafs:")).unwrap() + 1;
        assert!(
            e.starts_with("train: unknown field `leafs`") && e.ends_with(&format!("at line {line} column 3")),
            "{e}"
        );
        let bad = text.replace("learning_rate: [0.1]", "learning_rate: [0.1, 1.5]");
        let e = Grid::from_yaml(&bad).unwrap_err().to_string();
        assert!(e.starts_with("train: learning_rate: 1.5 is not a learning rate in (0, 1] at line "), "{e}");
        let bad = text.replace("\"0.55,0.60,0.65\"", "\"0.65,0.60\"");
        let e = Grid::from_yaml(&bad).unwrap_err().to_string();
        assert!(e.contains("ascending") && e.contains("line"), "{e}");
        let e = Grid::from_yaml(&text.replace("trees: [100]", "trees: []")).unwrap_err().to_string();
        assert!(e.contains("at least one value"), "{e}");
        let e = Grid::from_yaml(&text.replace("cv: walk_forward", "cv: rolling")).unwrap_err().to_string();
        assert!(e.contains("rolling") && e.contains("line"), "{e}");
        assert!(Grid::from_yaml("backtest: [unclosed").is_err());
        let e = Grid::from_yaml(&text.replace("min_sharpe: null", "min_sharpe: .nan")).unwrap_err().to_string();
        assert!(e.contains("not a finite number"), "{e}");
        assert!(matches!(Grid::from_yaml(&"#".repeat(MAX_FILE_BYTES + 1)), Err(GridError::TooLarge(_))));
        // A bomb of aliases is refused by the parser's budget, not expanded.
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        assert!(Grid::from_yaml(bomb).is_err());
    }

    #[test]
    fn the_product_is_the_sweep_and_counts_against_the_budget() {
        let mut g = Grid::default();
        assert_eq!(g.size(&RiskProfile::Balanced.params()).unwrap(), (1, 5));
        g.train.calibration = vec![CalibrationKind::Sigmoid, CalibrationKind::Isotonic];
        g.backtest.splits = vec![4, 5, 4];
        g.build.distance_max = vec![5];
        let v = g.variants();
        assert_eq!(v.len(), 4, "repeated values are one variant");
        assert_eq!(v[1].to_string(), "horizon 5 · sigmoid · 100 trees · 31 leaves · lr 0.1 · ff 1 · 5 splits");
        assert_eq!(g.size(&RiskProfile::Conservative.params()).unwrap(), (4, 5));
        g.backtest.allowed_hours = vec!["13,14".into(), "13,14,15".into()];
        assert_eq!(
            g.size(&RiskProfile::Conservative.params()).unwrap_err(),
            SweepError::OverBudget { count: 40, budget: 20 }
        );
        let body = g.body(&v[3]);
        assert_eq!(body.research.calibration, Some(CalibrationKind::Isotonic));
        assert_eq!(body.research.splits, Some(5));
        assert_eq!(body.research.policy.commission_bps, Some(1.0));
        // The gate is the risk profile's unless the grid names one.
        assert_eq!((body.min_trades, body.min_sharpe), (None, None));
        g.gate.min_sharpe = Some(0.5);
        assert_eq!(g.body(&v[3]).gate_overrides().min_sharpe, Some(0.5));
    }
}
