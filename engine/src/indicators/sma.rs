//! Simple moving average (TA-Lib `SMA`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// Mean of the last `period` values. Lookback `period - 1`; `period >= 1`.
///
/// Computed with TA-Lib's running sum (add the new value, emit `sum / period`, subtract the value
/// leaving the window), so results are bit-identical to TA-Lib's.
pub fn sma(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("sma", "period", period, 1)?;
    let n = check_lengths("sma", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    sma_into(&close[b..], period, &mut out[b..]);
    Ok(out)
}

/// Writes the SMA of `x` into `out[period-1..]` (the rest is left untouched).
pub(crate) fn sma_into(x: &[f64], period: usize, out: &mut [f64]) {
    let n = x.len();
    if period == 0 || n < period {
        return;
    }
    let p = period as f64;
    let mut sum = 0.0;
    for &v in &x[..period - 1] {
        sum += v;
    }
    for t in period - 1..n {
        sum += x[t];
        out[t] = sum / p;
        sum -= x[t + 1 - period];
    }
}

/// Streaming SMA over values that arrive one at a time (used by STOCH and STOCHRSI), with the same
/// running-sum arithmetic as [`sma_into`]. Keeps the last `period` values in a ring allocated once.
pub(crate) struct SmaRing {
    buf: Vec<f64>,
    pos: usize,
    seen: usize,
    sum: f64,
}

impl SmaRing {
    pub(crate) fn new(period: usize) -> Self {
        SmaRing {
            buf: vec![0.0; period.max(1)],
            pos: 0,
            seen: 0,
            sum: 0.0,
        }
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
