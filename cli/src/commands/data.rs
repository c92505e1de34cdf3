//! Data (seed Phase 0): read a bars file and report on it, keep datasets in the store.

use std::path::Path;

use serde_json::json;

use engine::data::{load, Dataset, LoadOptions};

use crate::args::ReadArgs;
use crate::error::CliError;
use crate::print::{human_list, human_summary, list_entry, to_json};
use crate::store::{Added, Meta, Store};

pub(crate) fn read_file(path: &Path, read: &ReadArgs) -> Result<Dataset, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read { path: path.display().to_string(), source })?;
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
