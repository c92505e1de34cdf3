//! Leaderboard (seed Phase 4): every stored run, filtered and ranked by the engine
//! (`engine::leaderboard::rank`), with its gate verdict and lineage; runs picked into the cart
//! go on to the Backtest page.

use leptos::prelude::*;

use engine::leaderboard::{rank, Query, RankBy};
use engine::risk::RiskProfile;

use crate::components::runs_table::RunsTable;
use crate::format::config_text;
use crate::route::Route;
use crate::state::use_ctx;

#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let ctx = use_ctx();
    let model = RwSignal::new(String::new());
    let profile = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let pass_gate = RwSignal::new(false);
    let rank_by = RwSignal::new(RankBy::Sharpe);
    let limit = RwSignal::new(String::from("50"));
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
    let rows = Memo::new(move |_| {
        let nonempty = |s: String| Some(s).filter(|s| !s.is_empty());
        let q = Query {
            model_id: nonempty(model.get()),
            pack_id: None,
            risk_profile: profile.get().parse::<RiskProfile>().ok(),
            tag: nonempty(tag.get()),
            pass_gate: pass_gate.get(),
            rank_by: rank_by.get(),
            limit: limit.get().trim().parse().ok(),
        };
        rank(&ctx.runs.get(), &q)
    });
    let cart_rows = Memo::new(move |_| {
        let cart = ctx.cart.get();
        rank(&ctx.runs.get(), &Query::default()).into_iter().filter(|r| cart.contains(&r.run_id)).collect::<Vec<_>>()
    });
    let open_backtest = move |id: String| {
        ctx.focus_run.set(Some(id));
        let _ = web_sys::window().map(|w| w.location().set_hash(&Route::Backtest.href()));
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
                        {move || models().into_iter().map(|m| view! { <option value=m.clone()>{m.clone()}</option> }).collect_view()}
                    </select></label>
                    <label>"Risk profile"<select data-testid="lb-profile" on:change=move |ev| profile.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {RiskProfile::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> }).collect_view()}
                    </select></label>
                    <label>"Tag"<select data-testid="lb-tag" on:change=move |ev| tag.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        {move || tags().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                    </select></label>
                    <label>"Rank by"<select data-testid="lb-rank-by" on:change=move |ev| {
                        if let Ok(r) = event_target_value(&ev).parse::<RankBy>() { rank_by.set(r) }
                    }>
                        {RankBy::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select></label>
                    <label>"Limit"<input type="text" data-testid="lb-limit" prop:value=move || limit.get()
                        on:input=move |ev| limit.set(event_target_value(&ev))/></label>
                    <label class="check"><input type="checkbox" data-testid="lb-pass-gate" prop:checked=move || pass_gate.get()
                        on:change=move |ev| pass_gate.set(event_target_checked(&ev))/>" pass gate only"</label>
                </div>
                <p class="small muted" data-testid="lb-count">{move || format!("{} of {} runs", rows.get().len(), ctx.runs.get().len())}</p>
                {move || view! { <RunsTable rows=rows.get() cart=true/> }}
            </div>
            <div class="panel" data-testid="cart">
                <h2>"Cart " <span class="muted small">{move || format!("{} selected for training and backtest", ctx.cart.get().len())}</span></h2>
                <ul class="cart">
                    {move || cart_rows.get().into_iter().map(|r| {
                        let id = r.run_id.clone();
                        view! { <li>
                            <code>{config_text(&r.config)}</code> " · " {r.model_id.clone()} " · Sharpe " {format!("{:.2}", r.metrics.sharpe)} " "
                            <button class="link" data-testid="open-backtest" on:click=move |_| open_backtest(id.clone())>"Backtest →"</button>
                        </li> }
                    }).collect_view()}
                </ul>
            </div>
            </Show>
        </section>
    }
}
