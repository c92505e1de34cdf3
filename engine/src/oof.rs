//! Out-of-fold probabilities: every testable row of a matrix predicted by a model that never saw
//! it (nor, with walk-forward, anything after it), the input every sweep config is judged on.
//!
//! For each fold of [`crate::cv::splits`] a model is fitted with [`crate::gbt::fit::fit`] on the
//! fold's training rows only. Its calibrator is fitted inside those rows too (on their
//! time-ordered last `valid_fraction`, as the Train page does), so calibration never sees a test
//! row. The fold's model then predicts
//!
//! - its test block: those probabilities, assembled over the folds, are [`Oof::prob`];
//! - its inner holdout: the tail of its training rows its trees never learnt from, past a purge
//!   gap of the label horizon ([`inner_rows`]), in row order in [`Oof::inner_prob`].
//!
//! # `top_pct` thresholds
//!
//! A `top_pct` fraction `f` goes long on a row whose probability reaches the `(1 − f)` quantile
//! of the same model's probabilities on the `window` rows before it ([`Oof::top_pct_thresholds`];
//! [`crate::policy::top_pct_window`] is one year of bars): at the start of a test block those are
//! its inner holdout's, then more and more its own test rows'. Every one of them was made by that
//! fold's model on a row it never learnt from, and known before the row it judges (no
//! look-ahead; k-fold's holdout may lie after its test block, as its training rows may).
//!
//! Measured on the shipped daily bars (swingsigma, 5 walk-forward splits, the default trainer;
//! `engine/tests/sweep.rs`), fraction asked → share of test rows that crossed, averaged over the
//! folds, for AAPL / IBM / MSFT: 0.10 → 0.114 / 0.106 / 0.104 and 0.15 → 0.162 / 0.161 / 0.148.
//! The rule before [`OOF_CODE_VERSION`] 2, a quantile of the fold model's say on its own
//! training rows (far more extreme than on unseen rows), gave 0.10 → 0.07 / 0.01 / 0.01. A
//! fixed quantile of the earlier folds' out-of-fold probabilities gave 0.57 / 0.53 / 0.25:
//! each fold's model sits at its own level (its calibrator follows its holdout's base rate),
//! so a level learnt from other models is crossed by all of a block or by none of it.
//!
//! Training the folds is by far the most expensive part of a sweep, and it does not depend on
//! the policy, so the result is cached under [`Oof::key`]: the SHA-256 of the matrix's sha, the
//! [`OofSpec`] (model parameters, splits, CV kind, purge, embargo, calibration),
//! [`crate::gbt::TRAINER_CODE_VERSION`] and [`OOF_CODE_VERSION`], so a changed trainer or fold
//! never reuses stale files.

use serde::{Deserialize, Serialize};

use crate::cv::{self, CvError, CvKind, Fold};
use crate::frame::{self, Frame, FrameError};
use crate::gbt::fit::{fit_matrix, training_rows, CalibrationKind, FitOptions};
use crate::gbt::{auc, ColumnMatrix, GbtError, TrainParams};
use crate::lineage::{sha256_hex, sha_of};
use crate::matrix::Matrix;

/// Version of what a fold keeps besides its test probabilities, and so of the file (its magic's
/// last byte): 2 keeps the inner holdout's probabilities where 1 kept the training rows'.
pub const OOF_CODE_VERSION: u32 = 2;

/// The share of a fold's training rows that is its inner holdout when the spec holds out none
/// (`valid_fraction` 0); an inner model is then trained on the rows before it.
const INNER_FRACTION: f64 = 0.2;

/// A fold's inner holdout, as positions among its `train_len` training rows: the validation tail
/// [`fit_matrix`] holds out (the last [`INNER_FRACTION`] without one), less its first `purge`
/// rows, so no label the trees learnt from reaches into it.
pub fn inner_rows(train_len: usize, spec: &OofSpec) -> std::ops::Range<usize> {
    let fraction = if spec.valid_fraction > 0.0 { spec.valid_fraction } else { INNER_FRACTION };
    (training_rows(train_len, fraction) + spec.purge).min(train_len)..train_len
}

/// How many inner-holdout probabilities `fold` keeps.
pub fn inner_len(spec: &OofSpec, fold: &Fold) -> usize {
    inner_rows(fold.train_len(), spec).len()
}

/// Everything besides the matrix that the out-of-fold probabilities depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OofSpec {
    pub params: TrainParams,
    pub splits: usize,
    pub cv: CvKind,
    /// Rows dropped between training and test rows: the label horizon
    /// ([`Matrix::distance_max`]) unless a caller deliberately asks for less.
    pub purge: usize,
    /// Extra rows dropped after a k-fold test block.
    pub embargo: usize,
    pub calibration: CalibrationKind,
    /// Fraction of each fold's training rows (the last ones) held out for its calibrator and
    /// early stopping.
    pub valid_fraction: f64,
}

impl OofSpec {
    /// The sweep's defaults for `m`: 5 purged walk-forward splits, purge = the label horizon,
    /// no embargo, sigmoid calibration on each fold's last 20%.
    pub fn for_matrix(m: &Matrix, params: TrainParams) -> OofSpec {
        OofSpec {
            params,
            splits: 5,
            cv: CvKind::WalkForward,
            purge: m.distance_max,
            embargo: 0,
            calibration: CalibrationKind::Sigmoid,
            valid_fraction: 0.2,
        }
    }

    /// The cache key of these probabilities on the matrix `matrix_sha`.
    pub fn key(&self, matrix_sha: &str) -> String {
        #[derive(Serialize)]
        struct Canon<'a> {
            matrix_sha: &'a str,
            oof: &'a OofSpec,
            trainer_code_version: u32,
            oof_code_version: u32,
        }
        sha_of(&Canon {
            matrix_sha,
            oof: self,
            trainer_code_version: crate::gbt::TRAINER_CODE_VERSION,
            oof_code_version: OOF_CODE_VERSION,
        })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OofError {
    #[error("{0}; extend the date range or use fewer splits")]
    Cv(#[from] CvError),
    #[error("fold {fold}: {source}")]
    Train { fold: usize, source: GbtError },
    #[error("out-of-fold file: {0}")]
    Decode(String),
    #[error("there is no fold {fold}: the split has {folds}")]
    NoFold { fold: usize, folds: usize },
    #[error("out-of-fold results for folds {got:?} do not make up the {folds} folds")]
    Incomplete { got: Vec<usize>, folds: usize },
}

/// Out-of-fold probabilities of one matrix under one [`OofSpec`].
#[derive(Debug, Clone, PartialEq)]
pub struct Oof {
    pub key: String,
    pub matrix_sha: String,
    pub folds: Vec<Fold>,
    /// One per matrix row; `NaN` on rows no fold tests (walk-forward's first block).
    pub prob: Vec<f64>,
    /// Per fold, its model's probabilities on its inner holdout ([`inner_rows`]), in row order.
    pub inner_prob: Vec<Vec<f64>>,
    /// Per fold, the AUC of its test block (a quick read of how much the model knows).
    pub fold_auc: Vec<f64>,
    /// Per fold, the `model_sha` of its model.
    pub fold_model_sha: Vec<String>,
}

/// Progress of [`compute`]: fold `fold` (0-based) of `folds` has built `tree` of `trees` trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofProgress {
    pub fold: usize,
    pub folds: usize,
    pub tree: usize,
    pub trees: usize,
}

fn take(columns: &[Vec<f64>], rows: &[usize]) -> Vec<Vec<f64>> {
    columns.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect()
}

/// One fold's share of [`Oof`]: what a worker sends back when folds are trained side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldResult {
    pub fold: usize,
    /// Probabilities on the fold's test block, in row order.
    pub test_prob: Vec<f64>,
    /// Probabilities on its inner holdout, in row order ([`inner_len`] of them).
    pub inner_prob: Vec<f64>,
    pub auc: f64,
    pub model_sha: String,
}

/// The folds of `m` under `spec` (what [`compute_fold`] indexes into).
pub fn folds(m: &Matrix, spec: &OofSpec) -> Result<Vec<Fold>, OofError> {
    Ok(cv::splits(m.rows(), spec.splits, spec.cv, spec.purge, spec.embargo)?)
}

/// Train fold `k` of `spec` on `m` and predict its test block. Folds share nothing, so any
/// number of workers may each run some of them; [`assemble`] puts them together in fold order,
/// which makes the result the same whoever computed which fold.
pub fn compute_fold(
    m: &Matrix,
    spec: &OofSpec,
    k: usize,
    progress: &mut dyn FnMut(OofProgress),
) -> Result<FoldResult, OofError> {
    let all = folds(m, spec)?;
    let n_folds = all.len();
    let fold = all.get(k).ok_or(OofError::NoFold { fold: k, folds: n_folds })?;
    let err = |source| OofError::Train { fold: k, source };
    let opts = FitOptions {
        params: spec.params.clone(),
        valid_fraction: spec.valid_fraction,
        calibration: spec.calibration,
        calibration_folds: 0,
        purge: spec.purge,
    };
    let names = &m.feature_names;
    let all = ColumnMatrix::new(names, &m.features).map_err(err)?;
    let rows: Vec<usize> = fold.train_rows().collect();
    // Walk-forward trains on one block of rows: borrowed. Other splits (k-fold's rows on both
    // sides of the test block) are gathered into a copy.
    let contiguous = rows.windows(2).all(|w| w[1] == w[0] + 1);
    let gathered;
    let (x, y): (ColumnMatrix<'_>, std::borrow::Cow<'_, [f64]>) = match (contiguous, rows.first(), rows.last()) {
        (true, Some(&a), Some(&b)) => (all.slice(a..b + 1), std::borrow::Cow::Borrowed(&m.label[a..b + 1])),
        _ => {
            gathered = take(&m.features, &rows);
            let y = rows.iter().map(|&i| m.label[i]).collect::<Vec<f64>>();
            (ColumnMatrix::new(names, &gathered).map_err(err)?, std::borrow::Cow::Owned(y))
        }
    };
    let trees = spec.params.num_trees;
    let (booster, _) =
        fit_matrix(&x, &y, &opts, &mut |p| progress(OofProgress { fold: k, folds: n_folds, tree: p.tree, trees }))
            .map_err(err)?;
    let inner = inner_rows(y.len(), spec);
    let inner_prob = if inner.is_empty() {
        Vec::new()
    } else if spec.valid_fraction > 0.0 {
        booster.predict_proba(&x.slice(inner)).map_err(err)?
    } else {
        // No holdout to read: an inner model learns from the rows before it (and its gap).
        let head = training_rows(y.len(), INNER_FRACTION);
        let params = TrainParams { early_stopping_rounds: 0, ..spec.params.clone() };
        let model = crate::gbt::train(&x.slice(0..head), &y[..head], None, &params, &mut |_| {}).map_err(err)?;
        model.predict_proba(&x.slice(inner)).map_err(err)?
    };
    let test_prob = booster.predict_proba(&all.slice(fold.test.clone())).map_err(err)?;
    Ok(FoldResult {
        fold: k,
        auc: auc(&test_prob, &m.label[fold.test.clone()]),
        model_sha: booster.model_sha(),
        test_prob,
        inner_prob,
    })
}

/// The order in which side-by-side trainers (threads, workers) take folds: largest first, since
/// a later walk-forward fold trains on more rows, so N trainers finish sooner. The result does
/// not depend on it ([`assemble`] orders the folds).
pub fn hand_out_order(folds: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut order: Vec<usize> = folds.into_iter().collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    order
}

/// Put fold results (in any order, each fold exactly once) together into the [`Oof`] of `m`.
pub fn assemble(m: &Matrix, spec: &OofSpec, mut results: Vec<FoldResult>) -> Result<Oof, OofError> {
    let folds = folds(m, spec)?;
    results.sort_by_key(|r| r.fold);
    let complete = results.len() == folds.len()
        && results.iter().enumerate().all(|(k, r)| {
            r.fold == k && r.test_prob.len() == folds[k].test.len() && r.inner_prob.len() == inner_len(spec, &folds[k])
        });
    if !complete {
        return Err(OofError::Incomplete { got: results.iter().map(|r| r.fold).collect(), folds: folds.len() });
    }
    let test_preds: Vec<Vec<f64>> = results.iter().map(|r| r.test_prob.clone()).collect();
    Ok(Oof {
        key: spec.key(&m.matrix_sha),
        matrix_sha: m.matrix_sha.clone(),
        prob: cv::oof(m.rows(), &folds, &test_preds),
        folds,
        fold_auc: results.iter().map(|r| r.auc).collect(),
        fold_model_sha: results.iter().map(|r| r.model_sha.clone()).collect(),
        inner_prob: results.into_iter().map(|r| r.inner_prob).collect(),
    })
}

/// Fit one model per fold, one after the other, and assemble the out-of-fold probabilities
/// (see the module docs).
pub fn compute(m: &Matrix, spec: &OofSpec, progress: &mut dyn FnMut(OofProgress)) -> Result<Oof, OofError> {
    let n = folds(m, spec)?.len();
    let results = (0..n).map(|k| compute_fold(m, spec, k, progress)).collect::<Result<Vec<_>, _>>()?;
    assemble(m, spec, results)
}

#[cfg(not(target_arch = "wasm32"))]
enum Message {
    Progress(OofProgress),
    Done(usize, Box<Result<FoldResult, OofError>>),
}

/// [`compute`] on up to `jobs` threads, each taking the next untrained fold. Folds share
/// nothing and [`assemble`] orders them, so the bytes equal `compute`'s for any `jobs`. Progress
/// from every thread reaches `progress` on the calling thread, in arrival order.
#[cfg(not(target_arch = "wasm32"))]
pub fn compute_parallel(
    m: &Matrix,
    spec: &OofSpec,
    jobs: usize,
    progress: &mut dyn FnMut(OofProgress),
) -> Result<Oof, OofError> {
    let n = folds(m, spec)?.len();
    let jobs = jobs.clamp(1, n.max(1));
    if jobs == 1 {
        return compute(m, spec, progress);
    }
    let order = hand_out_order(0..n);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<Message>();
    let results = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (tx, next, order) = (tx.clone(), &next, &order);
            scope.spawn(move || loop {
                let Some(&k) = order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) else {
                    return;
                };
                let done = compute_fold(m, spec, k, &mut |p| {
                    let _ = tx.send(Message::Progress(p));
                });
                // A failure does not stop the others: the error reported must be the lowest
                // failing fold's, which `compute` (in fold order) would stop at.
                let _ = tx.send(Message::Done(k, Box::new(done)));
            });
        }
        drop(tx);
        let mut results = Vec::with_capacity(n);
        // The lowest failing fold's error, as `compute` (which stops at it) would report.
        let mut failed: Option<(usize, OofError)> = None;
        for msg in rx {
            match msg {
                Message::Progress(p) => progress(p),
                Message::Done(k, r) => match *r {
                    Ok(r) => results.push(r),
                    Err(e) => {
                        if failed.as_ref().is_none_or(|(j, _)| k < *j) {
                            failed = Some((k, e));
                        }
                    }
                },
            }
        }
        match failed {
            Some((_, e)) => Err(e),
            None => Ok(results),
        }
    })?;
    assemble(m, spec, results)
}

impl Oof {
    /// The rows the folds test, as one range: backtests run over these only (walk-forward's
    /// first block has no honest prediction, and counting it as flat would dilute every metric).
    pub fn tested(&self) -> std::ops::Range<usize> {
        let start = self.folds.iter().map(|f| f.test.start).min().unwrap_or(0);
        let end = self.folds.iter().map(|f| f.test.end).max().unwrap_or(0);
        start..end
    }

    /// Per-row `top_pct` thresholds: on each fold's test rows, the `(1 − fraction)` quantile of
    /// its model's probabilities on the `window` rows before (its inner holdout's, then its test
    /// rows'; see the module docs); `NaN` on rows no fold tests.
    pub fn top_pct_thresholds(&self, fraction: f64, window: usize) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.prob.len()];
        for (k, fold) in self.folds.iter().enumerate() {
            let inner = self.inner_prob.get(k).map_or(&[][..], Vec::as_slice);
            let (Some(test), Some(slots)) = (self.prob.get(fold.test.clone()), out.get_mut(fold.test.clone())) else {
                continue;
            };
            let seq: Vec<f64> = inner.iter().chain(test).copied().collect();
            slots.copy_from_slice(&trailing_quantiles(&seq, inner.len(), window, 1.0 - fraction));
        }
        out
    }

    /// Per fold, how many of its test rows reach `thresholds` (the rows a `top_pct` policy
    /// would go long on, before hours and the momentum gate), and how many it tests: the
    /// realised share to set beside the fraction asked for.
    pub fn crossings(&self, thresholds: &[f64]) -> Vec<Crossing> {
        self.folds
            .iter()
            .map(|f| {
                let (p, t) =
                    (self.prob.get(f.test.clone()).unwrap_or(&[]), thresholds.get(f.test.clone()).unwrap_or(&[]));
                Crossing { crossed: p.iter().zip(t).filter(|(p, t)| p >= t).count(), rows: f.test.len() }
            })
            .collect()
    }

    /// A binary file for the cache: magic, a JSON header, then the probabilities as
    /// little-endian `f64` (bit-exact, which JSON text is not guaranteed to be).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(8 * (self.prob.len() + self.inner_prob.iter().map(Vec::len).sum::<usize>()));
        frame::put_f64s(&mut body, self.prob.iter().chain(self.inner_prob.iter().flatten()).copied());
        let header = Header {
            key: self.key.clone(),
            matrix_sha: self.matrix_sha.clone(),
            folds: self.folds.clone(),
            rows: self.prob.len(),
            inner_lens: self.inner_prob.iter().map(Vec::len).collect(),
            fold_auc_bits: self.fold_auc.iter().map(|v| v.to_bits()).collect(),
            fold_model_sha: self.fold_model_sha.clone(),
            body_sha: sha256_hex(&body),
        };
        frame::encode(MAGIC, &header, &body)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Oof, OofError> {
        let bad = |m: &str| OofError::Decode(m.to_string());
        let Frame { header, body, .. } = frame::decode::<Header>(bytes, MAGIC).map_err(|e| match e {
            FrameError::Short { magic: true } | FrameError::Truncated { .. } => bad("truncated header"),
            FrameError::Short { magic: false } | FrameError::BadMagic => bad("not an out-of-fold file"),
            FrameError::Version(v) if u32::from(v) < OOF_CODE_VERSION => OofError::Decode(format!(
                "an out-of-fold file of an older format (v{v}, this btb makes v{OOF_CODE_VERSION}); sweep again to make it anew"
            )),
            FrameError::Version(v) => OofError::Decode(format!(
                "an out-of-fold file of a newer format (v{v}, this btb reads v{OOF_CODE_VERSION}); update btb"
            )),
            FrameError::Header(e) => OofError::Decode(e),
        })?;
        if sha256_hex(body) != header.body_sha {
            return Err(bad("damaged: the probabilities do not match their hash"));
        }
        // Checked: a hostile header (a bundle's) must not overflow the arithmetic.
        let total = header.inner_lens.iter().try_fold(header.rows, |a, &l| a.checked_add(l));
        let expected = total.and_then(|t| t.checked_mul(8));
        if expected != Some(body.len()) || header.inner_lens.len() != header.folds.len() {
            return Err(bad("damaged: wrong length"));
        }
        let mut vals = frame::words(body).map(f64::from_le_bytes);
        let prob: Vec<f64> = vals.by_ref().take(header.rows).collect();
        let inner_prob = header.inner_lens.iter().map(|&l| vals.by_ref().take(l).collect()).collect();
        Ok(Oof {
            key: header.key,
            matrix_sha: header.matrix_sha,
            folds: header.folds,
            prob,
            inner_prob,
            fold_auc: header.fold_auc_bits.into_iter().map(f64::from_bits).collect(),
            fold_model_sha: header.fold_model_sha,
        })
    }
}

const MAGIC: &[u8; 8] = b"BTBOOF\x00\x02";

#[derive(Serialize, Deserialize)]
struct Header {
    key: String,
    matrix_sha: String,
    folds: Vec<Fold>,
    rows: usize,
    inner_lens: Vec<usize>,
    fold_auc_bits: Vec<u64>,
    fold_model_sha: Vec<String>,
    body_sha: String,
}

/// One fold's share of rows reaching its `top_pct` threshold ([`Oof::crossings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub crossed: usize,
    pub rows: usize,
}

impl Crossing {
    /// The share of all the folds' test rows that crossed.
    pub fn pooled(folds: &[Crossing]) -> f64 {
        let (c, r) = folds.iter().fold((0, 0), |(c, r), f| (c + f.crossed, r + f.rows));
        if r == 0 {
            f64::NAN
        } else {
            c as f64 / r as f64
        }
    }
}

/// For each position `j` from `from` on, the `q` quantile ([`crate::policy::quantile`]'s) of the finite
/// values among `seq[j − window .. j]` (fewer at the start), `NaN` when there are none: a
/// trailing quantile that never looks at `seq[j]` or later. `O(n log n)`: each value enters and
/// leaves a Fenwick tree over the ranks once, and the two order statistics are found by
/// descending it, so the result equals sorting each window to the bit.
pub fn trailing_quantiles(seq: &[f64], from: usize, window: usize, q: f64) -> Vec<f64> {
    let n = seq.len();
    let from = from.min(n);
    if !(0.0..=1.0).contains(&q) || window == 0 {
        return vec![f64::NAN; n - from];
    }
    // Ranks in a total order (ties by position), so each slot of the tree is one value.
    let mut order: Vec<usize> = (0..n).filter(|&i| seq[i].is_finite()).collect();
    order.sort_unstable_by(|&a, &b| seq[a].total_cmp(&seq[b]).then(a.cmp(&b)));
    let mut rank = vec![usize::MAX; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut tree = Fenwick::new(order.len());
    let toggle = |tree: &mut Fenwick, i: usize, on: bool| {
        if let Some(&r) = rank.get(i).filter(|&&r| r != usize::MAX) {
            tree.add(r, on);
        }
    };
    for i in from.saturating_sub(window)..from {
        toggle(&mut tree, i, true);
    }
    let mut out = Vec::with_capacity(n - from);
    for j in from..n {
        let count = tree.total;
        out.push(if count == 0 {
            f64::NAN
        } else {
            let pos = q * (count - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let a = seq[order[tree.kth(lo)]];
            let b = if hi == lo { a } else { seq[order[tree.kth(hi)]] };
            a + (b - a) * (pos - lo as f64)
        });
        toggle(&mut tree, j, true);
        if j >= window {
            toggle(&mut tree, j - window, false);
        }
    }
    out
}

/// Counts of present ranks, for [`trailing_quantiles`].
struct Fenwick {
    tree: Vec<usize>,
    total: usize,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick { tree: vec![0; n + 1], total: 0 }
    }

    fn add(&mut self, rank: usize, on: bool) {
        let mut i = rank + 1;
        while i < self.tree.len() {
            if on {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
        if on {
            self.total += 1;
        } else {
            self.total -= 1;
        }
    }

    /// The rank of the `k`-th (0-based) smallest present value; `k < total`.
    fn kth(&self, k: usize) -> usize {
        let (mut pos, mut rest) = (0, k + 1);
        let mut step = (self.tree.len() - 1).next_power_of_two();
        while step > 0 {
            if pos + step < self.tree.len() && self.tree[pos + step] < rest {
                pos += step;
                rest -= self.tree[pos];
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::quantile;

    #[test]
    fn trailing_quantiles_equal_sorting_each_window() {
        let mut rng = 7u64;
        for n in [0usize, 1, 2, 3, 10, 101, 700] {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // ties (64 distinct values) and a few missing values
                    if i % 37 == 5 {
                        f64::NAN
                    } else {
                        ((rng >> 58) as f64) / 64.0
                    }
                })
                .collect();
            for window in [1usize, 2, 5, 64, 10_000] {
                for from in [0usize, 1, n / 3] {
                    for q in [0.0, 0.1, 0.5, 0.85, 0.9, 1.0] {
                        let got = trailing_quantiles(&v, from, window, q);
                        assert_eq!(got.len(), n - from.min(n));
                        for (j, g) in (from..n).zip(&got) {
                            let mut w = v[j.saturating_sub(window)..j].to_vec();
                            assert_eq!(g.to_bits(), quantile(&mut w, q).to_bits(), "{n} {window} {from} {q} {j}");
                        }
                    }
                }
            }
        }
    }

    /// The sweep's defaults with a purge of 7.
    fn spec() -> OofSpec {
        OofSpec {
            params: TrainParams::default(),
            splits: 5,
            cv: CvKind::WalkForward,
            purge: 7,
            embargo: 0,
            calibration: CalibrationKind::Sigmoid,
            valid_fraction: 0.2,
        }
    }

    #[test]
    fn inner_rows_are_the_purged_holdout() {
        let spec = spec();
        assert_eq!(inner_rows(1000, &spec), 807..1000);
        assert_eq!(inner_rows(10, &OofSpec { purge: 50, ..spec.clone() }), 10..10);
    }

    #[test]
    fn folds_are_handed_out_largest_first() {
        assert_eq!(hand_out_order([0, 2, 1, 4, 3]), vec![4, 3, 2, 1, 0]);
        assert_eq!(hand_out_order(Vec::new()), Vec::<usize>::new());
    }

    #[test]
    fn keys_differ_by_every_input() {
        let spec = spec();
        let k = spec.key("abc");
        assert_eq!(k, spec.key("abc"));
        assert_ne!(k, spec.key("abd"));
        assert_ne!(k, OofSpec { splits: 4, ..spec.clone() }.key("abc"));
        assert_ne!(k, OofSpec { cv: CvKind::KFold, ..spec.clone() }.key("abc"));
        assert_ne!(k, OofSpec { purge: 0, ..spec.clone() }.key("abc"));
        let mut p = spec.clone();
        p.params.seed = 1;
        assert_ne!(k, p.key("abc"));
    }

    #[test]
    fn bytes_round_trip_and_damage() {
        let folds = cv::splits(10, 2, CvKind::WalkForward, 1, 0).unwrap();
        let o = Oof {
            key: "k".into(),
            matrix_sha: "m".into(),
            prob: cv::oof(10, &folds, &[vec![0.1, 0.2, 0.3], vec![0.4, 0.5, 0.6, 0.7]]),
            inner_prob: vec![vec![0.2, 0.3], vec![0.5, 0.9]],
            folds,
            fold_auc: vec![0.5, f64::NAN],
            fold_model_sha: vec!["a".into(), "b".into()],
        };
        let b = o.to_bytes();
        let back = Oof::from_bytes(&b).unwrap();
        assert_eq!(back.to_bytes(), b);
        assert_eq!(back.inner_prob, o.inner_prob);
        assert!(back.prob[0].is_nan() && back.prob[9] == 0.7);
        assert_eq!(o.tested(), 3..10);
        // Medians of the two rows before, starting with each fold's inner holdout.
        let t = o.top_pct_thresholds(0.5, 2);
        assert!(t[..3].iter().all(|t| t.is_nan()));
        assert_eq!(t[3..6], [0.25, 0.2, 0.15000000000000002]);
        assert_eq!(t[6..], [0.7, 0.65, 0.45, 0.55]);
        let c = o.crossings(&t);
        assert_eq!(c, vec![Crossing { crossed: 2, rows: 3 }, Crossing { crossed: 2, rows: 4 }]);
        assert_eq!(Crossing::pooled(&c), 4.0 / 7.0);
        // A file of the old format says so.
        let mut old = b.clone();
        old[7] = 1;
        assert!(Oof::from_bytes(&old).unwrap_err().to_string().contains("older format (v1"));
        let mut d = b.clone();
        let last = d.len() - 1;
        d[last] ^= 1;
        assert!(Oof::from_bytes(&d).is_err());
        assert!(Oof::from_bytes(&b[..b.len() - 8]).is_err());
        assert!(Oof::from_bytes(b"nope").is_err());
    }
}
