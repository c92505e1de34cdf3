//! Standard deviation (TA-Lib `STDDEV`): population standard deviation over a rolling window.

use super::{check_lengths, check_period, check_real, first_valid, nan_vec, IndicatorError};

/// `nbdev · sqrt(population variance)` of the last `period` values. Lookback `period − 1`;
/// `period >= 2`.
///
/// The variance follows the TA-Lib 0.8 C core exactly: running sums of the values *shifted* by a
/// reference (first the window's first value, later the window mean), `E[d²] − E[d]²`, and a
/// re-centring (recompute the shift and both sums from the window) whenever cancellation is
/// detected (`var < 1e-6·E[d²]`, a leaving term dominating the sum of squares) or every
/// `32·period` bars. That keeps tiny deviations around large levels accurate.
pub fn stddev(close: &[f64], period: usize, nbdev: f64) -> Result<Vec<f64>, IndicatorError> {
    check_period("stddev", "period", period, 2)?;
    check_real("stddev", "nbdev", nbdev)?;
    let n = check_lengths("stddev", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    variance_into(x, period, o);
    if nbdev == 1.0 {
        for v in o[period.saturating_sub(1).min(x.len())..].iter_mut() {
            *v = v.sqrt();
        }
    } else {
        for v in o[period.saturating_sub(1).min(x.len())..].iter_mut() {
            *v = v.sqrt() * nbdev;
        }
    }
    Ok(out)
}

/// Rolling population variance into `out[period-1..]`, TA-Lib 0.8 `TA_VAR` arithmetic.
pub(crate) fn variance_into(x: &[f64], period: usize, out: &mut [f64]) {
    let n = x.len();
    if period == 0 || n < period {
        return;
    }
    let inv = 1.0 / period as f64;
    let mut shift = x[0];
    let mut s1 = 0.0;
    let mut s2 = 0.0;
    for &v in &x[..period - 1] {
        let d = v - shift;
        s1 += d;
        s2 += d * d;
    }
    let recenter_every = period << 5;
    let mut countdown = recenter_every;
    for t in period - 1..n {
        let d = x[t] - shift;
        s1 += d;
        s2 += d * d;
        let m1 = inv * s1;
        let mut var = inv * s2 - m1 * m1;
        let start = t + 1 - period;
        let tr = x[start] - shift;
        let tr2 = tr * tr;
        s2 -= tr2;
        // Same order of tests as the C core (the countdown only ticks when neither fires).
        let recenter = inv * s2 * 1e-6 > var || tr2 > s2 * 1e6 || {
            countdown -= 1;
            countdown == 0
        };
        if recenter {
            let mut sum = 0.0;
            for &v in &x[start..=t] {
                sum += v;
            }
            shift = sum * inv;
            s1 = 0.0;
            s2 = 0.0;
            for &v in &x[start..=t] {
                let d = v - shift;
                s1 += d;
                s2 += d * d;
            }
            let m2 = inv * s2;
            let m1 = inv * s1;
            let v = m2 - m1 * m1;
            var = if v < m2 * 1e-12 { 0.0 } else { v };
            let tr = x[start] - shift;
            s1 -= tr;
            s2 -= tr * tr;
            countdown = recenter_every;
        } else {
            s1 -= tr;
        }
        out[t] = var;
    }
}
