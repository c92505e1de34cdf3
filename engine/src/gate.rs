//! The gate: pass/fail with reasons, from a run's metrics and the risk profile.
//!
//! | reason | fails when |
//! |---|---|
//! | `min_trades_not_met` | `trades < min_trades` (override, else the profile's, 30) |
//! | `poor_sharpe` | not `sharpe > min_sharpe` (override, else the profile's) |
//! | `excessive_drawdown` | `|max_dd| ≥` the profile's `max_drawdown` |
//! | `negative_return` | not `return > 0` (a zero return fails too: the seed asks for positive returns) |
//! | `insufficient_data` | the caller says so: a sweep run whose backtest covers less than half a year of bars ([`crate::run::min_tested_bars`]); too few rows for the folds at all is an error before any run |
//!
//! Reasons are listed in that order. `pass` is derived: true exactly when there is no reason.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

use crate::metrics::Metrics;
use crate::risk::RiskParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateReason {
    MinTradesNotMet,
    PoorSharpe,
    ExcessiveDrawdown,
    NegativeReturn,
    InsufficientData,
    /// The deflated Sharpe ratio is below the minimum asked for.
    PoorDsr,
}

impl GateReason {
    /// The serialised name (`min_trades_not_met`, …), for text output.
    pub fn as_str(self) -> &'static str {
        match self {
            GateReason::MinTradesNotMet => "min_trades_not_met",
            GateReason::PoorSharpe => "poor_sharpe",
            GateReason::ExcessiveDrawdown => "excessive_drawdown",
            GateReason::NegativeReturn => "negative_return",
            GateReason::InsufficientData => "insufficient_data",
            GateReason::PoorDsr => "poor_dsr",
        }
    }

    /// What to try next, in the seed's words ("Common failures and solutions"), so a report or a
    /// page that shows a failure also shows its remedy. The seed names none for
    /// `negative_return`; its text is ours.
    pub fn remedy(self) -> &'static str {
        match self {
            GateReason::MinTradesNotMet => "Lower threshold or extend period",
            GateReason::PoorSharpe => "Review strategy logic",
            GateReason::ExcessiveDrawdown => "Tighten risk controls",
            GateReason::NegativeReturn => "Review strategy logic and costs",
            GateReason::InsufficientData => "Extend date range",
            GateReason::PoorDsr => "Try fewer configs per sweep or extend period",
        }
    }
}

/// Per-run overrides of the profile's thresholds (the sweep body's `min_trades`, `min_sharpe`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GateOverrides {
    #[serde(default)]
    pub min_trades: Option<usize>,
    #[serde(default)]
    pub min_sharpe: Option<f64>,
    /// A minimum deflated Sharpe ratio (off unless asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_dsr: Option<f64>,
}

/// Serialises as `{"pass": bool, "reasons": [...]}`; `pass` is always recomputed from the
/// reasons (a stored `pass` is ignored when reading).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gate {
    reasons: Vec<GateReason>,
}

impl Gate {
    pub fn from_reasons(mut reasons: Vec<GateReason>) -> Self {
        reasons.sort_unstable();
        reasons.dedup();
        Gate { reasons }
    }

    pub fn pass(&self) -> bool {
        self.reasons.is_empty()
    }

    pub fn reasons(&self) -> &[GateReason] {
        &self.reasons
    }

    /// The reasons as text, `"min_trades_not_met, poor_sharpe"` (empty when it passes).
    pub fn reasons_text(&self) -> String {
        self.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Serialize)]
struct GateOut<'a> {
    pass: bool,
    reasons: &'a [GateReason],
}

#[derive(Deserialize)]
struct GateIn {
    #[serde(default)]
    reasons: Vec<GateReason>,
}

impl Serialize for Gate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        GateOut { pass: self.pass(), reasons: &self.reasons }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Gate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Gate::from_reasons(GateIn::deserialize(d)?.reasons))
    }
}

/// The verdict for `metrics` under `risk` (with `overrides`); `data_ok = false` adds
/// `insufficient_data`.
pub fn gate(metrics: &Metrics, risk: &RiskParams, overrides: GateOverrides, data_ok: bool) -> Gate {
    let mut reasons = Vec::new();
    let min_trades = overrides.min_trades.unwrap_or(risk.min_trades);
    let min_sharpe = overrides.min_sharpe.unwrap_or(risk.min_sharpe);
    if metrics.trades < min_trades {
        reasons.push(GateReason::MinTradesNotMet);
    }
    // comparisons written so that NaN fails
    if metrics.sharpe.partial_cmp(&min_sharpe) != Some(Ordering::Greater) {
        reasons.push(GateReason::PoorSharpe);
    }
    if metrics.max_dd.abs().partial_cmp(&risk.max_drawdown) != Some(Ordering::Less) {
        reasons.push(GateReason::ExcessiveDrawdown);
    }
    if metrics.total_return.partial_cmp(&0.0) != Some(Ordering::Greater) {
        reasons.push(GateReason::NegativeReturn);
    }
    if !data_ok {
        reasons.push(GateReason::InsufficientData);
    }
    if let Some(min_dsr) = overrides.min_dsr.or(risk.min_dsr) {
        if metrics.dsr.partial_cmp(&min_dsr).is_none_or(|o| o == Ordering::Less) {
            reasons.push(GateReason::PoorDsr);
        }
    }
    Gate { reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::RiskProfile;

    fn good() -> Metrics {
        Metrics { sharpe: 1.85, total_return: 0.24, trades: 87, max_dd: -0.08, ..Metrics::default() }
    }

    #[test]
    fn a_minimum_dsr_is_off_until_asked_for() {
        let m = Metrics { dsr: 0.6, ..good() };
        let balanced = RiskProfile::Balanced.params();
        assert!(gate(&m, &balanced, GateOverrides::default(), true).pass());
        let strict = GateOverrides { min_dsr: Some(0.95), ..GateOverrides::default() };
        assert_eq!(gate(&m, &balanced, strict, true).reasons(), &[GateReason::PoorDsr]);
        let met = GateOverrides { min_dsr: Some(0.6), ..GateOverrides::default() };
        assert!(gate(&m, &balanced, met, true).pass());
        let nan = Metrics { dsr: f64::NAN, ..good() };
        assert!(!gate(&nan, &balanced, met, true).pass());
        // off by default: the overrides' JSON (part of every run id) is unchanged
        assert_eq!(
            serde_json::to_string(&GateOverrides::default()).unwrap(),
            r#"{"min_trades":null,"min_sharpe":null}"#
        );
    }

    #[test]
    fn passes_and_serialises() {
        let g = gate(&good(), &RiskProfile::Balanced.params(), GateOverrides::default(), true);
        assert!(g.pass());
        assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"pass":true,"reasons":[]}"#);
    }

    #[test]
    fn every_reason() {
        let m = Metrics { sharpe: 0.6, total_return: 0.0, trades: 29, max_dd: -0.20, ..Metrics::default() };
        let g = gate(&m, &RiskProfile::Balanced.params(), GateOverrides::default(), false);
        assert!(!g.pass());
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"pass":false,"reasons":["min_trades_not_met","poor_sharpe","excessive_drawdown","negative_return","insufficient_data"]}"#
        );
        // overrides loosen the trade count and Sharpe bar; aggressive allows a 20% drawdown
        let o = GateOverrides { min_trades: Some(20), min_sharpe: Some(0.5), ..GateOverrides::default() };
        let g = gate(&m, &RiskProfile::Aggressive.params(), o, true);
        assert_eq!(g.reasons(), &[GateReason::NegativeReturn]);
        let nan = Metrics { sharpe: f64::NAN, ..good() };
        let g = gate(&nan, &RiskProfile::Balanced.params(), GateOverrides::default(), true);
        assert_eq!(g.reasons(), &[GateReason::PoorSharpe]);
    }

    #[test]
    fn names_are_the_serialised_ones() {
        for r in [
            GateReason::MinTradesNotMet,
            GateReason::PoorSharpe,
            GateReason::ExcessiveDrawdown,
            GateReason::NegativeReturn,
            GateReason::InsufficientData,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let g = Gate::from_reasons(vec![GateReason::PoorSharpe, GateReason::MinTradesNotMet]);
        assert_eq!(g.reasons_text(), "min_trades_not_met, poor_sharpe");
    }

    #[test]
    fn pass_is_derived_on_read() {
        let g: Gate = serde_json::from_str(r#"{"pass":true,"reasons":["poor_sharpe"]}"#).unwrap();
        assert!(!g.pass());
        let g: Gate = serde_json::from_str(r#"{"pass":false,"reasons":[]}"#).unwrap();
        assert!(g.pass());
        assert!(serde_json::from_str::<Gate>(r#"{"reasons":["bogus"]}"#).is_err());
    }
}
