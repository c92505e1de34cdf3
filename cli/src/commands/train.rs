//! Train (seed Phase 5): `btb train` in both its forms. With `--matrix FILE` it trains the
//! gradient-boosted tree classifier on a matrix file and writes a model file; with `--model-id`
//! (or `--spec`) it trains a stored model's final strategy for one config (`POST /train`).
//!
//! ```text
//! btb train --matrix FILE.{csv,parquet} --label COL [--trees N] [--leaves N] [--lr X] [--max-bin N]
//!           [--max-depth N] [--min-data-in-leaf N] [--seed S] [--valid-fraction F]
//!           [--early-stopping N] [--calibration sigmoid|isotonic|none]
//!           [--calibration-folds K --purge H] --out model.json [--json]
//! btb train (--spec train.json | --model-id ID --config-kind thr|top_pct --config-value V)
//!           [--allowed-hours H] [--calibration C] [--calibration-folds K] [--json]
//! ```
//!
//! On a file, the validation set is the last `--valid-fraction` of the rows in file order (time
//! order, no shuffling); early stopping watches it and the calibrator is fitted on its
//! predictions. Rows whose label is missing are left out of training. Which columns are
//! features: see [`crate::matrix_file`].

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use engine::config::{Config, ConfigKind};
use engine::gbt::fit::{fit, CalibrationKind, FitOptions};
use engine::gbt::TrainParams;
use engine::strategy::{self, Owner, TrainBody};
use engine::sweep::ResearchOptions;

use crate::args::{read_json, ParamArgs, PolicyArgs};
use crate::commands::build::model_and_matrix;
use crate::error::{usage, write_err, CliError};
use crate::matrix_file::read_table;
use crate::print::to_json;
use crate::store::{created, Store};

#[derive(Args)]
pub struct TrainArgs {
    /// Matrix file (CSV or Parquet with a header): train on a file. Without it, train the
    /// final model of a stored model for one config (the seed's `POST /train`).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// The 0/1 label column (file mode).
    #[arg(long, default_value = "label")]
    pub label: String,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Last fraction of rows (file order) held out for validation; 0 = none (file mode) [default: 0.2].
    #[arg(long)]
    pub valid_fraction: Option<f64>,
    /// Calibrator [default: sigmoid].
    #[arg(long, value_parser = ["sigmoid", "isotonic", "none"])]
    pub calibration: Option<String>,
    /// Fit the calibrator on out-of-fold predictions of this many purged walk-forward folds
    /// over the training rows [default: 0 = the validation rows in file mode, 5 for a stored model].
    #[arg(long)]
    pub calibration_folds: Option<usize>,
    /// Rows purged before each fold's test block (file mode; a stored model uses its label horizon).
    #[arg(long, default_value_t = 0)]
    pub purge: usize,
    /// Model file to write (file mode).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Store mode: the JSON body of `POST /train`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Store mode: the model to train.
    #[arg(long)]
    pub model_id: Option<String>,
    /// Store mode: `thr` (a threshold ladder) or `top_pct`.
    #[arg(long, value_parser = ["thr", "top_pct"])]
    pub config_kind: Option<String>,
    /// Store mode: the ladder ("0.60,0.65,0.70") or the fraction ("0.10").
    #[arg(long)]
    pub config_value: Option<String>,
    /// Store mode: hours (local) in which positions may be opened, e.g. "13,14,15".
    #[arg(long)]
    pub allowed_hours: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[arg(long)]
    pub json: bool,
}

/// `btb train` is two commands behind one flag set, told apart by `--matrix`: the file trainer
/// came first and the seed's `POST /train` joined it under the same name.
pub fn train(store: &Store, args: TrainArgs) -> Result<String, CliError> {
    match args.matrix.clone() {
        Some(matrix) => train_file(&matrix, args),
        None => train_stored(store, args),
    }
}

/// `btb train --matrix FILE`: a model file from any numeric table, no store involved.
fn train_file(matrix: &Path, args: TrainArgs) -> Result<String, CliError> {
    let out_path = args.out.clone().ok_or_else(|| CliError::Usage("train --matrix needs --out model.json".into()))?;
    let valid_fraction = args.valid_fraction.unwrap_or(0.2);
    let calibration_name = args.calibration.clone().unwrap_or_else(|| "sigmoid".into());
    let t = read_table(matrix)?;
    let li = t.names.iter().position(|n| *n == args.label).ok_or_else(|| {
        CliError::Data(format!("{}: no numeric column {:?} for the label", matrix.display(), args.label))
    })?;
    if !(0.0..1.0).contains(&valid_fraction) {
        return Err(CliError::Usage(format!("--valid-fraction must be in [0, 1), not {valid_fraction}")));
    }
    let labelled: Vec<usize> = (0..t.columns[li].len()).filter(|&i| !t.columns[li][i].is_nan()).collect();
    let dropped = t.columns[li].len() - labelled.len();
    let y: Vec<f64> = labelled.iter().map(|&i| t.columns[li][i]).collect();
    let names: Vec<String> = t.names.iter().enumerate().filter(|(j, _)| *j != li).map(|(_, n)| n.clone()).collect();
    let cols: Vec<Vec<f64>> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != li)
        .map(|(_, c)| labelled.iter().map(|&i| c[i]).collect())
        .collect();
    if names.is_empty() {
        return Err(CliError::Data(format!("{}: no feature columns besides the label", matrix.display())));
    }
    let calibration: CalibrationKind = calibration_name.parse()?;
    let params = args.params.apply(TrainParams::default());
    let opts = FitOptions {
        params,
        valid_fraction,
        calibration,
        calibration_folds: args.calibration_folds.unwrap_or(0),
        purge: args.purge,
    };
    let start = Instant::now();
    let (booster, report) = fit(&names, &cols, &y, &opts, &mut |_| {})?;
    let train_seconds = start.elapsed().as_secs_f64();
    let (n_train, n_valid) = (report.rows_train, report.rows_valid);
    let (valid_auc, valid_logloss_cal) = (report.valid_auc, report.valid_logloss_calibrated);
    let text = booster.to_model_json()?;
    std::fs::write(&out_path, &text).map_err(write_err(&out_path))?;
    let sha = booster.model_sha();
    let kept = booster.best_iteration;
    let train_loss = booster.train_loss.get(kept.max(1) - 1).copied();
    let valid_loss = booster.valid_loss.get(kept.max(1) - 1).copied();
    let num = |v: Option<f64>| v.filter(|x| x.is_finite());
    if args.json {
        let imp = booster.importance();
        return Ok(to_json(&json!({
            "model": out_path.display().to_string(),
            "model_sha": sha,
            "rows_train": n_train, "rows_valid": n_valid, "rows_unlabelled": dropped,
            "features": names.len(), "skipped_columns": t.skipped,
            "trees_built": booster.train_loss.len(), "best_iteration": kept,
            "train_logloss": num(train_loss), "valid_logloss": num(valid_loss), "valid_auc": num(valid_auc),
            "valid_logloss_calibrated": num(valid_logloss_cal),
            "calibration": calibration_name, "train_seconds": train_seconds,
            "importance": imp,
        })));
    }
    let f = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or("-".to_string(), |x| format!("{x:.5}"));
    let mut out = String::new();
    if !t.skipped.is_empty() {
        out.push_str(&format!("skipped non-feature columns: {}\n", t.skipped.join(", ")));
    }
    if dropped > 0 {
        out.push_str(&format!("left out {dropped} rows without a label\n"));
    }
    out.push_str(&format!(
        "trained {} trees (best iteration {}) on {} rows × {} features in {:.3} s; {} validation rows\n\
         train logloss {}  valid logloss {}  valid AUC {}  calibrated ({}) valid logloss {}\n\
         wrote {} (model_sha {})\n",
        booster.train_loss.len(),
        kept,
        n_train,
        names.len(),
        train_seconds,
        n_valid,
        f(train_loss),
        f(valid_loss),
        f(valid_auc),
        calibration_name,
        f(valid_logloss_cal),
        out_path.display(),
        sha
    ));
    Ok(out)
}

fn train_body(args: &TrainArgs) -> Result<TrainBody, CliError> {
    let mut body: TrainBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => {
            let model_id = args
                .model_id
                .clone()
                .ok_or_else(|| usage("train needs --matrix FILE, or --model-id (or --spec) to train a stored model"))?;
            let kind = match args.config_kind.as_deref() {
                Some("top_pct") => ConfigKind::TopPct,
                Some(_) => ConfigKind::Thr,
                None => return Err(usage("train --model-id needs --config-kind thr|top_pct and --config-value")),
            };
            let value = args.config_value.clone().ok_or_else(|| usage("train --model-id needs --config-value"))?;
            TrainBody {
                model_id,
                pack_id: None,
                allowed_hours: None,
                calibration: None,
                config: Config { kind, value, allowed_hours: None },
                calibration_folds: None,
            }
        }
    };
    if let Some(m) = &args.model_id {
        body.model_id = m.clone();
    }
    if args.allowed_hours.is_some() {
        body.allowed_hours = args.allowed_hours.clone();
    }
    if let Some(c) = &args.calibration {
        body.calibration = Some(c.parse::<CalibrationKind>()?);
    }
    if args.calibration_folds.is_some() {
        body.calibration_folds = args.calibration_folds;
    }
    Ok(body)
}

/// `btb train --model-id …`: the final model for one config (`POST /train`).
fn train_stored(store: &Store, args: TrainArgs) -> Result<String, CliError> {
    let body = train_body(&args)?;
    let mut research = ResearchOptions::default();
    args.policy.apply(&mut research.policy);
    let params = args.params.apply(TrainParams::default());
    let out = train_strategy(store, &body, &research, &params)?;
    if args.json {
        return Ok(to_json(&out));
    }
    Ok(format!(
        "trained {} for {} on matrix {} ({} trees, calibration {} on {} out-of-fold folds): model {}\n",
        out["model_id"].as_str().unwrap_or_default(),
        out["config"].as_str().unwrap_or_default(),
        engine::lineage::short(out["matrix_sha"].as_str().unwrap_or_default()),
        out["trees"],
        out["calibration"].as_str().unwrap_or_default(),
        out["calibration_folds"],
        out["model_sha"].as_str().unwrap_or_default(),
    ))
}

/// Trains and stores the final strategy; returns what `btb train --json` prints, which the
/// pipeline prints as its `train` part.
pub(crate) fn train_strategy(
    store: &Store,
    body: &TrainBody,
    research: &ResearchOptions,
    params: &TrainParams,
) -> Result<serde_json::Value, CliError> {
    let (record, m) = model_and_matrix(store, &body.model_id, body.pack_id.as_deref())?;
    let config = body.config()?;
    let base = research.base_policy(&m, &record.model.cadence);
    let now = created();
    let owner = Owner {
        model_id: &record.model_id,
        pack_id: &record.model.pack_id,
        cadence: &record.model.cadence,
        risk_profile: record.model.risk_profile,
        created: &now,
    };
    let calibration = body.calibration.unwrap_or_default();
    let folds = body.calibration_folds.unwrap_or(5);
    let how = strategy::FinalFit { params: params.clone(), calibration, calibration_folds: folds };
    let (booster, s) = strategy::train(&m, owner, &config, &base, &how, &mut |_| {})?;
    store.put_strategy(&s, &booster)?;
    Ok(json!({
        "ok": true,
        "model_id": s.model_id,
        "status": "trained",
        "config": s.config.to_string(),
        "config_sha": s.config_sha,
        "policy_sha": s.policy_sha,
        "matrix_sha": s.matrix_sha,
        "model_sha": s.model_sha,
        "top_pct_window": s.top_pct_window,
        "trees": s.report.trees,
        "rows": s.report.rows_train,
        "calibration": s.report.calibration,
        "calibration_folds": s.report.calibration_folds,
        "oof_auc": s.report.valid_auc,
        "oof_brier": s.report.valid_brier,
        "created": s.created,
    }))
}
