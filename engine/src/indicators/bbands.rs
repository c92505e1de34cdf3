//! Bollinger bands (TA-Lib `BBANDS` with a simple moving average).

use super::sma::sma_into;
use super::stddev::variance_into;
use super::{check_lengths, check_period, check_real, first_valid, nan_vec, IndicatorError};

/// Upper, middle and lower band.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// `middle = SMA(period)`, `upper = middle + nbdevup·σ`, `lower = middle − nbdevdn·σ` with σ the
/// population standard deviation of the same window (TA-Lib's re-centred running variance, see
/// [`super::stddev`]). Lookback `period − 1`; `period >= 2`.
pub fn bbands(
    close: &[f64],
    period: usize,
    nbdevup: f64,
    nbdevdn: f64,
) -> Result<Bands, IndicatorError> {
    check_period("bbands", "period", period, 2)?;
    check_real("bbands", "nbdevup", nbdevup)?;
    check_real("bbands", "nbdevdn", nbdevdn)?;
    let n = check_lengths("bbands", &[close])?;
    let mut upper = nan_vec(n);
    let mut middle = nan_vec(n);
    let mut lower = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() < period {
        return Ok(Bands {
            upper,
            middle,
            lower,
        });
    }
    let (u, m, l) = (&mut upper[b..], &mut middle[b..], &mut lower[b..]);
    sma_into(x, period, m);
    // The variance goes into `lower` first, then is turned into the band in place.
    variance_into(x, period, l);
    let first = period - 1;
    super::fma_dispatch(
        #[inline(always)]
        || {
            if nbdevup == nbdevdn {
                for t in first..x.len() {
                    let var = l[t];
                    let sd = if var == 0.0 { 0.0 } else { var.sqrt() };
                    let d = sd * nbdevup;
                    u[t] = m[t] + d;
                    l[t] = m[t] - d;
                }
            } else {
                for t in first..x.len() {
                    let var = l[t];
                    let sd = if var == 0.0 { 0.0 } else { var.sqrt() };
                    u[t] = sd.mul_add(nbdevup, m[t]);
                    l[t] = m[t] - sd * nbdevdn;
                }
            }
        },
    );
    Ok(Bands {
        upper,
        middle,
        lower,
    })
}
