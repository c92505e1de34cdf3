//! Stochastic RSI (TA-Lib `STOCHRSI`): the fast stochastic applied to RSI.

use super::rsi::rsi_into;
use super::sma::SmaRing;
use super::stoch::fast_k;
use super::{check_lengths, check_period, first_valid, nan_vec, Extreme, IndicatorError};

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
    let mut k_out = nan_vec(n);
    let mut d_out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = period + fastk - 1 + fastd - 1;
    if x.len() <= lookback {
        return Ok(StochRsi {
            fastk: k_out,
            fastd: d_out,
        });
    }
    // One scratch buffer for the RSI (its first `period` entries stay unused).
    let mut r = vec![0.0; x.len()];
    rsi_into(x, period, &mut r);
    let (ko, dout) = (&mut k_out[b..], &mut d_out[b..]);
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    let mut d_sma = SmaRing::new(fastd);
    for t in period + fastk - 1..x.len() {
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
