//! True range (TA-Lib `TRANGE`).

use super::{check_lengths, col_from, first_valid, simd_dispatch, true_range, IndicatorError};

/// Greatest of `high − low`, `|high − previous close|`, `|low − previous close|`. Lookback 1.
pub fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    let n = check_lengths("trange", &[high, low, close])?;
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let s = 1.min(h.len());
    Ok(simd_dispatch(
        #[inline(always)]
        || col_from(n, b + 1, h[s..].iter().zip(&l[s..]).zip(c).map(|((&h, &l), &pc)| true_range(h, l, pc))),
    ))
}
