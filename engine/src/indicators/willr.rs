//! Williams %R (TA-Lib `WILLR`).

use super::{check_lengths, check_period, first_valid, is_zero, nan_vec, Extreme, IndicatorError};

/// `−100·(highest high − close)/(highest high − lowest low)` over `period` bars, 0 when the range
/// is 0. Lookback `period − 1`; `period >= 2`.
pub fn willr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("willr", "period", period, 2)?;
    let n = check_lengths("willr", &[high, low, close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    for t in period - 1..h.len() {
        let trailing = t + 1 - period;
        let (_, lowest) = lo.lowest(l, trailing, t);
        let (_, highest) = hi.highest(h, trailing, t);
        let diff = (highest - lowest) / -100.0;
        o[t] = if !is_zero(diff) {
            (highest - c[t]) / diff
        } else {
            0.0
        };
    }
    Ok(out)
}
