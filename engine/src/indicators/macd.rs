//! Moving average convergence/divergence (TA-Lib `MACD`).

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// MACD line, signal line and histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    pub macd: Vec<f64>,
    pub signal: Vec<f64>,
    pub hist: Vec<f64>,
}

/// TA-Lib `MACD(close, fast, slow, signal)`: `EMA(fast) − EMA(slow)`, its EMA(`signal`), and their
/// difference. TA-Lib's seeding: both price EMAs are seeded with the mean of the `period` bars that
/// end at bar `slow − 1` (so the fast EMA starts late, aligned with the slow one); the signal EMA is
/// seeded with the mean of the first `signal` MACD values. The periods are swapped when
/// `slow < fast`, as TA-Lib does. Lookback `slow − 1 + signal − 1`; `fast, slow >= 2`,
/// `signal >= 1`.
pub fn macd(close: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd, IndicatorError> {
    check_period("macd", "fast_period", fast, 2)?;
    check_period("macd", "slow_period", slow, 2)?;
    check_period("macd", "signal_period", signal, 1)?;
    let n = check_lengths("macd", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
    let lookback = slow - 1 + signal - 1;
    if x.len() <= lookback {
        return Ok(Macd { macd: nan_vec(n), signal: nan_vec(n), hist: nan_vec(n) });
    }
    let (mut m_out, mut s_out, mut h_out) = (alloc_col(n), alloc_col(n), alloc_col(n));
    for col in [&mut m_out, &mut s_out, &mut h_out] {
        col.resize(b + lookback, f64::NAN);
    }
    super::simd_dispatch(
        #[inline(always)]
        || {
            let fast_k = 2.0 / (fast as f64 + 1.0);
            let slow_k = 2.0 / (slow as f64 + 1.0);
            let signal_k = 2.0 / (signal as f64 + 1.0);

            // Seeds: slow over x[0..slow], fast over x[slow-fast..slow], accumulated as TA-Lib does.
            let mut slow_sum = 0.0;
            for &v in &x[..slow - fast] {
                slow_sum += v;
            }
            let mut fast_sum = 0.0;
            for &v in &x[slow - fast..slow] {
                fast_sum += v;
                slow_sum += v;
            }
            let mut prev_slow = slow_sum / slow as f64;
            let mut prev_fast = fast_sum / fast as f64;
            let mut macd_value = prev_fast - prev_slow;
            let mut sig = macd_value;
            for &v in &x[slow..slow + signal - 1] {
                prev_fast = (v - prev_fast).mul_add(fast_k, prev_fast);
                prev_slow = (v - prev_slow).mul_add(slow_k, prev_slow);
                macd_value = prev_fast - prev_slow;
                sig += macd_value;
            }
            sig /= signal as f64;
            m_out.push(macd_value);
            s_out.push(sig);
            h_out.push(macd_value - sig);
            // The three EMA chains run together a block at a time, their state in locals, through
            // small stack buffers; the histogram is a vectorised difference of the two.
            const RUN: usize = 256;
            let (mut bm, mut bs) = ([0.0; RUN], [0.0; RUN]);
            for block in x[lookback + 1..].chunks(RUN) {
                let (bm, bs) = (&mut bm[..block.len()], &mut bs[..block.len()]);
                for ((&v, m), s) in block.iter().zip(bm.iter_mut()).zip(bs.iter_mut()) {
                    prev_fast = (v - prev_fast).mul_add(fast_k, prev_fast);
                    prev_slow = (v - prev_slow).mul_add(slow_k, prev_slow);
                    let macd_value = prev_fast - prev_slow;
                    sig = (macd_value - sig).mul_add(signal_k, sig);
                    *m = macd_value;
                    *s = sig;
                }
                m_out.extend_from_slice(bm);
                s_out.extend_from_slice(bs);
                h_out.extend(bm.iter().zip(bs.iter()).map(|(&m, &s)| m - s));
            }
        },
    );
    Ok(Macd { macd: m_out, signal: s_out, hist: h_out })
}
