//! Simple moving average (TA-Lib `SMA`).

use super::{check_lengths, check_period, col_from, first_valid, nan_vec, IndicatorError};

/// Mean of the last `period` values. Lookback `period - 1`; `period >= 1`.
///
/// Computed with TA-Lib's running sum (add the new value, emit `sum / period`, subtract the value
/// leaving the window), so results are bit-identical to TA-Lib's.
pub fn sma(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("sma", "period", period, 1)?;
    let n = check_lengths("sma", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() < period {
        return Ok(nan_vec(n));
    }
    Ok(col_from(n, b + period - 1, sma_values(x, period)))
}

/// The SMA of `x` for bars `period − 1..x.len()` (requires `1 <= period <= x.len()`), TA-Lib's
/// running sum: add the new value, emit `sum / period`, subtract the value leaving the window.
#[inline(always)]
pub(crate) fn sma_values(x: &[f64], period: usize) -> impl Iterator<Item = f64> + '_ {
    let p = period as f64;
    let mut sum = 0.0;
    for &v in &x[..period - 1] {
        sum += v;
    }
    x[period - 1..].iter().zip(x).map(move |(&v, &old)| {
        sum += v;
        let out = sum / p;
        sum -= old;
        out
    })
}

/// Streaming SMA over values that arrive a run at a time (the smoothing stages of STOCH and
/// STOCHRSI), with the same running-sum arithmetic as [`sma_values`]. Keeps the last
/// `period − 1` values; the running sum stays in a register within a run.
pub(crate) struct SmaStream {
    keep: usize,
    p: f64,
    window: Vec<f64>,
    sum: f64,
}

impl SmaStream {
    pub(crate) fn new(period: usize) -> Self {
        SmaStream { keep: period.max(1) - 1, p: period.max(1) as f64, window: Vec::new(), sum: 0.0 }
    }

    /// Feed `input`; appends to `out` the SMA of every window completed by it (one per input
    /// once `period` values were seen).
    #[inline(always)]
    pub(crate) fn run(&mut self, mut input: &[f64], out: &mut Vec<f64>) {
        let keep = self.keep;
        if self.window.len() < keep {
            let k = (keep - self.window.len()).min(input.len());
            for &v in &input[..k] {
                self.sum += v;
            }
            self.window.extend_from_slice(&input[..k]);
            input = &input[k..];
            if input.is_empty() {
                return;
            }
        }
        self.window.extend_from_slice(input);
        let (p, mut sum) = (self.p, self.sum);
        out.extend(self.window[keep..].iter().zip(&self.window).map(|(&v, &old)| {
            sum += v;
            let o = sum / p;
            sum -= old;
            o
        }));
        self.sum = sum;
        let len = self.window.len();
        self.window.copy_within(len - keep.., 0);
        self.window.truncate(keep);
    }
}

/// Streaming SMA over values that arrive one at a time (used by STOCH and STOCHRSI), with the same
/// running-sum arithmetic as [`sma_values`]. Keeps the last `period` values in a ring allocated once.
pub(crate) struct SmaRing {
    buf: Vec<f64>,
    pos: usize,
    seen: usize,
    sum: f64,
}

impl SmaRing {
    pub(crate) fn new(period: usize) -> Self {
        SmaRing { buf: vec![0.0; period.max(1)], pos: 0, seen: 0, sum: 0.0 }
    }

    /// Feed one value; returns the SMA once `period` values were seen.
    #[inline(always)]
    pub(crate) fn push(&mut self, v: f64) -> Option<f64> {
        let p = self.buf.len();
        self.buf[self.pos] = v;
        self.sum += v;
        self.seen += 1;
        self.pos += 1;
        if self.pos == p {
            self.pos = 0;
        }
        if self.seen >= p {
            let out = self.sum / p as f64;
            // The oldest value of the window now sits where the next value will be written.
            self.sum -= self.buf[self.pos];
            Some(out)
        } else {
            None
        }
    }
}
