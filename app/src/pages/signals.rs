//! Signals (seed Phase 7): a trained strategy replayed by the engine over its series' newest
//! bars, in a worker: BUY/SELL with confidence and status (`NEW` is today's order, to fill at
//! the next open). Exported as the alerts CSV. A model keeps one strategy per config trained; the
//! picker names model and config.

use leptos::prelude::*;

use engine::sheet;

use crate::components::table::{row_keys, sorted, Key, Order, SortTh};
use engine::strategy::{latest, Signal};

use crate::components::ErrorView;
use crate::db::StrategyRecord;
use crate::download;
use crate::error::AppError;
use crate::format::{pct, short};
use crate::route::Route;
use crate::state::{store, ticker_bars, use_ctx, worker, Ctx};

/// The picker's value for a strategy: a model keeps one per config.
fn pick_key(s: &StrategyRecord) -> String {
    format!("{}/{}", s.model_id, s.strategy.config_sha)
}

/// A replay's fraction done and when it began.
type Replay = RwSignal<Option<(f64, f64)>>;

async fn load_signals(ctx: Ctx, s: StrategyRecord, replay: Replay) -> Result<Vec<Signal>, AppError> {
    let store = store(ctx)?;
    let record = ctx
        .models
        .get_untracked()
        .into_iter()
        .find(|m| m.model_id == s.model_id)
        .ok_or_else(|| AppError::missing(format!("model {} is no longer stored", s.model_id)))?;
    let spec = store
        .matrix_meta(&s.strategy.matrix_sha)
        .await?
        .and_then(|m| m.spec)
        .ok_or_else(|| AppError::missing("the strategy's matrix is no longer stored: build the model again"))?;
    let bars = ticker_bars(ctx, &store, &record.dataset_id, &record.model.ticker, || {
        format!("the dataset of {} was deleted", s.model_id)
    })
    .await?;
    let worker = worker(ctx).await?;
    replay.try_set(Some((0.0, js_sys::Date::now())));
    let at = move |f: f64| {
        replay.try_update(|r| {
            if let Some(r) = r {
                r.0 = f
            }
        });
    };
    let out = worker.signals(record.model, spec, s.strategy, s.model_json, bars.tz, bars.layout, bars.blob, at).await;
    replay.try_set(None);
    out
}

/// What a signal is sorted by in the column named `column`.
fn signal_key(s: &Signal, column: &str) -> Key {
    match column {
        "timestamp" => Key::Text(s.timestamp.clone()),
        "ticker" => Key::Text(s.ticker.clone()),
        "side" => Key::Text(s.side.as_str().to_string()),
        "confidence" => Key::Num(s.confidence),
        "status" => Key::Text(s.status.as_str().to_string()),
        "close" => Key::Num(s.close),
        _ => Key::Text(s.bar.clone()),
    }
}

#[component]
pub fn SignalsPage() -> impl IntoView {
    let ctx = use_ctx();
    // A link from a training names its strategy (`#/signals?strategy=model/config_sha`).
    let current = RwSignal::new(crate::route::current_param("strategy"));
    let limit = RwSignal::new(String::from("10"));
    // An export that failed (the one thing on this page the user starts).
    let error = RwSignal::new(None::<AppError>);
    let strategies = LocalResource::new(move || {
        let ready = ctx.ready.get();
        async move {
            if !ready {
                return Ok(Vec::new());
            }
            Ok::<_, AppError>(store(ctx)?.strategies().await?)
        }
    });
    let list = move || strategies.get().and_then(Result::ok).unwrap_or_default();
    // The strategy picked (model and config: a model keeps one per config), else the newest.
    let selected = Memo::new(move |_| {
        let list = list();
        let id = current.get();
        list.iter().find(|s| Some(pick_key(s)) == id).or(list.first()).cloned()
    });
    // Keyed by strategy: a slower earlier replay never replaces the strategy now selected.
    let progress: Replay = RwSignal::new(None);
    let replay = LocalResource::new(move || {
        let s = selected.get();
        async move {
            let s = s?;
            let id = pick_key(&s);
            Some((id, load_signals(ctx, s, progress).await))
        }
    });
    let fresh = move || {
        let id = selected.get().map(|s| pick_key(&s));
        replay.get().flatten().filter(|(r, _)| Some(r) == id.as_ref())
    };
    let loading = move || selected.get().is_some() && fresh().is_none();
    let signals = move || fresh().and_then(|(_, r)| r.ok()).unwrap_or_default();
    let load_error = move || {
        let e = strategies.get().and_then(Result::err);
        e.or_else(|| fresh().and_then(|(_, r)| r.err()))
    };
    // The newest N, then in a clicked column's order.
    let order = RwSignal::new(None::<Order>);
    let shown = move || {
        let newest = latest(signals(), limit.get().trim().parse().unwrap_or(10));
        sorted(newest, order.get(), signal_key)
    };
    let export = move |_| {
        let Some(s) = selected.get_untracked() else { return };
        let all = latest(untrack(signals), usize::MAX);
        if let Err(e) = download::text(&format!("alerts_{}.csv", s.model_id), "text/csv", &sheet::signals(&all)) {
            error.set(Some(e));
        }
    };
    view! {
        <section class="page signals" data-page="signals">
            <Show when=move || !list().is_empty()
                fallback=|| view! { <div class="panel empty"><h2>"No trained strategy yet"</h2>
                    <p class="muted">"Pick a run on the " <a href=Route::Leaderboard.href()>"Leaderboard"</a>
                    ", open its " <a href=Route::Backtest.href()>"Backtest"</a> " and train the final model for its config."</p></div> }>
            <div class="panel">
                <div class="filters">
                    <label>"Strategy"
                        <select data-testid="sig-model" on:change=move |ev| current.set(Some(event_target_value(&ev)))>
                            {move || list().into_iter().map(|s| {
                                let key = pick_key(&s);
                                let sel = selected.get().map(|s| pick_key(&s)) == Some(key.clone());
                                let label = format!("{} · {} · {}", s.model_id, s.strategy.config, short(&s.strategy.config_sha));
                                view! { <option value=key selected=sel>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Newest"<input type="text" data-testid="sig-limit" prop:value=move || limit.get()
                        on:input=move |ev| limit.set(event_target_value(&ev))/></label>
                    <button data-testid="export-alerts" on:click=export disabled=move || signals().is_empty()>"Export alerts CSV"</button>
                    <Show when=loading><span class="muted small" data-testid="sig-loading">{move || match progress.get() {
                        Some((f, started)) if f > 0.0 => format!("replaying the strategy: features and scores over its bars, {:.0}% · {}",
                            100.0 * f, crate::format::time_left((js_sys::Date::now() - started) / 1000.0, f)),
                        _ => "replaying the strategy in a worker…".into(),
                    }}</span></Show>
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
                {move || load_error().or_else(|| error.get()).map(|e| view! { <ErrorView error=e testid="sig-error"/> })}
            </div>
            <div class="panel">
                <table class="grid" data-testid="signals">
                    <thead><tr>
                        <SortTh order column="bar" label="bar"/>
                        <SortTh order column="timestamp" label="timestamp"/>
                        <SortTh order column="ticker" label="ticker"/>
                        <SortTh order column="side" label="side"/>
                        <SortTh order column="confidence" label="confidence" numeric=true title="the calibrated probability on the decision bar"/>
                        <SortTh order column="status" label="status"/>
                        <SortTh order column="close" label="close" numeric=true/>
                        <th>"position"</th><th>"exit on"</th></tr></thead>
                    <tbody on:keydown=move |ev| row_keys(ev, |_| {})>
                        {move || shown().into_iter().enumerate().map(|(i, s)| {
                            let (side, status) = (s.side.as_str(), s.status.as_str());
                            view! {
                                <tr data-side=side data-status=status tabindex=if i == 0 { "0" } else { "-1" }>
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
