//! Leaderboard (seed Phase 4): every stored run, filtered and ranked by the engine
//! (`engine::leaderboard::rank`), with its gate verdict and lineage; runs picked into the cart
//! go on to the Backtest page.

use leptos::prelude::*;

use engine::grid::Variant;
use engine::leaderboard::{rank, Query, RankBy};
use engine::risk::RiskProfile;

use crate::components::error::outcome;
use crate::components::runs_table::{sort_runs, RunsTable, RUN_COLUMNS};
use crate::components::sweep_map::SweepMap;
use crate::components::table::Order;
use crate::download;
use crate::error::AppError;
use crate::format;
use crate::route::{self, Route};
use crate::share;
use crate::state::use_ctx;

/// How many rows the Leaderboard shows unless asked.
const DEFAULT_LIMIT: &str = "50";

/// A select's options as (value, label): the values runs have, and the one asked for (by a link
/// from another copy) when no run here has it, so the select shows the filter that is applied
/// and "all" clears it.
fn options(have: Vec<String>, asked: String) -> Vec<(String, String)> {
    let missing = !asked.is_empty() && !have.contains(&asked);
    let mut out: Vec<(String, String)> = have.into_iter().map(|v| (v.clone(), v)).collect();
    if missing {
        out.push((asked.clone(), format!("{asked} (no runs here)")));
    }
    out
}

#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let ctx = use_ctx();
    // The filters start from the URL (`#/leaderboard?model=…&pass_gate=1`) and are written back
    // to it, so a reload or a shared link shows the same rows.
    let p = |name: &str| route::current_param(name).unwrap_or_default();
    let model = RwSignal::new(p("model"));
    let profile = RwSignal::new(p("profile"));
    let tag = RwSignal::new(p("tag"));
    let pass_gate = RwSignal::new(p("pass_gate") == "1");
    let rank_by = RwSignal::new(p("rank_by").parse::<RankBy>().unwrap_or(RankBy::Sharpe));
    let limit = RwSignal::new(route::current_param("limit").unwrap_or_else(|| DEFAULT_LIMIT.to_string()));
    // A header clicked: the rows in that column's order (`sort=-dsr`), else the engine's ranking.
    let order = RwSignal::new(Order::parse(&p("sort"), RUN_COLUMNS));
    let models = move || {
        let mut m: Vec<String> = ctx.runs.get().into_iter().map(|r| r.model_id).collect();
        m.sort();
        m.dedup();
        m
    };
    let tags = move || {
        let mut t: Vec<String> = ctx.runs.get().into_iter().filter_map(|r| r.tag).collect();
        t.sort();
        t.dedup();
        t
    };
    // Model variants (a sweep file's trainer or horizon dimensions, or imported runs).
    let variant = RwSignal::new(p("variant"));
    let variants = move || {
        let mut v: Vec<String> = ctx.runs.get().iter().map(|r| Variant::of_run(r).to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    let query = Memo::new(move |_| {
        let nonempty = |s: String| Some(s).filter(|s| !s.is_empty());
        Query {
            model_id: nonempty(model.get()),
            pack_id: None,
            risk_profile: profile.get().parse::<RiskProfile>().ok(),
            tag: nonempty(tag.get()),
            pass_gate: pass_gate.get(),
            variant: nonempty(variant.get()),
            rank_by: rank_by.get(),
            limit: limit.get().trim().parse().ok(),
        }
    });
    let rows = Memo::new(move |_| rank(&ctx.runs.get(), &query.get()));
    Effect::new(move |_| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in
            [("model", model.get()), ("profile", profile.get()), ("tag", tag.get()), ("variant", variant.get())]
        {
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        if rank_by.get() != RankBy::Sharpe {
            pairs.push(("rank_by", rank_by.get().as_str().to_string()));
        }
        if limit.get() != DEFAULT_LIMIT {
            pairs.push(("limit", limit.get()));
        }
        if pass_gate.get() {
            pairs.push(("pass_gate", "1".to_string()));
        }
        if let Some(o) = order.get() {
            pairs.push(("sort", o.to_param()));
        }
        route::set_query(Route::Leaderboard, &pairs);
    });
    let cart_rows = Memo::new(move |_| {
        let cart = ctx.cart.get();
        rank(&ctx.runs.get(), &Query::default()).into_iter().filter(|r| cart.contains(&r.run_id)).collect::<Vec<_>>()
    });
    // Sharing: a bundle of the cart, the rows shown, or everything; one model's report.
    let scope = RwSignal::new(String::from("filtered"));
    let with_data = RwSignal::new(true);
    let export = Action::new_local(move |_: &()| {
        let run_ids: Vec<String> = match scope.get_untracked().as_str() {
            "cart" => ctx.cart.get_untracked(),
            "all" => Vec::new(),
            _ => rows.get_untracked().into_iter().map(|r| r.run_id).collect(),
        };
        let empty = scope.get_untracked() != "all" && run_ids.is_empty();
        let with_data = with_data.get_untracked();
        async move {
            if empty {
                return Err(AppError::Input("no runs to export: the cart or the filter selects none".into()));
            }
            share::export(ctx, Vec::new(), run_ids, with_data).await.map(|e| {
                format!(
                    "Wrote {} ({}): {} models, {} runs, {} strategies{} in {:.0} ms.",
                    e.file,
                    format::bytes(e.bytes),
                    e.holds.models,
                    e.holds.runs,
                    e.holds.strategies,
                    if e.with_data {
                        format!(", {} bar slices, {} out-of-fold files", e.holds.datasets, e.holds.oof)
                    } else {
                        String::new()
                    },
                    e.ms
                )
            })
        }
    });
    let report = Action::new_local(move |_: &()| {
        let q = query.get_untracked();
        let rows = rows.get_untracked();
        async move {
            let Some(model_id) = q.model_id.clone() else {
                return Err(AppError::Input("pick a model: a report is one model's leaderboard".into()));
            };
            share::leaderboard_report(ctx, model_id, q, rows).await.map(|f| format!("Wrote {f}."))
        }
    });
    let open_backtest = move |id: String| route::open_run(ctx, id);
    // The rows shown, in the order shown, with every metric and the lineage.
    let csv_error = RwSignal::new(None::<AppError>);
    let download_csv = move |_| {
        let shown = sort_runs(rows.get_untracked(), order.get_untracked());
        let name = format!("leaderboard_{}.csv", download::today());
        csv_error.set(download::text(&name, "text/csv", &engine::sheet::leaderboard(&shown)).err());
    };
    view! {
        <section class="page leaderboard" data-page="leaderboard">
            <Show when=move || !ctx.runs.get().is_empty()
                fallback=|| view! { <div class="panel empty"><h2>"No runs yet"</h2>
                    <p class="muted">"Run a sweep on the " <a href=Route::Sweeps.href()>"Sweeps"</a> " page: its runs are ranked here."</p></div> }>
            <div class="panel">
                <div class="filters">
                    <label>"Model"<select data-testid="lb-model" on:change=move |ev| model.set(event_target_value(&ev))>
                        <option value="">"all"</option>
                        {move || options(models(), model.get()).into_iter().map(|(m, label)| { let on = model.get_untracked() == m; view! { <option value=m selected=on>{label}</option> } }).collect_view()}
                    </select></label>
                    <label>"Risk profile"<select data-testid="lb-profile" on:change=move |ev| profile.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {RiskProfile::ALL.iter().map(|p| view! { <option value=p.as_str() selected=move || profile.get() == p.as_str()>{p.as_str()}</option> }).collect_view()}
                    </select></label>
                    <label>"Tag"<select data-testid="lb-tag" on:change=move |ev| tag.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {move || options(tags(), tag.get()).into_iter().map(|(t, label)| { let on = tag.get_untracked() == t; view! { <option value=t selected=on>{label}</option> } }).collect_view()}
                    </select></label>
                    <label>"Model variant"<select data-testid="lb-variant" on:change=move |ev| variant.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {move || options(variants(), variant.get()).into_iter().map(|(v, label)| { let on = variant.get_untracked() == v; view! { <option value=v selected=on>{label}</option> } }).collect_view()}
                    </select></label>
                    <label>"Rank by"<select data-testid="lb-rank-by" on:change=move |ev| {
                        if let Ok(r) = event_target_value(&ev).parse::<RankBy>() { rank_by.set(r) }
                    }>
                        {RankBy::ALL.iter().map(|r| { let r = *r; view! { <option value=r.as_str() selected=move || rank_by.get() == r>{r.as_str()}</option> } }).collect_view()}
                    </select></label>
                    <label>"Limit"<input type="text" data-testid="lb-limit" prop:value=move || limit.get()
                        on:input=move |ev| limit.set(event_target_value(&ev))/></label>
                    <label class="check"><input type="checkbox" data-testid="lb-pass-gate" prop:checked=move || pass_gate.get()
                        on:change=move |ev| pass_gate.set(event_target_checked(&ev))/>" pass gate only"</label>
                </div>
                <div class="filters">
                    <p class="small muted" data-testid="lb-count">{move || format!("{} of {} runs", rows.get().len(), ctx.runs.get().len())}
                        <span class="muted">" · click a header to sort, ↑ ↓ to move between rows, Enter to open its backtest"</span></p>
                    <button data-testid="lb-csv" disabled=move || rows.get().is_empty() on:click=download_csv>"Download CSV"</button>
                </div>
                {move || csv_error.get().map(|e| view! { <crate::components::ErrorView error=e testid="lb-csv-error"/> })}
                {move || view! { <RunsTable rows=rows.get() cart=true order on_open=Callback::new(open_backtest)/> }}
            </div>
            <div class="panel">
                <h2>"At a glance " <span class="muted small">"the rows shown: a metric over two sweep dimensions (a cell opens its best run) and how Sharpe spreads"</span></h2>
                {move || {
                    let shown: std::collections::BTreeSet<String> = rows.get().into_iter().map(|r| r.run_id).collect();
                    let runs: Vec<_> = ctx.runs.get().into_iter().filter(|r| shown.contains(&r.run_id)).collect();
                    (runs.len() > 1).then(|| view! { <SweepMap runs=runs/> })
                }}
            </div>
            <div class="panel" data-testid="share">
                <h2>"Share " <span class="muted small">"a bundle another copy of the page or btb imports and verifies; a report anyone opens"</span></h2>
                <div class="share">
                    <label>"Export"<select data-testid="export-scope" on:change=move |ev| scope.set(event_target_value(&ev))>
                        <option value="filtered" selected=true>{move || format!("the rows shown ({})", rows.get().len())}</option>
                        <option value="cart">{move || format!("the cart ({})", ctx.cart.get().len())}</option>
                        <option value="all">{move || format!("everything ({} runs)", ctx.runs.get().len())}</option>
                    </select></label>
                    <label class="check" title="The bars (Parquet) and out-of-fold probabilities, so the importer can rebuild every matrix and re-judge every run">
                        <input type="checkbox" data-testid="export-with-data" prop:checked=move || with_data.get()
                            on:change=move |ev| with_data.set(event_target_checked(&ev))/>" with data"</label>
                    <button class="primary" data-testid="export-bundle" disabled=move || export.pending().get()
                        on:click=move |_| { export.dispatch(()); }>
                        {move || if export.pending().get() { "Exporting…" } else { "Export bundle" }}</button>
                    <button data-testid="lb-report" disabled=move || model.get().is_empty() || report.pending().get()
                        title=move || if model.get().is_empty() { "Pick a model above: a report is one model's leaderboard" } else { "" }
                        on:click=move |_| { report.dispatch(()); }>"Download report"</button>
                </div>
                {move || outcome(export.value().get(), "export-done", "export-error")}
                {move || outcome(report.value().get(), "report-done", "report-error")}
            </div>
            <div class="panel" data-testid="cart">
                <h2>"Cart " <span class="muted small">{move || format!("{} selected for training and backtest", ctx.cart.get().len())}</span></h2>
                <ul class="cart">
                    {move || cart_rows.get().into_iter().map(|r| {
                        let id = r.run_id.clone();
                        view! { <li>
                            <code>{r.config.to_string()}</code> " · " {r.model_id.clone()} " · Sharpe " {format::fixed(r.metrics.sharpe, 2)} " "
                            <button class="link" data-testid="open-backtest" on:click=move |_| open_backtest(id.clone())>"Backtest →"</button>
                        </li> }
                    }).collect_view()}
                </ul>
            </div>
            </Show>
        </section>
    }
}
