//! Momentum (TA-Lib `MOM`).

use super::{check_lengths, check_period, col_from, first_valid, simd_dispatch, IndicatorError};

/// `x[t] − x[t−period]`. Lookback `period`; `period >= 1`.
pub fn mom(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    lagged("mom", close, period, |v, old| v - old)
}

/// `f(x[t], x[t−period])` for every bar from the first valid one plus `period`: MOM and ROC
/// differ only in `f`, so the warm-up and the vectorised pass are written once.
#[inline(always)]
pub(crate) fn lagged(
    indicator: &'static str,
    close: &[f64],
    period: usize,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Vec<f64>, IndicatorError> {
    check_period(indicator, "period", period, 1)?;
    let n = check_lengths(indicator, &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lag = &x[..x.len().saturating_sub(period)];
    Ok(simd_dispatch(
        #[inline(always)]
        || col_from(n, b + period, x[period.min(x.len())..].iter().zip(lag).map(|(&v, &old)| f(v, old))),
    ))
}
