//! Getting a file into storage: read it, parse it in a worker, store it atomically.
//!
//! Uploads and the built-in demo take the same path, so the demo exercises exactly what a user's
//! file goes through.

use std::rc::Rc;

use js_sys::{ArrayBuffer, Date};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use engine::data::LoadOptions;

use crate::app::Ctx;
use crate::db::{DatasetMeta, Store};
use crate::pool::EngineWorker;

/// Where the demo lives inside `dist/`, relative so sub-path hosting works.
pub const DEMO_URL: &str = "./demo/stocks-daily-2000-2013.csv.gz";
pub const DEMO_NAME: &str = "Demo: 5 US stocks 2000–2013 (daily)";
const DEMO_SETTING: &str = "demo_offered";

/// Progress of the import in flight, shown as a bar on the Data page.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportProgress {
    pub name: String,
    pub fraction: f64,
}

pub async fn worker(ctx: Ctx) -> Result<Rc<EngineWorker>, String> {
    if let Some(w) = ctx.worker.get_value() {
        return Ok(w);
    }
    let w = EngineWorker::spawn().await?;
    ctx.worker.set_value(Some(w.clone()));
    Ok(w)
}

fn store(ctx: Ctx) -> Result<Store, String> {
    ctx.store.get_value().ok_or_else(|| "storage is still opening".to_string())
}

pub async fn refresh(ctx: Ctx) {
    let Ok(store) = store(ctx) else { return };
    match store.list().await {
        Ok(list) => ctx.datasets.set(list),
        Err(e) => ctx.error.set(Some(e.to_string())),
    }
}

/// Parses and stores one file; on failure nothing is stored and the message names the problem.
pub async fn import(ctx: Ctx, name: String, bytes: ArrayBuffer, options: LoadOptions) -> Result<DatasetMeta, String> {
    let store = store(ctx)?;
    ctx.progress.set(Some(ImportProgress { name: name.clone(), fraction: 0.0 }));
    let result = async {
        let w = worker(ctx).await?;
        let progress_name = name.clone();
        let loaded = w
            .load(&name, bytes, options, move |fraction| {
                ctx.progress.set(Some(ImportProgress { name: progress_name.clone(), fraction }))
            })
            .await
            .inspect_err(|_| {
                if w.is_dead() {
                    ctx.worker.set_value(None);
                }
            })?;
        let created = Date::now();
        let meta = DatasetMeta {
            id: format!("ds-{}", &loaded.sha[..loaded.sha.len().min(16)]),
            name: name.clone(),
            created,
            sha: loaded.sha,
            summary: loaded.summary,
            layout: loaded.layout,
            parse_ms: loaded.parse_ms,
        };
        store.put(&meta, loaded.arrays).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(meta)
    }
    .await;
    ctx.progress.set(None);
    refresh(ctx).await;
    result
}

pub async fn import_file(ctx: Ctx, file: web_sys::File, options: LoadOptions) -> Result<DatasetMeta, String> {
    let name = file.name();
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{name}: the browser could not read the file ({e:?})"))?;
    let buffer: ArrayBuffer = buffer.unchecked_into();
    import(ctx, name, buffer, options).await
}

/// First open: fetch the bundled demo and store it once. A user who deletes it keeps it deleted.
pub async fn seed_demo(ctx: Ctx) -> Result<(), String> {
    let store = store(ctx)?;
    if store.setting(DEMO_SETTING).await.map_err(|e| e.to_string())?.is_some() {
        return Ok(());
    }
    if !ctx.datasets.get_untracked().is_empty() {
        return Ok(());
    }
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(DEMO_URL))
        .await
        .map_err(|e| format!("cannot fetch the demo dataset: {e:?}"))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!("cannot fetch the demo dataset: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("cannot read the demo dataset: {e:?}"))?;
    let meta = import(ctx, DEMO_NAME.to_string(), buffer.unchecked_into(), LoadOptions::default()).await?;
    store.set_setting(DEMO_SETTING, &meta.id).await.map_err(|e| e.to_string())?;
    if ctx.selected.get_untracked().is_none() {
        ctx.selected.set(Some(meta.id));
    }
    Ok(())
}
