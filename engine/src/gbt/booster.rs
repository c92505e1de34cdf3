//! The boosting loop, prediction and feature importance.

use serde::{Deserialize, Serialize};

use super::binning::BinnedDataset;
use super::calibration::Calibrator;
use super::tree::{Grower, Tree};
use super::{sigmoid, ColumnMatrix, GbtError, Rng, TrainParams};

/// Reported after each tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeProgress {
    /// Trees built so far (1-based).
    pub tree: usize,
    /// Mean logloss on the training rows (unweighted).
    pub train_loss: f64,
    pub valid_loss: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    pub name: String,
    /// Total split gain of the feature.
    pub gain: f64,
    /// Number of splits on the feature.
    pub splits: u32,
}

/// A trained ensemble: `raw(x) = init_score + Σ tree(x)`, `p = σ(raw)`, then the calibrator.
#[derive(Clone, Debug, PartialEq)]
pub struct Booster {
    pub params: TrainParams,
    pub feature_names: Vec<String>,
    pub init_score: f64,
    pub trees: Vec<Tree>,
    /// Trees kept (the best validation iteration under early stopping, else all built).
    pub best_iteration: usize,
    /// Mean training logloss after each tree built (including any dropped by early stopping).
    pub train_loss: Vec<f64>,
    /// Mean validation logloss after each tree built (empty without a validation set).
    pub valid_loss: Vec<f64>,
    pub calibration: Option<Calibrator>,
}

/// Stable `ln(1 + e^x)`.
#[inline]
fn softplus_parts(s: f64) -> (f64, f64) {
    // Returns (p = σ(s), a = e^{-|s|}).
    let a = libm::exp(-s.abs());
    let p = if s >= 0.0 { 1.0 / (1.0 + a) } else { a / (1.0 + a) };
    (p, a)
}

#[inline]
fn row_loss(s: f64, y: f64, a: f64) -> f64 {
    // y = 1: ln(1 + e^{-s}); y = 0: ln(1 + e^{s}).
    let x = if y > 0.5 { -s } else { s };
    x.max(0.0) + libm::log1p(a)
}

fn mean_loss(scores: &[f64], y: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (&s, &yi) in scores.iter().zip(y) {
        let (_, a) = softplus_parts(s);
        sum += row_loss(s, yi, a);
    }
    sum / scores.len().max(1) as f64
}

fn check_labels(y: &[f64]) -> Result<(), GbtError> {
    match y.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(row) => Err(GbtError::Label { row, value: y[row] }),
        None => Ok(()),
    }
}

/// Trains a binary classifier on `x` (column-major, `NaN` = missing) and labels `y` (0/1).
/// `valid`, when given, is scored after every tree (and drives early stopping); `progress` is
/// called after every tree.
pub fn train(
    x: &ColumnMatrix,
    y: &[f64],
    valid: Option<(&ColumnMatrix, &[f64])>,
    params: &TrainParams,
    progress: &mut dyn FnMut(TreeProgress),
) -> Result<Booster, GbtError> {
    x.check()?;
    params.validate(x.n_features())?;
    let n = x.rows();
    if n == 0 || x.n_features() == 0 {
        return Err(GbtError::Empty);
    }
    if y.len() != n {
        return Err(GbtError::Shape(format!("{} labels for {n} rows", y.len())));
    }
    check_labels(y)?;
    if let Some((vx, vy)) = valid {
        vx.check()?;
        if vx.n_features() != x.n_features() {
            return Err(GbtError::FeatureCount { expected: x.n_features(), got: vx.n_features() });
        }
        if vy.len() != vx.rows() {
            return Err(GbtError::Shape(format!("{} validation labels for {} rows", vy.len(), vx.rows())));
        }
        check_labels(vy)?;
    }
    let w: Vec<f64> = y.iter().map(|&v| if v > 0.5 { params.scale_pos_weight } else { 1.0 }).collect();
    let (mut sw, mut swy) = (0.0, 0.0);
    for (&wi, &yi) in w.iter().zip(y) {
        sw += wi;
        swy += wi * yi;
    }
    let base = swy / sw;
    if base <= 0.0 || base >= 1.0 {
        return Err(GbtError::OneClass(if base <= 0.0 { 0.0 } else { 1.0 }));
    }
    let init = libm::log(base / (1.0 - base));

    let data = BinnedDataset::fit(x, params.max_bin)?;
    let vdata = valid.map(|(vx, _)| BinnedDataset::with_mappers(vx, data.mappers.clone()));
    let vy: &[f64] = valid.map_or(&[], |(_, vy)| vy);

    let mut scores = vec![init; n];
    let mut vscores = vec![init; vy.len()];
    let mut g = vec![0.0; n];
    let mut h = vec![0.0; n];
    let fill_grad = |scores: &[f64], g: &mut [f64], h: &mut [f64]| -> f64 {
        let mut loss = 0.0;
        for i in 0..scores.len() {
            let (p, a) = softplus_parts(scores[i]);
            loss += row_loss(scores[i], y[i], a);
            g[i] = w[i] * (p - y[i]);
            h[i] = w[i] * p * (1.0 - p);
        }
        loss / scores.len() as f64
    };
    fill_grad(&scores, &mut g, &mut h);

    let mut bag_rng = Rng::new(params.seed);
    let mut feat_rng = Rng::new(params.seed.wrapping_add(0x0F0F_0F0F));
    let bagging = params.bagging_freq > 0 && params.bagging_fraction < 1.0;
    let mut bag: Vec<u32> = (0..n as u32).collect();
    let mut oob: Vec<u32> = Vec::new();
    let nf = x.n_features();
    let k_feat = if params.feature_fraction < 1.0 {
        ((params.feature_fraction * nf as f64).round() as usize).clamp(1, nf)
    } else {
        nf
    };
    let mut all_feats: Vec<usize> = (0..nf).collect();

    let mut grower = Grower::default();
    let mut rows: Vec<u32> = Vec::with_capacity(n);
    let mut trees = Vec::new();
    let (mut train_hist, mut valid_hist) = (Vec::new(), Vec::new());
    let (mut best_loss, mut best_iter) = (f64::INFINITY, 0usize);

    for t in 0..params.num_trees {
        if bagging && t % params.bagging_freq == 0 {
            bag.clear();
            oob.clear();
            for r in 0..n as u32 {
                if bag_rng.next_f64() < params.bagging_fraction {
                    bag.push(r);
                } else {
                    oob.push(r);
                }
            }
            if bag.is_empty() {
                bag.push(oob.remove(0));
            }
        }
        let features: Vec<usize> = if k_feat < nf {
            // Partial Fisher–Yates over a fixed starting order, then ascending.
            all_feats.sort_unstable();
            for i in 0..k_feat {
                let j = i + feat_rng.below(nf - i);
                all_feats.swap(i, j);
            }
            let mut f = all_feats[..k_feat].to_vec();
            f.sort_unstable();
            f
        } else {
            all_feats.clone()
        };
        rows.clear();
        rows.extend_from_slice(&bag);
        let grown = grower.grow(&data, &g, &h, &mut rows, &features, params);
        if grown.tree.nodes.len() == 1 {
            // No split met the requirements: more trees would all be this one leaf.
            break;
        }
        for &(node, start, len) in &grown.leaves {
            let v = grown.tree.nodes[node].value;
            for &r in &rows[start..start + len] {
                scores[r as usize] += v;
            }
        }
        for &r in &oob {
            let leaf = grown.tree.leaf_of_binned(&data, r as usize);
            scores[r as usize] += grown.tree.nodes[leaf].value;
        }
        let train_loss = fill_grad(&scores, &mut g, &mut h);
        let valid_loss = vdata.as_ref().map(|vd| {
            for (i, s) in vscores.iter_mut().enumerate() {
                *s += grown.tree.nodes[grown.tree.leaf_of_binned(vd, i)].value;
            }
            mean_loss(&vscores, vy)
        });
        trees.push(grown.tree);
        train_hist.push(train_loss);
        if let Some(v) = valid_loss {
            valid_hist.push(v);
        }
        progress(TreeProgress { tree: trees.len(), train_loss, valid_loss });
        if let Some(v) = valid_loss {
            if v < best_loss {
                best_loss = v;
                best_iter = trees.len();
            } else if params.early_stopping_rounds > 0 && trees.len() - best_iter >= params.early_stopping_rounds {
                break;
            }
        }
    }
    let best_iteration = if valid.is_some() && params.early_stopping_rounds > 0 { best_iter } else { trees.len() };
    trees.truncate(best_iteration);
    Ok(Booster {
        params: params.clone(),
        feature_names: x.names.to_vec(),
        init_score: init,
        trees,
        best_iteration,
        train_loss: train_hist,
        valid_loss: valid_hist,
        calibration: None,
    })
}

impl Booster {
    fn check_width(&self, got: usize) -> Result<(), GbtError> {
        if got != self.feature_names.len() {
            return Err(GbtError::FeatureCount { expected: self.feature_names.len(), got });
        }
        Ok(())
    }

    /// Raw scores (log-odds) of column-major rows.
    pub fn predict_raw(&self, x: &ColumnMatrix) -> Result<Vec<f64>, GbtError> {
        x.check()?;
        self.check_width(x.n_features())?;
        let mut out = vec![self.init_score; x.rows()];
        for t in &self.trees {
            for (i, o) in out.iter_mut().enumerate() {
                *o += t.predict(|j| x.columns[j][i]);
            }
        }
        Ok(out)
    }

    /// Raw score of one row (`row[j]` = feature `j`); same value as [`Booster::predict_raw`].
    pub fn predict_row_raw(&self, row: &[f64]) -> Result<f64, GbtError> {
        self.check_width(row.len())?;
        let mut s = self.init_score;
        for t in &self.trees {
            s += t.predict(|j| row[j]);
        }
        Ok(s)
    }

    /// Raw scores of row-major rows.
    pub fn predict_raw_rows(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, GbtError> {
        rows.iter().map(|r| self.predict_row_raw(r)).collect()
    }

    /// σ(raw), without the calibrator.
    pub fn predict_proba_uncalibrated(&self, x: &ColumnMatrix) -> Result<Vec<f64>, GbtError> {
        Ok(self.predict_raw(x)?.into_iter().map(sigmoid).collect())
    }

    /// Probabilities: σ(raw), passed through the calibrator when the model has one.
    pub fn predict_proba(&self, x: &ColumnMatrix) -> Result<Vec<f64>, GbtError> {
        let p = self.predict_proba_uncalibrated(x)?;
        Ok(match &self.calibration {
            Some(c) => p.into_iter().map(|v| c.apply(v)).collect(),
            None => p,
        })
    }

    /// Probabilities of row-major rows (calibrated when the model has a calibrator).
    pub fn predict_proba_rows(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, GbtError> {
        let raw = self.predict_raw_rows(rows)?;
        Ok(raw.into_iter().map(|s| self.calibrate(sigmoid(s))).collect())
    }

    fn calibrate(&self, p: f64) -> f64 {
        self.calibration.as_ref().map_or(p, |c| c.apply(p))
    }

    /// Total split gain and split count per feature, in feature order.
    pub fn importance(&self) -> Vec<FeatureImportance> {
        let mut out: Vec<FeatureImportance> =
            self.feature_names.iter().map(|n| FeatureImportance { name: n.clone(), gain: 0.0, splits: 0 }).collect();
        for t in &self.trees {
            for nd in &t.nodes {
                if let Some(fi) = usize::try_from(nd.feature).ok().and_then(|f| out.get_mut(f)) {
                    fi.gain += nd.gain;
                    fi.splits += 1;
                }
            }
        }
        out
    }

    /// TreeSHAP feature contributions to the raw score of one row: one value per feature, then
    /// the bias (expected raw score) last; they sum to [`Booster::predict_row_raw`].
    pub fn contributions(&self, row: &[f64]) -> Result<Vec<f64>, GbtError> {
        self.check_width(row.len())?;
        let mut phi = vec![0.0; row.len() + 1];
        phi[row.len()] = self.init_score;
        for t in &self.trees {
            super::shap::tree_shap(t, row, &mut phi);
        }
        Ok(phi)
    }
}
