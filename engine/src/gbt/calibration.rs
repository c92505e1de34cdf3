//! Probability calibration fitted on held-out (validation or out-of-fold) predictions: Platt's
//! sigmoid on the log-odds, or isotonic regression (pool-adjacent-violators) with linear
//! interpolation between fitted points and clamping outside them. Plus reliability bins and the
//! Brier score to judge either.

use serde::{Deserialize, Serialize};

use super::GbtError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Calibrator {
    /// `p' = 1 / (1 + exp(a·logit(p) + b))`.
    Sigmoid { a: f64, b: f64 },
    /// Increasing points `(x[i], y[i])`; `p'` interpolates linearly, clamped at the ends.
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

const P_EPS: f64 = 1e-15;

fn logit(p: f64) -> f64 {
    let p = p.clamp(P_EPS, 1.0 - P_EPS);
    libm::log(p / (1.0 - p))
}

fn check(probs: &[f64], labels: &[f64]) -> Result<(), GbtError> {
    if probs.len() != labels.len() {
        return Err(GbtError::Calibration(format!("{} predictions for {} labels", probs.len(), labels.len())));
    }
    if probs.is_empty() {
        return Err(GbtError::Calibration("no predictions to fit on".into()));
    }
    if let Some(i) = probs.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(GbtError::Calibration(format!("prediction {i} is {}, not a probability", probs[i])));
    }
    if let Some(i) = labels.iter().position(|&y| y != 0.0 && y != 1.0) {
        return Err(GbtError::Label { row: i, value: labels[i] });
    }
    Ok(())
}

impl Calibrator {
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Calibrator::Sigmoid { a, b } => 1.0 / (1.0 + libm::exp(a * logit(p) + b)),
            Calibrator::Isotonic { x, y } => {
                if x.is_empty() || p.is_nan() {
                    return p;
                }
                let last = x.len() - 1;
                if p <= x[0] {
                    return y[0];
                }
                if p >= x[last] {
                    return y[last];
                }
                let i = x.partition_point(|&v| v <= p); // x[i-1] <= p < x[i]
                let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
                y0 + (y1 - y0) * (p - x0) / (x1 - x0)
            }
        }
    }

    /// Platt scaling by Newton's method with backtracking (Lin, Lin & Weng 2007), on targets
    /// smoothed to `(N₊+1)/(N₊+2)` and `1/(N₋+2)`.
    pub fn fit_sigmoid(probs: &[f64], labels: &[f64]) -> Result<Calibrator, GbtError> {
        check(probs, labels)?;
        let f: Vec<f64> = probs.iter().map(|&p| logit(p)).collect();
        let prior1 = labels.iter().filter(|&&y| y > 0.5).count() as f64;
        let prior0 = labels.len() as f64 - prior1;
        let hi = (prior1 + 1.0) / (prior1 + 2.0);
        let lo = 1.0 / (prior0 + 2.0);
        let t: Vec<f64> = labels.iter().map(|&y| if y > 0.5 { hi } else { lo }).collect();
        let objective = |a: f64, b: f64| -> f64 {
            let mut s = 0.0;
            for (fi, ti) in f.iter().zip(&t) {
                let z = fi * a + b;
                s += if z >= 0.0 {
                    ti * z + libm::log1p(libm::exp(-z))
                } else {
                    (ti - 1.0) * z + libm::log1p(libm::exp(z))
                };
            }
            s
        };
        let (mut a, mut b) = (0.0, libm::log((prior0 + 1.0) / (prior1 + 1.0)));
        let mut fval = objective(a, b);
        for _ in 0..100 {
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0);
            for (fi, ti) in f.iter().zip(&t) {
                let z = fi * a + b;
                let (p, q) = if z >= 0.0 {
                    let e = libm::exp(-z);
                    (e / (1.0 + e), 1.0 / (1.0 + e))
                } else {
                    let e = libm::exp(z);
                    (1.0 / (1.0 + e), e / (1.0 + e))
                };
                let d2 = p * q;
                h11 += fi * fi * d2;
                h22 += d2;
                h21 += fi * d2;
                let d1 = ti - p;
                g1 += fi * d1;
                g2 += d1;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = objective(na, nb);
                if nf < fval + 1e-4 * step * gd {
                    a = na;
                    b = nb;
                    fval = nf;
                    break;
                }
                step /= 2.0;
            }
            if step < 1e-10 {
                break;
            }
        }
        if !(a.is_finite() && b.is_finite()) {
            return Err(GbtError::Calibration("sigmoid fit did not converge".into()));
        }
        Ok(Calibrator::Sigmoid { a, b })
    }

    /// Isotonic (non-decreasing) regression of labels on probabilities.
    pub fn fit_isotonic(probs: &[f64], labels: &[f64]) -> Result<Calibrator, GbtError> {
        check(probs, labels)?;
        let mut idx: Vec<usize> = (0..probs.len()).collect();
        idx.sort_by(|&i, &j| probs[i].total_cmp(&probs[j]));
        // Blocks: (sum of labels, weight, first x, last x); equal x start pooled.
        let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
        for &i in &idx {
            let (x, y) = (probs[i], labels[i]);
            match blocks.last_mut() {
                Some(bl) if bl.3 == x => {
                    bl.0 += y;
                    bl.1 += 1.0;
                }
                _ => blocks.push((y, 1.0, x, x)),
            }
            // Pool adjacent violators.
            while blocks.len() >= 2 {
                let k = blocks.len();
                let (p, q) = (blocks[k - 2], blocks[k - 1]);
                if p.0 / p.1 >= q.0 / q.1 {
                    blocks[k - 2] = (p.0 + q.0, p.1 + q.1, p.2, q.3);
                    blocks.pop();
                } else {
                    break;
                }
            }
        }
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (s, w, x0, x1) in blocks {
            let v = s / w;
            xs.push(x0);
            ys.push(v);
            if x1 > x0 {
                xs.push(x1);
                ys.push(v);
            }
        }
        Ok(Calibrator::Isotonic { x: xs, y: ys })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Bin edges `[lo, hi)` (the last bin includes 1).
    pub lo: f64,
    pub hi: f64,
    pub mean_pred: f64,
    pub frac_pos: f64,
    pub count: usize,
}

/// Reliability diagram: `bins` equal-width probability bins; empty bins are left out.
pub fn reliability(probs: &[f64], labels: &[f64], bins: usize) -> Vec<ReliabilityBin> {
    let bins = bins.max(1);
    let mut acc = vec![(0.0f64, 0.0f64, 0usize); bins];
    for (&p, &y) in probs.iter().zip(labels) {
        if p.is_nan() {
            continue;
        }
        let k = ((p.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        acc[k].0 += p;
        acc[k].1 += y;
        acc[k].2 += 1;
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.2 > 0)
        .map(|(k, &(sp, sy, n))| ReliabilityBin {
            lo: k as f64 / bins as f64,
            hi: (k + 1) as f64 / bins as f64,
            mean_pred: sp / n as f64,
            frac_pos: sy / n as f64,
            count: n,
        })
        .collect()
}

/// Mean squared error of probabilities against 0/1 labels.
pub fn brier(probs: &[f64], labels: &[f64]) -> f64 {
    let mut s = 0.0;
    for (&p, &y) in probs.iter().zip(labels) {
        s += (p - y) * (p - y);
    }
    s / probs.len().max(1) as f64
}
