//! Linear regression slope (TA-Lib `LINEARREG_SLOPE`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// Least-squares slope of the last `period` values against their bar index (per bar).
/// Lookback `period − 1`; `period >= 2`.
///
/// Same arithmetic as the TA-Lib 0.8 C core: `Σy` and `Σx·y` (x = bars ago) are updated in O(1)
/// per bar (`Σx·y ← Σx·y + Σy − period·y_leaving`) and recomputed from the window every
/// `32·period` bars, or sooner when the leaving term dominates `Σ|y|` (cancellation guard).
/// The slope is `(period·Σx·y − Σx·Σy)/((Σx)² − period·Σx²)`.
pub fn linearreg_slope(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("linearreg_slope", "period", period, 2)?;
    let n = check_lengths("linearreg_slope", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    if x.len() < period {
        return Ok(out);
    }
    let p = period as f64;
    let pm1 = (period - 1) as f64;
    let sum_x = 0.5 * (pm1 * p);
    let sum_x_sqr_p = (2.0 * p - 1.0) * (pm1 * p) / 6.0 * p;
    let divisor = sum_x * sum_x - sum_x_sqr_p;
    // Exact sums for the window ending at `t`: (Σy, Σ|y|, Σx·y), x counting down to 0.
    let exact = |t: usize| -> (f64, f64, f64) {
        let (mut sy, mut sa, mut sxy) = (0.0, 0.0, 0.0);
        let mut ago = pm1;
        for &v in &x[t + 1 - period..=t] {
            sy += v;
            sa += v.abs();
            sxy += v * ago;
            ago -= 1.0;
        }
        (sy, sa, sxy)
    };
    let (mut sum_y, mut sum_abs, mut sum_xy) = exact(period - 1);
    o[period - 1] = (p * sum_xy - sum_x * sum_y) / divisor;
    let every = period << 5;
    let mut countdown = every;
    let mut leaving = x[0];
    for t in period..x.len() {
        countdown -= 1;
        let mut recompute = countdown == 0;
        if !recompute {
            let v = x[t];
            let pl = p * leaving;
            sum_abs -= leaving.abs();
            sum_abs += v.abs();
            if pl.abs() > sum_abs * 100.0 {
                recompute = true;
            } else {
                sum_xy = sum_xy + sum_y - pl;
                sum_y = sum_y - leaving + v;
            }
        }
        if recompute {
            (sum_y, sum_abs, sum_xy) = exact(t);
            countdown = every;
        }
        o[t] = (p * sum_xy - sum_x * sum_y) / divisor;
        leaving = x[t + 1 - period];
    }
    Ok(out)
}
