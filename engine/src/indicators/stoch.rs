//! Stochastic oscillator (TA-Lib `STOCH` with SMA smoothing for %K and %D).

use super::sma::{SmaRing, SmaStream};
use super::{
    alloc_col, check_lengths, check_period, first_valid, is_zero, nan_vec, rolling_min_max,
    simd_dispatch, Extreme, IndicatorError,
};

/// Slow %K and slow %D.
#[derive(Debug, Clone, PartialEq)]
pub struct Stoch {
    pub slowk: Vec<f64>,
    pub slowd: Vec<f64>,
}

/// TA-Lib `STOCH(high, low, close, fastk_period, slowk_period, SMA, slowd_period, SMA)`:
/// fast %K = `100·(close − lowest low)/(highest high − lowest low)` over `fastk` bars (0 when the
/// range is 0), slow %K = SMA(fast %K, `slowk`), slow %D = SMA(slow %K, `slowd`).
/// Lookback `fastk − 1 + slowk − 1 + slowd − 1`; every period `>= 1`.
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk: usize,
    slowk: usize,
    slowd: usize,
) -> Result<Stoch, IndicatorError> {
    check_period("stoch", "fastk_period", fastk, 1)?;
    check_period("stoch", "slowk_period", slowk, 1)?;
    check_period("stoch", "slowd_period", slowd, 1)?;
    let n = check_lengths("stoch", &[high, low, close])?;
    let b = first_valid(&[high, low, close]);
    let (h, l, c) = (&high[b..], &low[b..], &close[b..]);
    let lookback = fastk - 1 + slowk - 1 + slowd - 1;
    if h.len() <= lookback {
        return Ok(Stoch {
            slowk: nan_vec(n),
            slowd: nan_vec(n),
        });
    }
    // Fast path: branch-free rolling extremes; fast %K a block at a time (vectorised), then the
    // two running sums.
    let (mut k_out, mut d_out) = (alloc_col(n), alloc_col(n));
    k_out.resize(b + lookback, f64::NAN);
    d_out.resize(b + lookback, f64::NAN);
    let mut k_sma = SmaStream::new(slowk);
    let mut d_sma = SmaStream::new(slowd);
    let (mut fk, mut sk, mut sd) = (Vec::new(), Vec::new(), Vec::new());
    let clean = simd_dispatch(
        #[inline(always)]
        || {
            rolling_min_max(
                l,
                h,
                fastk,
                #[inline(always)]
                |t0, lows, highs| {
                    fk.clear();
                    fk.extend(
                        lows.iter()
                            .zip(highs)
                            .zip(&c[t0..t0 + lows.len()])
                            .map(|((&lo, &hi), &cl)| fast_k(cl, lo, hi)),
                    );
                    sk.clear();
                    k_sma.run(&fk, &mut sk);
                    sd.clear();
                    d_sma.run(&sk, &mut sd);
                    // Slow %D's values belong to the last slow %K values of the run.
                    k_out.extend_from_slice(&sk[sk.len() - sd.len()..]);
                    d_out.extend_from_slice(&sd);
                },
            )
        },
    );
    if clean {
        return Ok(Stoch {
            slowk: k_out,
            slowd: d_out,
        });
    }
    // A NaN in high or low: TA-Lib's scan, whose handling of it depends on the scan's history.
    let mut k_out = nan_vec(n);
    let mut d_out = nan_vec(n);
    let (ko, dout) = (&mut k_out[b..], &mut d_out[b..]);
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    let mut k_sma = SmaRing::new(slowk);
    let mut d_sma = SmaRing::new(slowd);
    for t in fastk - 1..h.len() {
        let trailing = t + 1 - fastk;
        let (_, lowest) = lo.lowest(l, trailing, t);
        let (_, highest) = hi.highest(h, trailing, t);
        let fast = fast_k(c[t], lowest, highest);
        if let Some(sk) = k_sma.push(fast) {
            if let Some(sd) = d_sma.push(sk) {
                ko[t] = sk;
                dout[t] = sd;
            }
        }
    }
    Ok(Stoch {
        slowk: k_out,
        slowd: d_out,
    })
}

/// TA-Lib's fast %K: `(close − lowest)/((highest − lowest)/100)`, 0 when the range is (near) 0.
#[inline(always)]
pub(crate) fn fast_k(close: f64, lowest: f64, highest: f64) -> f64 {
    let diff = (highest - lowest) / 100.0;
    if !is_zero(diff) {
        (close - lowest) / diff
    } else {
        0.0
    }
}
