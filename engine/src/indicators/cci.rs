//! Commodity channel index (TA-Lib `CCI`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// `(tp − SMA(tp))/(0.015·mean |tp − SMA(tp)|)` with `tp = (high + low + close)/3`, 0 when either
/// the numerator or the mean deviation is negligible (`≤ 1e-14·|SMA|`, TA-Lib 0.8's test). Lookback `period − 1`; `period >= 2`.
///
/// The mean absolute deviation has no O(1) update, so each bar costs O(period) (as in TA-Lib);
/// the window lives in a ring allocated once and is summed in TA-Lib's order.
pub fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("cci", "period", period, 2)?;
    let n = check_lengths("cci", &[high, low, close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    if h.len() < period {
        return Ok(out);
    }
    let p = period as f64;
    let mut ring = vec![0.0; period];
    let mut idx = 0;
    for i in 0..period - 1 {
        ring[idx] = (h[i] + l[i] + c[i]) / 3.0;
        idx += 1;
    }
    for t in period - 1..h.len() {
        let last = (h[t] + l[t] + c[t]) / 3.0;
        ring[idx] = last;
        let mut avg = 0.0;
        for &v in &ring {
            avg += v;
        }
        avg /= p;
        let mut dev = 0.0;
        for &v in &ring {
            dev += (v - avg).abs();
        }
        let num = last - avg;
        // TA-Lib 0.8's scale-aware zero tests: relative to the level of the average.
        let eps = avg.abs() * 1e-14;
        let mean_dev = dev / p;
        o[t] = if eps >= num.abs() || eps >= mean_dev.abs() {
            0.0
        } else {
            let denom = mean_dev * 0.015;
            if denom == 0.0 {
                0.0
            } else {
                num / denom
            }
        };
        idx += 1;
        if idx == period {
            idx = 0;
        }
    }
    Ok(out)
}
