//! Time-ordered cross-validation: purged walk-forward and purged k-fold splits, and the
//! assembly of out-of-fold predictions.
//!
//! Rows are split into contiguous blocks of (almost) equal size: block `i` of `m` covers
//! `i*n/m .. (i+1)*n/m`.
//!
//! - **Walk-forward** (the default): `splits + 1` blocks; fold `k` (0-based) tests on block
//!   `k + 1` and trains on every row before it, minus the `purge` rows right before the test
//!   block. Training never sees a row at or after a tested row. Block 0 is never tested. The
//!   embargo has no effect (nothing after the test block is trained on).
//! - **K-fold**: `splits` blocks; fold `k` tests on block `k` and trains on every other row minus
//!   `purge` rows before the test block and `purge + embargo` rows after it. The rows after are
//!   purged too because a label at row `j` looks `purge` bars ahead: the last test labels overlap
//!   the first `purge` rows after the block; the embargo then adds extra distance.
//!
//! `purge` is the label horizon in bars ([`crate::matrix::Matrix::distance_max`]): a label at row
//! `i` depends on rows `i+1..=i+purge`, so with it removed no training label reaches into a test
//! block, and every training row is more than `purge` rows away from every test row.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Which splitting scheme; serialised `walk_forward` / `k_fold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvKind {
    #[default]
    WalkForward,
    KFold,
}

/// One fold: the rows to train on (ascending, disjoint ranges) and the contiguous test block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    pub train: Vec<Range<usize>>,
    pub test: Range<usize>,
}

impl Fold {
    /// Number of training rows.
    pub fn train_len(&self) -> usize {
        self.train.iter().map(|r| r.len()).sum()
    }

    /// Training row indices in ascending order.
    pub fn train_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.train.iter().flat_map(|r| r.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvError {
    #[error("cross-validation needs at least {min} splits for {kind:?}, got {splits}")]
    TooFewSplits { kind: CvKind, splits: usize, min: usize },
    #[error(
        "{n_rows} rows are too few for {splits} {kind:?} splits with a purge of {purge} and an embargo of {embargo}: fold {fold} has no {what} rows"
    )]
    InsufficientRows {
        kind: CvKind,
        n_rows: usize,
        splits: usize,
        purge: usize,
        embargo: usize,
        fold: usize,
        what: &'static str,
    },
}

/// The folds of `n_rows` time-ordered rows; see the module docs for the two schemes.
///
/// Errors when `splits` is too small (walk-forward needs 1, k-fold 2), or any fold would have
/// an empty test block or an empty training set (too few rows for the purge): the gate's
/// `insufficient_data`.
pub fn splits(n_rows: usize, splits: usize, kind: CvKind, purge: usize, embargo: usize) -> Result<Vec<Fold>, CvError> {
    let min = match kind {
        CvKind::WalkForward => 1,
        CvKind::KFold => 2,
    };
    if splits < min {
        return Err(CvError::TooFewSplits { kind, splits, min });
    }
    let blocks = match kind {
        CvKind::WalkForward => splits + 1,
        CvKind::KFold => splits,
    };
    let bound = |i: usize| -> usize {
        // i * n / blocks without overflow for any realistic n (u128 intermediate).
        ((i as u128 * n_rows as u128) / blocks as u128) as usize
    };
    let insufficient = |fold: usize, what: &'static str| CvError::InsufficientRows {
        kind,
        n_rows,
        splits,
        purge,
        embargo,
        fold,
        what,
    };
    let mut folds = Vec::with_capacity(splits);
    for k in 0..splits {
        let tb = match kind {
            CvKind::WalkForward => k + 1,
            CvKind::KFold => k,
        };
        let test = bound(tb)..bound(tb + 1);
        if test.is_empty() {
            return Err(insufficient(k, "test"));
        }
        let mut train = Vec::with_capacity(2);
        let before_end = test.start.saturating_sub(purge);
        if before_end > 0 {
            train.push(0..before_end);
        }
        if kind == CvKind::KFold {
            let after_start = test.end.saturating_add(purge).saturating_add(embargo);
            if after_start < n_rows {
                train.push(after_start..n_rows);
            }
        }
        if train.is_empty() {
            return Err(insufficient(k, "training"));
        }
        folds.push(Fold { train, test });
    }
    Ok(folds)
}

/// Out-of-fold assembly: `preds[k][i]` is fold `k`'s prediction for row `folds[k].test.start + i`.
/// Returns one value per row (`n`), `NaN` for rows no fold tested (walk-forward's first block).
/// Extra predictions, folds beyond `preds`, and rows `>= n` are ignored; a later fold overwrites
/// an earlier one (folds from [`splits`] never overlap).
pub fn oof(n: usize, folds: &[Fold], preds: &[Vec<f64>]) -> Vec<f64> {
    let mut out = vec![f64::NAN; n];
    for (fold, p) in folds.iter().zip(preds) {
        for (row, &v) in fold.test.clone().zip(p.iter()) {
            if let Some(slot) = out.get_mut(row) {
                *slot = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_no_leak(folds: &[Fold], purge: usize, walk_forward: bool) {
        for f in folds {
            for i in f.train_rows() {
                assert!(!f.test.contains(&i));
                for j in f.test.clone() {
                    assert!(i.abs_diff(j) > purge, "train {i} within {purge} of test {j}");
                    if walk_forward {
                        assert!(i < j);
                    }
                }
            }
        }
    }

    #[test]
    fn walk_forward_blocks_and_purge() {
        let f = splits(60, 5, CvKind::WalkForward, 3, 2).unwrap();
        assert_eq!(f.len(), 5);
        assert_eq!(f[0].test, 10..20);
        assert_eq!(f[0].train, vec![0..7]);
        assert_eq!(f[4].test, 50..60);
        assert_eq!(f[4].train, vec![0..47]);
        check_no_leak(&f, 3, true);
        for n in [7, 13, 100, 1001] {
            for s in 1..6 {
                if let Ok(f) = splits(n, s, CvKind::WalkForward, 2, 0) {
                    check_no_leak(&f, 2, true);
                    let tested: usize = f.iter().map(|x| x.test.len()).sum();
                    assert_eq!(tested, n - n / (s + 1));
                }
            }
        }
    }

    #[test]
    fn kfold_purges_both_sides_and_embargo() {
        let f = splits(50, 5, CvKind::KFold, 2, 3).unwrap();
        assert_eq!(f[0].test, 0..10);
        assert_eq!(f[0].train, vec![15..50]);
        assert_eq!(f[2].test, 20..30);
        assert_eq!(f[2].train, vec![0..18, 35..50]);
        assert_eq!(f[4].train, vec![0..38]);
        check_no_leak(&f, 2, false);
        let all: Vec<usize> = f.iter().flat_map(|x| x.test.clone()).collect();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn errors() {
        assert!(matches!(splits(100, 0, CvKind::WalkForward, 0, 0), Err(CvError::TooFewSplits { .. })));
        assert!(matches!(splits(100, 1, CvKind::KFold, 0, 0), Err(CvError::TooFewSplits { .. })));
        assert!(matches!(splits(3, 5, CvKind::WalkForward, 0, 0), Err(CvError::InsufficientRows { .. })));
        let e = splits(12, 5, CvKind::WalkForward, 2, 0).unwrap_err();
        assert!(e.to_string().contains("no training rows"), "{e}");
        assert!(splits(0, 2, CvKind::KFold, 0, 0).is_err());
    }

    #[test]
    fn oof_assembly() {
        let f = splits(9, 2, CvKind::WalkForward, 0, 0).unwrap();
        let p = oof(9, &f, &[vec![0.1, 0.2, 0.3], vec![0.4, 0.5, 0.6, 9.9]]);
        assert!(p[..3].iter().all(|x| x.is_nan()));
        assert_eq!(&p[3..], &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
        let short = oof(9, &f, &[vec![0.1]]);
        assert_eq!(short.iter().filter(|x| !x.is_nan()).count(), 1);
    }
}
