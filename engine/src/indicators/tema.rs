//! Triple exponential moving average (TA-Lib `TEMA`): `3·EMA − 3·EMA² + EMA³`.

use super::{
    alloc_col, check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError,
};

/// `3·e1 − 3·e2 + e3` with `e2 = EMA(e1)`, `e3 = EMA(e2)`, each seeded TA-Lib's way.
/// Lookback `3·(period − 1)`; `period >= 1`.
pub fn tema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("tema", "period", period, 1)?;
    let n = check_lengths("tema", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = 3 * (period - 1);
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
            let mut e3 = EmaState::new(period);
            for &v in &x[..lookback] {
                if let Some(a) = e1.push(v) {
                    if let Some(b2) = e2.push(a) {
                        e3.push(b2);
                    }
                }
            }
            // From here on all three EMAs are seeded: one value per bar. A plain loop (not an
            // iterator adaptor), so that it is compiled inside the dispatch.
            for &v in &x[lookback..] {
                let a = e1.push(v).unwrap_or(f64::NAN);
                let b2 = e2.push(a).unwrap_or(f64::NAN);
                let c = e3.push(b2).unwrap_or(f64::NAN);
                out.push(c + (3.0 * a - 3.0 * b2));
            }
        },
    );
    Ok(out)
}
