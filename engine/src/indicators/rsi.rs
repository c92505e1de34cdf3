//! Relative strength index (TA-Lib `RSI`), Wilder smoothing.

use super::{check_lengths, check_period, col_from, first_valid, nan_vec, IndicatorError};

/// Wilder's RSI. Average gain and loss start as the mean of the first `period` changes, then
/// `avg = (avg·(period−1) + change)·(1/period)`; `RSI = 100·gain/(gain+loss)`, 0 when both are 0.
/// Lookback `period`; `period >= 2`. Arithmetic order follows the TA-Lib 0.8 C core (which
/// multiplies by a precomputed `1/period`).
pub fn rsi(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("rsi", "period", period, 2)?;
    let n = check_lengths("rsi", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() <= period {
        return Ok(nan_vec(n));
    }
    Ok(col_from(n, b + period, rsi_values(x, period)))
}

/// The RSI of `x` for bars `period..x.len()` (requires `x.len() > period`).
#[inline(always)]
pub(crate) fn rsi_values(x: &[f64], period: usize) -> impl Iterator<Item = f64> + '_ {
    let inv = 1.0 / period as f64;
    let pm1 = (period - 1) as f64;
    let mut gain = 0.0;
    let mut loss = 0.0;
    let mut prev = x[0];
    for &v in &x[1..=period] {
        let d = v - prev;
        prev = v;
        let g = if 0.0 < d { d } else { 0.0 };
        gain += g;
        loss += g - d;
    }
    gain *= inv;
    loss *= inv;
    let first = value(gain, loss);
    std::iter::once(first).chain(x[period + 1..].iter().zip(&x[period..]).map(move |(&v, &prev)| {
        let d = v - prev;
        let g = if 0.0 < d { d } else { 0.0 };
        gain = (gain * pm1 + g) * inv;
        loss = ((g - d) + loss * pm1) * inv;
        value(gain, loss)
    }))
}

#[inline(always)]
fn value(gain: f64, loss: f64) -> f64 {
    let s = loss + gain;
    if s > 0.0 {
        gain / s * 100.0
    } else {
        0.0
    }
}
