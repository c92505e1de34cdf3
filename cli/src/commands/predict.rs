//! `btb predict`: a model file's probabilities for every row of a matrix file, the other half
//! of `btb train --matrix`.
//!
//! ```text
//! btb predict --model model.json --matrix FILE.{csv,parquet} --out preds.csv
//! ```

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::gbt::{Booster, ColumnMatrix};

use crate::error::{read_err, write_err, CliError};
use crate::matrix_file::read_table;
use crate::print::to_json;

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

pub fn predict(args: PredictArgs) -> Result<String, CliError> {
    let text = std::fs::read_to_string(&args.model).map_err(read_err(&args.model))?;
    let booster = Booster::from_model_json(&text).map_err(|e| CliError::engine_at(args.model.display(), e))?;
    let t = read_table(&args.matrix)?;
    let mut cols = Vec::with_capacity(booster.feature_names.len());
    for name in &booster.feature_names {
        let j = t.names.iter().position(|n| n == name).ok_or_else(|| {
            CliError::Data(format!("{}: no numeric column {name:?} that the model needs", args.matrix.display()))
        })?;
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
    std::fs::write(&args.out, out).map_err(write_err(&args.out))?;
    if args.json {
        return Ok(to_json(
            &json!({"rows": probs.len(), "out": args.out.display().to_string(), "model_sha": booster.model_sha()}),
        ));
    }
    Ok(format!(
        "wrote {} probabilities to {} (model {})\n",
        probs.len(),
        args.out.display(),
        engine::lineage::short(&booster.model_sha())
    ))
}
