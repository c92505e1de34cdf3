//! Momentum (TA-Lib `MOM`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// `x[t] − x[t−period]`. Lookback `period`; `period >= 1`.
pub fn mom(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("mom", "period", period, 1)?;
    let n = check_lengths("mom", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    for t in period..x.len() {
        o[t] = x[t] - x[t - period];
    }
    Ok(out)
}
