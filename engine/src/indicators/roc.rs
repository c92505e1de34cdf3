//! Rate of change (TA-Lib `ROC`).

use super::mom::lagged;
use super::IndicatorError;

/// `100·(x[t]/x[t−period] − 1)`, 0 when `x[t−period]` is 0. Lookback `period`; `period >= 1`.
pub fn roc(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    lagged("roc", close, period, |v, prev| if prev != 0.0 { (v / prev - 1.0) * 100.0 } else { 0.0 })
}
