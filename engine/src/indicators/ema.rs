//! Exponential moving average (TA-Lib `EMA`, default compatibility).

use super::{check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError};

/// EMA with `k = 2 / (period + 1)`, seeded with the SMA of the first `period` values (TA-Lib's
/// default), then `prev + k·(x − prev)` as a fused multiply-add like the C core. Lookback
/// `period - 1`; `period >= 1`.
pub fn ema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("ema", "period", period, 1)?;
    let n = check_lengths("ema", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    ema_into(&close[b..], period, &mut out[b..]);
    Ok(out)
}

pub(crate) fn ema_into(x: &[f64], period: usize, out: &mut [f64]) {
    if x.len() < period {
        return;
    }
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut e = EmaState::new(period);
            for (t, &v) in x.iter().enumerate() {
                if let Some(y) = e.push(v) {
                    out[t] = y;
                }
            }
        },
    )
}
