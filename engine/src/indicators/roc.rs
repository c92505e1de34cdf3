//! Rate of change (TA-Lib `ROC`).

use super::{check_lengths, check_period, first_valid, nan_vec, IndicatorError};

/// `100·(x[t]/x[t−period] − 1)`, 0 when `x[t−period]` is 0. Lookback `period`; `period >= 1`.
pub fn roc(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("roc", "period", period, 1)?;
    let n = check_lengths("roc", &[close])?;
    let mut out = nan_vec(n);
    let b = first_valid(&[close]);
    let x = &close[b..];
    let o = &mut out[b..];
    for t in period..x.len() {
        let prev = x[t - period];
        o[t] = if prev != 0.0 {
            (x[t] / prev - 1.0) * 100.0
        } else {
            0.0
        };
    }
    Ok(out)
}
