//! One training run as the Train page and `btb train` both do it: hold out the last fraction of
//! rows (time order, never shuffled), boost with early stopping on it, fit the calibrator on its
//! predictions, and report what the page draws (loss curves, importance, reliability).

use serde::{Deserialize, Serialize};

use super::{
    auc, brier, logloss, reliability, train, Booster, Calibrator, ColumnMatrix, FeatureImportance, GbtError,
    ReliabilityBin, TrainParams, TreeProgress,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationKind {
    #[default]
    Sigmoid,
    Isotonic,
    None,
}

impl std::str::FromStr for CalibrationKind {
    type Err = GbtError;
    fn from_str(s: &str) -> Result<Self, GbtError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sigmoid" | "platt" => Ok(CalibrationKind::Sigmoid),
            "isotonic" => Ok(CalibrationKind::Isotonic),
            "none" => Ok(CalibrationKind::None),
            other => {
                Err(GbtError::Calibration(format!("unknown calibration `{other}`; expected sigmoid, isotonic or none")))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    pub params: TrainParams,
    /// Last fraction of rows held out for validation, early stopping and calibration; 0 = none.
    pub valid_fraction: f64,
    pub calibration: CalibrationKind,
    /// When > 0, the calibrator is fitted on out-of-fold predictions of this many purged
    /// walk-forward folds over the training rows (each fold's model sees only earlier rows), not
    /// on the validation holdout.
    #[serde(default)]
    pub calibration_folds: usize,
    /// Rows dropped from each fold's training set before its test block: the label horizon, so
    /// no training label overlaps a tested bar.
    #[serde(default)]
    pub purge: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            params: TrainParams::default(),
            valid_fraction: 0.2,
            calibration: CalibrationKind::Sigmoid,
            calibration_folds: 0,
            purge: 0,
        }
    }
}

/// Out-of-fold probabilities (uncalibrated) and their labels over the first `n` rows, from purged
/// walk-forward folds: the rows each fold tests, predicted by a model trained on earlier rows only.
fn out_of_fold(
    all: &ColumnMatrix<'_>,
    y: &[f64],
    n: usize,
    opts: &FitOptions,
) -> Result<(Vec<f64>, Vec<f64>), GbtError> {
    let folds = crate::cv::splits(n, opts.calibration_folds, crate::cv::CvKind::WalkForward, opts.purge, 0)
        .map_err(|e| GbtError::Calibration(format!("out-of-fold calibration: {e}")))?;
    let params = TrainParams { early_stopping_rounds: 0, ..opts.params.clone() };
    let (mut probs, mut labels) = (Vec::new(), Vec::new());
    for fold in &folds {
        let rows: Vec<usize> = fold.train_rows().collect();
        let tr: Vec<Vec<f64>> = all.columns.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect();
        let ytr: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let booster = train(&ColumnMatrix::new(all.names, &tr)?, &ytr, None, &params, &mut |_| {})?;
        probs.extend(booster.predict_proba_uncalibrated(&all.slice(fold.test.clone()))?);
        labels.extend_from_slice(&y[fold.test.clone()]);
    }
    Ok((probs, labels))
}

/// What a training run produced, for display and for the record kept beside the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    pub model_sha: String,
    pub trees: usize,
    pub best_iteration: usize,
    pub rows_train: usize,
    pub rows_valid: usize,
    /// Logloss after each tree.
    pub train_loss: Vec<f64>,
    pub valid_loss: Vec<f64>,
    pub valid_auc: Option<f64>,
    pub valid_logloss_calibrated: Option<f64>,
    /// Brier score of the calibrated validation probabilities.
    pub valid_brier: Option<f64>,
    /// Reliability curve of the calibrated validation probabilities (10 bins, empty ones left out).
    pub reliability: Vec<ReliabilityBin>,
    pub importance: Vec<FeatureImportance>,
    pub calibration: CalibrationKind,
    /// 0 when calibrated on the validation holdout, else the number of out-of-fold folds.
    #[serde(default)]
    pub calibration_folds: usize,
}

/// Trains on labelled rows (`y` in {0, 1}, one value per row of `columns`).
pub fn fit(
    names: &[String],
    columns: &[Vec<f64>],
    y: &[f64],
    opts: &FitOptions,
    progress: &mut dyn FnMut(TreeProgress),
) -> Result<(Booster, FitReport), GbtError> {
    fit_matrix(&ColumnMatrix::new(names, columns)?, y, opts, progress)
}

/// How many of `n` time-ordered rows are trained on when the last `valid_fraction` is held out;
/// the rest, from row `n_train` on, is the validation holdout.
pub fn training_rows(n: usize, valid_fraction: f64) -> usize {
    n.saturating_sub((n as f64 * valid_fraction).round() as usize)
}

/// [`fit`] on borrowed columns (a block of a larger matrix's rows, never copied).
pub fn fit_matrix(
    all: &ColumnMatrix<'_>,
    y: &[f64],
    opts: &FitOptions,
    progress: &mut dyn FnMut(TreeProgress),
) -> Result<(Booster, FitReport), GbtError> {
    if !(0.0..1.0).contains(&opts.valid_fraction) {
        return Err(GbtError::Param(format!("valid_fraction must be in [0, 1), not {}", opts.valid_fraction)));
    }
    let n = y.len();
    let n_train = training_rows(n, opts.valid_fraction);
    let n_valid = n - n_train;
    if n_train == 0 {
        return Err(GbtError::Empty);
    }
    if n_valid == 0 && opts.calibration != CalibrationKind::None && opts.calibration_folds == 0 {
        return Err(GbtError::Calibration(
            "calibration needs a validation set (valid_fraction > 0) or out-of-fold folds (calibration_folds > 0)"
                .into(),
        ));
    }
    if !all.columns.is_empty() && all.rows() != n {
        return Err(GbtError::Shape(format!("{} labels for {} rows", n, all.rows())));
    }
    // Borrowed, not copied: the training head and validation tail of the same columns.
    let x = all.slice(0..n_train);
    let xv = all.slice(n_train..n);
    let (ytr, yva) = y.split_at(n_train);
    let valid = (n_valid > 0).then_some((&xv, yva));
    let mut booster = train(&x, ytr, valid, &opts.params, progress)?;

    // The calibrator: on out-of-fold predictions when asked, else on the validation holdout.
    let oof = if opts.calibration_folds > 0 && opts.calibration != CalibrationKind::None {
        Some(out_of_fold(all, y, n_train, opts)?)
    } else {
        None
    };
    let pv = if n_valid > 0 { Some(booster.predict_proba_uncalibrated(&xv)?) } else { None };
    let (fit_p, fit_y): (&[f64], &[f64]) = match (&oof, &pv) {
        (Some((p, l)), _) => (p, l),
        (None, Some(p)) => (p, yva),
        (None, None) => (&[], &[]),
    };
    booster.calibration = match opts.calibration {
        CalibrationKind::Sigmoid => Some(Calibrator::fit_sigmoid(fit_p, fit_y)?),
        CalibrationKind::Isotonic => Some(Calibrator::fit_isotonic(fit_p, fit_y)?),
        CalibrationKind::None => None,
    };
    // Reported on the holdout when there is one (calibrated by rows it never saw when the
    // calibrator came from out-of-fold predictions), else on the out-of-fold predictions.
    let (eval_p, eval_y): (Vec<f64>, &[f64]) = match (&pv, &oof) {
        (Some(p), _) => (p.clone(), yva),
        (None, Some((p, l))) => (p.clone(), l),
        (None, None) => (Vec::new(), &[]),
    };
    let (mut valid_auc, mut valid_logloss_calibrated, mut valid_brier, mut curve) = (None, None, None, Vec::new());
    if !eval_p.is_empty() {
        valid_auc = Some(auc(&eval_p, eval_y));
        let pc: Vec<f64> = match &booster.calibration {
            Some(c) => eval_p.iter().map(|&p| c.apply(p)).collect(),
            None => eval_p,
        };
        valid_logloss_calibrated = Some(logloss(&pc, eval_y));
        valid_brier = Some(brier(&pc, eval_y));
        curve = reliability(&pc, eval_y, 10);
    }
    let report = FitReport {
        model_sha: booster.model_sha(),
        trees: booster.trees.len(),
        best_iteration: booster.best_iteration,
        rows_train: n_train,
        rows_valid: n_valid,
        train_loss: booster.train_loss.clone(),
        valid_loss: booster.valid_loss.clone(),
        valid_auc,
        valid_logloss_calibrated,
        valid_brier,
        reliability: curve,
        importance: booster.importance(),
        calibration: opts.calibration,
        calibration_folds: opts.calibration_folds,
    };
    Ok((booster, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_out_the_last_rows_and_calibrates() {
        let n = 600;
        let names = vec!["a".to_string(), "b".to_string()];
        let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 53) % 97) as f64 / 97.0).collect();
        let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| if a + 0.3 * b > 0.6 { 1.0 } else { 0.0 }).collect();
        let opts = FitOptions {
            params: TrainParams { num_trees: 20, min_data_in_leaf: 5, ..Default::default() },
            ..Default::default()
        };
        let mut seen = 0;
        let (booster, report) = fit(&names, &[a.clone(), b.clone()], &y, &opts, &mut |_| seen += 1).unwrap();
        assert_eq!(seen, 20);
        assert_eq!((report.rows_train, report.rows_valid), (480, 120));
        assert_eq!(report.train_loss.len(), 20);
        assert_eq!(report.valid_loss.len(), 20);
        assert!(report.valid_auc.unwrap() > 0.9);
        assert!(booster.calibration.is_some());
        assert_eq!(report.model_sha, booster.model_sha());
        assert!(!report.reliability.is_empty());
        // Out-of-fold calibration: four purged walk-forward folds over the training rows.
        let oof = FitOptions { calibration_folds: 4, purge: 3, ..opts.clone() };
        let (b2, r2) = fit(&names, &[a.clone(), b.clone()], &y, &oof, &mut |_| {}).unwrap();
        assert_eq!(r2.calibration_folds, 4);
        assert_eq!(b2.trees.len(), booster.trees.len(), "the final model is the same training run");
        assert_ne!(b2.calibration, booster.calibration, "a calibrator fitted on other predictions");
        let oof_only = FitOptions { valid_fraction: 0.0, ..oof.clone() };
        let (_, r3) = fit(&names, &[a.clone(), b.clone()], &y, &oof_only, &mut |_| {}).unwrap();
        assert!(!r3.reliability.is_empty(), "reported on out-of-fold predictions without a holdout");
        let none = FitOptions { valid_fraction: 0.0, ..opts.clone() };
        assert!(fit(&names, &[vec![0.0; 10], vec![0.0; 10]], &[0.0; 10], &none, &mut |_| {}).is_err());
    }
}
