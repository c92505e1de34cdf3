//! Scanner (the seed's "Scanner Integration"): a multi-ticker dataset's tickers ranked by one
//! of the engine's documented scores (`engine::scan`), from bars up to an as-of date only,
//! computed in a worker, with the facts behind each score and why a ticker was left out.

use leptos::prelude::*;

use engine::scan::{Kind, Scan, ScanSpec};

use crate::components::ErrorView;
use crate::error::AppError;
use crate::state::{default_dataset, store, use_ctx, worker, Ctx};

async fn run_scan(ctx: Ctx, dataset_id: String, spec: ScanSpec) -> Result<Scan, AppError> {
    let store = store(ctx)?;
    let meta = ctx
        .datasets
        .get_untracked()
        .into_iter()
        .find(|d| d.id == dataset_id)
        .ok_or_else(|| AppError::missing("choose a dataset first (Data page)"))?;
    let mut bars = Vec::with_capacity(meta.layout.len());
    for i in 0..meta.layout.len() {
        bars.push(store.series_blob(&meta, i).await?);
    }
    let worker = worker(ctx).await?;
    worker.scan(meta.name.clone(), meta.summary.tz.clone(), meta.layout.clone(), bars, spec).await
}

/// A fact's value: prices and ratios to four decimals, large numbers grouped.
fn number(v: f64) -> String {
    if v.abs() >= 1e5 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

#[component]
pub fn ScannerPage() -> impl IntoView {
    let ctx = use_ctx();
    let dataset_id = RwSignal::new(None::<String>);
    let kind = RwSignal::new(Kind::Breakout);
    let top_n = RwSignal::new(String::from("20"));
    let asof = RwSignal::new(String::new());
    let tickers = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<Scan, AppError>>);

    default_dataset(ctx, dataset_id);
    let dataset = Memo::new(move |_| {
        let id = dataset_id.get()?;
        ctx.datasets.get().into_iter().find(|m| m.id == id)
    });

    let run = Action::new_local(move |(id, spec): &(String, ScanSpec)| {
        let (id, spec) = (id.clone(), spec.clone());
        async move {
            outcome.set(None);
            outcome.set(Some(run_scan(ctx, id, spec).await));
        }
    });
    let start = move |_| {
        let Some(id) = dataset_id.get_untracked() else {
            outcome.set(Some(Err(AppError::Input("choose a dataset first (Data page)".into()))));
            return;
        };
        let Ok(n) = top_n.get_untracked().trim().parse::<usize>() else {
            outcome.set(Some(Err(AppError::Input(format!("top N {:?} is not a whole number", top_n.get_untracked())))));
            return;
        };
        let list: Vec<String> =
            tickers.get_untracked().split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        let a = asof.get_untracked();
        let spec = ScanSpec {
            kind: kind.get_untracked(),
            top_n: n,
            asof: (!a.trim().is_empty()).then(|| a.trim().to_string()),
            tickers: (!list.is_empty()).then_some(list),
            raw_prices: false,
        };
        run.dispatch((id, spec));
    };

    view! {
        <section class="page scanner" data-page="scanner">
            <div class="columns">
                <aside class="side">
                    <div class="panel form">
                        <h2>"Scan a universe"</h2>
                        <label>"Dataset"
                            <select data-testid="scan-dataset" on:change=move |ev| { dataset_id.set(Some(event_target_value(&ev))); outcome.set(None); }>
                                {move || ctx.datasets.get().into_iter().map(|m| {
                                    let sel = dataset_id.get().as_deref() == Some(m.id.as_str());
                                    let label = format!("{} · {} tickers", m.name, m.summary.tickers.len());
                                    view! { <option value=m.id.clone() selected=sel>{label}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Scanner"
                            <select data-testid="scan-kind" on:change=move |ev| {
                                if let Ok(k) = event_target_value(&ev).parse::<Kind>() { kind.set(k) }
                            }>
                                {Kind::ALL.into_iter().map(|k| view! {
                                    <option value=k.as_str() selected=move || kind.get() == k>{k.as_str()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <p class="muted small" data-testid="scan-formula">{move || format!(
                            "score = {} (needs {} bars)", kind.get().formula(), kind.get().needs())}</p>
                        <label>"Top N"
                            <input type="number" min="1" data-testid="scan-top-n" prop:value=move || top_n.get()
                                on:input=move |ev| top_n.set(event_target_value(&ev))/>
                        </label>
                        <label>"As of (the last date a score may see)"
                            <input type="date" data-testid="scan-asof" prop:value=move || asof.get()
                                on:input=move |ev| asof.set(event_target_value(&ev))/>
                        </label>
                        <label>"Tickers (comma-separated; empty: all)"
                            <input type="text" data-testid="scan-tickers" placeholder=move || dataset.get().map(|d| {
                                d.summary.tickers.iter().map(|t| t.ticker.as_str()).collect::<Vec<_>>().join(",")
                            }).unwrap_or_default()
                                prop:value=move || tickers.get() on:input=move |ev| tickers.set(event_target_value(&ev))/>
                        </label>
                        <button class="primary" data-testid="run-scan" disabled=move || run.pending().get() on:click=start>
                            {move || if run.pending().get() { "Scanning…" } else { "Scan" }}
                        </button>
                    </div>
                </aside>
                <div class="main">
                    {move || match outcome.get() {
                        None => view! { <div class="panel"><p class="muted small">
                            "Pick a dataset holding several tickers and a scanner: each ticker is scored at its last bar on or before the as-of date, from those bars only."
                        </p></div> }.into_any(),
                        Some(Err(e)) => view! { <div class="panel"><ErrorView error=e testid="scan-error"/></div> }.into_any(),
                        Some(Ok(s)) => view! { <ScanResult scan=s/> }.into_any(),
                    }}
                </div>
            </div>
        </section>
    }
}

#[component]
fn ScanResult(scan: Scan) -> impl IntoView {
    let facts: Vec<String> =
        scan.rows.first().map(|r| r.facts.iter().map(|f| f.name.clone()).collect()).unwrap_or_default();
    let heading = format!(
        "{} as of {}: {} of {} tickers scored, the top {} shown",
        scan.kind,
        scan.asof,
        scan.scored,
        scan.universe,
        scan.rows.len()
    );
    view! {
        <div class="panel" data-testid="scan-result" data-kind=scan.kind.as_str() data-asof=scan.asof.clone()>
            <h2 data-testid="scan-summary">{heading}</h2>
            <p class="muted small">{format!("score = {}", scan.formula)}</p>
            <table class="grid" data-testid="scan-rows">
                <thead><tr><th class="num">"#"</th><th>"Ticker"</th><th>"Bar"</th><th class="num">"Score"</th>
                    {facts.iter().map(|f| view! { <th class="num">{f.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {scan.rows.into_iter().map(|r| view! {
                        <tr data-ticker=r.ticker.clone() data-score=r.score.to_string()>
                            <td class="num">{r.rank}</td>
                            <td><strong>{r.ticker.clone()}</strong></td>
                            <td>{r.bar.clone()}</td>
                            <td class="num" data-testid="scan-score">{format!("{:+.4}", r.score)}</td>
                            {r.facts.iter().map(|f| view! { <td class="num">{number(f.value)}</td> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(!scan.skipped.is_empty()).then(|| view! {
                <h3 class="small">"Left out"</h3>
                <ul class="small muted" data-testid="scan-skipped">
                    {scan.skipped.into_iter().map(|k| view! { <li data-ticker=k.ticker.clone()><strong>{k.ticker.clone()}</strong>": "{k.reason}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}
