//! On-balance volume (TA-Lib `OBV`).

use super::{check_lengths, first_valid, nan_vec, IndicatorError};

/// Cumulative volume, added on up closes and subtracted on down closes, starting at the first
/// bar's volume (TA-Lib's convention). Lookback 0.
pub fn obv(close: &[f64], volume: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    let n = check_lengths("obv", &[close, volume])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close, volume]);
    let (c, v) = (&close[b..], &volume[b..]);
    let o = &mut out[b..];
    if c.is_empty() {
        return Ok(out);
    }
    let mut prev_obv = v[0];
    let mut prev = c[0];
    for t in 0..c.len() {
        let x = c[t];
        if x > prev {
            prev_obv += v[t];
        } else if x < prev {
            prev_obv -= v[t];
        }
        o[t] = prev_obv;
        prev = x;
    }
    Ok(out)
}
