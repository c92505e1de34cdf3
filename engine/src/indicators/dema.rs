//! Double exponential moving average (TA-Lib `DEMA`): `2·EMA − EMA(EMA)`.

use super::{
    alloc_col, check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError,
};

/// `2·EMA(x) − EMA(EMA(x))`, both EMAs seeded TA-Lib's way (the second with the mean of the first
/// `period` values of the first). Lookback `2·(period − 1)`; `period >= 1`.
pub fn dema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("dema", "period", period, 1)?;
    let n = check_lengths("dema", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = 2 * (period - 1);
    if x.len() < lookback + 1 {
        return Ok(nan_vec(n));
    }
    let mut out = alloc_col(n);
    out.resize(b + lookback, f64::NAN);
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut e1 = EmaState::new(period);
            let mut e2 = EmaState::new(period);
            for &v in &x[..lookback] {
                if let Some(a) = e1.push(v) {
                    e2.push(a);
                }
            }
            // From here on both EMAs are seeded: one value per bar. A plain loop (not an
            // iterator adaptor), so that it is compiled inside the dispatch.
            for &v in &x[lookback..] {
                let a = e1.push(v).unwrap_or(f64::NAN);
                let b2 = e2.push(a).unwrap_or(f64::NAN);
                out.push(2.0 * a - b2);
            }
        },
    );
    Ok(out)
}
