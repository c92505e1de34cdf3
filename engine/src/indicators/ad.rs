//! Chaikin accumulation/distribution line and oscillator (TA-Lib `AD`, `ADOSC`).

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, IndicatorError};

#[inline(always)]
fn clv_volume(h: f64, l: f64, c: f64, v: f64) -> Option<f64> {
    let range = h - l;
    if range > 0.0 {
        Some((c - l - (h - c)) / range * v)
    } else {
        None
    }
}

/// Cumulative `((close − low) − (high − close))/(high − low)·volume` (bars with no range add
/// nothing). Lookback 0.
pub fn ad(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    let n = check_lengths("ad", &[high, low, close, volume])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close, volume]);
    let (h, l, c, v) = (&high[b..], &low[b..], &close[b..], &volume[b..]);
    let o = &mut out[b..];
    let mut acc = 0.0;
    for t in 0..h.len() {
        if let Some(x) = clv_volume(h[t], l[t], c[t], v[t]) {
            acc += x;
        }
        o[t] = acc;
    }
    Ok(out)
}

/// `EMA(fast, AD) − EMA(slow, AD)`. As in TA-Lib, both EMAs are seeded with the first AD value
/// (not an SMA) and the output starts after the slower EMA's lookback `max(fast, slow) − 1`;
/// the EMA step is `(1−k)·ema + k·ad` as one fused multiply-add. `fast, slow >= 2`.
pub fn adosc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    fast: usize,
    slow: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("adosc", "fast_period", fast, 2)?;
    check_period("adosc", "slow_period", slow, 2)?;
    let n = check_lengths("adosc", &[high, low, close, volume])?;
    let b = first_valid(&[high, low, close, volume]);
    let (h, l, c, v) = (&high[b..], &low[b..], &close[b..], &volume[b..]);
    let lookback = fast.max(slow) - 1;
    if h.len() <= lookback {
        return Ok(nan_vec(n));
    }
    let mut out = alloc_col(n);
    out.resize(b + lookback, f64::NAN);
    super::fma_dispatch(
        #[inline(always)]
        || {
            let fast_k = 2.0 / (fast as f64 + 1.0);
            let one_minus_fast_k = 1.0 - fast_k;
            let slow_k = 2.0 / (slow as f64 + 1.0);
            let one_minus_slow_k = 1.0 - slow_k;
            let mut acc = 0.0;
            if let Some(x) = clv_volume(h[0], l[0], c[0], v[0]) {
                acc += x;
            }
            let mut fast_ema = acc;
            let mut slow_ema = acc;
            for t in 1..h.len() {
                if let Some(x) = clv_volume(h[t], l[t], c[t], v[t]) {
                    acc += x;
                }
                fast_ema = fast_ema.mul_add(one_minus_fast_k, fast_k * acc);
                slow_ema = slow_ema.mul_add(one_minus_slow_k, slow_k * acc);
                if t >= lookback {
                    out.push(fast_ema - slow_ema);
                }
            }
        },
    );
    Ok(out)
}
