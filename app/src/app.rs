//! The shell: header, step navigation, banners, and the shared state every page reads.

use std::rc::Rc;

use leptos::prelude::*;

use crate::db::{self, DatasetMeta, ModelRecord, Store};
use crate::ingest::{self, ImportProgress};
use crate::pages;
use crate::pool::{EngineWorker, Pool};
use engine::run::Run;
use crate::route::{use_route, Route};

/// App-wide state. Every field is a `Copy` handle, so pages take `Ctx` by value.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub store: StoredValue<Option<Store>, LocalStorage>,
    pub worker: StoredValue<Option<Rc<EngineWorker>>, LocalStorage>,
    pub datasets: RwSignal<Vec<DatasetMeta>>,
    pub selected: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<ImportProgress>>,
    /// The last failure to show the user (an import, a rename, storage).
    pub error: RwSignal<Option<String>>,
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
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            store: StoredValue::new_local(None),
            worker: StoredValue::new_local(None),
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
        }
    }
}

pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

async fn boot(ctx: Ctx) {
    let (store, warning) = Store::open().await;
    let persistent = store.is_persistent();
    ctx.store.set_value(Some(store));
    ctx.storage_warning.set(warning);
    ingest::refresh(ctx).await;
    pages::models::refresh_models(ctx).await;
    pages::sweeps::refresh_runs(ctx).await;
    pages::leaderboard::load_cart(ctx).await;
    if ctx.selected.get_untracked().is_none() {
        ctx.selected.set(ctx.datasets.get_untracked().first().map(|m| m.id.clone()));
    }
    ctx.ready.set(true);
    if persistent {
        ctx.persisted.set(Some(db::request_persistence().await));
    }
    if let Err(e) = ingest::seed_demo(ctx).await {
        ctx.error.set(Some(e));
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    leptos::task::spawn_local(boot(ctx));
    let route = use_route();

    let nav = Route::ALL
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <a href=r.href() class:active=move || route.get() == r data-route=r.slug()>
                    <span class="step">{i + 1}</span>
                    {r.title()}
                </a>
            }
        })
        .collect_view();

    view! {
        <header class="topbar">
            <div class="brand">"BTB " <span>"Workbench"</span></div>
            <nav class="steps">{nav}</nav>
            <ThemeToggle/>
        </header>
        <Show when=move || ctx.storage_warning.get().is_some()>
            <div class="banner warn" role="status" data-testid="storage-warning">
                {move || ctx.storage_warning.get()}
            </div>
        </Show>
        <main>
            {move || match route.get() {
                Route::Data => view! { <pages::data::DataPage/> }.into_any(),
                Route::Models => view! { <pages::models::ModelsPage/> }.into_any(),
                Route::Build => view! { <pages::build::BuildPage/> }.into_any(),
                Route::Train => view! { <pages::train::TrainPage/> }.into_any(),
                Route::Sweeps => view! { <pages::sweeps::SweepsPage/> }.into_any(),
                Route::Leaderboard => view! { <pages::leaderboard::LeaderboardPage/> }.into_any(),
                Route::Backtest => view! { <pages::backtest::BacktestPage/> }.into_any(),
                Route::Signals => view! { <pages::signals::SignalsPage/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(false);
    let html = move || web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element());
    let saved = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("btb-theme").ok().flatten());
    let prefers_dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|m| m.matches())
        .unwrap_or(false);
    dark.set(saved.as_deref().map(|s| s == "dark").unwrap_or(prefers_dark));
    Effect::new(move |_| {
        let theme = if dark.get() { "dark" } else { "light" };
        if let Some(el) = html() {
            let _ = el.set_attribute("data-theme", theme);
        }
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = s.set_item("btb-theme", theme);
        }
    });
    view! {
        <button class="ghost theme" title="Switch light/dark" on:click=move |_| dark.update(|d| *d = !*d)>
            {move || if dark.get() { "☀ Light" } else { "☾ Dark" }}
        </button>
    }
}
