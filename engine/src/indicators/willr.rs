//! Williams %R (TA-Lib `WILLR`).

use super::{
    alloc_col, check_lengths, check_period, first_valid, is_zero, nan_vec, rolling_min_max, simd_dispatch, Extreme,
    IndicatorError,
};

/// `−100·(highest high − close)/(highest high − lowest low)` over `period` bars, 0 when the range
/// is 0. Lookback `period − 1`; `period >= 2`.
pub fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("willr", "period", period, 2)?;
    let n = check_lengths("willr", &[high, low, close])?;
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    if h.len() < period {
        return Ok(nan_vec(n));
    }
    // Fast path: branch-free rolling extremes, the formula a block at a time (vectorised).
    let mut out = alloc_col(n);
    out.resize(b + period - 1, f64::NAN);
    let clean = simd_dispatch(
        #[inline(always)]
        || {
            rolling_min_max(
                l,
                h,
                period,
                #[inline(always)]
                |t0, lows, highs| {
                    let cs = &c[t0..t0 + lows.len()];
                    out.extend(lows.iter().zip(highs).zip(cs).map(|((&lo, &hi), &cl)| value(lo, hi, cl)));
                },
            )
        },
    );
    if clean {
        return Ok(out);
    }
    // A NaN in high or low: TA-Lib's scan, whose handling of it depends on the scan's history.
    let mut out = nan_vec(n);
    let o = &mut out[b..];
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    for t in period - 1..h.len() {
        let trailing = t + 1 - period;
        let (_, lowest) = lo.lowest(l, trailing, t);
        let (_, highest) = hi.highest(h, trailing, t);
        o[t] = value(lowest, highest, c[t]);
    }
    Ok(out)
}

#[inline(always)]
fn value(lowest: f64, highest: f64, close: f64) -> f64 {
    let diff = (highest - lowest) / -100.0;
    if !is_zero(diff) {
        (highest - close) / diff
    } else {
        0.0
    }
}
