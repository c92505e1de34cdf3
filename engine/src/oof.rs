//! Out-of-fold probabilities: every testable row of a matrix predicted by a model that never saw
//! it (nor, with walk-forward, anything after it), the input every sweep config is judged on.
//!
//! For each fold of [`crate::cv::splits`] a model is fitted with [`crate::gbt::fit::fit`] on the
//! fold's training rows only. Its calibrator is fitted inside those rows too (on their
//! time-ordered last `valid_fraction`, as the Train page does), so calibration never sees a test
//! row. The fold's model then predicts
//!
//! - its test block: those probabilities, assembled over the folds, are [`Oof::prob`];
//! - its own training rows: kept (sorted) in [`Oof::train_prob`], because a `top_pct` policy's
//!   threshold is a quantile of what the model said on the rows it learnt from, a number known
//!   before the test block starts.
//!
//! Training the folds is by far the most expensive part of a sweep, and it does not depend on
//! the policy, so the result is cached under [`Oof::key`]: the SHA-256 of the matrix's sha, the
//! [`OofSpec`] (model parameters, splits, CV kind, purge, embargo, calibration) and
//! [`crate::gbt::TRAINER_CODE_VERSION`], so a changed trainer never reuses stale folds.

use serde::{Deserialize, Serialize};

use crate::cv::{self, CvError, CvKind, Fold};
use crate::frame::{self, Frame, FrameError};
use crate::gbt::fit::{fit_matrix, CalibrationKind, FitOptions};
use crate::gbt::{auc, ColumnMatrix, GbtError, TrainParams};
use crate::lineage::{sha256_hex, sha_of};
use crate::matrix::Matrix;

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
        }
        sha_of(&Canon { matrix_sha, oof: self, trainer_code_version: crate::gbt::TRAINER_CODE_VERSION })
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
    /// Per fold, its model's probabilities on its own training rows, sorted ascending.
    pub train_prob: Vec<Vec<f64>>,
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
    /// Probabilities on its training rows, sorted ascending.
    pub train_prob: Vec<f64>,
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
    let mut train_prob = booster.predict_proba(&x).map_err(err)?;
    train_prob.sort_unstable_by(|a, b| a.total_cmp(b));
    let test_prob = booster.predict_proba(&all.slice(fold.test.clone())).map_err(err)?;
    Ok(FoldResult {
        fold: k,
        auc: auc(&test_prob, &m.label[fold.test.clone()]),
        model_sha: booster.model_sha(),
        test_prob,
        train_prob,
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
            r.fold == k && r.test_prob.len() == folds[k].test.len() && r.train_prob.len() == folds[k].train_len()
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
        train_prob: results.into_iter().map(|r| r.train_prob).collect(),
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
    /// that fold's training-row probabilities ([`crate::policy::quantile`]); `NaN` elsewhere.
    pub fn top_pct_thresholds(&self, fraction: f64) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.prob.len()];
        for (fold, sorted) in self.folds.iter().zip(&self.train_prob) {
            let thr = sorted_quantile(sorted, 1.0 - fraction);
            for slot in out[fold.test.clone()].iter_mut() {
                *slot = thr;
            }
        }
        out
    }

    /// A binary file for the cache: magic, a JSON header, then the probabilities as
    /// little-endian `f64` (bit-exact, which JSON text is not guaranteed to be).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(8 * (self.prob.len() + self.train_prob.iter().map(Vec::len).sum::<usize>()));
        frame::put_f64s(&mut body, self.prob.iter().chain(self.train_prob.iter().flatten()).copied());
        let header = Header {
            key: self.key.clone(),
            matrix_sha: self.matrix_sha.clone(),
            folds: self.folds.clone(),
            rows: self.prob.len(),
            train_lens: self.train_prob.iter().map(Vec::len).collect(),
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
            FrameError::Short { magic: false } | FrameError::BadMagic | FrameError::Version(_) => {
                bad("not an out-of-fold file")
            }
            FrameError::Header(e) => OofError::Decode(e),
        })?;
        if sha256_hex(body) != header.body_sha {
            return Err(bad("damaged: the probabilities do not match their hash"));
        }
        // Checked: a hostile header (a bundle's) must not overflow the arithmetic.
        let total = header.train_lens.iter().try_fold(header.rows, |a, &l| a.checked_add(l));
        let expected = total.and_then(|t| t.checked_mul(8));
        if expected != Some(body.len()) || header.train_lens.len() != header.folds.len() {
            return Err(bad("damaged: wrong length"));
        }
        let mut vals = frame::words(body).map(f64::from_le_bytes);
        let prob: Vec<f64> = vals.by_ref().take(header.rows).collect();
        let train_prob = header.train_lens.iter().map(|&l| vals.by_ref().take(l).collect()).collect();
        Ok(Oof {
            key: header.key,
            matrix_sha: header.matrix_sha,
            folds: header.folds,
            prob,
            train_prob,
            fold_auc: header.fold_auc_bits.into_iter().map(f64::from_bits).collect(),
            fold_model_sha: header.fold_model_sha,
        })
    }
}

const MAGIC: &[u8; 8] = b"BTBOOF\x00\x01";

#[derive(Serialize, Deserialize)]
struct Header {
    key: String,
    matrix_sha: String,
    folds: Vec<Fold>,
    rows: usize,
    train_lens: Vec<usize>,
    fold_auc_bits: Vec<u64>,
    fold_model_sha: Vec<String>,
    body_sha: String,
}

/// [`crate::policy::quantile`] on already sorted, finite values.
pub fn sorted_quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::quantile;

    #[test]
    fn sorted_quantile_matches_quantile() {
        let v: Vec<f64> = (0..37).map(|i| ((i * 17) % 37) as f64 / 37.0).collect();
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        for q in [0.0, 0.1, 0.5, 0.85, 0.9, 1.0] {
            assert_eq!(sorted_quantile(&s, q), quantile(&mut v.clone(), q));
        }
        assert!(sorted_quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn folds_are_handed_out_largest_first() {
        assert_eq!(hand_out_order([0, 2, 1, 4, 3]), vec![4, 3, 2, 1, 0]);
        assert_eq!(hand_out_order(Vec::new()), Vec::<usize>::new());
    }

    #[test]
    fn keys_differ_by_every_input() {
        let spec = OofSpec {
            params: TrainParams::default(),
            splits: 5,
            cv: CvKind::WalkForward,
            purge: 7,
            embargo: 0,
            calibration: CalibrationKind::Sigmoid,
            valid_fraction: 0.2,
        };
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
            train_prob: vec![vec![0.2, 0.3], vec![0.1, 0.2, 0.3, 0.4, 0.5]],
            folds,
            fold_auc: vec![0.5, f64::NAN],
            fold_model_sha: vec!["a".into(), "b".into()],
        };
        let b = o.to_bytes();
        let back = Oof::from_bytes(&b).unwrap();
        assert_eq!(back.to_bytes(), b);
        assert_eq!(back.train_prob, o.train_prob);
        assert!(back.prob[0].is_nan() && back.prob[9] == 0.7);
        assert_eq!(o.tested(), 3..10);
        let t = o.top_pct_thresholds(0.5);
        assert!(t[2].is_nan());
        assert_eq!((t[3], t[9]), (0.25, 0.3));
        let mut d = b.clone();
        let last = d.len() - 1;
        d[last] ^= 1;
        assert!(Oof::from_bytes(&d).is_err());
        assert!(Oof::from_bytes(&b[..b.len() - 8]).is_err());
        assert!(Oof::from_bytes(b"nope").is_err());
    }
}
