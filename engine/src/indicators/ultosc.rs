//! Ultimate oscillator (TA-Lib `ULTOSC`).

use super::{check_lengths, check_period, first_valid, nan_vec, true_range, IndicatorError};

/// `100·(4·A₁ + 2·A₂ + A₃)/7` where `Aᵢ = Σ(close − true low)/Σ(true range)` over the shortest,
/// middle and longest of the three periods (TA-Lib sorts them; a window with no range adds 0).
/// Lookback `max(periods)`; every period `>= 1`.
pub fn ultosc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period1: usize,
    period2: usize,
    period3: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("ultosc", "period1", period1, 1)?;
    check_period("ultosc", "period2", period2, 1)?;
    check_period("ultosc", "period3", period3, 1)?;
    let n = check_lengths("ultosc", &[high, low, close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    let mut ps = [period1, period2, period3];
    ps.sort_unstable();
    let [p1, p2, p3] = ps;
    let lookback = p3;
    if h.len() <= lookback {
        return Ok(out);
    }
    let terms = |t: usize| -> (f64, f64) {
        let (lt, cy) = (l[t], c[t - 1]);
        let true_low = if lt < cy { lt } else { cy };
        (c[t] - true_low, true_range(h[t], lt, cy))
    };
    let prime = |p: usize| -> (f64, f64) {
        let (mut a, mut bsum) = (0.0, 0.0);
        for t in lookback + 1 - p..lookback {
            let (x, y) = terms(t);
            a += x;
            bsum += y;
        }
        (a, bsum)
    };
    let (mut a1, mut b1) = prime(p1);
    let (mut a2, mut b2) = prime(p2);
    let (mut a3, mut b3) = prime(p3);
    for t in lookback..h.len() {
        let (x, y) = terms(t);
        a1 += x;
        a2 += x;
        a3 += x;
        b1 += y;
        b2 += y;
        b3 += y;
        let mut v = 0.0;
        if b1 > 0.0 {
            v += a1 / b1 * 4.0;
        }
        if b2 > 0.0 {
            let r = a2 / b2;
            v += r + r;
        }
        if b3 > 0.0 {
            v += a3 / b3;
        }
        o[t] = v / 7.0 * 100.0;
        let (x, y) = terms(t + 1 - p1);
        a1 -= x;
        b1 -= y;
        let (x, y) = terms(t + 1 - p2);
        a2 -= x;
        b2 -= y;
        let (x, y) = terms(t + 1 - p3);
        a3 -= x;
        b3 -= y;
    }
    Ok(out)
}
