//! Double exponential moving average (TA-Lib `DEMA`): `2·EMA − EMA(EMA)`.

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, EmaState, IndicatorError};

/// `2·EMA(x) − EMA(EMA(x))`, both EMAs seeded TA-Lib's way (the second with the mean of the first
/// `period` values of the first). Lookback `2·(period − 1)`; `period >= 1`.
pub fn dema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    ema_chain("dema", close, period, |[a, b2]: [f64; 2]| 2.0 * a - b2)
}

/// `D` EMAs of `period` in a chain, each seeded TA-Lib's way on the values of the one before,
/// combined bar by bar by `combine([e1, …, eD])`: DEMA is the chain of two, TEMA of three, so the
/// seeding and the lookback `D·(period − 1)` are written once. `period >= 1`.
#[inline(always)]
pub(crate) fn ema_chain<const D: usize>(
    indicator: &'static str,
    close: &[f64],
    period: usize,
    combine: impl Fn([f64; D]) -> f64,
) -> Result<Vec<f64>, IndicatorError> {
    check_period(indicator, "period", period, 1)?;
    let n = check_lengths(indicator, &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = D * (period - 1);
    if x.len() < lookback + 1 {
        return Ok(nan_vec(n));
    }
    let mut out = alloc_col(n);
    out.resize(b + lookback, f64::NAN);
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut emas: [EmaState; D] = std::array::from_fn(|_| EmaState::new(period));
            for &v in &x[..lookback] {
                // An EMA sees a value once the one before it is seeded.
                let mut v = v;
                for e in emas.iter_mut() {
                    match e.push(v) {
                        Some(a) => v = a,
                        None => break,
                    }
                }
            }
            // From here on every EMA is seeded: one value per bar. A plain loop (not an
            // iterator adaptor), so that it is compiled inside the dispatch.
            for &v in &x[lookback..] {
                let mut vals = [f64::NAN; D];
                let mut prev = v;
                for (e, slot) in emas.iter_mut().zip(vals.iter_mut()) {
                    prev = e.push(prev).unwrap_or(f64::NAN);
                    *slot = prev;
                }
                out.push(combine(vals));
            }
        },
    );
    Ok(out)
}
