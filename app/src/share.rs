//! Sharing by file: the page's side of bundles and reports. It reads IndexedDB and hands the
//! records to a worker, where the engine selects, assembles, verifies and merges exactly as
//! `btb export` / `btb import` do (`engine::bundle`); the page only stores what the engine
//! accepted, in one transaction, and offers what it wrote as a download.

use std::collections::BTreeMap;
use std::rc::Rc;

use futures::lock::Mutex;
use js_sys::{Array, ArrayBuffer};
use leptos::prelude::*;

use engine::bundle::{self, Holds, ImportReport, Kind, VerificationRecord};
use engine::leaderboard::{Query, Row};
use engine::model::ModelRecord;
use engine::report::{Provenance, DEFAULT_STATUS};
use engine::run::BacktestReport;
use engine::strategy::Strategy;

use crate::download;
use crate::error::AppError;
use crate::protocol::{ExportBars, ExportSource, Request};
use crate::state::{self, store, worker, Ctx};

/// Who made a bundle or report: the page and the engine version it runs.
pub fn producer() -> String {
    format!("BTB Workbench (page) {}", env!("CARGO_PKG_VERSION"))
}

fn provenance(bundle: Option<String>) -> Provenance {
    Provenance { producer: producer(), created: String::from(js_sys::Date::new_0().to_iso_string()), bundle }
}

/// A written and offered bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub file: String,
    pub bytes: usize,
    pub holds: Holds,
    pub with_data: bool,
    pub ms: f64,
}

/// Writes the bundle of `model_ids` (all their runs) and `run_ids` (with their models), everything
/// when both are empty, and offers it as a download.
pub async fn export(
    ctx: Ctx,
    model_ids: Vec<String>,
    run_ids: Vec<String>,
    with_data: bool,
) -> Result<Exported, AppError> {
    let started = js_sys::Date::now();
    let store = store(ctx)?;
    let models = store.models().await?;
    let ids: Vec<String> = models.iter().map(|m| m.model_id.clone()).collect();
    let selection = bundle::select(store.runs().await?, &ids, &model_ids, &run_ids)?;
    let datasets = store.list().await?;
    let strategies = store.strategies().await?;
    let payload = Array::new();
    let mut sources = Vec::new();
    for id in &selection.model_ids {
        let record = models
            .iter()
            .find(|m| &m.model_id == id)
            .cloned()
            .ok_or_else(|| AppError::missing(format!("model {id} is no longer stored")))?;
        let mut has_matrix = false;
        if let Some(sha) = &record.matrix_sha {
            if let Some(bytes) = store.matrix_bytes(sha).await? {
                payload.push(&bytes);
                has_matrix = true;
            }
        }
        // Every strategy of the model, one per config (the bundle orders them).
        let model_strategies: Vec<(Strategy, String)> = strategies
            .iter()
            .filter(|s| &s.model_id == id)
            .map(|s| (s.strategy.clone(), s.model_json.clone()))
            .collect();
        let mut bars = None;
        if let Some(meta) = datasets.iter().find(|d| d.id == record.dataset_id) {
            if let Some(index) = meta.layout.iter().position(|l| l.ticker == record.model.ticker) {
                payload.push(&store.series_blob(meta, index).await?.into());
                bars = Some(ExportBars {
                    layout: meta.layout[index].clone(),
                    tz: meta.summary.tz.clone(),
                    name: meta.name.clone(),
                    dataset_id: meta.id.clone(),
                });
            }
        }
        sources.push(ExportSource { record, has_matrix, strategies: model_strategies, bars });
    }
    let mut oof_keys = Vec::new();
    if with_data {
        for key in selection.oof_keys() {
            if let Some(bytes) = store.oof(&key).await? {
                payload.push(&bytes);
                oof_keys.push(key);
            }
        }
    }
    let first = selection.model_ids.first().cloned().unwrap_or_else(|| "empty".into());
    let more = selection.model_ids.len().saturating_sub(1);
    let file = format!(
        "btb-{first}{}{}-{}.btb.zip",
        if more > 0 { format!("-and-{more}") } else { String::new() },
        if run_ids.is_empty() { String::new() } else { format!("-{}-runs", selection.runs.len()) },
        download::today()
    );
    let req = Request::Export { created_by: producer(), sources, selection, oof_keys, with_data };
    let out = worker(ctx).await?.export(req, &payload).await?;
    download::bytes(&file, "application/zip", &out.bytes)?;
    Ok(Exported {
        file,
        bytes: out.bytes.len(),
        holds: out.holds,
        with_data: out.with_data,
        ms: js_sys::Date::now() - started,
    })
}

thread_local! {
    /// Imports take turns: each compares the bundle with the store as it is, then writes, and
    /// a second import must see what the first wrote.
    static IMPORTING: Rc<Mutex<()>> = Rc::new(Mutex::new(()));
}

/// Verifies the bundle `name` in a worker and, when the engine accepts it, stores everything new
/// in one transaction; the lists every page shows are reloaded. A refused bundle stores nothing.
pub async fn import(
    ctx: Ctx,
    name: &str,
    bytes: ArrayBuffer,
    deep: bool,
    progress: impl Fn(f64),
) -> Result<ImportReport, AppError> {
    let lock = IMPORTING.with(Rc::clone);
    let _turn = lock.lock().await;
    let started = js_sys::Date::now();
    let store = store(ctx)?;
    let (snapshot, oof) = store.snapshot().await?;
    let to = worker(ctx).await?.import_bundle(name, deep, bytes, snapshot, oof, progress).await?;
    store.import(&to.writes, &to.buffers, name).await?;
    state::refresh_datasets(ctx).await;
    state::refresh_models(ctx).await;
    state::refresh_runs(ctx).await;
    if ctx.selected.get_untracked().is_none() {
        ctx.selected.set(ctx.datasets.get_untracked().first().map(|m| m.id.clone()));
    }
    // The worker timed the engine's part; the user waited for the whole import.
    Ok(ImportReport { seconds: (js_sys::Date::now() - started) / 1000.0, ..to.report })
}

/// The mark an import left on an artifact, if any.
fn mark_of<'a>(marks: &'a [VerificationRecord], kind: Kind, id: &str) -> Option<&'a VerificationRecord> {
    marks.iter().find(|m| m.kind == kind && m.id == id)
}

/// How a stored artifact's status reads on a page and in a report.
pub fn status_of(marks: &[VerificationRecord], kind: Kind, id: &str) -> Option<String> {
    mark_of(marks, kind, id).map(VerificationRecord::status_text)
}

/// The run report of `report` (the Backtest page's), offered as `report-<run>.html`.
pub async fn run_report(ctx: Ctx, report: BacktestReport, model: Option<ModelRecord>) -> Result<String, AppError> {
    let id = report.run.run_id.clone();
    let marks = ctx.marks.get_untracked();
    let mark = mark_of(&marks, Kind::Run, &id);
    let status = mark.map(VerificationRecord::status_text).unwrap_or_else(|| DEFAULT_STATUS.to_string());
    let req = Request::RunReport {
        report: Box::new(report),
        model,
        status,
        provenance: provenance(mark.map(|m| m.bundle.clone())),
    };
    let html = worker(ctx).await?.report_html(req).await?;
    let file = format!("report-run-{}.html", id.get(..12).unwrap_or(&id));
    download::text(&file, "text/html", &html)?;
    Ok(file)
}

/// The leaderboard report of one model's ranked `rows`, offered as `report-<model>.html`.
pub async fn leaderboard_report(ctx: Ctx, model_id: String, query: Query, rows: Vec<Row>) -> Result<String, AppError> {
    let model = ctx.models.get_untracked().into_iter().find(|m| m.model_id == model_id);
    let marks = ctx.marks.get_untracked();
    let statuses: BTreeMap<String, String> =
        rows.iter().filter_map(|r| status_of(&marks, Kind::Run, &r.run_id).map(|s| (r.run_id.clone(), s))).collect();
    let req = Request::LeaderboardReport {
        model_id: model_id.clone(),
        model,
        query,
        rows,
        statuses,
        provenance: provenance(None),
    };
    let html = worker(ctx).await?.report_html(req).await?;
    let file = format!("report-{model_id}-{}.html", download::today());
    download::text(&file, "text/html", &html)?;
    Ok(file)
}

/// Whether `bytes` start like a ZIP archive (a bundle) rather than a data file.
pub fn is_bundle(name: &str, head: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(".zip") || head.starts_with(b"PK\x03\x04")
}
