//! The shell: header, step navigation, banners; it opens storage and fills the shared state
//! (`state.rs`) before the pages read it.

use leptos::prelude::*;

use crate::db::{self, Store};
use crate::ingest;
use crate::offline::{self, Shell};
use crate::pages;
use crate::route::{use_route, Route};
use crate::state::{self, Ctx};

async fn boot(ctx: Ctx) {
    let (store, warning) = Store::open().await;
    let persistent = store.is_persistent();
    ctx.store.set_value(Some(store));
    ctx.storage_warning.set(warning);
    state::refresh_datasets(ctx).await;
    state::refresh_models(ctx).await;
    state::refresh_runs(ctx).await;
    state::load_cart(ctx).await;
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
    let shell = RwSignal::new(None::<Shell>);
    leptos::task::spawn_local(offline::register(shell));
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
            {move || match shell.get() {
                Some(Shell::Offline) | Some(Shell::Updated) => view! {
                    <span class="chip ok small" data-testid="offline-ready"
                        title="This version is cached by the browser: it loads and works without a network">"works offline"</span>
                }.into_any(),
                Some(Shell::Unavailable(why)) => view! {
                    <span class="chip small muted" data-testid="offline-unavailable" title=why>"online only"</span>
                }.into_any(),
                None => ().into_any(),
            }}
            <ThemeToggle/>
        </header>
        <Show when=move || shell.get() == Some(Shell::Updated)>
            <div class="banner info" role="status" data-testid="shell-updated">
                "A new version of the workbench was installed. This page still runs the old one: "
                <button data-testid="shell-reload" on:click=move |_| {
                    if let Some(w) = web_sys::window() { let _ = w.location().reload(); }
                }>"Reload"</button>
            </div>
        </Show>
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
                Route::Scanner => view! { <pages::scanner::ScannerPage/> }.into_any(),
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
