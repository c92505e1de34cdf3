//! `btb train` and `btb predict`: the gradient-boosted tree trainer on a matrix file.
//!
//! ```text
//! btb train --matrix FILE.{csv,parquet} --label COL [--trees N] [--leaves N] [--lr X] [--max-bin N]
//!           [--max-depth N] [--min-data-in-leaf N] [--seed S] [--valid-fraction F]
//!           [--early-stopping N] [--calibration sigmoid|isotonic|none]
//!           [--calibration-folds K --purge H] --out model.json [--json]
//! btb predict --model model.json --matrix FILE.{csv,parquet} --out preds.csv
//! ```
//!
//! Columns: every numeric column other than the label is a feature, except a column named
//! `timestamp` (or `ts`, `date`, `time`) and text columns (any non-empty cell that is not a
//! number), which are skipped and listed. Empty cells, `NaN`, `NA` and `null` are missing values.
//! The validation set is the last `--valid-fraction` of the rows in file order (time order, no
//! shuffling); early stopping watches it and the calibrator is fitted on its predictions.
//! Rows whose label is missing are left out of training.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use engine::gbt::fit::{fit, CalibrationKind, FitOptions};
use engine::gbt::{Booster, ColumnMatrix, TrainParams};

use crate::args::{ParamArgs, PolicyArgs};
use crate::error::{read_err, CliError};
use crate::print::to_json;

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

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// Output CSV: the input rows with a last column `probability` (CSV input: its lines as they
    /// are; Parquet input: its numeric columns).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// Numeric columns of a matrix file.
struct Table {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    skipped: Vec<String>,
    /// CSV input: header and row lines, for echoing.
    lines: Option<Vec<String>>,
}

const TIME_COLUMNS: [&str; 4] = ["timestamp", "ts", "date", "time"];

fn read_table(path: &Path) -> Result<Table, CliError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "csv" => read_csv(path),
        "parquet" => read_parquet(path),
        other => Err(CliError::Usage(format!("{}: expected a .csv or .parquet file, not .{other}", path.display()))),
    }
}

/// Splits one CSV line (RFC 4180 quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_cell(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("null") {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

fn read_csv(path: &Path) -> Result<Table, CliError> {
    let text = std::fs::read_to_string(path).map_err(read_err(path))?;
    let lines: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).filter(|l| !l.is_empty()).collect();
    let Some(header) = lines.first() else {
        return Err(CliError::Data(format!("{}: empty file", path.display())));
    };
    let names = split_csv(header);
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(lines.len()); names.len()];
    let mut numeric = vec![true; names.len()];
    for (i, line) in lines.iter().enumerate().skip(1) {
        let cells = split_csv(line);
        if cells.len() != names.len() {
            return Err(CliError::Data(format!(
                "{}: line {} has {} cells, the header {}",
                path.display(),
                i + 1,
                cells.len(),
                names.len()
            )));
        }
        for (j, c) in cells.iter().enumerate() {
            let v = if numeric[j] { parse_cell(c) } else { None };
            if v.is_none() {
                numeric[j] = false;
            }
            columns[j].push(v.unwrap_or(f64::NAN));
        }
    }
    let mut t = Table { names: Vec::new(), columns: Vec::new(), skipped: Vec::new(), lines: None };
    for ((n, c), num) in names.into_iter().zip(columns).zip(numeric) {
        if num && !TIME_COLUMNS.contains(&n.to_ascii_lowercase().as_str()) {
            t.names.push(n);
            t.columns.push(c);
        } else {
            t.skipped.push(n);
        }
    }
    t.lines = Some(lines);
    Ok(t)
}

fn read_parquet(path: &Path) -> Result<Table, CliError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let fail = |e: String| CliError::Data(format!("{}: cannot read Parquet: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(read_err(path))?;
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fail(e.to_string()))?.build().map_err(|e| fail(e.to_string()))?;
    let mut t = Table { names: Vec::new(), columns: Vec::new(), skipped: Vec::new(), lines: None };
    let mut first = true;
    let mut keep: Vec<bool> = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        let schema = batch.schema();
        let mut k = 0;
        for (j, field) in schema.fields().iter().enumerate() {
            let a = batch.column(j);
            let n = a.len();
            macro_rules! prim {
                ($($t:ty),*) => {{
                    let mut v: Option<Vec<f64>> = None;
                    $(
                        if v.is_none() {
                            if let Some(p) = a.as_primitive_opt::<$t>() {
                                v = Some((0..n).map(|i| if p.is_null(i) { f64::NAN } else { p.value(i) as f64 }).collect());
                            }
                        }
                    )*
                    v
                }};
            }
            let mut vals =
                prim!(Float64Type, Float32Type, Int64Type, Int32Type, Int16Type, Int8Type, UInt64Type, UInt32Type, UInt16Type, UInt8Type);
            if vals.is_none() {
                if let Some(b) = a.as_boolean_opt() {
                    vals = Some((0..n).map(|i| if b.is_null(i) { f64::NAN } else { b.value(i) as u8 as f64 }).collect());
                }
            }
            let name = field.name().clone();
            let usable = vals.is_some() && !TIME_COLUMNS.contains(&name.to_ascii_lowercase().as_str());
            if first {
                keep.push(usable);
                if usable {
                    t.names.push(name);
                    t.columns.push(Vec::new());
                } else {
                    t.skipped.push(name);
                }
            }
            if keep.get(j).copied().unwrap_or(false) {
                if let (Some(v), Some(col)) = (vals, t.columns.get_mut(k)) {
                    col.extend(v);
                }
                k += 1;
            }
        }
        first = false;
    }
    Ok(t)
}

pub fn train(store: &crate::store::Store, args: TrainArgs) -> Result<String, CliError> {
    let Some(matrix) = args.matrix.clone() else {
        return crate::commands::pipeline::train(store, args);
    };
    let out_path = args.out.clone().ok_or_else(|| CliError::Usage("train --matrix needs --out model.json".into()))?;
    let valid_fraction = args.valid_fraction.unwrap_or(0.2);
    let calibration_name = args.calibration.clone().unwrap_or_else(|| "sigmoid".into());
    let t = read_table(&matrix)?;
    let li = t
        .names
        .iter()
        .position(|n| *n == args.label)
        .ok_or_else(|| CliError::Data(format!("{}: no numeric column {:?} for the label", matrix.display(), args.label)))?;
    if !(0.0..1.0).contains(&valid_fraction) {
        return Err(CliError::Usage(format!("--valid-fraction must be in [0, 1), not {valid_fraction}")));
    }
    let labelled: Vec<usize> = (0..t.columns[li].len()).filter(|&i| !t.columns[li][i].is_nan()).collect();
    let dropped = t.columns[li].len() - labelled.len();
    let y: Vec<f64> = labelled.iter().map(|&i| t.columns[li][i]).collect();
    let names: Vec<String> = t.names.iter().enumerate().filter(|(j, _)| *j != li).map(|(_, n)| n.clone()).collect();
    let cols: Vec<Vec<f64>> =
        t.columns.iter().enumerate().filter(|(j, _)| *j != li).map(|(_, c)| labelled.iter().map(|&i| c[i]).collect()).collect();
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
    std::fs::write(&out_path, &text).map_err(read_err(&out_path))?;
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

pub fn predict(args: PredictArgs) -> Result<String, CliError> {
    let text = std::fs::read_to_string(&args.model).map_err(read_err(&args.model))?;
    let booster = Booster::from_model_json(&text).map_err(|e| CliError::engine_at(args.model.display(), e))?;
    let t = read_table(&args.matrix)?;
    let mut cols = Vec::with_capacity(booster.feature_names.len());
    for name in &booster.feature_names {
        let j = t
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| CliError::Data(format!("{}: no numeric column {name:?} that the model needs", args.matrix.display())))?;
        cols.push(t.columns[j].clone());
    }
    let x = ColumnMatrix::new(&booster.feature_names, &cols)?;
    let probs = booster.predict_proba(&x)?;
    let mut out = String::with_capacity(probs.len() * 32);
    match &t.lines {
        Some(lines) => {
            for (i, line) in lines.iter().enumerate() {
                out.push_str(line);
                out.push(',');
                if i == 0 {
                    out.push_str("probability");
                } else {
                    out.push_str(&probs[i - 1].to_string());
                }
                out.push('\n');
            }
        }
        None => {
            out.push_str(&t.names.join(","));
            out.push_str(",probability\n");
            for (i, p) in probs.iter().enumerate() {
                for c in &t.columns {
                    if !c[i].is_nan() {
                        out.push_str(&c[i].to_string());
                    }
                    out.push(',');
                }
                out.push_str(&p.to_string());
                out.push('\n');
            }
        }
    }
    std::fs::write(&args.out, out).map_err(read_err(&args.out))?;
    if args.json {
        return Ok(to_json(&json!({"rows": probs.len(), "out": args.out.display().to_string(), "model_sha": booster.model_sha()})));
    }
    Ok(format!("wrote {} probabilities to {} (model {})\n", probs.len(), args.out.display(), engine::lineage::short(&booster.model_sha())))
}
