//! Triple exponential moving average (TA-Lib `TEMA`): `3·EMA − 3·EMA² + EMA³`.

use super::{check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError};

/// `3·e1 − 3·e2 + e3` with `e2 = EMA(e1)`, `e3 = EMA(e2)`, each seeded TA-Lib's way.
/// Lookback `3·(period − 1)`; `period >= 1`.
pub fn tema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("tema", "period", period, 1)?;
    let n = check_lengths("tema", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    if x.len() < 3 * (period - 1) + 1 {
        return Ok(out);
    }
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut e1 = EmaState::new(period);
            let mut e2 = EmaState::new(period);
            let mut e3 = EmaState::new(period);
            for (t, &v) in x.iter().enumerate() {
                if let Some(a) = e1.push(v) {
                    if let Some(b2) = e2.push(a) {
                        if let Some(c) = e3.push(b2) {
                            o[t] = c + (3.0 * a - 3.0 * b2);
                        }
                    }
                }
            }
        },
    );
    Ok(out)
}
