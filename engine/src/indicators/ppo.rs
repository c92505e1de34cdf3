//! Percentage price oscillator (TA-Lib `PPO`, EMA — the TA-Lib 0.6+ default MA type).

use super::{check_lengths, check_period, first_valid, is_zero, nan_vec, EmaState, IndicatorError};

/// `100·(EMA(fast) − EMA(slow))/EMA(slow)` (0 when the slow EMA is 0). Each EMA is seeded TA-Lib's
/// way from the start of the data; periods are swapped when `slow < fast`. Lookback `slow − 1`;
/// `fast, slow >= 2`.
pub fn ppo(close: &[f64], fast: usize, slow: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("ppo", "fast_period", fast, 2)?;
    check_period("ppo", "slow_period", slow, 2)?;
    let n = check_lengths("ppo", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
    if x.len() < slow {
        return Ok(out);
    }
    super::fma_dispatch(
        #[inline(always)]
        || {
            let mut ef = EmaState::new(fast);
            let mut es = EmaState::new(slow);
            for (t, &v) in x.iter().enumerate() {
                let f = ef.push(v);
                if let (Some(f), Some(s)) = (f, es.push(v)) {
                    o[t] = if !is_zero(s) { (f - s) / s * 100.0 } else { 0.0 };
                }
            }
        },
    );
    Ok(out)
}
