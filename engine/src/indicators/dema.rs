//! Double exponential moving average (TA-Lib `DEMA`): `2·EMA − EMA(EMA)`.

use super::{check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError};

/// `2·EMA(x) − EMA(EMA(x))`, both EMAs seeded TA-Lib's way (the second with the mean of the first
/// `period` values of the first). Lookback `2·(period − 1)`; `period >= 1`.
pub fn dema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("dema", "period", period, 1)?;
    let n = check_lengths("dema", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    if x.len() < 2 * (period - 1) + 1 {
        return Ok(out);
    }
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut e1 = EmaState::new(period);
            let mut e2 = EmaState::new(period);
            for (t, &v) in x.iter().enumerate() {
                if let Some(a) = e1.push(v) {
                    if let Some(b2) = e2.push(a) {
                        o[t] = 2.0 * a - b2;
                    }
                }
            }
        },
    );
    Ok(out)
}
