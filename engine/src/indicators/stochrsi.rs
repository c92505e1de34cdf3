//! Stochastic RSI (TA-Lib `STOCHRSI`): the fast stochastic applied to RSI.

use super::rsi::rsi_values;
use super::sma::{SmaRing, SmaStream};
use super::stoch::fast_k;
use super::{
    alloc_col, check_lengths, check_period, first_valid, nan_vec, rolling_min_max, simd_dispatch,
    Extreme, IndicatorError,
};

/// Fast %K and fast %D of the RSI.
#[derive(Debug, Clone, PartialEq)]
pub struct StochRsi {
    pub fastk: Vec<f64>,
    pub fastd: Vec<f64>,
}

/// TA-Lib `STOCHRSI(close, timeperiod, fastk_period, fastd_period, SMA)`: RSI(`period`), then
/// fast %K = `100·(rsi − min)/(max − min)` over `fastk` RSI values and fast %D = SMA(%K, `fastd`).
/// Lookback `period + fastk − 1 + fastd − 1`; `period >= 2`, `fastk, fastd >= 1`.
pub fn stochrsi(
    close: &[f64],
    period: usize,
    fastk: usize,
    fastd: usize,
) -> Result<StochRsi, IndicatorError> {
    check_period("stochrsi", "period", period, 2)?;
    check_period("stochrsi", "fastk_period", fastk, 1)?;
    check_period("stochrsi", "fastd_period", fastd, 1)?;
    let n = check_lengths("stochrsi", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = period + fastk - 1 + fastd - 1;
    if x.len() <= lookback {
        return Ok(StochRsi {
            fastk: nan_vec(n),
            fastd: nan_vec(n),
        });
    }
    // The RSI from bar `period` on (scratch, written once).
    let mut r = alloc_col(x.len() - period);
    r.extend(rsi_values(x, period));
    let first = b + lookback;
    // Fast path: branch-free rolling extremes of the RSI, %K a block at a time (vectorised).
    let (mut k_out, mut d_out) = (alloc_col(n), alloc_col(n));
    k_out.resize(first, f64::NAN);
    d_out.resize(first, f64::NAN);
    let mut d_sma = SmaStream::new(fastd);
    let (mut fk, mut fd) = (Vec::new(), Vec::new());
    let clean = simd_dispatch(
        #[inline(always)]
        || {
            rolling_min_max(
                &r,
                &r,
                fastk,
                #[inline(always)]
                |t0, lows, highs| {
                    fk.clear();
                    fk.extend(
                        lows.iter()
                            .zip(highs)
                            .zip(&r[t0..t0 + lows.len()])
                            .map(|((&lo, &hi), &v)| fast_k(v, lo, hi)),
                    );
                    fd.clear();
                    d_sma.run(&fk, &mut fd);
                    // %D's values belong to the last %K values of the run.
                    k_out.extend_from_slice(&fk[fk.len() - fd.len()..]);
                    d_out.extend_from_slice(&fd);
                },
            )
        },
    );
    if clean {
        return Ok(StochRsi {
            fastk: k_out,
            fastd: d_out,
        });
    }
    // A NaN in the RSI: TA-Lib's scan, whose handling of it depends on the scan's history.
    let mut k_out = nan_vec(n);
    let mut d_out = nan_vec(n);
    let (ko, dout) = (&mut k_out[b + period..], &mut d_out[b + period..]);
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    let mut d_sma = SmaRing::new(fastd);
    for t in fastk - 1..r.len() {
        let trailing = t + 1 - fastk;
        let (_, lowest) = lo.lowest(&r, trailing, t);
        let (_, highest) = hi.highest(&r, trailing, t);
        let k = fast_k(r[t], lowest, highest);
        if let Some(d) = d_sma.push(k) {
            ko[t] = k;
            dout[t] = d;
        }
    }
    Ok(StochRsi {
        fastk: k_out,
        fastd: d_out,
    })
}
