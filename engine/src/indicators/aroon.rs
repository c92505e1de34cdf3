//! Aroon and Aroon oscillator (TA-Lib `AROON`, `AROONOSC`).

use super::{check_lengths, check_period, first_valid, nan_vec, Extreme, IndicatorError};

/// Aroon down and up.
#[derive(Debug, Clone, PartialEq)]
pub struct Aroon {
    pub down: Vec<f64>,
    pub up: Vec<f64>,
}

/// `up = 100·(period − bars since the highest high)/period`, `down` likewise with the lowest low,
/// over the last `period + 1` bars (ties go to the most recent bar, as in TA-Lib).
/// Lookback `period`; `period >= 2`.
pub fn aroon(high: &[f64], low: &[f64], period: usize) -> Result<Aroon, IndicatorError> {
    check_period("aroon", "period", period, 2)?;
    let n = check_lengths("aroon", &[high, low])?;
    let mut down = nan_vec(n);
    let mut up = nan_vec(n);
    let b = first_valid(&[high, low]);
    let (d_o, u_o) = (&mut down[b..], &mut up[b..]);
    let factor = 100.0 / period as f64;
    extremes(&high[b..], &low[b..], period, |t, li, hi_idx| {
        u_o[t] = factor * (period - (t - hi_idx)) as f64;
        d_o[t] = factor * (period - (t - li)) as f64;
    });
    Ok(Aroon { down, up })
}

/// `aroon up − aroon down`, computed as TA-Lib does (`100/period·(highest index − lowest index)`).
/// Lookback `period`; `period >= 2`.
pub fn aroonosc(high: &[f64], low: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("aroonosc", "period", period, 2)?;
    let n = check_lengths("aroonosc", &[high, low])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low]);
    let o = &mut out[b..];
    let factor = 100.0 / period as f64;
    extremes(&high[b..], &low[b..], period, |t, li, hi_idx| {
        o[t] = factor * (hi_idx as f64 - li as f64);
    });
    Ok(out)
}

/// The scan both Aroon lines share: for every bar `t >= period`, `emit(t, index of the lowest low,
/// index of the highest high)` over bars `t − period..=t` (ties to the most recent bar).
#[inline(always)]
fn extremes(h: &[f64], l: &[f64], period: usize, mut emit: impl FnMut(usize, usize, usize)) {
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    for t in period..h.len() {
        let trailing = t - period;
        let (li, _) = lo.lowest(l, trailing, t);
        let (hi_idx, _) = hi.highest(h, trailing, t);
        emit(t, li, hi_idx);
    }
}
