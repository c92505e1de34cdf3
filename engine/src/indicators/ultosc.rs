//! Ultimate oscillator (TA-Lib `ULTOSC`).

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, simd_dispatch, true_range, IndicatorError};

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
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let mut ps = [period1, period2, period3];
    ps.sort_unstable();
    let [p1, p2, p3] = ps;
    let lookback = p3;
    if h.len() <= lookback {
        return Ok(nan_vec(n));
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
    let (a1, b1) = prime(p1);
    let (a2, b2) = prime(p2);
    let (a3, b3) = prime(p3);
    let mut out = alloc_col(n);
    out.resize(b + lookback, f64::NAN);
    simd_dispatch(
        #[inline(always)]
        || {
            // A block of bars at a time: every bar's terms once into buffers (vectorised), the six
            // running sums (state in locals, slices instead of indices), then the three divisions
            // per bar (vectorised). Same operations in the same order as bar by bar.
            let run = 256.max(4 * p3);
            let (mut a1, mut b1, mut a2, mut b2, mut a3, mut b3) = (a1, b1, a2, b2, a3, b3);
            let span = run + p3 - 1;
            let mut tx = vec![0.0; span];
            let mut ty = vec![0.0; span];
            let mut sums = vec![0.0; 6 * run];
            let mut vals = vec![0.0; run];
            let mut t0 = lookback;
            while t0 < h.len() {
                let len = run.min(h.len() - t0);
                // Terms of bars t0 + 1 − p3 .. t0 + len (the oldest ones leave the windows).
                let from = t0 + 1 - p3;
                let to = t0 + len;
                let (tx, ty) = (&mut tx[..to - from], &mut ty[..to - from]);
                for (((((ox, oy), &lt), &ht), &ct), &cy) in tx
                    .iter_mut()
                    .zip(ty.iter_mut())
                    .zip(&l[from..to])
                    .zip(&h[from..to])
                    .zip(&c[from..to])
                    .zip(&c[from - 1..to - 1])
                {
                    let true_low = if lt < cy { lt } else { cy };
                    *ox = ct - true_low;
                    *oy = true_range(ht, lt, cy);
                }
                let (s_a1, rest) = sums.split_at_mut(run);
                let (s_b1, rest) = rest.split_at_mut(run);
                let (s_a2, rest) = rest.split_at_mut(run);
                let (s_b2, rest) = rest.split_at_mut(run);
                let (s_a3, s_b3) = rest.split_at_mut(run);
                let (tx, ty) = (&*tx, &*ty);
                let now = tx[p3 - 1..].iter().zip(&ty[p3 - 1..]);
                let old1 = tx[p3 - p1..].iter().zip(&ty[p3 - p1..]);
                let old2 = tx[p3 - p2..].iter().zip(&ty[p3 - p2..]);
                let old3 = tx.iter().zip(ty.iter());
                let outs = s_a1[..len]
                    .iter_mut()
                    .zip(s_b1[..len].iter_mut())
                    .zip(s_a2[..len].iter_mut().zip(s_b2[..len].iter_mut()))
                    .zip(s_a3[..len].iter_mut().zip(s_b3[..len].iter_mut()));
                for (((((&x, &y), (&x1, &y1)), (&x2, &y2)), (&x3, &y3)), ((o1, o2), o3)) in
                    now.zip(old1).zip(old2).zip(old3).zip(outs)
                {
                    a1 += x;
                    a2 += x;
                    a3 += x;
                    b1 += y;
                    b2 += y;
                    b3 += y;
                    (*o1.0, *o1.1, *o2.0, *o2.1, *o3.0, *o3.1) = (a1, b1, a2, b2, a3, b3);
                    a1 -= x1;
                    b1 -= y1;
                    a2 -= x2;
                    b2 -= y2;
                    a3 -= x3;
                    b3 -= y3;
                }
                for i in 0..len.min(run) {
                    let mut v = 0.0;
                    if s_b1[i] > 0.0 {
                        v += s_a1[i] / s_b1[i] * 4.0;
                    }
                    if s_b2[i] > 0.0 {
                        let r = s_a2[i] / s_b2[i];
                        v += r + r;
                    }
                    if s_b3[i] > 0.0 {
                        v += s_a3[i] / s_b3[i];
                    }
                    vals[i] = v / 7.0 * 100.0;
                }
                out.extend_from_slice(&vals[..len]);
                t0 += len;
            }
        },
    );
    Ok(out)
}
