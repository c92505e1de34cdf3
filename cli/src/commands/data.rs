//! Data: read a bars file and report on it (`inspect`, `indicators`), keep datasets in the store
//! (`data add|list|show|rm`).

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use engine::data::{load, time, Dataset, LoadOptions};
use engine::indicators::{Indicator, Ohlcv};

use crate::args::ReadArgs;
use crate::error::{read_err, write_err, CliError};
use crate::print::{human_list, human_summary, list_entry, to_json};
use crate::store::{Added, Meta, Store};

pub(crate) fn read_file(path: &Path, read: &ReadArgs) -> Result<Dataset, CliError> {
    let bytes = std::fs::read(path).map_err(read_err(path))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string());
    let opts = LoadOptions { ticker: read.ticker.clone(), tz: read.tz.clone() };
    Ok(load(&name, &bytes, &opts, &mut |_| {})?)
}

pub fn inspect(file: &Path, read: &ReadArgs, json: bool) -> Result<String, CliError> {
    let ds = read_file(file, read)?;
    let summary = ds.summary();
    Ok(if json { to_json(&summary) } else { human_summary(&summary) })
}

pub fn add(store: &Store, file: &Path, read: &ReadArgs, name: Option<String>, json: bool) -> Result<String, CliError> {
    let ds = read_file(file, read)?;
    let name = name.unwrap_or_else(|| ds.name.clone());
    let (meta, existing) = match store.add(&ds, &name, &file.display().to_string())? {
        Added::New(m) => (m, false),
        Added::Existing(m) => (m, true),
    };
    Ok(if json {
        to_json(&json!({
            "id": meta.id, "name": meta.name, "sha": meta.sha, "rows": meta.rows,
            "tickers": meta.tickers, "created": meta.created, "existing": existing,
        }))
    } else {
        format!(
            "{} {} ({} rows, {}) as {}\n",
            if existing { "already stored:" } else { "stored" },
            meta.name,
            meta.rows,
            meta.tickers.join(", "),
            meta.id
        )
    })
}

pub fn list(store: &Store, json: bool) -> Result<String, CliError> {
    let all = store.list()?;
    Ok(if json {
        let v: Vec<_> = all.iter().map(list_entry).collect();
        to_json(&v)
    } else {
        human_list(&all)
    })
}

pub fn show(store: &Store, id: &str, json: bool) -> Result<String, CliError> {
    let id = store.resolve(id)?;
    let (meta, ds): (Meta, Dataset) = store.load(&id)?;
    let summary = ds.summary();
    Ok(if json {
        let mut v = list_entry(&meta);
        v["summary"] = serde_json::to_value(&summary).unwrap_or_default();
        v["verified"] = json!(true);
        to_json(&v)
    } else {
        format!("{} ({}), sha {} verified\n{}", meta.name, meta.id, meta.sha, human_summary(&summary))
    })
}

pub fn rm(store: &Store, id: &str) -> Result<String, CliError> {
    let id = store.resolve(id)?;
    let meta = store.remove(&id)?;
    Ok(format!("removed {} ({})\n", meta.id, meta.name))
}

#[derive(Args)]
pub struct IndicatorsArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Comma-separated indicators with TA-Lib's parameter order, e.g. "rsi:14,macd:12:26:9,bbands:20:2".
    #[arg(long = "ind", value_name = "LIST")]
    pub ind: String,
    /// Output CSV: a timestamp column and one column per output; empty cells during warm-up.
    #[arg(long, value_name = "OUT")]
    pub csv: PathBuf,
}

fn one_series<'a>(ds: &'a Dataset, file: &Path) -> Result<&'a engine::data::Series, CliError> {
    match ds.series.as_slice() {
        [one] => Ok(one),
        many => Err(CliError::Usage(format!(
            "{} holds {} tickers ({}); choose one with --ticker",
            file.display(),
            many.len(),
            many.iter().map(|s| s.ticker.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

pub fn indicators(args: IndicatorsArgs) -> Result<String, CliError> {
    let list = Indicator::parse_list(&args.ind)?;
    let ds = read_file(&args.file, &args.read)?;
    let series = one_series(&ds, &args.file)?;
    let tz = time::parse_tz(&ds.tz).unwrap_or(chrono_tz::UTC);
    let date_only = !series.cadence().is_intraday();
    let bars = Ohlcv::from(series);
    let mut names = vec!["timestamp".to_string()];
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for ind in &list {
        names.extend(ind.outputs());
        columns.extend(ind.compute(&bars).map_err(|e| CliError::engine_at(ind.spec(), e))?);
    }
    let mut out = String::with_capacity(series.ts.len() * 16 * (columns.len() + 1));
    out.push_str(&names.join(","));
    out.push('\n');
    for (i, &ts) in series.ts.iter().enumerate() {
        out.push_str(&time::format_ms(ts, tz, date_only));
        for c in &columns {
            out.push(',');
            let v = c[i];
            if v.is_finite() {
                // Shortest representation that reads back to the same f64.
                out.push_str(&format!("{v:?}"));
            }
        }
        out.push('\n');
    }
    std::fs::write(&args.csv, out).map_err(write_err(&args.csv))?;
    Ok(format!("wrote {} rows × {} columns to {}\n", series.ts.len(), names.len() - 1, args.csv.display()))
}
