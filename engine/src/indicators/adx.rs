//! Directional movement: ADX, DX, +DI, −DI (TA-Lib `ADX`, `DX`, `PLUS_DI`, `MINUS_DI`).
//!
//! All four share Wilder's smoothing of +DM, −DM and the true range: the first value is the sum
//! of the first `period − 1` one-bar values, then `s − s/period + today`.

use super::{
    alloc_col, check_lengths, check_period, first_valid, is_zero, nan_vec, simd_dispatch, true_range, IndicatorError,
};

/// One bar's directional movement: (+DM, −DM).
#[inline(always)]
fn dm(high: f64, prev_high: f64, low: f64, prev_low: f64) -> (f64, f64) {
    let diff_p = high - prev_high;
    let diff_m = prev_low - low;
    if diff_m > 0.0 && diff_p < diff_m {
        (0.0, diff_m)
    } else if diff_p > 0.0 && diff_p > diff_m {
        (diff_p, 0.0)
    } else {
        (0.0, 0.0)
    }
}

/// Smoothed +DM, −DM and TR after bar `t` (valid from `t = period − 1` on, where they are plain
/// sums of bars 1..=period−1), fed bar by bar.
struct Wilder {
    p: f64,
    plus: f64,
    minus: f64,
    tr: f64,
}

impl Wilder {
    #[inline(always)]
    fn seed(&mut self, h: &[f64], l: &[f64], c: &[f64], t: usize) {
        let (p, m) = dm(h[t], h[t - 1], l[t], l[t - 1]);
        self.plus += p;
        self.minus += m;
        self.tr += true_range(h[t], l[t], c[t - 1]);
    }

    #[inline(always)]
    fn step(&mut self, h: &[f64], l: &[f64], c: &[f64], t: usize) {
        let (p, m) = dm(h[t], h[t - 1], l[t], l[t - 1]);
        self.minus -= self.minus / self.p;
        self.plus -= self.plus / self.p;
        self.minus += m;
        self.plus += p;
        self.tr = self.tr - self.tr / self.p + true_range(h[t], l[t], c[t - 1]);
    }

    /// DX, if defined (TR and +DI + −DI not zero).
    #[inline(always)]
    fn dx(&self) -> Option<f64> {
        if is_zero(self.tr) {
            return None;
        }
        let minus_di = 100.0 * (self.minus / self.tr);
        let plus_di = 100.0 * (self.plus / self.tr);
        let sum = minus_di + plus_di;
        if is_zero(sum) {
            return None;
        }
        Some(100.0 * ((minus_di - plus_di).abs() / sum))
    }
}

fn inputs<'a>(
    name: &'static str,
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
) -> Result<(usize, usize), IndicatorError> {
    let n = check_lengths(name, &[high, low, close])?;
    Ok((n, first_valid(&[high, low, close])))
}

/// Average directional index: Wilder's average of DX, first value the mean of the first `period`
/// DX values. Lookback `2·period − 1`; `period >= 2`.
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("adx", "period", period, 2)?;
    let (n, b) = inputs("adx", high, low, close)?;
    let mut out = nan_vec(n);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    let lookback = 2 * period - 1;
    if h.len() <= lookback {
        return Ok(out);
    }
    let pf = period as f64;
    let mut w = Wilder { p: pf, plus: 0.0, minus: 0.0, tr: 0.0 };
    for t in 1..period {
        w.seed(h, l, c, t);
    }
    let mut sum_dx = 0.0;
    for t in period..2 * period {
        w.step(h, l, c, t);
        if let Some(dx) = w.dx() {
            sum_dx += dx;
        }
    }
    let mut adx = sum_dx / pf;
    o[lookback] = adx;
    for t in 2 * period..h.len() {
        w.step(h, l, c, t);
        if let Some(dx) = w.dx() {
            adx = (adx * (pf - 1.0) + dx) / pf;
        }
        o[t] = adx;
    }
    Ok(out)
}

/// Directional movement index `100·|+DI − −DI|/(+DI + −DI)`; when undefined TA-Lib repeats the
/// previous value (0 for the first). Lookback `period`; `period >= 2`.
pub fn dx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("dx", "period", period, 2)?;
    let (n, b) = inputs("dx", high, low, close)?;
    let mut out = nan_vec(n);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let o = &mut out[b..];
    if h.len() <= period {
        return Ok(out);
    }
    let mut w = Wilder { p: period as f64, plus: 0.0, minus: 0.0, tr: 0.0 };
    for t in 1..period {
        w.seed(h, l, c, t);
    }
    let mut last = 0.0;
    for t in period..h.len() {
        w.step(h, l, c, t);
        if let Some(dx) = w.dx() {
            last = dx;
        }
        o[t] = last;
    }
    Ok(out)
}

/// Plus directional indicator `100·smoothed(+DM)/smoothed(TR)`. Lookback `period` (1 for
/// `period == 1`, which is the one-bar `+DM/TR`); `period >= 1`.
pub fn plus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("plus_di", "period", period, 1)?;
    di("plus_di", high, low, close, period, true)
}

/// Minus directional indicator `100·smoothed(−DM)/smoothed(TR)`. Lookback `period` (1 for
/// `period == 1`); `period >= 1`.
pub fn minus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("minus_di", "period", period, 1)?;
    di("minus_di", high, low, close, period, false)
}

fn di(
    name: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    plus: bool,
) -> Result<Vec<f64>, IndicatorError> {
    let (n, b) = inputs(name, high, low, close)?;
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    if h.len() <= period {
        return Ok(nan_vec(n));
    }
    if period == 1 {
        let mut out = nan_vec(n);
        let o = &mut out[b..];
        for t in 1..h.len() {
            let (p, m) = dm(h[t], h[t - 1], l[t], l[t - 1]);
            let v = if plus { p } else { m };
            let tr = true_range(h[t], l[t], c[t - 1]);
            o[t] = if v > 0.0 && tr != 0.0 { v / tr } else { 0.0 };
        }
        return Ok(out);
    }
    // Only the chain asked for (TA-Lib's PLUS_DI/MINUS_DI smooth just their DM and the TR), a
    // block of bars at a time with the state in locals, then the divisions vectorised.
    let pf = period as f64;
    let (mut dm_s, mut tr_s) = (0.0, 0.0);
    for t in 1..period {
        let (p, m) = dm(h[t], h[t - 1], l[t], l[t - 1]);
        dm_s += if plus { p } else { m };
        tr_s += true_range(h[t], l[t], c[t - 1]);
    }
    let mut out = alloc_col(n);
    out.resize(b + period, f64::NAN);
    simd_dispatch(
        #[inline(always)]
        || {
            const RUN: usize = 256;
            let (mut dm_s, mut tr_s) = (dm_s, tr_s);
            let (mut bd, mut bt) = ([0.0; RUN], [0.0; RUN]);
            let mut t0 = period;
            while t0 < h.len() {
                let len = RUN.min(h.len() - t0);
                let bars = h[t0..t0 + len]
                    .iter()
                    .zip(&h[t0 - 1..])
                    .zip(l[t0..t0 + len].iter().zip(&l[t0 - 1..]))
                    .zip(&c[t0 - 1..]);
                for ((((&ht, &hy), (&lt, &ly)), &cy), (od, ot)) in bars.zip(bd.iter_mut().zip(bt.iter_mut())) {
                    let (p, m) = dm(ht, hy, lt, ly);
                    dm_s -= dm_s / pf;
                    dm_s += if plus { p } else { m };
                    tr_s = tr_s - tr_s / pf + true_range(ht, lt, cy);
                    *od = dm_s;
                    *ot = tr_s;
                }
                out.extend(bd[..len].iter().zip(&bt[..len]).map(
                    |(&dm, &tr)| {
                        if tr != 0.0 {
                            100.0 * (dm / tr)
                        } else {
                            0.0
                        }
                    },
                ));
                t0 += len;
            }
        },
    );
    Ok(out)
}
