//! Bollinger bands (TA-Lib `BBANDS` with a simple moving average).

use super::stddev::Variance;
use super::{alloc_col, check_lengths, check_period, check_real, first_valid, nan_vec, IndicatorError};

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
pub fn bbands(close: &[f64], period: usize, nbdevup: f64, nbdevdn: f64) -> Result<Bands, IndicatorError> {
    check_period("bbands", "period", period, 2)?;
    check_real("bbands", "nbdevup", nbdevup)?;
    check_real("bbands", "nbdevdn", nbdevdn)?;
    let n = check_lengths("bbands", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    if x.len() < period {
        return Ok(Bands { upper: nan_vec(n), middle: nan_vec(n), lower: nan_vec(n) });
    }
    let first = b + period - 1;
    let (mut upper, mut middle, mut lower) = (alloc_col(n), alloc_col(n), alloc_col(n));
    for col in [&mut upper, &mut middle, &mut lower] {
        col.resize(first, f64::NAN);
    }
    // The running sum (TA-Lib's SMA) and the running variance are independent chains, run
    // together a block of bars at a time with their state in locals; the divisions, square roots
    // and bands of the block then go in vectorised passes (each value computed exactly as before,
    // so the result is the same bit for bit).
    super::simd_dispatch(
        #[inline(always)]
        || {
            const RUN: usize = 256;
            let p = period as f64;
            let mut sum = 0.0;
            for &v in &x[..period - 1] {
                sum += v;
            }
            let mut variance = Variance::new(x, period);
            let (mut bm, mut bsd) = ([0.0; RUN], [0.0; RUN]);
            let mut t0 = period - 1;
            while t0 < x.len() {
                let len = RUN.min(x.len() - t0);
                let (bm, bsd) = (&mut bm[..len], &mut bsd[..len]);
                for (i, (m, sd)) in bm.iter_mut().zip(bsd.iter_mut()).enumerate() {
                    let t = t0 + i;
                    sum += x[t];
                    *m = sum;
                    sum -= x[t + 1 - period];
                    *sd = variance.at(t);
                }
                for (m, sd) in bm.iter_mut().zip(bsd.iter_mut()) {
                    *m /= p;
                    let var = *sd;
                    *sd = if var == 0.0 { 0.0 } else { var.sqrt() };
                }
                let pairs = || bm.iter().zip(bsd.iter());
                if nbdevup == nbdevdn {
                    upper.extend(pairs().map(|(&m, &sd)| m + sd * nbdevup));
                    lower.extend(pairs().map(|(&m, &sd)| m - sd * nbdevup));
                } else {
                    upper.extend(pairs().map(|(&m, &sd)| sd.mul_add(nbdevup, m)));
                    lower.extend(pairs().map(|(&m, &sd)| m - sd * nbdevdn));
                }
                middle.extend_from_slice(bm);
                t0 += len;
            }
        },
    );
    Ok(Bands { upper, middle, lower })
}
