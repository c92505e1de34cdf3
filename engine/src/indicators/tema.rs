//! Triple exponential moving average (TA-Lib `TEMA`): `3·EMA − 3·EMA² + EMA³`.

use super::dema::ema_chain;
use super::IndicatorError;

/// `3·e1 − 3·e2 + e3` with `e2 = EMA(e1)`, `e3 = EMA(e2)`, each seeded TA-Lib's way.
/// Lookback `3·(period − 1)`; `period >= 1`.
pub fn tema(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    ema_chain("tema", close, period, |[a, b2, c]: [f64; 3]| c + (3.0 * a - 3.0 * b2))
}
