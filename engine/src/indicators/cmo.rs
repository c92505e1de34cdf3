//! Chande momentum oscillator (TA-Lib `CMO`), which TA-Lib smooths like its RSI (Wilder).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// `100·(gain − loss)/(gain + loss)` over Wilder-smoothed average gain and loss (TA-Lib's CMO is
/// the RSI recursion with a different last step), 0 when both are 0. Lookback `period`;
/// `period >= 2`.
pub fn cmo(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("cmo", "period", period, 2)?;
    let n = check_lengths("cmo", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    let len = x.len();
    if len <= period {
        return Ok(out);
    }
    let p = period as f64;
    let pm1 = (period - 1) as f64;
    let mut gain = 0.0;
    let mut loss = 0.0;
    let mut prev = x[0];
    for &v in &x[1..=period] {
        let d = v - prev;
        prev = v;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= p;
    gain /= p;
    o[period] = value(gain, loss);
    for t in period + 1..len {
        let v = x[t];
        let d = v - prev;
        prev = v;
        loss *= pm1;
        gain *= pm1;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
        loss /= p;
        gain /= p;
        o[t] = value(gain, loss);
    }
    Ok(out)
}

#[inline(always)]
fn value(gain: f64, loss: f64) -> f64 {
    let s = loss + gain;
    if s > 0.0 {
        (gain - loss) / s * 100.0
    } else {
        0.0
    }
}
