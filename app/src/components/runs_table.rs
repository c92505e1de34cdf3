//! Ranked runs as a table: the Leaderboard (with the cart's checkboxes) and a sweep's result
//! show the same rows the same way.

use leptos::prelude::*;

use engine::bundle::Kind;
use engine::leaderboard::Row;

use crate::format::{pct, short};
use crate::share::status_of;
use crate::state::{set_in_cart, use_ctx};

/// Ranked runs as a table; with `cart`, a checkbox per run adds it to the cart.
#[component]
pub fn RunsTable(rows: Vec<Row>, #[prop(optional)] cart: bool) -> impl IntoView {
    let ctx = use_ctx();
    let toggle = move |id: String, on: bool| set_in_cart(ctx, id, on);
    view! {
        <div class="scroll-x">
        <table class="grid runs" data-testid="runs">
            <thead><tr>
                {cart.then(|| view! { <th title="add to the cart">"cart"</th> })}
                <th class="num">"#"</th><th>"model"</th><th>"config"</th>
                <th class="num">"Sharpe"</th>
                <th class="num" title="deflated Sharpe ratio: the probability that the Sharpe beats the best of the sweep's configs by luck (Bailey & López de Prado)">"DSR"</th>
                <th class="num">"return"</th><th class="num">"max DD"</th>
                <th class="num">"trades"</th><th class="num">"win"</th>
                <th class="num" title="top_pct runs: the share of tested bars whose probability reached their threshold, beside the fraction asked for">"top % got"</th>
                <th>"gate"</th><th>"lineage"</th>
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
                            <td>{r.model_id.clone()}{r.tag.clone().map(|t| view! { " " <span class="chip">{t}</span> })}
                                {let id = r.run_id.clone(); move || status_of(&ctx.marks.get(), Kind::Run, &id).map(|why| view! {
                                    " " <span class="chip warn" data-testid="unverifiable" title=why>"unverifiable"</span>
                                })}</td>
                            <td><code>{r.config.to_string()}</code>
                                <div class="small muted" data-testid="variant" title="the model variant whose out-of-fold probabilities this run was judged on">{r.variant.clone()}</div></td>
                            <td class="num" data-testid="sharpe">{format!("{:.2}", r.metrics.sharpe)}</td>
                            <td class="num" data-testid="dsr" title=r.trials.map_or("judged alone: not deflated".to_string(), |t| format!("deflated by {} configs; PSR {:.3}", t.count, r.metrics.psr))>{format!("{:.2}", r.metrics.dsr)}</td>
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
