//! Momentum (TA-Lib `MOM`).

use super::{check_lengths, check_period, col_from, first_valid, simd_dispatch, IndicatorError};

/// `x[t] − x[t−period]`. Lookback `period`; `period >= 1`.
pub fn mom(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("mom", "period", period, 1)?;
    let n = check_lengths("mom", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lag = &x[..x.len().saturating_sub(period)];
    Ok(simd_dispatch(
        #[inline(always)]
        || {
            col_from(
                n,
                b + period,
                x[period.min(x.len())..]
                    .iter()
                    .zip(lag)
                    .map(|(&v, &old)| v - old),
            )
        },
    ))
}
