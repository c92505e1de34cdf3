//! Average true range and normalized ATR (TA-Lib `ATR`, `NATR`), Wilder smoothing.

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, true_range, IndicatorError};

/// Wilder-smoothed true range: the first value is the mean of the first `period` true ranges
/// (bars 1..=period), then `atr·(period−1)/period + tr·(1 − (period−1)/period)` as one fused
/// multiply-add, the TA-Lib 0.8 C core's arithmetic. Lookback `period`; `period >= 1`
/// (`1` is the true range itself).
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    smoothed_range("atr", high, low, close, period, |atr, _| atr)
}

/// `100·ATR/close` (0 when the close is 0). Lookback `period`; `period >= 1`.
///
/// TA-Lib quirk kept for compatibility: with `period == 1` TA-Lib returns the plain true range
/// (not normalized by the close), and so does this function.
pub fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    smoothed_range("natr", high, low, close, period, |atr, c| if c != 0.0 { atr / c * 100.0 } else { 0.0 })
}

/// ATR and NATR: checks, warm-up and the dispatched pass of [`atr_core`], each bar's value
/// written as `emit(atr, close)`, so the two differ only in what they emit.
#[inline(always)]
fn smoothed_range(
    indicator: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    emit: impl Fn(f64, f64) -> f64,
) -> Result<Vec<f64>, IndicatorError> {
    check_period(indicator, "period", period, 1)?;
    let n = check_lengths(indicator, &[high, low, close])?;
    let b = first_valid(&[high, low, close]);
    if n - b <= period {
        return Ok(nan_vec(n));
    }
    let mut out = alloc_col(n);
    out.resize(b + period, f64::NAN);
    super::fma_dispatch(
        #[inline(always)]
        || atr_core(&high[b..], &low[b..], &close[b..], period, &mut out, emit),
    );
    Ok(out)
}

#[inline(always)]
fn atr_core(h: &[f64], l: &[f64], c: &[f64], period: usize, o: &mut Vec<f64>, emit: impl Fn(f64, f64) -> f64) {
    // Appends the values of bars `period..h.len()` (requires `h.len() > period`).
    let n = h.len();
    if period == 1 {
        // TA-Lib hands period 1 to TRANGE for both ATR and NATR.
        for t in 1..n {
            o.push(true_range(h[t], l[t], c[t - 1]));
        }
        return;
    }
    let a = (period - 1) as f64 / period as f64;
    let bw = 1.0 - a;
    let mut sum = 0.0;
    for t in 1..=period {
        sum += true_range(h[t], l[t], c[t - 1]);
    }
    let mut prev = sum / period as f64;
    o.push(emit(prev, c[period]));
    for t in period + 1..n {
        let tr = true_range(h[t], l[t], c[t - 1]);
        prev = prev.mul_add(a, tr * bw);
        o.push(emit(prev, c[t]));
    }
}
