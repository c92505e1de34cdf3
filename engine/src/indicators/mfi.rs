//! Money flow index (TA-Lib `MFI`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// `100·positive flow/(positive + negative flow)` over `period` bars, where a bar's money flow is
/// `tp·volume` (`tp = (high + low + close)/3`), positive when `tp` rose, negative when it fell,
/// neither when unchanged; 0 when there is no flow. Lookback `period`; `period >= 2`.
///
/// Follows the TA-Lib 0.8 C core: `tp` counts as unchanged when the change is within
/// `1e-14·(|tp| + |previous tp|)`, and after `period` consecutive bars without flow both running
/// sums are reset to exactly 0 (so rounding residue cannot produce a value on a flat stretch).
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("mfi", "period", period, 2)?;
    let n = check_lengths("mfi", &[high, low, close, volume])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close, volume]);
    let (h, l, c, v) = (&high[b..], &low[b..], &close[b..], &volume[b..]);
    let o = &mut out[b..];
    if h.len() <= period {
        return Ok(out);
    }
    // Ring of (positive, negative) flows of the last `period` bars.
    let mut pos_ring = vec![0.0; period];
    let mut neg_ring = vec![0.0; period];
    let mut idx = 0;
    let mut pos_sum = 0.0;
    let mut neg_sum = 0.0;
    let mut quiet = 0usize;
    let mut prev = (h[0] + l[0] + c[0]) / 3.0;
    for t in 1..h.len() {
        if t > period {
            pos_sum -= pos_ring[idx];
            neg_sum -= neg_ring[idx];
        }
        let tp = (h[t] + l[t] + c[t]) / 3.0;
        let diff = tp - prev;
        let scale = (tp.abs() + prev.abs()) * 1e-14;
        prev = tp;
        let mut flow_now = false;
        if scale >= diff.abs() {
            pos_ring[idx] = 0.0;
            neg_ring[idx] = 0.0;
        } else {
            let flow = v[t] * tp;
            if 0.0 > diff {
                neg_ring[idx] = flow;
                pos_ring[idx] = 0.0;
                neg_sum += flow;
            } else {
                pos_ring[idx] = flow;
                neg_ring[idx] = 0.0;
                pos_sum += flow;
            }
            flow_now = flow != 0.0;
        }
        let mut reset = false;
        if flow_now {
            quiet = 0;
        } else {
            quiet += 1;
            if quiet >= period {
                quiet = period;
                pos_sum = 0.0;
                neg_sum = 0.0;
                reset = true;
            }
        }
        if t >= period {
            o[t] = if reset { 0.0 } else { value(pos_sum, neg_sum) };
        }
        idx += 1;
        if idx == period {
            idx = 0;
        }
    }
    Ok(out)
}

#[inline(always)]
fn value(pos: f64, neg: f64) -> f64 {
    let total = pos + neg;
    let p = if 0.0 > pos {
        0.0
    } else if total < pos {
        total
    } else {
        pos
    };
    if 0.0 >= total {
        0.0
    } else {
        p / total * 100.0
    }
}
