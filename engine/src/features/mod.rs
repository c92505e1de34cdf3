//! Features: the language a model names them in ([`FeatureSpec`]) and the
//! machine-learning features that TA-Lib does not have, so everything a matrix column can be is
//! found in one place (the TA-Lib ones themselves are in [`crate::indicators`]).
//!
//! Every feature function makes one forward pass (O(n), amortised O(1) per bar), returns a column as
//! long as its input with `NaN` during the warm-up, and uses bars `≤ t` only for the value at
//! bar `t` (no look-ahead; `engine/tests/matrix.rs` checks it by perturbing and removing later
//! bars). Logarithms and `tanh` come from the `libm` crate so values are bit-identical natively
//! and in wasm.
//!
//! Z-scores divide by a population standard deviation; a window whose deviation is zero (or
//! below `1e-12 × |mean|`, i.e. rounding noise) gives 0.0 rather than a division by zero.
//!
//! Session features live in [`session`]: a session is a calendar day in the dataset's time zone.

mod rolling;
pub mod session;
mod spec;

use rolling::{RollingExtreme, RollingMoments};

pub use session::{day_of_week, gap_pct, hour, minute_of_day, opening_range, vwap, Clock, OpeningRange, Vwap};
#[cfg(test)]
pub(crate) use spec::tests::series as test_series;
pub(crate) use spec::{check_series, tz_of};
pub use spec::{
    compute_features, compute_features_with_progress, feature_catalog, FeatureError, FeatureFrame, FeatureInfo,
    FeatureSpec, ParamInfo,
};

/// Horizons (bars) of [`momentum_score_total`].
pub const MOMENTUM_HORIZONS: [usize; 4] = [5, 10, 20, 60];
/// Window (1-bar log returns) of the volatility that scales [`momentum_score_total`].
pub const MOMENTUM_VOL_WINDOW: usize = 60;

#[inline]
fn ln_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_finite() && r > 0.0 {
        libm::log(r)
    } else {
        f64::NAN
    }
}

/// `ln(close[t] / close[t-k])`; `NaN` for `t < k` or when either close is not a positive
/// number. `k = 0` gives zeros.
pub fn log_return(close: &[f64], k: usize) -> Vec<f64> {
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    for t in k..n {
        out[t] = ln_ratio(close[t], close[t - k]);
    }
    out
}

/// 1-bar log returns, `NaN` at bar 0.
fn one_bar_returns(close: &[f64]) -> Vec<f64> {
    log_return(close, 1)
}

/// Realised volatility: the population standard deviation of the last `n` one-bar log returns
/// `ln(close[i]/close[i-1])`, `i = t-n+1..=t` (not annualised). First value at `t = n`.
pub fn realized_vol(close: &[f64], n: usize) -> Vec<f64> {
    let r = one_bar_returns(close);
    rolling_std(&r, n)
}

fn rolling_std(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut m = RollingMoments::new(n);
    for (t, &v) in x.iter().enumerate() {
        if let Some((_, var)) = m.push(v) {
            out[t] = var.sqrt();
        }
    }
    out
}

#[inline]
fn z(x: f64, mean: f64, var: f64) -> f64 {
    let sd = var.sqrt();
    if sd > 0.0 && sd > 1e-12 * mean.abs() {
        (x - mean) / sd
    } else {
        0.0
    }
}

/// `(x[t] − mean(x[t-n+1..=t])) / std(x[t-n+1..=t])` (population); first value at `t = n-1`.
pub fn zscore(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut m = RollingMoments::new(n);
    for (t, &v) in x.iter().enumerate() {
        if let Some((mean, var)) = m.push(v) {
            out[t] = z(v, mean, var);
        }
    }
    out
}

/// Distance of the close to the highest high of the last `n` bars (including bar `t`):
/// `close[t] / max(high[t-n+1..=t]) − 1` (≤ 0 when highs are above closes).
pub fn dist_high(high: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    dist_extreme(high, close, n, true)
}

/// Distance of the close to the lowest low of the last `n` bars: `close[t] / min(low[..]) − 1`.
pub fn dist_low(low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    dist_extreme(low, close, n, false)
}

fn dist_extreme(x: &[f64], close: &[f64], n: usize, max: bool) -> Vec<f64> {
    let len = x.len().min(close.len());
    let mut out = vec![f64::NAN; close.len()];
    let mut e = RollingExtreme::new(n, max);
    for t in 0..len {
        if let Some(v) = e.push(x[t]) {
            let d = close[t] / v - 1.0;
            out[t] = if d.is_finite() { d } else { f64::NAN };
        }
    }
    out
}

/// Multi-horizon momentum, one number per bar:
///
/// ```text
/// σ_t      = population std of the last 60 one-bar log returns (realized_vol(close, 60))
/// r_h(t)   = ln(close[t] / close[t-h])                  for h in 5, 10, 20, 60
/// s_h(t)   = tanh(r_h / (σ_t · √h))   if σ_t > 0,   sign(r_h) (−1, 0 or 1) if σ_t = 0
/// momentum_score_total(t) = s_5 + s_10 + s_20 + s_60    ∈ (−4, 4)
/// ```
///
/// Each term is a volatility-scaled return squashed to (−1, 1) and keeps the sign of its
/// return, so the total is positive when the price rose over every horizon and negative when it
/// fell over every horizon. First value at `t = 60`.
pub fn momentum_score_total(close: &[f64]) -> Vec<f64> {
    let n = close.len();
    let sigma = realized_vol(close, MOMENTUM_VOL_WINDOW);
    let mut out = vec![f64::NAN; n];
    let hmax = MOMENTUM_HORIZONS.iter().copied().max().unwrap_or(0).max(MOMENTUM_VOL_WINDOW);
    for t in hmax..n {
        let s = sigma[t];
        let mut total = 0.0;
        for &h in &MOMENTUM_HORIZONS {
            let r = ln_ratio(close[t], close[t - h]);
            let term = if s > 0.0 {
                libm::tanh(r / (s * (h as f64).sqrt()))
            } else if r > 0.0 {
                1.0
            } else if r < 0.0 {
                -1.0
            } else {
                r // 0.0 or NaN
            };
            total += term;
        }
        out[t] = if s.is_nan() { f64::NAN } else { total };
    }
    out
}

/// 1.0 when the realised volatility over `n` bars ([`realized_vol`]) exceeds `threshold`, else
/// 0.0; `NaN` during the warm-up.
pub fn volatility_filter(close: &[f64], n: usize, threshold: f64) -> Vec<f64> {
    realized_vol(close, n)
        .into_iter()
        .map(|v| {
            if v.is_nan() {
                f64::NAN
            } else if v > threshold {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(n: usize, drift: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let noise = ((i as f64) * 1.7).sin() * 0.002;
                100.0 * (drift * i as f64 + noise).exp()
            })
            .collect()
    }

    #[test]
    fn log_returns_and_vol() {
        let c = [100.0, 110.0, 99.0, 99.0];
        let r = log_return(&c, 1);
        assert!(r[0].is_nan());
        assert!((r[1] - (1.1f64).ln()).abs() < 1e-15);
        assert_eq!(r[3], 0.0);
        let r2 = log_return(&c, 2);
        assert!(r2[1].is_nan() && (r2[2] - (0.99f64).ln()).abs() < 1e-15);
        let v = realized_vol(&c, 2);
        assert!(v[1].is_nan());
        let (a, b) = ((1.1f64).ln(), (0.9f64).ln());
        let m = (a + b) / 2.0;
        let want = (((a - m).powi(2) + (b - m).powi(2)) / 2.0).sqrt();
        assert!((v[2] - want).abs() < 1e-12);
        assert!(log_return(&[0.0, 1.0], 1)[1].is_nan());
    }

    #[test]
    fn zscores() {
        let x = [1.0, 2.0, 3.0, 3.0, 3.0, 3.0];
        let zs = zscore(&x, 3);
        assert!(zs[1].is_nan());
        let sd = (2.0f64 / 3.0).sqrt();
        assert!((zs[2] - 1.0 / sd).abs() < 1e-12);
        assert_eq!(zs[5], 0.0); // flat window
    }

    #[test]
    fn distances() {
        let h = [10.0, 12.0, 11.0, 9.0];
        let l = [8.0, 9.0, 10.0, 7.0];
        let c = [9.0, 11.0, 10.5, 8.0];
        let dh = dist_high(&h, &c, 2);
        assert!(dh[0].is_nan());
        assert_eq!(dh[1], 11.0 / 12.0 - 1.0);
        assert_eq!(dh[3], 8.0 / 11.0 - 1.0);
        let dl = dist_low(&l, &c, 2);
        assert_eq!(dl[3], 8.0 / 7.0 - 1.0);
    }

    #[test]
    fn momentum_sign() {
        let up = momentum_score_total(&trend(300, 0.002));
        let down = momentum_score_total(&trend(300, -0.002));
        assert!(up[..60].iter().all(|v| v.is_nan()));
        assert!(up[60..].iter().all(|&v| v > 0.0 && v < 4.0), "{:?}", &up[60..70]);
        assert!(down[60..].iter().all(|&v| v < 0.0 && v > -4.0));
        // A noiseless trend (zero volatility) still has the right sign.
        let lin: Vec<f64> = (0..100).map(|i| 100.0 * (0.01 * i as f64).exp()).collect();
        let m = momentum_score_total(&lin);
        assert!(m[60..].iter().all(|&v| v >= 0.0));
        let flat = momentum_score_total(&[5.0; 80]);
        assert!(flat[60..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn vol_filter() {
        let c = trend(100, 0.0);
        let f = volatility_filter(&c, 20, 0.0);
        assert!(f[19].is_nan() && f[20] == 1.0);
        let f = volatility_filter(&c, 20, 1.0);
        assert_eq!(f[50], 0.0);
    }
}
