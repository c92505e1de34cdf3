//! Stochastic oscillator (TA-Lib `STOCH` with SMA smoothing for %K and %D).

use super::sma::{SmaRing, SmaStream};
use super::{
    alloc_col, check_lengths, check_period, first_valid, is_zero, nan_vec, rolling_min_max, simd_dispatch, Extreme,
    IndicatorError,
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
        return Ok(Stoch { slowk: nan_vec(n), slowd: nan_vec(n) });
    }
    let (k, d) = stoch_lines(n, b, l, h, c, fastk, Some(slowk), slowd);
    Ok(Stoch { slowk: k, slowd: d })
}

/// The %K and %D lines that STOCH and STOCHRSI share, as columns of `n` values: fast %K of
/// `value[t]` against the lowest `low` and highest `high` of the last `fastk` bars, smoothed by an
/// SMA of `k_smooth` bars when given (STOCH's slow %K; STOCHRSI has none), and %D, the SMA of that
/// over `d` bars. The inputs start at bar `offset` of the output; they must be longer than the
/// lookback `fastk − 1 + (k_smooth − 1) + d − 1`.
///
/// Vectorised over runs of the rolling extremes when the inputs allow it ([`rolling_min_max`]),
/// else one bar at a time with TA-Lib's rescanning extremes; both give the same bits.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn stoch_lines(
    n: usize,
    offset: usize,
    low: &[f64],
    high: &[f64],
    value: &[f64],
    fastk: usize,
    k_smooth: Option<usize>,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let lookback = fastk - 1 + k_smooth.map_or(0, |k| k - 1) + d - 1;
    let (mut k_out, mut d_out) = (alloc_col(n), alloc_col(n));
    k_out.resize(offset + lookback, f64::NAN);
    d_out.resize(offset + lookback, f64::NAN);
    // Fast path: branch-free rolling extremes; fast %K a block at a time (vectorised), then the
    // running sums.
    let mut k_sma = k_smooth.map(SmaStream::new);
    let mut d_sma = SmaStream::new(d);
    let (mut fk, mut sk, mut sd) = (Vec::new(), Vec::new(), Vec::new());
    let clean = simd_dispatch(
        #[inline(always)]
        || {
            rolling_min_max(
                low,
                high,
                fastk,
                #[inline(always)]
                |t0, lows, highs| {
                    fk.clear();
                    fk.extend(
                        lows.iter()
                            .zip(highs)
                            .zip(&value[t0..t0 + lows.len()])
                            .map(|((&lo, &hi), &v)| fast_k(v, lo, hi)),
                    );
                    let k = match &mut k_sma {
                        Some(s) => {
                            sk.clear();
                            s.run(&fk, &mut sk);
                            &sk
                        }
                        None => &fk,
                    };
                    sd.clear();
                    d_sma.run(k, &mut sd);
                    // %D's values belong to the last %K values of the run.
                    k_out.extend_from_slice(&k[k.len() - sd.len()..]);
                    d_out.extend_from_slice(&sd);
                },
            )
        },
    );
    if clean {
        return (k_out, d_out);
    }
    // A NaN in an input: TA-Lib's scan, whose handling of it depends on the scan's history.
    let mut k_out = nan_vec(n);
    let mut d_out = nan_vec(n);
    let (ko, dout) = (&mut k_out[offset..], &mut d_out[offset..]);
    let mut lo = Extreme::new();
    let mut hi = Extreme::new();
    let mut k_sma = k_smooth.map(SmaRing::new);
    let mut d_sma = SmaRing::new(d);
    for t in fastk - 1..value.len() {
        let trailing = t + 1 - fastk;
        let (_, lowest) = lo.lowest(low, trailing, t);
        let (_, highest) = hi.highest(high, trailing, t);
        let fast = fast_k(value[t], lowest, highest);
        let k = match &mut k_sma {
            Some(s) => match s.push(fast) {
                Some(k) => k,
                None => continue,
            },
            None => fast,
        };
        if let Some(dv) = d_sma.push(k) {
            ko[t] = k;
            dout[t] = dv;
        }
    }
    (k_out, d_out)
}

/// TA-Lib's fast %K: `(close − lowest)/((highest − lowest)/100)`, 0 when the range is (near) 0.
#[inline(always)]
fn fast_k(close: f64, lowest: f64, highest: f64) -> f64 {
    let diff = (highest - lowest) / 100.0;
    if !is_zero(diff) {
        (close - lowest) / diff
    } else {
        0.0
    }
}
