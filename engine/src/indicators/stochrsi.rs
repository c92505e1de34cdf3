//! Stochastic RSI (TA-Lib `STOCHRSI`): the fast stochastic applied to RSI.

use super::rsi::rsi_values;
use super::stoch::stoch_lines;
use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// Fast %K and fast %D of the RSI.
#[derive(Debug, Clone, PartialEq)]
pub struct StochRsi {
    pub fastk: Vec<f64>,
    pub fastd: Vec<f64>,
}

/// TA-Lib `STOCHRSI(close, timeperiod, fastk_period, fastd_period, SMA)`: RSI(`period`), then
/// fast %K = `100·(rsi − min)/(max − min)` over `fastk` RSI values and fast %D = SMA(%K, `fastd`).
/// Lookback `period + fastk − 1 + fastd − 1`; `period >= 2`, `fastk, fastd >= 1`.
pub fn stochrsi(close: &[f64], period: usize, fastk: usize, fastd: usize) -> Result<StochRsi, IndicatorError> {
    check_period("stochrsi", "period", period, 2)?;
    check_period("stochrsi", "fastk_period", fastk, 1)?;
    check_period("stochrsi", "fastd_period", fastd, 1)?;
    let n = check_lengths("stochrsi", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let lookback = period + fastk - 1 + fastd - 1;
    if x.len() <= lookback {
        return Ok(StochRsi { fastk: nan_vec(n), fastd: nan_vec(n) });
    }
    // The RSI from bar `period` on (scratch, written once).
    let mut r = alloc_col(x.len() - period);
    r.extend(rsi_values(x, period));
    let (k, d) = stoch_lines(n, b + period, &r, &r, &r, fastk, None, fastd);
    Ok(StochRsi { fastk: k, fastd: d })
}
