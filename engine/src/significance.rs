//! How much a Sharpe ratio says, given how it was found: the Probabilistic Sharpe Ratio and the
//! Deflated Sharpe Ratio (Bailey & López de Prado, "The Sharpe Ratio Efficient Frontier", 2012,
//! and "The Deflated Sharpe Ratio", 2014).
//!
//! With `ŜR` the per-bar (not annualised) Sharpe of `n` returns, `γ₃` their skewness and `γ₄`
//! their kurtosis (Pearson's, 3 for a normal distribution; both the biased moment estimators):
//!
//! - `PSR(SR*) = Φ((ŜR − SR*) √(n − 1) / √(1 − γ₃ ŜR + (γ₄ − 1)/4 · ŜR²))`, the probability that
//!   the true Sharpe exceeds `SR*`. [`crate::metrics::Metrics::psr`] is `PSR(0)`.
//! - `DSR = PSR(SR₀)` with `SR₀ = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))`, the Sharpe the
//!   best of `N` unskilled tries is expected to reach, `V` the variance of the per-bar Sharpe
//!   across the `N` tries (the configs of one sweep: [`Trials`]) and `γ` Euler–Mascheroni's
//!   constant. One try is not deflated (`SR₀ = 0`, `DSR = PSR`).
//!
//! `Φ` and `Φ⁻¹` are written here over the `libm` crate's `erfc` and `exp`: the same Rust code
//! natively and in wasm, so a run judged in the page and re-judged by `btb` has the same bits
//! (statrs, the field's crate, goes through `f64::exp`, which is glibc's natively and another
//! implementation in wasm, and can differ in the last bit).

use serde::{Deserialize, Serialize};

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The tries a run was selected among: the configs of its sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trials {
    pub count: usize,
    /// Sample variance (ddof = 1) of the per-bar Sharpe ratios of the `count` runs.
    pub sharpe_variance: f64,
}

impl Trials {
    /// The trials behind `per_bar_sharpes` (one per config judged together); `None` when fewer
    /// than two, which nothing deflates.
    pub fn of(per_bar_sharpes: &[f64]) -> Option<Trials> {
        let n = per_bar_sharpes.len();
        if n < 2 {
            return None;
        }
        let mean = per_bar_sharpes.iter().sum::<f64>() / n as f64;
        let ss: f64 = per_bar_sharpes.iter().map(|s| (s - mean) * (s - mean)).sum();
        Some(Trials { count: n, sharpe_variance: ss / (n - 1) as f64 })
    }

    /// `SR₀`: the per-bar Sharpe the best of these tries reaches by luck alone (module docs).
    pub fn expected_max_sharpe(&self) -> f64 {
        if self.count < 2 || !(self.sharpe_variance.is_finite() && self.sharpe_variance > 0.0) {
            return 0.0;
        }
        let n = self.count as f64;
        let z = (1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / n)
            + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E));
        self.sharpe_variance.sqrt() * z
    }
}

/// `PSR(sr_star)` of a per-bar Sharpe `sr` over `n` returns with skewness `skew` and (Pearson)
/// kurtosis `kurt`; 0 when it is not defined (fewer than 2 returns, a non-positive variance term).
pub fn psr(sr: f64, n: usize, skew: f64, kurt: f64, sr_star: f64) -> f64 {
    let var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr;
    if n < 2 || var.is_nan() || var <= 0.0 || !sr.is_finite() {
        return 0.0;
    }
    let z = (sr - sr_star) * ((n - 1) as f64).sqrt() / var.sqrt();
    if z.is_nan() {
        0.0
    } else {
        normal_cdf(z)
    }
}

/// `Φ(x)`, the standard normal distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `Φ⁻¹(p)`: Acklam's rational approximation (relative error < 1.2e-9), then one Halley step
/// on [`normal_cdf`], which brings it to full double precision. `±∞` at 0 and 1, `NaN` outside.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p > 0.5 {
        // 1 − p is exact here, and the lower tail refines without cancellation.
        return -normal_quantile(1.0 - p);
    }
    let low = 0.02425;
    let x = if p < low {
        let q = (-2.0 * libm::log(p)).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * libm::exp(x * x / 2.0);
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_match_published_values() {
        // scipy.stats.norm.cdf / .ppf
        assert!((normal_cdf(1.96) - 0.975_002_104_851_779_5).abs() < 1e-15);
        assert!((normal_cdf(-3.0) - 0.001_349_898_031_630_094_6).abs() < 1e-17);
        assert_eq!(normal_cdf(0.0), 0.5);
        for (p, x) in [
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_840_8),
            (0.01, -2.326_347_874_040_840_8),
            (0.5, 0.0),
            (1e-10, -6.361_340_902_404_056),
            (0.999_999, 4.753_424_308_817_087),
        ] {
            assert!((normal_quantile(p) - x).abs() < 1e-12 * x.abs().max(1.0), "{p}: {}", normal_quantile(p));
        }
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    /// The worked example of Bailey & López de Prado (2014), section "A numerical example": an
    /// annualised Sharpe of 2.5 over 5 years of daily returns (1,250), the best of 100 tries
    /// whose annualised Sharpes vary with variance 0.5, skewness −3, kurtosis 10: SR₀ = 0.1132
    /// (per bar) and DSR = 0.9004.
    #[test]
    fn deflated_sharpe_of_the_papers_example() {
        let days: f64 = 250.0;
        let trials = Trials { count: 100, sharpe_variance: 0.5 / days };
        let sr0 = trials.expected_max_sharpe();
        assert!((sr0 - 0.1132).abs() < 5e-5, "{sr0}");
        let dsr = psr(2.5 / days.sqrt(), 1250, -3.0, 10.0, sr0);
        assert!((dsr - 0.9004).abs() < 5e-5, "{dsr}");
        // without the tries, the same returns are near certain to beat zero
        assert!(psr(2.5 / days.sqrt(), 1250, -3.0, 10.0, 0.0) > 0.999);
        // more tries, higher bar, lower DSR
        let more = Trials { count: 1000, ..trials };
        assert!(psr(2.5 / days.sqrt(), 1250, -3.0, 10.0, more.expected_max_sharpe()) < dsr);
    }

    #[test]
    fn trials_from_sharpes() {
        assert_eq!(Trials::of(&[0.1]), None);
        let t = Trials::of(&[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(t.count, 3);
        assert!((t.sharpe_variance - 0.01).abs() < 1e-15);
        assert_eq!(Trials { count: 1, sharpe_variance: 1.0 }.expected_max_sharpe(), 0.0);
        assert_eq!(psr(0.1, 1, 0.0, 3.0, 0.0), 0.0);
    }
}
