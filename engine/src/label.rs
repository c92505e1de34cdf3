//! Label rules: what a row is trained to predict. They are the one place the engine looks
//! forward on purpose, so they live apart from the features (which never may) and each row says
//! why it has no label ([`LabelGap`]) rather than getting a made-up one.

use serde::{Deserialize, Serialize};

use crate::data::Series;
use crate::features::{check_series, FeatureError};
use crate::indicators::MAX_PERIOD;

fn default_atr_period() -> usize {
    14
}

/// How a row is labelled. Labels look forward (they are never features).
///
/// With `within_session` (intraday packs) a row whose horizon `t + distance_max` falls in a
/// later session than `t` has no label (the matrix drops it as `session_end`), so labels never
/// cross a session's last bar. A row whose horizon runs past the last bar of the data has no
/// label either (`label_horizon`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabelSpec {
    /// 1 when `close[t + distance_max] / close[t] − 1 > threshold`, else 0.
    ForwardReturn {
        distance_max: usize,
        #[serde(default)]
        threshold: f64,
        #[serde(default)]
        within_session: bool,
    },
    /// With `atr = ATR(atr_period)[t]` (TA-Lib, known at `t`), an upper barrier
    /// `close[t] + up_mult·atr` and a lower one `close[t] − down_mult·atr`: scan bars
    /// `t+1 ..= t+distance_max`; the label is 1 if some bar's high reaches the upper barrier
    /// before any bar's low reaches the lower one, else 0 (lower hit first, neither hit within
    /// the horizon, or both hit in the same bar — the conservative reading). `NaN` (dropped as
    /// warm-up) while the ATR warms up.
    TripleBarrier {
        distance_max: usize,
        #[serde(default = "default_atr_period")]
        atr_period: usize,
        up_mult: f64,
        down_mult: f64,
        #[serde(default)]
        within_session: bool,
    },
}

/// Why a row has no label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelGap {
    /// The horizon runs past the last bar.
    PastEnd,
    /// The horizon crosses the session's last bar (`within_session` labels).
    SessionEnd,
    /// An input (close, ATR) is missing at `t`.
    Missing,
}

impl LabelSpec {
    pub fn distance_max(&self) -> usize {
        match *self {
            LabelSpec::ForwardReturn { distance_max, .. } | LabelSpec::TripleBarrier { distance_max, .. } => {
                distance_max
            }
        }
    }

    pub fn within_session(&self) -> bool {
        match *self {
            LabelSpec::ForwardReturn { within_session, .. } | LabelSpec::TripleBarrier { within_session, .. } => {
                within_session
            }
        }
    }

    /// This label with another horizon.
    pub fn with_distance_max(&self, d: usize) -> LabelSpec {
        let mut l = self.clone();
        match &mut l {
            LabelSpec::ForwardReturn { distance_max, .. } | LabelSpec::TripleBarrier { distance_max, .. } => {
                *distance_max = d
            }
        }
        l
    }

    /// Check the parameters: `distance_max` ≥ 1, finite threshold/multipliers, `atr_period` ≥ 1.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let d = self.distance_max();
        if d == 0 || d > MAX_PERIOD {
            return Err(FeatureError::BadLabel(format!(
                "distance_max must be an integer from 1 to {MAX_PERIOD}, got {d}"
            )));
        }
        match *self {
            LabelSpec::ForwardReturn { threshold, .. } => {
                if !threshold.is_finite() {
                    return Err(FeatureError::BadLabel(format!("threshold must be a finite number, got {threshold}")));
                }
            }
            LabelSpec::TripleBarrier { atr_period, up_mult, down_mult, .. } => {
                if atr_period == 0 || atr_period > MAX_PERIOD {
                    return Err(FeatureError::BadLabel(format!(
                        "atr_period must be an integer from 1 to {MAX_PERIOD}, got {atr_period}"
                    )));
                }
                for (n, v) in [("up_mult", up_mult), ("down_mult", down_mult)] {
                    if !(v.is_finite() && v > 0.0) {
                        return Err(FeatureError::BadLabel(format!("{n} must be a positive number, got {v}")));
                    }
                }
            }
        }
        Ok(())
    }

    /// Label every bar: `Ok(0.0 | 1.0)` or why there is none. `session` is the session id of
    /// each bar (see [`crate::features::Clock::day`]); it is only read for `within_session` labels.
    pub fn compute(&self, series: &Series, session: &[i64]) -> Result<Vec<Result<f64, LabelGap>>, FeatureError> {
        self.validate()?;
        check_series(series)?;
        let n = series.len();
        let d = self.distance_max();
        let c = &series.close;
        let atr = match *self {
            LabelSpec::TripleBarrier { atr_period, .. } => Some(
                crate::indicators::atr(&series.high, &series.low, c, atr_period)
                    .map_err(|e| FeatureError::Indicator { feature: "label atr".into(), source: e })?,
            ),
            LabelSpec::ForwardReturn { .. } => None,
        };
        let within = self.within_session() && session.len() == n;
        let mut out = Vec::with_capacity(n);
        for t in 0..n {
            let j = t + d;
            if j >= n {
                out.push(Err(LabelGap::PastEnd));
                continue;
            }
            if within && session[j] != session[t] {
                out.push(Err(LabelGap::SessionEnd));
                continue;
            }
            let v = match *self {
                LabelSpec::ForwardReturn { threshold, .. } => {
                    let r = c[j] / c[t] - 1.0;
                    if r.is_finite() {
                        Ok(if r > threshold { 1.0 } else { 0.0 })
                    } else {
                        Err(LabelGap::Missing)
                    }
                }
                LabelSpec::TripleBarrier { up_mult, down_mult, .. } => {
                    let a = atr.as_ref().map_or(f64::NAN, |a| a[t]);
                    if !(a.is_finite() && c[t].is_finite()) {
                        Err(LabelGap::Missing)
                    } else {
                        let upper = c[t] + up_mult * a;
                        let lower = c[t] - down_mult * a;
                        let mut lab = 0.0;
                        for k in t + 1..=j {
                            if series.low[k] <= lower {
                                break;
                            }
                            if series.high[k] >= upper {
                                lab = 1.0;
                                break;
                            }
                        }
                        Ok(lab)
                    }
                }
            };
            out.push(v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::test_series as series;

    #[test]
    fn labels() {
        let mut s = series(10);
        s.close = vec![10.0, 11.0, 9.0, 12.0, 12.0, 8.0, 13.0, 13.0, 13.0, 13.0];
        let l = LabelSpec::ForwardReturn { distance_max: 2, threshold: 0.0, within_session: false };
        let got = l.compute(&s, &[]).unwrap();
        assert_eq!(got[0], Ok(0.0)); // 9 < 10
        assert_eq!(got[1], Ok(1.0)); // 12 > 11
        assert_eq!(got[2], Ok(1.0));
        assert_eq!(got[3], Ok(0.0));
        assert_eq!(got[8], Err(LabelGap::PastEnd));
        let sess = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
        let l = LabelSpec::ForwardReturn { distance_max: 2, threshold: 0.0, within_session: true };
        let got = l.compute(&s, &sess).unwrap();
        assert_eq!(got[0], Ok(0.0));
        assert_eq!(got[1], Err(LabelGap::SessionEnd));
        assert_eq!(got[3], Ok(0.0));
        assert_eq!(got[6], Ok(0.0));
        assert!(LabelSpec::ForwardReturn { distance_max: 0, threshold: 0.0, within_session: false }
            .compute(&s, &[])
            .is_err());
        let j: LabelSpec = serde_json::from_str(r#"{"kind":"forward_return","distance_max":7}"#).unwrap();
        assert_eq!(j, LabelSpec::ForwardReturn { distance_max: 7, threshold: 0.0, within_session: false });
    }

    #[test]
    fn triple_barrier() {
        // Flat bars with range 2 (ATR 2), then a spike up or down.
        let n = 30;
        let mut s = series(n);
        s.close = vec![100.0; n];
        s.high = vec![101.0; n];
        s.low = vec![99.0; n];
        s.high[22] = 104.0; // up barrier 100 + 1·2 = 102 hit at 22
        s.low[25] = 95.0;
        let l = LabelSpec::TripleBarrier {
            distance_max: 3,
            atr_period: 5,
            up_mult: 1.0,
            down_mult: 1.0,
            within_session: false,
        };
        let got = l.compute(&s, &[]).unwrap();
        assert_eq!(got[0], Err(LabelGap::Missing)); // ATR warm-up
        assert_eq!(got[10], Ok(0.0)); // neither
        assert_eq!(got[20], Ok(1.0)); // up at 22
        assert_eq!(got[23], Ok(0.0)); // down at 25
        assert_eq!(got[28], Err(LabelGap::PastEnd));
        let j: LabelSpec =
            serde_json::from_str(r#"{"kind":"triple_barrier","distance_max":5,"up_mult":2,"down_mult":1}"#).unwrap();
        assert!(matches!(j, LabelSpec::TripleBarrier { atr_period: 14, .. }));
    }
}
