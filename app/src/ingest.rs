//! Getting a file into storage: read it, parse it in a worker, store it atomically.
//!
//! Uploads and the built-in demo take the same path, so the demo exercises exactly what a user's
//! file goes through.

use js_sys::{ArrayBuffer, Date};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use engine::data::LoadOptions;

use crate::db::{DatasetMeta, DATASET_ID_PREFIX};
use crate::error::AppError;
use crate::state::{self, store, worker, Ctx};

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

/// Parses and stores one file; on failure nothing is stored and the message names the problem.
pub async fn import(ctx: Ctx, name: String, bytes: ArrayBuffer, options: LoadOptions) -> Result<DatasetMeta, AppError> {
    let store = store(ctx)?;
    ctx.progress.set(Some(ImportProgress { name: name.clone(), fraction: 0.0 }));
    let result = async {
        let w = worker(ctx).await?;
        let progress_name = name.clone();
        let loaded = w
            .load(&name, bytes, options, move |fraction| {
                ctx.progress.set(Some(ImportProgress { name: progress_name.clone(), fraction }))
            })
            .await?;
        let created = Date::now();
        let meta = DatasetMeta {
            id: format!("{DATASET_ID_PREFIX}{}", &loaded.sha[..loaded.sha.len().min(16)]),
            name: name.clone(),
            created,
            sha: loaded.sha,
            summary: loaded.summary,
            layout: loaded.layout,
            parse_ms: loaded.parse_ms,
        };
        store.put(&meta, loaded.arrays).await?;
        Ok::<_, AppError>(meta)
    }
    .await;
    ctx.progress.set(None);
    state::refresh_datasets(ctx).await;
    result
}

/// A picked or dropped file's name and bytes.
pub async fn read_file(file: &web_sys::File) -> Result<(String, ArrayBuffer), AppError> {
    let name = file.name();
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| AppError::Browser(format!("{name}: the browser could not read the file ({e:?})")))?;
    Ok((name, buffer.unchecked_into()))
}

/// First open: fetch the bundled demo and store it once. A user who deletes it keeps it deleted.
pub async fn seed_demo(ctx: Ctx) -> Result<(), AppError> {
    let store = store(ctx)?;
    if store.setting(DEMO_SETTING).await?.is_some() {
        return Ok(());
    }
    if !ctx.datasets.get_untracked().is_empty() {
        return Ok(());
    }
    let fail = |what: String| AppError::Browser(what);
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str(DEMO_URL))
        .await
        .map_err(|e| fail(format!("cannot fetch the demo dataset: {e:?}")))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(fail(format!("cannot fetch the demo dataset: HTTP {}", response.status())));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| fail(format!("{e:?}")))?)
        .await
        .map_err(|e| fail(format!("cannot read the demo dataset: {e:?}")))?;
    let meta = import(ctx, DEMO_NAME.to_string(), buffer.unchecked_into(), LoadOptions::default()).await?;
    store.set_setting(DEMO_SETTING, &meta.id).await?;
    if ctx.selected.get_untracked().is_none() {
        ctx.selected.set(Some(meta.id));
    }
    Ok(())
}
