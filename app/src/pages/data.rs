//! Data: bring bars in (drop, pick, or the built-in demo), see what is stored, chart a ticker,
//! and read the quality report with a link from each flagged bar to the chart.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use engine::bundle::ImportReport;
use engine::data::{LoadOptions, QualityIssue, Series};

use crate::chart::CandleChart;
use crate::components::import_report::ImportReportView;
use crate::components::ErrorView;
use crate::db::DatasetMeta;
use crate::format::{self, Clock};
use crate::ingest::{self, ImportProgress};
use crate::share;
use crate::state::{refresh_datasets, use_ctx, Ctx};

/// Time zones offered; the engine accepts any IANA name. The empty value lets the file decide
/// (a zone-aware Parquet column), else UTC.
const ZONES: [&str; 9] = [
    "",
    "UTC",
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Hong_Kong",
    "Australia/Sydney",
];

fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

#[component]
pub fn DataPage() -> impl IntoView {
    let ctx = use_ctx();
    let ticker = RwSignal::new(String::new());
    let tz = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let deep = RwSignal::new(false);
    let imported = RwSignal::new(None::<ImportReport>);

    // Files one after another, so each gets the progress bar to itself.
    let upload = Action::new_local(move |files: &Vec<web_sys::File>| {
        let files = files.clone();
        async move {
            for file in files {
                // `try_`: the user may leave the page while several files are still loading.
                let t = ticker.try_get_untracked().unwrap_or_default();
                let options = LoadOptions {
                    ticker: (!t.trim().is_empty()).then(|| t.trim().to_string()),
                    tz: tz.try_get_untracked().filter(|z| !z.is_empty()),
                };
                let (name, bytes) = match ingest::read_file(&file).await {
                    Ok(x) => x,
                    Err(e) => {
                        ctx.error.set(Some(e));
                        continue;
                    }
                };
                let head =
                    js_sys::Uint8Array::new_with_byte_offset_and_length(&bytes, 0, bytes.byte_length().min(4)).to_vec();
                if share::is_bundle(&name, &head) {
                    imported.try_set(None);
                    ctx.error.set(None);
                    ctx.progress.set(Some(ImportProgress { name: format!("verifying {name}"), fraction: 0.0 }));
                    let label = format!("verifying {name}");
                    let deep = deep.try_get_untracked().unwrap_or(false);
                    let result = share::import(ctx, &name, bytes, deep, move |fraction| {
                        ctx.progress.set(Some(ImportProgress { name: label.clone(), fraction }))
                    })
                    .await;
                    ctx.progress.set(None);
                    match result {
                        Ok(report) => {
                            ctx.error.set(None);
                            notice.try_set(None);
                            imported.try_set(Some(report));
                        }
                        Err(e) => {
                            notice.try_set(None);
                            ctx.error.set(Some(e));
                        }
                    }
                    continue;
                }
                match ingest::import(ctx, name, bytes, options).await {
                    Ok(meta) => {
                        ctx.error.set(None);
                        notice.try_set(Some(format!(
                            "Stored \"{}\": {} rows, {} ticker(s), parsed in {:.2} s.",
                            meta.name,
                            format::thousands(meta.summary.rows),
                            meta.summary.tickers.len(),
                            meta.parse_ms / 1000.0
                        )));
                        ctx.selected.set(Some(meta.id));
                    }
                    Err(e) => {
                        notice.try_set(None);
                        ctx.error.set(Some(e));
                    }
                }
            }
        }
    });

    let on_pick = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        upload.dispatch(files_of(input.files()));
        input.set_value("");
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        upload.dispatch(files_of(ev.data_transfer().and_then(|d| d.files())));
    };

    view! {
        <section class="page data" data-page="data">
            <div class="columns">
                <aside class="side">
                    <div
                        class="dropzone"
                        class:over=move || dragging.get()
                        data-testid="dropzone"
                        on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                        on:dragleave=move |_| dragging.set(false)
                        on:drop=on_drop
                    >
                        <div class="drop-title">"Drop CSV or Parquet files, or a .btb.zip bundle"</div>
                        <label class="button primary">
                            "Choose files…"
                            <input type="file" multiple accept=".csv,.tsv,.txt,.gz,.parquet,.pq,.zip" data-testid="file-input" on:change=on_pick/>
                        </label>
                        <div class="muted small">"CSV (, ; tab), .csv.gz, Parquet (snappy, zstd, gzip, lz4); a bundle is verified before anything of it is stored"</div>
                    </div>
                    <div class="options">
                        <label>"Ticker (single-ticker files)"
                            <input type="text" placeholder="from file name" prop:value=move || ticker.get()
                                on:input=move |ev| ticker.set(event_target_value(&ev))/>
                        </label>
                        <label class="check" title="Also re-train every fold of a bundle's out-of-fold probabilities and compare them byte for byte">
                            <input type="checkbox" data-testid="import-deep" prop:checked=move || deep.get()
                                on:change=move |ev| deep.set(event_target_checked(&ev))/>
                            " bundles: deep verification (re-train the folds)"
                        </label>
                        <label>"Time zone (sessions, naive timestamps)"
                            <select on:change=move |ev| tz.set(event_target_value(&ev)) data-testid="tz">
                                {ZONES.iter().map(|z| {
                                    let label = if z.is_empty() { "From the file, else UTC" } else { z };
                                    view! { <option value=*z selected=move || tz.get() == *z>{label}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    </div>
                    {move || ctx.progress.get().map(|p| view! {
                        <div class="progress" data-testid="progress">
                            <div class="small">"Reading " {p.name.clone()} " — " {format!("{:.0}%", p.fraction * 100.0)}</div>
                            <div class="bar"><div style:width=format!("{:.1}%", p.fraction * 100.0)></div></div>
                        </div>
                    })}
                    {move || ctx.error.get().map(|e| view! {
                        <ErrorView error=e testid="error" on_dismiss=move |_| ctx.error.set(None)/>
                    })}
                    {move || notice.get().map(|n| view! { <div class="notice" data-testid="notice">{n}</div> })}
                    <DatasetList/>
                    <div class="muted small storage">
                        {move || match ctx.persisted.get() {
                            Some(true) => "Storage: persistent (the browser will not evict it).",
                            Some(false) => "Storage: best-effort (the browser may evict it under pressure).",
                            None => "",
                        }}
                    </div>
                </aside>
                <div class="main">
                    {move || imported.get().map(|r| view! { <ImportReportView report=r on_close=move |_| imported.set(None)/> })}
                    <DatasetView/>
                </div>
            </div>
        </section>
    }
}

#[component]
fn DatasetList() -> impl IntoView {
    let ctx = use_ctx();
    view! {
        <div class="panel">
            <h2>"Datasets"</h2>
            <Show
                when=move || !ctx.datasets.get().is_empty()
                fallback=move || view! {
                    <p class="muted small">{move || if ctx.ready.get() { "No datasets yet." } else { "Opening storage…" }}</p>
                }
            >
                <ul class="datasets" data-testid="datasets">
                    <For each=move || ctx.datasets.get() key=|m| (m.id.clone(), m.name.clone()) let:meta>
                        <DatasetItem meta=meta/>
                    </For>
                </ul>
            </Show>
        </div>
    }
}

#[component]
fn DatasetItem(meta: DatasetMeta) -> impl IntoView {
    let ctx = use_ctx();
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let draft = RwSignal::new(meta.name.clone());
    let id = meta.id.clone();
    let selected = {
        let id = id.clone();
        move || ctx.selected.get().as_deref() == Some(id.as_str())
    };
    let select = {
        let id = id.clone();
        move |_| ctx.selected.set(Some(id.clone()))
    };
    let save = {
        let id = id.clone();
        move || {
            let (id, name) = (id.clone(), draft.try_get_untracked().unwrap_or_default().trim().to_string());
            if name.is_empty() {
                return;
            }
            spawn_local(rename(ctx, id, name));
            editing.set(false);
        }
    };
    let save2 = save.clone();
    let remove = {
        let meta = meta.clone();
        move |_| spawn_local(delete(ctx, meta.clone()))
    };
    let tickers = meta.summary.tickers.iter().map(|t| t.ticker.clone()).collect::<Vec<_>>().join(", ");
    view! {
        <li class:selected=selected data-testid="dataset" data-name=meta.name.clone()>
            <Show
                when=move || editing.get()
                fallback={
                    let name = meta.name.clone();
                    let select = select.clone();
                    move || view! { <button class="link name" on:click=select.clone()>{name.clone()}</button> }
                }
            >
                <input class="rename" data-testid="rename-input" prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown={
                        let save = save2.clone();
                        move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { save() }
                    }/>
                <button class="small" data-testid="rename-save" on:click={ let save = save.clone(); move |_| save() }>"Save"</button>
            </Show>
            <div class="meta small muted">
                {format::thousands(meta.summary.rows)} " rows · " {tickers}
            </div>
            <div class="actions">
                <button class="ghost small" data-testid="rename" on:click=move |_| editing.set(true)>"Rename"</button>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! { <button class="ghost small" data-testid="delete" on:click=move |_| confirming.set(true)>"Delete"</button> }
                >
                    <button class="danger small" data-testid="delete-confirm" on:click=remove.clone()>"Confirm delete"</button>
                    <button class="ghost small" on:click=move |_| confirming.set(false)>"Keep"</button>
                </Show>
            </div>
        </li>
    }
}

async fn rename(ctx: Ctx, id: String, name: String) {
    let Some(store) = ctx.store.get_value() else { return };
    if let Err(e) = store.rename(&id, &name).await {
        ctx.error.set(Some(e.into()));
    }
    refresh_datasets(ctx).await;
}

async fn delete(ctx: Ctx, meta: DatasetMeta) {
    let Some(store) = ctx.store.get_value() else { return };
    if let Err(e) = store.delete(&meta).await {
        ctx.error.set(Some(e.into()));
    }
    refresh_datasets(ctx).await;
    if ctx.selected.get_untracked().as_deref() == Some(meta.id.as_str()) {
        ctx.selected.set(ctx.datasets.get_untracked().first().map(|m| m.id.clone()));
    }
}

#[component]
fn DatasetView() -> impl IntoView {
    let ctx = use_ctx();
    let meta = Memo::new(move |_| {
        let id = ctx.selected.get()?;
        ctx.datasets.get().into_iter().find(|m| m.id == id)
    });
    let ticker_idx = RwSignal::new(0usize);
    let adjusted = RwSignal::new(false);
    let log = RwSignal::new(false);
    let focus = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        let _ = meta.get();
        ticker_idx.set(0);
        focus.set(None);
    });

    let raw = LocalResource::new(move || {
        let m = meta.get();
        let idx = ticker_idx.get();
        async move {
            let m = m?;
            let store = ctx.store.get_value()?;
            match store.series(&m, idx).await {
                Ok(s) => Some(Arc::new(s)),
                Err(e) => {
                    ctx.error.set(Some(e.into()));
                    None
                }
            }
        }
    });
    let series = Signal::derive(move || {
        let s: Arc<Series> = raw.get().flatten()?;
        if adjusted.get() {
            if let Some(adj) = s.adjusted() {
                return Some(Arc::new(adj));
            }
        }
        Some(s)
    });

    let clock = Signal::derive(move || {
        meta.get()
            .and_then(|m| {
                let t = m.summary.tickers.get(ticker_idx.get())?;
                Some(Clock::new(&m.summary.tz, t.cadence))
            })
            .unwrap_or_default()
    });

    move || match meta.get() {
        None => view! {
            <div class="panel empty">
                <h2>"No dataset selected"</h2>
                <p class="muted">"Drop a CSV or Parquet file on the left, or wait for the demo to load."</p>
            </div>
        }
        .into_any(),
        Some(m) => {
            let tickers = m.summary.tickers.clone();
            let has_adj = move || {
                meta.get()
                    .and_then(|m| m.summary.tickers.get(ticker_idx.get()).map(|t| t.has_adj_close))
                    .unwrap_or(false)
            };
            let counts = m.summary.issue_counts.clone();
            view! {
                <div class="panel">
                    <div class="panel-head">
                        <h2 data-testid="dataset-title">{m.name.clone()}</h2>
                        <span class="muted small">
                            {format::thousands(m.summary.rows)} " rows · zone " {m.summary.tz.clone()}
                            " · sha " <code title=m.sha.clone()>{m.sha.chars().take(7).collect::<String>()}</code>
                        </span>
                    </div>
                    <table class="grid tickers" data-testid="tickers">
                        <thead><tr><th>"Ticker"</th><th class="num">"Rows"</th><th>"Start"</th><th>"End"</th><th>"Cadence"</th><th class="num">"Issues"</th></tr></thead>
                        <tbody>
                            {tickers.into_iter().enumerate().map(|(i, t)| {
                                let count: usize = counts.iter().filter(|c| c.ticker == t.ticker).map(|c| c.count).sum();
                                view! {
                                    <tr class:selected=move || ticker_idx.get() == i
                                        on:click=move |_| { focus.set(None); ticker_idx.set(i); }
                                        data-ticker=t.ticker.clone()>
                                        <td><strong>{t.ticker.clone()}</strong></td>
                                        <td class="num">{format::thousands(t.rows)}</td>
                                        <td>{t.start.clone()}</td>
                                        <td>{t.end.clone()}</td>
                                        <td>{t.cadence.as_str()}</td>
                                        <td class="num">{count}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="chart-bar">
                        <span class="muted small">"Drag or ←/→ to move · wheel, pinch or +/− to zoom · double-click or Esc to reset"</span>
                        <label class="small"><input type="checkbox" data-testid="price-log"
                            prop:checked=move || log.get()
                            on:change=move |ev| log.set(event_target_checked(&ev))/>" Log scale"</label>
                        <Show when=has_adj>
                            <label class="small"><input type="checkbox" data-testid="adjusted"
                                prop:checked=move || adjusted.get()
                                on:change=move |ev| adjusted.set(event_target_checked(&ev))/>" Adjusted prices (Adj Close)"</label>
                        </Show>
                    </div>
                    <CandleChart series=series focus=focus clock=clock log/>
                </div>
                <QualityReport meta=m ticker_idx=ticker_idx focus=focus clock=clock/>
            }
            .into_any()
        }
    }
}

#[component]
fn QualityReport(
    meta: DatasetMeta,
    ticker_idx: RwSignal<usize>,
    focus: RwSignal<Option<usize>>,
    clock: Signal<Clock>,
) -> impl IntoView {
    let only_ticker = RwSignal::new(true);
    let tickers: Vec<String> = meta.summary.tickers.iter().map(|t| t.ticker.clone()).collect();
    let issues = Arc::new(meta.summary.issues.clone());
    // Counts come from the engine's totals: the detailed list is capped per kind and ticker.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for c in &meta.summary.issue_counts {
        let k = c.kind.as_str().to_string();
        match counts.iter_mut().find(|(name, _)| *name == k) {
            Some((_, n)) => *n += c.count,
            None => counts.push((k, c.count)),
        }
    }
    let shown = {
        let (issues, tickers) = (issues.clone(), tickers.clone());
        move || -> Vec<QualityIssue> {
            let current = tickers.get(ticker_idx.get()).cloned().unwrap_or_default();
            issues.iter().filter(|q| !only_ticker.get() || q.ticker == current).take(500).cloned().collect()
        }
    };
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    view! {
        <div class="panel" data-testid="quality">
            <div class="panel-head">
                <h2>"Data quality"</h2>
                <span class="small muted">{format::thousands(total)} " issue(s) in the dataset"</span>
                <label class="small"><input type="checkbox" prop:checked=move || only_ticker.get()
                    on:change=move |ev| only_ticker.set(event_target_checked(&ev))/>" this ticker only"</label>
            </div>
            <div class="chips">
                {counts.into_iter().map(|(k, c)| view! { <span class="chip" data-kind=k.clone()>{k.clone()} " " <b>{c}</b></span> }).collect_view()}
            </div>
            <Show when=move || total == 0>
                <p class="muted small">"No problems found."</p>
            </Show>
            <table class="grid issues">
                <thead><tr><th>"Kind"</th><th>"Ticker"</th><th class="num">"Row"</th><th>"Bar time"</th><th>"What"</th><th></th></tr></thead>
                <tbody>
                    {move || {
                        let tickers = tickers.clone();
                        shown().into_iter().map(|q| {
                            let t_idx = tickers.iter().position(|t| *t == q.ticker).unwrap_or(0);
                            let bar = q.bar;
                            view! {
                                <tr data-kind=q.kind.as_str()>
                                    <td><span class="chip">{q.kind.as_str()}</span></td>
                                    <td>{q.ticker.clone()}</td>
                                    <td class="num">{q.row}</td>
                                    <td>{clock.get_untracked().label(q.ts)}</td>
                                    <td>{q.message.clone()}</td>
                                    <td><button class="link small" data-testid="show-bar" on:click=move |_| {
                                        ticker_idx.set(t_idx);
                                        focus.set(Some(bar));
                                        scroll_to_chart();
                                    }>"Show on chart"</button></td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

fn scroll_to_chart() {
    if let Some(el) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("canvas.chart").ok().flatten())
    {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            el.scroll_into_view();
        }
    }
}
