//! True range (TA-Lib `TRANGE`).

use super::{check_lengths, first_valid, nan_vec, true_range, IndicatorError};

/// Greatest of `high − low`, `|high − previous close|`, `|low − previous close|`. Lookback 1.
pub fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    let n = check_lengths("trange", &[high, low, close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    for t in 1..h.len() {
        o[t] = true_range(h[t], l[t], c[t - 1]);
    }
    Ok(out)
}
