//! Ranked runs as a table: the Leaderboard (with the cart's checkboxes) and a sweep's result
//! show the same rows the same way, sortable by any column (the engine's ranking until a
//! header is clicked) and walked with the keyboard.

use leptos::prelude::*;

use engine::bundle::Kind;
use engine::leaderboard::Row;

use crate::components::table::{row_keys, sorted, Key, Order, SortTh};
use crate::format::{self, definition, pct, short};
use crate::share::status_of;
use crate::state::{set_in_cart, use_ctx};

/// The columns a runs table sorts by (a link's `sort=` must name one).
pub const RUN_COLUMNS: &[&str] =
    &["rank", "model", "config", "sharpe", "dsr", "return", "max_dd", "trades", "win_rate", "top_pct", "gate"];

/// What a run is sorted by in the column named `column` (one of [`RUN_COLUMNS`]).
pub fn run_key(r: &Row, column: &str) -> Key {
    let m = &r.metrics;
    match column {
        "model" => Key::Text(r.model_id.clone()),
        "config" => Key::Text(r.config.to_string()),
        "sharpe" => Key::Num(m.sharpe),
        "dsr" => Key::Num(m.dsr),
        "return" => Key::Num(m.total_return),
        "max_dd" => Key::Num(m.max_dd),
        "trades" => Key::Num(m.trades as f64),
        "win_rate" => Key::Num(m.win_rate),
        "top_pct" => Key::Num(r.top_pct_share.map_or(f64::NAN, |s| s.realised)),
        "gate" => Key::Num(if r.gate.pass() { 1.0 } else { 0.0 }),
        _ => Key::Num(r.rank as f64),
    }
}

/// `rows` in the order the table shows them.
pub fn sort_runs(rows: Vec<Row>, order: Option<Order>) -> Vec<Row> {
    sorted(rows, order, run_key)
}

/// Ranked runs as a table; with `cart`, a checkbox per run adds it to the cart. `order` is the
/// column order (kept by the caller when it must outlive the table, e.g. for a CSV of the rows
/// as shown); `on_open` is what Enter on a row does with its run id.
#[component]
pub fn RunsTable(
    rows: Vec<Row>,
    #[prop(optional)] cart: bool,
    #[prop(optional)] order: Option<RwSignal<Option<Order>>>,
    #[prop(optional)] on_open: Option<Callback<String>>,
) -> impl IntoView {
    let ctx = use_ctx();
    let toggle = move |id: String, on: bool| set_in_cart(ctx, id, on);
    let order = order.unwrap_or_else(|| RwSignal::new(None));
    let shown = move || sort_runs(rows.clone(), order.get());
    let keys = move |ev: web_sys::KeyboardEvent| {
        row_keys(ev, |id| {
            if let Some(open) = on_open {
                open.run(id)
            }
        })
    };
    view! {
        <div class="scroll-x">
        <table class="grid runs" data-testid="runs">
            <thead><tr>
                {cart.then(|| view! { <th title="add to the cart">"cart"</th> })}
                <SortTh order column="rank" label="#" title="the engine's rank"/>
                <SortTh order column="model" label="model"/>
                <SortTh order column="config" label="config"/>
                <SortTh order column="sharpe" label="Sharpe" numeric=true title=definition("sharpe")/>
                <SortTh order column="dsr" label="DSR" numeric=true title=definition("dsr")/>
                <SortTh order column="return" label="return" numeric=true title=definition("return")/>
                <SortTh order column="max_dd" label="max DD" numeric=true title=definition("max_dd")/>
                <SortTh order column="trades" label="trades" numeric=true title=definition("trades")/>
                <SortTh order column="win_rate" label="win" numeric=true title=definition("win_rate")/>
                <SortTh order column="top_pct" label="top % got" numeric=true title="top_pct runs: the share of tested bars whose probability reached their threshold, beside the fraction asked for"/>
                <SortTh order column="gate" label="gate" numeric=true/>
                <th>"lineage"</th>
            </tr></thead>
            <tbody on:keydown=keys>
                {move || shown().into_iter().enumerate().map(|(i, r)| {
                    let id = r.run_id.clone();
                    let id2 = id.clone();
                    let row_id = id.clone();
                    let pass = r.gate.pass();
                    let why = r.gate.reasons_text();
                    let remedies = r.gate.reasons().iter().map(|g| format!("{}: {}", g.as_str(), g.remedy())).collect::<Vec<_>>().join("\n");
                    let lineage = format!("matrix {} · config {} · policy {} · risk {}",
                        short(&r.lineage.matrix_sha), short(&r.lineage.config_sha), short(&r.lineage.policy_sha), short(&r.lineage.risk_sha));
                    view! {
                        <tr data-run=row_id.clone() data-key=row_id data-pass=pass.to_string() tabindex=if i == 0 { "0" } else { "-1" }>
                            {cart.then(|| view! { <td><input type="checkbox" data-testid="cart-toggle" aria-label=format!("add run {} to the cart", r.run_id)
                                prop:checked=move || ctx.cart.get().contains(&id2)
                                on:change=move |ev| toggle(id.clone(), event_target_checked(&ev))/></td> })}
                            <td class="num">{r.rank}</td>
                            <td>{r.model_id.clone()}{r.tag.clone().map(|t| view! { " " <span class="chip">{t}</span> })}
                                {let id = r.run_id.clone(); move || status_of(&ctx.marks.get(), Kind::Run, &id).map(|why| view! {
                                    " " <span class="chip warn" data-testid="unverifiable" title=why>"unverifiable"</span>
                                })}</td>
                            <td><code>{r.config.to_string()}</code>
                                <div class="small muted" data-testid="variant" title="the model variant whose out-of-fold probabilities this run was judged on">{r.variant.clone()}</div></td>
                            <td class="num" data-testid="sharpe">{format::fixed(r.metrics.sharpe, 2)}</td>
                            <td class="num" data-testid="dsr" title=r.trials.map_or("judged alone: not deflated".to_string(), |t| format!("deflated by {} configs; PSR {:.3}", t.count, r.metrics.psr))>{format::fixed(r.metrics.dsr, 2)}</td>
                            <td class="num">{pct(r.metrics.total_return)}</td>
                            <td class="num">{pct(r.metrics.max_dd)}</td>
                            <td class="num">{r.metrics.trades}</td>
                            <td class="num">{format!("{:.0}%", 100.0 * r.metrics.win_rate)}</td>
                            <td class="num small" data-testid="top-pct-share">{r.top_pct_share.map(|s| if s.met() {
                                view! { <span data-met="true">{s.to_string()}</span> }.into_any()
                            } else {
                                view! { <span class="chip warn" data-met="false" title="not within a factor of 1.5 of the fraction asked">{s.to_string()}</span> }.into_any()
                            })}</td>
                            <td>{if pass {
                                view! { <span class="chip ok" data-testid="gate">"pass"</span> }.into_any()
                            } else {
                                view! { <span class="chip bad" data-testid="gate" title=remedies.clone()>"fail"</span> " " <span class="small muted" title=remedies>{why.clone()}</span> }.into_any()
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
