//! What every page shares: the context handles, the loaders that fill them from storage, the
//! cart, and the page's engine workers. Pages read this module; they never read each other.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::bundle::VerificationRecord;
use engine::data::SeriesLayout;
use engine::matrix::{BuildSpec, Found};
use engine::model::ModelRecord;
use engine::rebase::{RebaseError, Rebased};
use engine::run::Run;

use crate::db::{DatasetMeta, MatrixMeta, Store};
use crate::error::AppError;
use crate::ingest::ImportProgress;
use crate::pool::{EngineWorker, MatrixRef, Pool};

/// App-wide state. Every field is a `Copy` handle, so pages take `Ctx` by value.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub store: StoredValue<Option<Store>, LocalStorage>,
    /// The engine workers for one-off requests (parse, build, train, report…), at most
    /// [`GENERAL_WORKERS`]; see [`worker`].
    pub workers: StoredValue<Vec<Rc<EngineWorker>>, LocalStorage>,
    pub datasets: RwSignal<Vec<DatasetMeta>>,
    pub selected: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<ImportProgress>>,
    /// The last failure to show the user (an import, a rename, storage).
    pub error: RwSignal<Option<AppError>>,
    /// Set when data cannot be kept across reloads.
    pub storage_warning: RwSignal<Option<String>>,
    pub persisted: RwSignal<Option<bool>>,
    /// True once storage is open and the dataset list has been read.
    pub ready: RwSignal<bool>,
    pub models: RwSignal<Vec<ModelRecord>>,
    /// The model the Build page works on.
    pub current_model: RwSignal<Option<String>>,
    /// Engine workers for sweeps (folds side by side), replaced when resized or broken.
    pub pool: StoredValue<Option<Rc<Pool>>, LocalStorage>,
    /// Every stored sweep run (the Leaderboard ranks them).
    pub runs: RwSignal<Vec<Run>>,
    /// Run ids picked on the Leaderboard (kept in the settings store).
    pub cart: RwSignal<Vec<String>>,
    /// The run the Backtest page opens with.
    pub focus_run: RwSignal<Option<String>>,
    /// What imports stored without verifying it (shown wherever those records are).
    pub marks: RwSignal<Vec<VerificationRecord>>,
    /// Bumped when a training is stored: a training can end after the user left the Train page,
    /// and the page opened again must list it.
    pub trained: RwSignal<u32>,
    /// A sweep another page prepared (a gate remedy): the Sweeps page fills its form with it
    /// once, and says why.
    pub sweep_draft: RwSignal<Option<(engine::grid::Grid, String)>>,
    /// A build another page prepared (a gate remedy).
    pub build_draft: RwSignal<Option<BuildDraft>>,
}

/// A build another page prepared for the Build page to fill in once.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildDraft {
    pub model_id: String,
    pub start: String,
    pub end: String,
    /// The label horizon the run was judged with.
    pub horizon: usize,
    pub why: String,
}

impl Ctx {
    pub(crate) fn new() -> Ctx {
        Ctx {
            store: StoredValue::new_local(None),
            workers: StoredValue::new_local(Vec::new()),
            datasets: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            storage_warning: RwSignal::new(None),
            persisted: RwSignal::new(None),
            ready: RwSignal::new(false),
            models: RwSignal::new(Vec::new()),
            current_model: RwSignal::new(None),
            pool: StoredValue::new_local(None),
            runs: RwSignal::new(Vec::new()),
            cart: RwSignal::new(Vec::new()),
            focus_run: RwSignal::new(None),
            marks: RwSignal::new(Vec::new()),
            trained: RwSignal::new(0),
            sweep_draft: RwSignal::new(None),
            build_draft: RwSignal::new(None),
        }
    }
}

pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// The open store; before `boot` has opened it, an error rather than a panic.
pub fn store(ctx: Ctx) -> Result<Store, AppError> {
    ctx.store.get_value().ok_or_else(|| AppError::missing("storage is still opening"))
}

/// How many workers one-off requests may keep busy side by side (a training and a build run
/// at once; a third request queues behind the least busy one).
pub const GENERAL_WORKERS: usize = 2;

/// A worker for one request: an idle one, else a new one while fewer than [`GENERAL_WORKERS`]
/// run, else the least busy (its requests are answered in turn). A worker that died (a panic
/// ends its wasm instance) or was stopped is dropped here, so no caller has to check.
pub async fn worker(ctx: Ctx) -> Result<Rc<EngineWorker>, AppError> {
    ctx.workers.update_value(|ws| ws.retain(|w| !w.is_dead()));
    let all = ctx.workers.get_value();
    if let Some(idle) = all.iter().find(|w| w.in_flight() == 0) {
        idle.keep_alive();
        return Ok(idle.clone());
    }
    if all.len() >= GENERAL_WORKERS {
        if let Some(w) = all.iter().min_by_key(|w| w.in_flight()) {
            w.keep_alive();
            return Ok(w.clone());
        }
    }
    let w = EngineWorker::spawn().await?;
    ctx.workers.update_value(|ws| ws.push(w.clone()));
    Ok(w)
}

/// Stops idle one-off workers that grew large, before work that needs the memory (a sweep).
pub fn release_idle_workers(ctx: Ctx) {
    ctx.workers.update_value(|ws| {
        ws.iter().for_each(|w| w.release_if_big());
        ws.retain(|w| !w.is_dead());
    });
}

/// Stops the sweep pool (its workers hold the sweep's matrix); the next sweep starts a new one.
pub fn release_pool(ctx: Ctx) {
    ctx.pool.set_value(None);
}

/// The sweep pool of `n` workers, replaced when its size changes or any worker died, by the
/// same rule as [`worker`].
pub async fn pool(ctx: Ctx, n: usize) -> Result<Rc<Pool>, AppError> {
    if let Some(p) = ctx.pool.get_value().filter(|p| p.size() == n && !p.workers.iter().any(|w| w.is_dead())) {
        p.workers.iter().for_each(|w| w.keep_alive());
        return Ok(p);
    }
    ctx.pool.set_value(None);
    let p = Rc::new(Pool::spawn(n).await?);
    ctx.pool.set_value(Some(p.clone()));
    Ok(p)
}

/// Reloads the dataset list into `ctx.datasets`.
pub async fn refresh_datasets(ctx: Ctx) {
    let Ok(store) = store(ctx) else { return };
    match store.list().await {
        Ok(list) => ctx.datasets.set(list),
        Err(e) => ctx.error.set(Some(e.into())),
    }
}

/// Reloads every model into `ctx.models`.
pub async fn refresh_models(ctx: Ctx) {
    let Ok(store) = store(ctx) else { return };
    match store.models().await {
        Ok(list) => ctx.models.set(list),
        Err(e) => ctx.error.set(Some(e.into())),
    }
}

/// Reloads every stored run into `ctx.runs`, and their verification marks into `ctx.marks`.
pub async fn refresh_runs(ctx: Ctx) {
    let Ok(store) = store(ctx) else { return };
    match store.verifications().await {
        Ok(m) => {
            ctx.marks.try_set(m);
        }
        Err(e) => {
            ctx.error.try_set(Some(e.into()));
        }
    }
    match store.runs().await {
        Ok(r) => {
            ctx.runs.try_set(r);
        }
        Err(e) => {
            ctx.error.try_set(Some(e.into()));
        }
    }
}

const CART_SETTING: &str = "cart";

/// Loads the cart (run ids) kept in the settings store.
pub async fn load_cart(ctx: Ctx) {
    let Ok(store) = store(ctx) else { return };
    if let Ok(Some(text)) = store.setting(CART_SETTING).await {
        if let Ok(ids) = serde_json::from_str::<Vec<String>>(&text) {
            ctx.cart.try_set(ids);
        }
    }
}

/// Puts run `id` into the cart (or takes it out) and keeps the cart across reloads.
pub fn set_in_cart(ctx: Ctx, id: String, on: bool) {
    ctx.cart.update(|c| {
        c.retain(|x| *x != id);
        if on {
            c.push(id);
        }
    });
    let ids = ctx.cart.get_untracked();
    spawn_local(async move {
        let Ok(store) = store(ctx) else { return };
        if let Err(e) = store.set_setting(CART_SETTING, &serde_json::to_string(&ids).unwrap_or_default()).await {
            ctx.error.try_set(Some(e.into()));
        }
    });
}

/// What judging `run` again needs from storage: the store, its model's cadence, and the sha of
/// its matrix (checked to be stored; a worker reads it from the store when it needs it).
pub async fn run_inputs(ctx: Ctx, run: &Run) -> Result<(Store, String, String), AppError> {
    let store = store(ctx)?;
    let cadence = ctx
        .models
        .get_untracked()
        .into_iter()
        .find(|m| m.model_id == run.model_id)
        .map(|m| m.model.cadence)
        .ok_or_else(|| AppError::missing(format!("model {} is no longer stored", run.model_id)))?;
    store
        .matrix_meta(&run.lineage.matrix_sha)
        .await?
        .ok_or_else(|| AppError::missing("this run's matrix is no longer stored: build the model again"))?;
    Ok((store, cadence, run.lineage.matrix_sha.clone()))
}

/// Fills `dataset_id`, while it is empty, with the selected dataset (the demo on first open)
/// or the first stored: the pages that work on a dataset start on the one the user looked at.
pub fn default_dataset(ctx: Ctx, dataset_id: RwSignal<Option<String>>) {
    Effect::new(move |_| {
        if dataset_id.get().is_none() {
            // Set only a real pick: setting None again would re-run this effect forever.
            if let Some(pick) = ctx.selected.get().or_else(|| ctx.datasets.get().first().map(|m| m.id.clone())) {
                dataset_id.set(Some(pick));
            }
        }
    });
}

/// One ticker's stored bars, as a worker reads them: the dataset's zone, the series' layout
/// and its Blob (a handle; the page never copies the bars).
pub struct TickerBars {
    pub tz: String,
    pub layout: SeriesLayout,
    pub blob: web_sys::Blob,
}

/// `gone` says what a deleted dataset means to the caller.
pub async fn ticker_bars(
    ctx: Ctx,
    store: &Store,
    dataset_id: &str,
    ticker: &str,
    gone: impl FnOnce() -> String,
) -> Result<TickerBars, AppError> {
    let datasets = ctx.datasets.get_untracked();
    let meta = datasets.iter().find(|d| d.id == dataset_id).ok_or_else(|| AppError::missing(gone()))?;
    let index = meta
        .layout
        .iter()
        .position(|l| l.ticker == ticker)
        .ok_or_else(|| AppError::missing(format!("{} has no ticker {ticker}", meta.name)))?;
    let blob = store.series_blob(meta, index).await?;
    Ok(TickerBars { tz: meta.summary.tz.clone(), layout: meta.layout[index].clone(), blob })
}

/// Moves `record` to dataset `to_dataset` (`engine::rebase::onto`, in a worker) and stores its
/// matrix there and the moved record in one transaction: either the model is on the new
/// dataset with a matrix that reproduces its old one row for row, or nothing changed.
pub async fn rebase_model(
    ctx: Ctx,
    record: ModelRecord,
    to_dataset: String,
    progress: impl Fn(f64),
) -> Result<Rebased, AppError> {
    let store = store(ctx)?;
    let Some(sha) = record.matrix_sha.clone() else {
        return Err(RebaseError::NoMatrix { model_id: record.model_id.clone() }.into());
    };
    let bars = ticker_bars(ctx, &store, &to_dataset, &record.model.ticker, || {
        format!("dataset {to_dataset} is no longer stored")
    })
    .await?;
    // The ticker's last bar in the model's dataset: a build that ended there reaches the new bars.
    let old_last = ctx
        .datasets
        .get_untracked()
        .into_iter()
        .find(|d| d.id == record.dataset_id)
        .and_then(|d| d.summary.ticker(&record.model.ticker).map(|t| t.end.clone()));
    let worker = worker(ctx).await?;
    let matrix = MatrixRef { sha: &sha, store: &store };
    let (moved, rebased, built) =
        worker.rebase(record.clone(), to_dataset, bars.tz, bars.layout, old_last, bars.blob, matrix, progress).await?;
    let matrix = MatrixMeta {
        model_id: moved.model_id.clone(),
        summary: built.summary,
        preview: built.preview,
        feature_names: built.feature_names,
        created: js_sys::Date::now(),
        build_ms: built.build_ms,
        spec: moved.build_spec.clone(),
    };
    store.put_matrix(&matrix, &built.bytes.into(), Some(&moved)).await?;
    refresh_models(ctx).await;
    Ok(rebased)
}

/// Builds (or finds in the cache by sha) a matrix of the record's model; `true` when it came
/// from the cache. With `adopt` it becomes the model's matrix (the Build page); without, the
/// model is left as it is (a sweep's model variant with another label horizon).
pub async fn build_matrix(
    ctx: Ctx,
    record: ModelRecord,
    spec: BuildSpec,
    adopt: bool,
    progress: impl Fn(f64) + Clone + 'static,
) -> Result<(MatrixMeta, bool), AppError> {
    let store = store(ctx)?;
    let bars = ticker_bars(ctx, &store, &record.dataset_id, &record.model.ticker, || {
        format!("the dataset of {} was deleted; create the model again", record.model_id)
    })
    .await?;
    let worker = worker(ctx).await?;
    let (tz, layout) = (bars.tz, bars.layout);
    let bars = bars.blob;
    let ask = async |stored: Vec<String>| {
        worker
            .build_matrix(
                record.model.clone(),
                spec.clone(),
                tz.clone(),
                layout.clone(),
                bars.clone(),
                stored,
                progress.clone(),
            )
            .await
    };
    let built = match ask(store.matrix_shas().await?).await? {
        Found::Built(built) => built,
        Found::Stored(sha) => match store.matrix_meta(&sha).await? {
            Some(cached) => {
                if adopt && record.matrix_sha.as_deref() != Some(sha.as_str()) {
                    let mut updated = record.clone();
                    updated.matrix_sha = Some(sha);
                    store.put_model(&updated).await?;
                    refresh_models(ctx).await;
                }
                return Ok((cached, true));
            }
            // Stored under that sha but its description cannot be read: built again, as if
            // it were not stored (the CLI does the same with a matrix file it cannot read).
            None => match ask(Vec::new()).await? {
                Found::Built(built) => built,
                Found::Stored(sha) => {
                    return Err(AppError::missing(format!("the worker found matrix {sha} in an empty list")))
                }
            },
        },
    };
    let matrix = MatrixMeta {
        model_id: record.model_id.clone(),
        summary: built.summary,
        preview: built.preview,
        feature_names: built.feature_names,
        created: js_sys::Date::now(),
        build_ms: built.build_ms,
        spec: Some(spec),
    };
    store.put_matrix(&matrix, &built.bytes.into(), adopt.then_some(&record)).await?;
    if adopt {
        refresh_models(ctx).await;
    }
    Ok((matrix, false))
}
