//! Weighted moving average (TA-Lib `WMA`): linear weights 1..period, newest heaviest.

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// Linearly weighted mean of the last `period` values. Lookback `period - 1`; `period >= 1`
/// (`1` copies the input). Uses TA-Lib's O(1) update of the weighted sum.
pub fn wma(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("wma", "period", period, 1)?;
    let n = check_lengths("wma", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    wma_into(&close[b..], period, &mut out[b..]);
    Ok(out)
}

fn wma_into(x: &[f64], period: usize, out: &mut [f64]) {
    let n = x.len();
    if n < period {
        return;
    }
    if period == 1 {
        out[..n].copy_from_slice(x);
        return;
    }
    let divider = ((period * (period + 1)) >> 1) as f64;
    let pf = period as f64;
    let mut period_sub = 0.0;
    let mut period_sum = 0.0;
    for (i, &v) in x[..period - 1].iter().enumerate() {
        period_sub += v;
        period_sum += v * (i + 1) as f64;
    }
    let mut trailing_value = 0.0;
    for t in period - 1..n {
        let v = x[t];
        period_sub += v;
        period_sub -= trailing_value;
        period_sum += v * pf;
        trailing_value = x[t + 1 - period];
        out[t] = period_sum / divider;
        period_sum -= period_sub;
    }
}
