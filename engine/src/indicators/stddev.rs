//! Standard deviation (TA-Lib `STDDEV`): population standard deviation over a rolling window.

use super::{check_lengths, check_period, check_real, col_from, first_valid, nan_vec, IndicatorError};

/// `nbdev · sqrt(population variance)` of the last `period` values. Lookback `period − 1`;
/// `period >= 2`.
///
/// The variance follows the TA-Lib 0.8 C core exactly: running sums of the values *shifted* by a
/// reference (first the window's first value, later the window mean), `E[d²] − E[d]²`, and a
/// re-centring (recompute the shift and both sums from the window) whenever cancellation is
/// detected (`var < 1e-6·E[d²]`, a leaving term dominating the sum of squares) or every
/// `32·period` bars. That keeps tiny deviations around large levels accurate.
pub fn stddev(close: &[f64], period: usize, nbdev: f64) -> Result<Vec<f64>, IndicatorError> {
    check_period("stddev", "period", period, 2)?;
    check_real("stddev", "nbdev", nbdev)?;
    let n = check_lengths("stddev", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() < period {
        return Ok(nan_vec(n));
    }
    let var = variance_values(x, period);
    Ok(if nbdev == 1.0 {
        col_from(n, b + period - 1, var.map(f64::sqrt))
    } else {
        col_from(n, b + period - 1, var.map(|v| v.sqrt() * nbdev))
    })
}

/// Rolling population variance of `x` for bars `period − 1..x.len()` (requires
/// `1 <= period <= x.len()`), TA-Lib 0.8 `TA_VAR` arithmetic.
#[inline(always)]
pub(crate) fn variance_values(x: &[f64], period: usize) -> impl Iterator<Item = f64> + '_ {
    let mut var = Variance::new(x, period);
    (period - 1..x.len()).map(
        #[inline(always)]
        move |t| var.at(t),
    )
}

/// TA-Lib 0.8 `TA_VAR`'s running state over `x`: sums of the values shifted by a reference.
pub(crate) struct Variance<'a> {
    x: &'a [f64],
    period: usize,
    inv: f64,
    shift: f64,
    s1: f64,
    s2: f64,
    every: usize,
    countdown: usize,
}

impl<'a> Variance<'a> {
    /// Primed with the first `period − 1` values (requires `1 <= period <= x.len()`).
    #[inline(always)]
    pub(crate) fn new(x: &'a [f64], period: usize) -> Self {
        let shift = x[0];
        let mut s1 = 0.0;
        let mut s2 = 0.0;
        for &v in &x[..period - 1] {
            let d = v - shift;
            s1 += d;
            s2 += d * d;
        }
        let every = period << 5;
        Variance { x, period, inv: 1.0 / period as f64, shift, s1, s2, every, countdown: every }
    }

    /// The variance of the window ending at `t`; call for `t = period − 1, period, …` in turn.
    #[inline(always)]
    pub(crate) fn at(&mut self, t: usize) -> f64 {
        let (x, inv) = (self.x, self.inv);
        let d = x[t] - self.shift;
        self.s1 += d;
        self.s2 += d * d;
        let m1 = inv * self.s1;
        let mut var = inv * self.s2 - m1 * m1;
        let start = t + 1 - self.period;
        let tr = x[start] - self.shift;
        let tr2 = tr * tr;
        self.s2 -= tr2;
        // Same order of tests as the C core (the countdown only ticks when neither fires).
        let recenter = inv * self.s2 * 1e-6 > var || tr2 > self.s2 * 1e6 || {
            self.countdown -= 1;
            self.countdown == 0
        };
        if recenter {
            let (shift, s1, s2, v) = recenter_window(&x[start..=t], inv);
            self.shift = shift;
            self.s1 = s1;
            self.s2 = s2;
            var = v;
            self.countdown = self.every;
        } else {
            self.s1 -= tr;
        }
        var
    }
}

/// Re-centre on the window `w` (oldest first): the new shift (the window mean), the shifted sums
/// without the oldest value (it leaves next), and the window's variance. Out of line: rare, and it
/// would crowd the registers of the hot loop.
#[cold]
#[inline(never)]
fn recenter_window(w: &[f64], inv: f64) -> (f64, f64, f64, f64) {
    let mut sum = 0.0;
    for &v in w {
        sum += v;
    }
    let shift = sum * inv;
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in w {
        let d = v - shift;
        s1 += d;
        s2 += d * d;
    }
    let m2 = inv * s2;
    let m1 = inv * s1;
    let v = m2 - m1 * m1;
    let var = if v < m2 * 1e-12 { 0.0 } else { v };
    let tr = w[0] - shift;
    (shift, s1 - tr, s2 - tr * tr, var)
}
