//! Policies: the trading rule applied to a model's probabilities, row by row.
//!
//! # The rule (what [`crate::backtest::run`] does with a [`Policy`])
//!
//! Everything is decided on bar `t`'s close from columns known at `t` and executes at
//! `next_open[t]` (the next bar's open), never on the same bar.
//!
//! - **Ladder** (`kind: thr`, rungs `r_1 < … < r_n`): the long level is the number of rungs the
//!   probability has reached, `L = #{i : p ≥ r_i}`; with `allow_short` the short level is
//!   `S = #{i : p ≤ 1 − r_i}` (the mirror image). The target position is
//!   `position_size × (L − S) / n` (a fraction of equity; `position_size` comes from the risk
//!   profile), re-evaluated on every bar, so the position scales in and out rung by rung.
//! - **Top fraction** (`kind: top_pct`): one rung whose level is the per-row threshold passed in
//!   by the caller: the `(1 − fraction)` quantile of the same model's probabilities on the
//!   [`top_pct_window`] rows before (one year of bars), so the row itself and anything after it
//!   never count. In a sweep those are rows the fold's model never learnt from (its inner
//!   holdout, then its test rows; see [`crate::oof`]), for a final strategy its own recent
//!   bars ([`crate::strategy`]). Each run reports the share that crossed. Short (with
//!   `allow_short`) when `p ≤ 1 − threshold`.
//! - **Filters**: outside `allowed_hours`, or when the momentum gate fails (longs need
//!   `momentum ≥ momentum_min`, shorts the mirror `momentum ≤ −momentum_min`; `NaN` fails), the
//!   position may not be opened or increased (it may be held or reduced). A `NaN` probability
//!   means "no signal" (level 0).
//! - **Exits**: the position goes flat when the level on its side reaches 0 (the probability falls
//!   below the lowest rung), after `hold_bars` bars in the trade (the label horizon; 0 = no
//!   limit), when the close crosses the ATR stop or target (`entry price ∓ atr_stop × ATR` /
//!   `± atr_target × ATR`, ATR taken on the decision bar of the entry, no stop/target when it is `NaN`;
//!   checked on closes), at a
//!   session end when `flat_at_session_end`, and at the end of the data (at the last close).
//!   After a `hold_bars` exit the trade's horizon is over: if the signal still holds on a later
//!   bar, that is a new trade (the next bar's decision, so a time exit always costs a round
//!   trip and shows in the trade list). After a stop or target exit, no re-entry on the same
//!   side until the signal level has first dropped to 0. A signal on the other side exits and
//!   reverses at the same open.
//! - **Costs**: every change of position pays `(commission_bps + slippage_bps) / 10⁴` times the
//!   traded fraction of equity.

use serde::{Deserialize, Serialize};

use crate::lineage::sha_of;

/// Ladder rung or top fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyKind {
    /// Threshold ladder, strictly ascending, every rung in (0, 1).
    Thr { ladder: Vec<f64> },
    /// Trade the top `fraction` (in (0, 1)) of predictions; thresholds are passed per row.
    TopPct { fraction: f64 },
}

/// A trading rule; `policy_sha` is the SHA-256 of its canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(flatten)]
    pub kind: PolicyKind,
    /// Local hours (0..23) in which a position may be opened or increased; `None` = all.
    #[serde(default)]
    pub allowed_hours: Option<Vec<u8>>,
    /// Momentum gate: open or increase a long only when `momentum ≥ momentum_min` (a short only
    /// when `momentum ≤ −momentum_min`).
    #[serde(default)]
    pub momentum_min: Option<f64>,
    /// Exit after this many bars in a trade (the label horizon); 0 = no time exit.
    #[serde(default)]
    pub hold_bars: usize,
    /// Stop at `atr_stop × ATR` against the entry price (needs an ATR column).
    #[serde(default)]
    pub atr_stop: Option<f64>,
    /// Take profit at `atr_target × ATR` from the entry price (needs an ATR column).
    #[serde(default)]
    pub atr_target: Option<f64>,
    /// Go flat on the last bar of every session (intraday).
    #[serde(default)]
    pub flat_at_session_end: bool,
    #[serde(default)]
    pub commission_bps: f64,
    #[serde(default)]
    pub slippage_bps: f64,
    #[serde(default)]
    pub allow_short: bool,
}

/// The parts of a policy that every config of a sweep shares (exits, costs, momentum gate,
/// shorts), as request bodies carry them. Unset fields take the defaults of [`PolicyOptions::base`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum_min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_bars: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_stop: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_at_session_end: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_bps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_bps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_short: Option<bool>,
}

impl PolicyOptions {
    /// A base policy (its rule is a placeholder each config replaces): `hold_bars` defaults to
    /// the label horizon, the model's own idea of how long a trade lasts; intraday models go
    /// flat at every session end by default (their labels never cross one); the sweep file's
    /// default costs ([`crate::grid::Costs`], so a body, a file and the page's form agree); long only.
    pub fn base(&self, label_horizon: usize, intraday: bool) -> Policy {
        let costs = crate::grid::Costs::default();
        Policy {
            momentum_min: self.momentum_min,
            hold_bars: self.hold_bars.unwrap_or(label_horizon),
            atr_stop: self.atr_stop,
            atr_target: self.atr_target,
            flat_at_session_end: self.flat_at_session_end.unwrap_or(intraday),
            commission_bps: self.commission_bps.unwrap_or(costs.commission_bps),
            slippage_bps: self.slippage_bps.unwrap_or(costs.slippage_bps),
            allow_short: self.allow_short.unwrap_or(false),
            ..Policy::thr(vec![0.5])
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("threshold ladder is empty")]
    EmptyLadder,
    #[error("threshold `{0}` is not a number")]
    BadNumber(String),
    #[error("threshold {0} is outside (0, 1)")]
    RungOutOfRange(f64),
    #[error("thresholds must be strictly ascending: {prev} then {next}")]
    NotAscending { prev: f64, next: f64 },
    #[error("top fraction {0} is outside (0, 1)")]
    BadFraction(f64),
    #[error("hour `{0}` is not an hour 0..23")]
    BadHour(String),
    #[error("allowed hours list is empty")]
    EmptyHours,
    #[error("{field} must be a finite number ≥ 0, got {value}")]
    BadParameter { field: &'static str, value: f64 },
}

/// Parse a ladder like `"0.55,0.60,0.65"`: comma-separated, spaces ignored, strictly ascending,
/// each in (0, 1).
pub fn parse_ladder(s: &str) -> Result<Vec<f64>, PolicyError> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let t = part.trim();
        if t.is_empty() {
            if s.trim().is_empty() {
                break;
            }
            return Err(PolicyError::BadNumber(part.to_string()));
        }
        let v: f64 = t.parse().map_err(|_| PolicyError::BadNumber(t.to_string()))?;
        out.push(v);
    }
    validate_ladder(&out)?;
    Ok(out)
}

pub fn validate_ladder(ladder: &[f64]) -> Result<(), PolicyError> {
    if ladder.is_empty() {
        return Err(PolicyError::EmptyLadder);
    }
    for (i, &v) in ladder.iter().enumerate() {
        if !(v > 0.0 && v < 1.0) {
            return Err(PolicyError::RungOutOfRange(v));
        }
        if i > 0 && ladder[i - 1].partial_cmp(&v) != Some(std::cmp::Ordering::Less) {
            return Err(PolicyError::NotAscending { prev: ladder[i - 1], next: v });
        }
    }
    Ok(())
}

/// Parse hours like `"13,14,15"`: integers 0..23; returned sorted and without duplicates.
pub fn parse_hours(s: &str) -> Result<Vec<u8>, PolicyError> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let t = part.trim();
        if t.is_empty() && s.trim().is_empty() {
            break;
        }
        match t.parse::<u8>() {
            Ok(h) if h < 24 => out.push(h),
            _ => return Err(PolicyError::BadHour(t.to_string())),
        }
    }
    if out.is_empty() {
        return Err(PolicyError::EmptyHours);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Format a probability-like number with at least two decimals (`0.6` → `"0.60"`,
/// `0.625` → `"0.625"`), the seed's style.
pub fn fmt_level(v: f64) -> String {
    let s = format!("{v}");
    match s.find('.') {
        Some(i) if s.len() - i > 2 => s,
        Some(_) => format!("{s}0"),
        None if v.is_finite() => format!("{s}.00"),
        None => s,
    }
}

impl Policy {
    /// A ladder policy with every other setting at its default (no filters, no exits but the
    /// signal's, no costs, long only).
    pub fn thr(ladder: Vec<f64>) -> Self {
        Self::with_kind(PolicyKind::Thr { ladder })
    }

    /// A top-fraction policy with every other setting at its default.
    pub fn top_pct(fraction: f64) -> Self {
        Self::with_kind(PolicyKind::TopPct { fraction })
    }

    fn with_kind(kind: PolicyKind) -> Self {
        Policy {
            kind,
            allowed_hours: None,
            momentum_min: None,
            hold_bars: 0,
            atr_stop: None,
            atr_target: None,
            flat_at_session_end: false,
            commission_bps: 0.0,
            slippage_bps: 0.0,
            allow_short: false,
        }
    }

    /// Checks every field (ladder, fraction, hours, non-negative finite costs and multiples).
    pub fn validate(&self) -> Result<(), PolicyError> {
        match &self.kind {
            PolicyKind::Thr { ladder } => validate_ladder(ladder)?,
            PolicyKind::TopPct { fraction } => {
                if !(*fraction > 0.0 && *fraction < 1.0) {
                    return Err(PolicyError::BadFraction(*fraction));
                }
            }
        }
        if let Some(h) = &self.allowed_hours {
            if h.is_empty() {
                return Err(PolicyError::EmptyHours);
            }
            if let Some(bad) = h.iter().find(|&&h| h > 23) {
                return Err(PolicyError::BadHour(bad.to_string()));
            }
        }
        let nonneg = |field: &'static str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(PolicyError::BadParameter { field, value })
            }
        };
        nonneg("commission_bps", self.commission_bps)?;
        nonneg("slippage_bps", self.slippage_bps)?;
        if let Some(v) = self.atr_stop {
            nonneg("atr_stop", v)?;
        }
        if let Some(v) = self.atr_target {
            nonneg("atr_target", v)?;
        }
        if let Some(v) = self.momentum_min {
            if v.is_nan() {
                return Err(PolicyError::BadParameter { field: "momentum_min", value: v });
            }
        }
        Ok(())
    }

    /// Whether an ATR stop or target is set (the backtest then needs an ATR column).
    pub fn uses_atr(&self) -> bool {
        self.atr_stop.is_some() || self.atr_target.is_some()
    }

    /// SHA-256 of the canonical JSON of this policy.
    pub fn policy_sha(&self) -> String {
        sha_of(self)
    }

    /// Bit mask of allowed hours (bit h set = hour h allowed); all 24 bits when unrestricted.
    pub fn hour_mask(&self) -> u32 {
        match &self.allowed_hours {
            None => (1 << 24) - 1,
            Some(h) => h.iter().filter(|&&h| h < 24).fold(0, |m, &h| m | (1 << h)),
        }
    }
}

/// Linear-interpolated quantile (numpy's default) of the finite values of `v`; `NaN` if none.
/// Sorts `v` in place after moving non-finite values out.
/// The trailing window of a `top_pct` threshold: one year of bars at the model's cadence (at
/// least one bar).
pub fn top_pct_window(bars_per_year: f64) -> usize {
    if bars_per_year.is_finite() && bars_per_year >= 1.0 {
        bars_per_year.round() as usize
    } else {
        1
    }
}

pub fn quantile(v: &mut Vec<f64>, q: f64) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    v.sort_unstable_by(|a, b| a.total_cmp(b));
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    v[lo] + (v[hi] - v[lo]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_parsing() {
        assert_eq!(parse_ladder("0.55,0.60,0.65").unwrap(), vec![0.55, 0.6, 0.65]);
        assert_eq!(parse_ladder(" 0.5 , 0.7").unwrap(), vec![0.5, 0.7]);
        assert_eq!(parse_ladder("").unwrap_err(), PolicyError::EmptyLadder);
        assert!(matches!(parse_ladder("0.6,0.55"), Err(PolicyError::NotAscending { .. })));
        assert!(matches!(parse_ladder("0.6,0.6"), Err(PolicyError::NotAscending { .. })));
        assert!(matches!(parse_ladder("0,0.5"), Err(PolicyError::RungOutOfRange(_))));
        assert!(matches!(parse_ladder("0.5,1.0"), Err(PolicyError::RungOutOfRange(_))));
        assert!(matches!(parse_ladder("0.5,NaN"), Err(PolicyError::RungOutOfRange(_))));
        assert!(matches!(parse_ladder("0.5,,0.6"), Err(PolicyError::BadNumber(_))));
        assert!(matches!(parse_ladder("abc"), Err(PolicyError::BadNumber(_))));
    }

    #[test]
    fn hours_parsing() {
        assert_eq!(parse_hours("15,13, 14,13").unwrap(), vec![13, 14, 15]);
        assert!(matches!(parse_hours("24"), Err(PolicyError::BadHour(_))));
        assert!(matches!(parse_hours("-1"), Err(PolicyError::BadHour(_))));
        assert_eq!(parse_hours(" ").unwrap_err(), PolicyError::EmptyHours);
        let mut p = Policy::thr(vec![0.6]);
        assert_eq!(p.hour_mask(), 0xFF_FFFF);
        p.allowed_hours = Some(vec![0, 13]);
        assert_eq!(p.hour_mask(), 1 | (1 << 13));
    }

    #[test]
    fn levels_format() {
        assert_eq!(fmt_level(0.6), "0.60");
        assert_eq!(fmt_level(0.55), "0.55");
        assert_eq!(fmt_level(0.625), "0.625");
        assert_eq!(fmt_level(0.1), "0.10");
    }

    #[test]
    fn serde_and_sha() {
        let mut p = Policy::thr(vec![0.55, 0.6]);
        p.allowed_hours = Some(vec![13, 14]);
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["kind"], "thr");
        assert_eq!(j["ladder"], serde_json::json!([0.55, 0.6]));
        let back: Policy = serde_json::from_value(j).unwrap();
        assert_eq!(back, p);
        let min: Policy = serde_json::from_str(r#"{"kind":"top_pct","fraction":0.1}"#).unwrap();
        assert_eq!(min, Policy::top_pct(0.1));
        assert_eq!(p.policy_sha().len(), 64);
        assert_eq!(p.policy_sha(), back.policy_sha());
        assert_ne!(p.policy_sha(), Policy::thr(vec![0.55, 0.6]).policy_sha());
    }

    #[test]
    fn validation() {
        assert!(Policy::thr(vec![0.5, 0.6]).validate().is_ok());
        assert!(Policy::thr(vec![]).validate().is_err());
        assert!(Policy::top_pct(0.0).validate().is_err());
        assert!(Policy::top_pct(0.15).validate().is_ok());
        let mut p = Policy::top_pct(0.1);
        p.commission_bps = -1.0;
        assert!(p.validate().is_err());
        p.commission_bps = 1.0;
        p.atr_stop = Some(f64::NAN);
        assert!(p.validate().is_err());
        p.atr_stop = Some(2.0);
        p.allowed_hours = Some(vec![30]);
        assert!(p.validate().is_err());
    }

    #[test]
    fn quantile_numpy() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, f64::NAN];
        assert_eq!(quantile(&mut v, 0.5), 2.5); // np.quantile([1,2,3,4], .5)
        assert_eq!(quantile(&mut vec![1.0, 2.0, 3.0, 4.0], 0.9), 3.7);
        assert!(quantile(&mut vec![], 0.5).is_nan());
    }
}
