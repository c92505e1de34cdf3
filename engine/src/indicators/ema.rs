//! Exponential moving average (TA-Lib `EMA`, default compatibility).

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError};

/// EMA with `k = 2 / (period + 1)`, seeded with the SMA of the first `period` values (TA-Lib's
/// default), then `prev + k·(x − prev)` as a fused multiply-add like the C core. Lookback
/// `period - 1`; `period >= 1`.
pub fn ema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("ema", "period", period, 1)?;
    let n = check_lengths("ema", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() < period {
        return Ok(nan_vec(n));
    }
    let mut out = alloc_col(n);
    out.resize(b + period - 1, f64::NAN);
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut e = EmaState::new(period);
            for &v in &x[..period - 1] {
                e.push(v);
            }
            // A plain loop (not an iterator adaptor), so that it is compiled inside the dispatch.
            for &v in &x[period - 1..] {
                out.push(e.push(v).unwrap_or(f64::NAN));
            }
        },
    );
    Ok(out)
}
