//! Signals (seed Phase 7): a trained strategy replayed by the engine over its series' newest
//! bars, in a worker: BUY/SELL with confidence and status (`NEW` is today's order, to fill at
//! the next open). Exported as the alerts CSV.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use engine::strategy::{latest, to_csv, Signal};

use crate::app::{use_ctx, Ctx};
use crate::db::StrategyRecord;
use crate::pages::leaderboard::{config_text, pct};
use crate::route::Route;

async fn load_signals(ctx: Ctx, s: StrategyRecord) -> Result<Vec<Signal>, String> {
    let store = ctx.store.get_value().ok_or("storage is still opening")?;
    let record = ctx
        .models
        .get_untracked()
        .into_iter()
        .find(|m| m.model_id == s.model_id)
        .ok_or_else(|| format!("model {} is no longer stored", s.model_id))?;
    let meta = ctx
        .datasets
        .get_untracked()
        .into_iter()
        .find(|d| d.id == record.dataset_id)
        .ok_or_else(|| format!("the dataset of {} was deleted", s.model_id))?;
    let index = meta
        .layout
        .iter()
        .position(|l| l.ticker == record.model.ticker)
        .ok_or_else(|| format!("{} has no ticker {}", meta.name, record.model.ticker))?;
    let spec = store
        .matrix_meta(&s.strategy.matrix_sha)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|m| m.spec)
        .ok_or("the strategy's matrix is no longer stored: build the model again")?;
    let columns = store.series_arrays(&meta, index).await.map_err(|e| e.to_string())?;
    let worker = crate::ingest::worker(ctx).await?;
    worker
        .signals(record.model, spec, s.strategy, s.model_json, meta.summary.tz.clone(), meta.layout[index].clone(), columns)
        .await
}

/// Offers `text` as a download named `name`.
fn download(name: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&text.into());
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/csv");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

#[component]
pub fn SignalsPage() -> impl IntoView {
    let ctx = use_ctx();
    let strategies = RwSignal::new(Vec::<StrategyRecord>::new());
    let current = RwSignal::new(None::<String>);
    let signals = RwSignal::new(Vec::<Signal>::new());
    let limit = RwSignal::new(String::from("10"));
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if !ctx.ready.get() {
            return;
        }
        spawn_local(async move {
            if let Some(store) = ctx.store.get_value() {
                match store.strategies().await {
                    Ok(list) => {
                        if current.get_untracked().is_none() {
                            current.try_set(list.first().map(|s| s.model_id.clone()));
                        }
                        strategies.try_set(list);
                    }
                    Err(e) => {
                        error.try_set(Some(e.to_string()));
                    }
                }
            }
        });
    });
    let selected = Memo::new(move |_| {
        let id = current.get()?;
        strategies.get().into_iter().find(|s| s.model_id == id)
    });
    Effect::new(move |_| {
        let Some(s) = selected.get() else { return };
        loading.set(true);
        error.set(None);
        spawn_local(async move {
            match load_signals(ctx, s).await {
                Ok(v) => {
                    signals.try_set(v);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            loading.try_set(false);
        });
    });
    let shown = move || latest(signals.get(), limit.get().trim().parse().unwrap_or(10));
    let export = move |_| {
        let Some(s) = selected.get_untracked() else { return };
        let all = latest(signals.get_untracked(), usize::MAX);
        if let Err(e) = download(&format!("alerts_{}.csv", s.model_id), &to_csv(&all)) {
            error.set(Some(e));
        }
    };
    view! {
        <section class="page signals" data-page="signals">
            <Show when=move || !strategies.get().is_empty()
                fallback=|| view! { <div class="panel empty"><h2>"No trained strategy yet"</h2>
                    <p class="muted">"Pick a run on the " <a href=Route::Leaderboard.href()>"Leaderboard"</a>
                    ", open its " <a href=Route::Backtest.href()>"Backtest"</a> " and train the final model for its config."</p></div> }>
            <div class="panel">
                <div class="filters">
                    <label>"Strategy"
                        <select data-testid="sig-model" on:change=move |ev| current.set(Some(event_target_value(&ev)))>
                            {move || strategies.get().into_iter().map(|s| {
                                let id = s.model_id.clone();
                                let sel = current.get() == Some(id.clone());
                                view! { <option value=id.clone() selected=sel>{format!("{} · {}", id, config_text(&s.strategy.config))}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Newest"<input type="text" data-testid="sig-limit" prop:value=move || limit.get()
                        on:input=move |ev| limit.set(event_target_value(&ev))/></label>
                    <button data-testid="export-alerts" on:click=export disabled=move || signals.get().is_empty()>"Export alerts CSV"</button>
                    <Show when=move || loading.get()><span class="muted small">"replaying the strategy in a worker…"</span></Show>
                </div>
                {move || selected.get().map(|s| view! {
                    <p class="small muted" data-testid="sig-about">{format!(
                        "model {} · trained {} on matrix {} · {} rows · policy {}",
                        s.strategy.model_sha.chars().take(7).collect::<String>(),
                        s.strategy.created,
                        s.strategy.matrix_sha.chars().take(7).collect::<String>(),
                        s.strategy.report.rows_train,
                        s.strategy.policy_sha.chars().take(7).collect::<String>(),
                    )}" · signals on bars the model was trained on are in-sample; the newest bars are not."</p>
                })}
                {move || error.get().map(|e| view! { <div class="error" role="alert" data-testid="sig-error">{e}</div> })}
            </div>
            <div class="panel">
                <table class="grid" data-testid="signals">
                    <thead><tr><th>"bar"</th><th>"timestamp"</th><th>"ticker"</th><th>"side"</th><th class="num">"confidence"</th>
                        <th>"status"</th><th class="num">"close"</th><th>"position"</th><th>"exit on"</th></tr></thead>
                    <tbody>
                        {move || shown().into_iter().map(|s| {
                            let (side, status) = (s.side.as_str(), s.status.as_str());
                            view! {
                                <tr data-side=side data-status=status>
                                    <td>{s.bar.clone()}</td><td class="muted small">{s.timestamp.clone()}</td><td>{s.ticker.clone()}</td>
                                    <td><span class=if side == "BUY" { "chip ok" } else { "chip bad" }>{side}</span></td>
                                    <td class="num">{format!("{:.3}", s.confidence)}</td>
                                    <td>{status}</td>
                                    <td class="num">{format!("{:.2}", s.close)}</td>
                                    <td>{format!("{} → {}", pct(s.from), pct(s.to))}</td>
                                    <td>{s.exit_reason.map_or("", |r| r.as_str())}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            </Show>
        </section>
    }
}
