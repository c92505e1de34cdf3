//! Chande momentum oscillator (TA-Lib `CMO`), which TA-Lib smooths like its RSI (Wilder).

use super::{alloc_col, check_lengths, check_period, first_valid, nan_vec, simd_dispatch, IndicatorError};

/// `100·(gain − loss)/(gain + loss)` over Wilder-smoothed average gain and loss (TA-Lib's CMO is
/// the RSI recursion with a different last step), 0 when both are 0. Lookback `period`;
/// `period >= 2`.
pub fn cmo(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("cmo", "period", period, 2)?;
    let n = check_lengths("cmo", &[close])?;
    let b = first_valid(&[close]);
    let x = &close[b..];
    let len = x.len();
    if len <= period {
        return Ok(nan_vec(n));
    }
    let p = period as f64;
    let pm1 = (period - 1) as f64;
    let mut gain = 0.0;
    let mut loss = 0.0;
    let mut prev = x[0];
    for &v in &x[1..=period] {
        let d = v - prev;
        prev = v;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= p;
    gain /= p;
    let mut out = alloc_col(n);
    out.resize(b + period, f64::NAN);
    out.push(value(gain, loss));
    // The two smoothing chains run a block at a time with their state in locals, without a
    // data-dependent branch (the side a change does not go to gets `± 0.0`, which leaves it
    // unchanged: both sums stay `>= +0.0` or NaN, so no `−0.0 + 0.0` sign flip); the output
    // divisions then go in a vectorised pass, off the chains' divider.
    simd_dispatch(
        #[inline(always)]
        || {
            const RUN: usize = 256;
            let (mut gain, mut loss) = (gain, loss);
            let (mut bg, mut bl) = ([0.0; RUN], [0.0; RUN]);
            let rest = &x[period..];
            for (i, block) in rest[1..].chunks(RUN).enumerate() {
                let prevs = &rest[i * RUN..];
                let (bg, bl) = (&mut bg[..block.len()], &mut bl[..block.len()]);
                for (((&v, &prev), g), l) in block.iter().zip(prevs).zip(bg.iter_mut()).zip(bl.iter_mut()) {
                    let d = v - prev;
                    // `d` or `+0.0` by masking the bits (a select the compiler keeps branch-free).
                    let down = 0u64.wrapping_sub((d < 0.0) as u64);
                    let bits = d.to_bits();
                    loss *= pm1;
                    gain *= pm1;
                    loss -= f64::from_bits(bits & down);
                    gain += f64::from_bits(bits & !down);
                    loss /= p;
                    gain /= p;
                    *g = gain;
                    *l = loss;
                }
                out.extend(bg.iter().zip(bl.iter()).map(|(&g, &l)| value(g, l)));
            }
        },
    );
    Ok(out)
}

#[inline(always)]
fn value(gain: f64, loss: f64) -> f64 {
    let s = loss + gain;
    if s > 0.0 {
        (gain - loss) / s * 100.0
    } else {
        0.0
    }
}
