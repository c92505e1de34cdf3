//! Rate of change (TA-Lib `ROC`).

use super::{check_lengths, check_period, col_from, first_valid, simd_dispatch, IndicatorError};

/// `100·(x[t]/x[t−period] − 1)`, 0 when `x[t−period]` is 0. Lookback `period`; `period >= 1`.
pub fn roc(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("roc", "period", period, 1)?;
    let n = check_lengths("roc", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lag = &x[..x.len().saturating_sub(period)];
    Ok(simd_dispatch(
        #[inline(always)]
        || {
            col_from(
                n,
                b + period,
                x[period.min(x.len())..].iter().zip(lag).map(|(&v, &prev)| {
                    if prev != 0.0 {
                        (v / prev - 1.0) * 100.0
                    } else {
                        0.0
                    }
                }),
            )
        },
    ))
}
