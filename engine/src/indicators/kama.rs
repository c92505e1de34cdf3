//! Kaufman adaptive moving average (TA-Lib `KAMA`).

use super::{check_lengths, check_period, first_valid, is_zero, nan_vec, IndicatorError};

/// KAMA with TA-Lib's fixed fast/slow constants (2 and 30). The efficiency ratio is
/// `|x[t] − x[t−period]| / Σ|Δx|` over the last `period` changes; the first KAMA uses the previous
/// close as its seed. Lookback `period`; `period >= 1` (`1` copies the input, as TA-Lib does).
pub fn kama(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("kama", "period", period, 1)?;
    let n = check_lengths("kama", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    let len = x.len();
    if period == 1 {
        o.copy_from_slice(x);
        return Ok(out);
    }
    if len <= period {
        return Ok(out);
    }
    super::fma_dispatch(
        #[inline(always)]
        || {
            let const_max = 2.0 / (30.0 + 1.0);
            let const_diff = 2.0 / (2.0 + 1.0) - const_max;

            let mut sum_roc1 = 0.0;
            for i in 0..period {
                let d: f64 = x[i] - x[i + 1];
                sum_roc1 += d.abs();
            }
            let mut prev_kama = x[period - 1];
            let mut trailing_value = x[0];
            let step = |sum_roc1: f64, period_roc: f64, prev_kama: f64, v: f64| -> f64 {
                let er = if sum_roc1 <= period_roc || is_zero(sum_roc1) {
                    1.0
                } else {
                    let r = (period_roc / sum_roc1).abs();
                    if 1.0 < r {
                        1.0
                    } else {
                        r
                    }
                };
                let mut sc = er.mul_add(const_diff, const_max);
                sc *= sc;
                (v - prev_kama).mul_add(sc, prev_kama)
            };
            let v = x[period];
            prev_kama = step(sum_roc1, v - trailing_value, prev_kama, v);
            o[period] = prev_kama;
            for t in period + 1..len {
                let v = x[t];
                let tv2 = x[t - period];
                let period_roc = v - tv2;
                sum_roc1 -= (trailing_value - tv2).abs();
                sum_roc1 += (v - x[t - 1]).abs();
                trailing_value = tv2;
                prev_kama = step(sum_roc1, period_roc, prev_kama, v);
                o[t] = prev_kama;
            }
        },
    );
    Ok(out)
}
