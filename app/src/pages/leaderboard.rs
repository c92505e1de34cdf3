//! Leaderboard (seed Phase 4): every stored run, filtered and ranked by the engine
//! (`engine::leaderboard::rank`), with its gate verdict and lineage; runs picked into the cart
//! go on to the Backtest page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::leaderboard::{rank, Query, RankBy, Row};
use engine::risk::RiskProfile;
use engine::config::{Config, ConfigKind};

use crate::app::{use_ctx, Ctx};
use crate::route::Route;

const CART_SETTING: &str = "cart";

pub fn config_text(c: &Config) -> String {
    let kind = match c.kind {
        ConfigKind::Thr => "thr",
        ConfigKind::TopPct => "top %",
    };
    match &c.allowed_hours {
        Some(h) => format!("{kind} {} · hours {h}", c.value),
        None => format!("{kind} {}", c.value),
    }
}

pub fn pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

fn short(s: &str) -> String {
    s.chars().take(7).collect()
}

/// Loads the cart (run ids) kept in the settings store.
pub async fn load_cart(ctx: Ctx) {
    if let Some(store) = ctx.store.get_value() {
        if let Ok(Some(text)) = store.setting(CART_SETTING).await {
            if let Ok(ids) = serde_json::from_str::<Vec<String>>(&text) {
                ctx.cart.try_set(ids);
            }
        }
    }
}

fn save_cart(ctx: Ctx) {
    let ids = ctx.cart.get_untracked();
    spawn_local(async move {
        if let Some(store) = ctx.store.get_value() {
            if let Err(e) = store.set_setting(CART_SETTING, &serde_json::to_string(&ids).unwrap_or_default()).await {
                ctx.error.try_set(Some(e.to_string()));
            }
        }
    });
}

/// Ranked runs as a table; with `cart`, a checkbox per run adds it to the cart.
#[component]
pub fn RunsTable(rows: Vec<Row>, #[prop(optional)] cart: bool) -> impl IntoView {
    let ctx = use_ctx();
    let toggle = move |id: String, on: bool| {
        ctx.cart.update(|c| {
            c.retain(|x| *x != id);
            if on {
                c.push(id);
            }
        });
        save_cart(ctx);
    };
    view! {
        <div class="scroll-x">
        <table class="grid runs" data-testid="runs">
            <thead><tr>
                {cart.then(|| view! { <th title="add to the cart">"cart"</th> })}
                <th class="num">"#"</th><th>"model"</th><th>"config"</th>
                <th class="num">"Sharpe"</th><th class="num">"return"</th><th class="num">"max DD"</th>
                <th class="num">"trades"</th><th class="num">"win"</th><th>"gate"</th><th>"lineage"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let id = r.run_id.clone();
                    let id2 = id.clone();
                    let row_id = id.clone();
                    let pass = r.gate.pass();
                    let why = r.gate.reasons_text();
                    let lineage = format!("matrix {} · config {} · policy {} · risk {}",
                        short(&r.lineage.matrix_sha), short(&r.lineage.config_sha), short(&r.lineage.policy_sha), short(&r.lineage.risk_sha));
                    view! {
                        <tr data-run=row_id data-pass=pass.to_string()>
                            {cart.then(|| view! { <td><input type="checkbox" data-testid="cart-toggle"
                                prop:checked=move || ctx.cart.get().contains(&id2)
                                on:change=move |ev| toggle(id.clone(), event_target_checked(&ev))/></td> })}
                            <td class="num">{r.rank}</td>
                            <td>{r.model_id.clone()}{r.tag.clone().map(|t| view! { " " <span class="chip">{t}</span> })}</td>
                            <td><code>{config_text(&r.config)}</code></td>
                            <td class="num" data-testid="sharpe">{format!("{:.2}", r.metrics.sharpe)}</td>
                            <td class="num">{pct(r.metrics.total_return)}</td>
                            <td class="num">{pct(r.metrics.max_dd)}</td>
                            <td class="num">{r.metrics.trades}</td>
                            <td class="num">{format!("{:.0}%", 100.0 * r.metrics.win_rate)}</td>
                            <td>{if pass {
                                view! { <span class="chip ok" data-testid="gate">"pass"</span> }.into_any()
                            } else {
                                view! { <span class="chip bad" data-testid="gate" title=why.clone()>"fail"</span> " " <span class="small muted">{why.clone()}</span> }.into_any()
                            }}</td>
                            <td class="small muted" title=lineage.clone()>{short(&r.lineage.matrix_sha)}" · "{short(&r.lineage.policy_sha)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

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
