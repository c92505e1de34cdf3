//! Build: turn a model's dataset slice into its training matrix (seed Phase 2) — date range,
//! indicator review and edit (custom ones too), Build Matrix in a worker, `matrix_sha`, and a
//! preview with per-feature statistics.

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::features::FeatureSpec;
use engine::matrix::{BuildSpec, FeatureStat, Preview, PreviewRow};
use engine::model::{ModelRecord, ModelSpec};

use crate::components::ErrorView;
use crate::db::MatrixMeta;
use crate::error::AppError;
use crate::format;
use crate::route::Route;
use crate::state::{build_matrix, refresh_models, store, use_ctx, Ctx};

/// The model's features replaced by `features`, re-resolved by the engine so names and
/// parameters are validated exactly as on creation.
fn with_features(record: &ModelRecord, features: Vec<FeatureSpec>) -> Result<ModelRecord, AppError> {
    let m = &record.model;
    let spec = ModelSpec {
        pack_id: m.pack_id.clone(),
        model_id: Some(m.model_id.clone()),
        ticker: m.ticker.clone(),
        asset: m.asset.clone(),
        horizon: Some(m.horizon.clone()),
        cadence: Some(m.cadence.clone()),
        risk_profile: m.risk_profile,
        template: Some(m.template.clone()),
        indicators: Some(features),
        custom_indicators: Vec::new(),
    };
    let model = spec.resolve()?;
    Ok(ModelRecord { model, matrix_sha: None, build_spec: None, ..record.clone() })
}

async fn save(ctx: Ctx, record: ModelRecord) -> Result<(), AppError> {
    let store = store(ctx)?;
    store.put_model(&record).await?;
    refresh_models(ctx).await;
    Ok(())
}

#[component]
pub fn BuildPage() -> impl IntoView {
    let ctx = use_ctx();
    Effect::new(move |_| {
        if ctx.current_model.get().is_none() {
            if let Some(first) = ctx.models.get().first() {
                ctx.current_model.set(Some(first.model_id.clone()));
            }
        }
    });
    let record = Memo::new(move |_| {
        let id = ctx.current_model.get()?;
        ctx.models.get().into_iter().find(|r| r.model_id == id)
    });
    let ticker_summary = Memo::new(move |_| {
        let r = record.get()?;
        let d = ctx.datasets.get().into_iter().find(|d| d.id == r.dataset_id)?;
        d.summary.ticker(&r.model.ticker).cloned()
    });
    let start = RwSignal::new(String::new());
    let draft_note = RwSignal::new(None::<String>);
    let end = RwSignal::new(String::new());
    let distance = RwSignal::new(String::new());
    let custom = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let result = RwSignal::new(None::<MatrixMeta>);
    let from_cache = RwSignal::new(false);
    let progress = RwSignal::new(0.0f64);
    let build_matrix = Action::new_local(move |(r, spec): &(ModelRecord, BuildSpec)| {
        let (r, spec) = (r.clone(), spec.clone());
        async move {
            let (m, cached) = build_matrix(ctx, r, spec, true, move |f| {
                progress.try_set(f);
            })
            .await?;
            from_cache.try_set(cached);
            result.try_set(Some(m));
            Ok::<_, AppError>(())
        }
    });
    let building = build_matrix.pending();

    // A different model: its data's full range, its label's horizon, and its last matrix if
    // stored. Keyed on the id alone, so saving the model (a build, an edit) keeps the form.
    let current_id = Memo::new(move |_| record.get().map(|r| r.model_id));
    Effect::new(move |_| {
        if current_id.get().is_none() {
            return;
        }
        let Some(r) = record.get_untracked() else { return };
        let t = ticker_summary.get_untracked();
        start.set(t.as_ref().map(|t| t.start.chars().take(10).collect()).unwrap_or_default());
        end.set(t.as_ref().map(|t| t.end.chars().take(10).collect()).unwrap_or_default());
        distance.set(r.model.label.distance_max().to_string());
        // A build another page prepared (a gate remedy) for this model: used once.
        draft_note.set(None);
        if let Some(d) = ctx.build_draft.get_untracked().filter(|d| d.model_id == r.model_id) {
            ctx.build_draft.set(None);
            start.set(d.start);
            end.set(d.end);
            distance.set(d.horizon.to_string());
            draft_note.set(Some(d.why));
        }
        error.set(None);
        result.set(None);
        build_matrix.value().set(None);
    });
    // The model's last stored matrix, keyed by model id so a slow read for the model left
    // behind never shows under the one now open.
    let stored = LocalResource::new(move || {
        let id = current_id.get();
        let sha = record.get_untracked().and_then(|r| r.matrix_sha);
        async move {
            let m = store(ctx).ok()?.matrix_meta(&sha?).await.ok().flatten()?;
            Some((id?, m))
        }
    });
    let shown = move || {
        result
            .get()
            .or_else(|| stored.get().flatten().filter(|(id, _)| Some(id) == current_id.get().as_ref()).map(|(_, m)| m))
    };
    let failure = move || {
        error.get().or_else(|| (!building.get()).then(|| build_matrix.value().get().and_then(Result::err)).flatten())
    };

    let run = move |_| {
        let Some(r) = record.get_untracked() else { return };
        let d = distance.get_untracked();
        let distance_max = match d.trim() {
            "" => None,
            s => match s.parse::<usize>() {
                Ok(v) if v > 0 => Some(v),
                _ => {
                    error.set(Some(AppError::Input(format!(
                        "label horizon must be a whole number of bars ≥ 1, not \"{s}\""
                    ))));
                    return;
                }
            },
        };
        let opt = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let spec = BuildSpec {
            model_id: r.model_id.clone(),
            pack_id: r.model.pack_id.clone(),
            start: opt(start.get_untracked()),
            end: opt(end.get_untracked()),
            ticker: Some(r.model.ticker.clone()),
            distance_max,
            ..BuildSpec::default()
        };
        progress.set(0.0);
        error.set(None);
        build_matrix.dispatch((r, spec));
    };

    let remove = move |index: usize| {
        let Some(r) = record.get_untracked() else { return };
        let mut features = r.model.features.clone();
        if index < features.len() {
            features.remove(index);
        }
        match with_features(&r, features) {
            Ok(updated) => spawn_local(async move {
                if let Err(e) = save(ctx, updated).await {
                    error.try_set(Some(e));
                }
            }),
            Err(e) => error.set(Some(e)),
        }
    };
    let add = move |_| {
        let Some(r) = record.get_untracked() else { return };
        let text = custom.get_untracked();
        let parsed = if text.trim_start().starts_with('{') {
            serde_json::from_str::<FeatureSpec>(&text).map_err(|e| AppError::Input(format!("not a feature: {e}")))
        } else {
            FeatureSpec::parse(text.trim()).map_err(AppError::from)
        };
        let result = parsed.and_then(|f| {
            let mut features = r.model.features.clone();
            features.push(f);
            with_features(&r, features)
        });
        match result {
            Ok(updated) => {
                custom.set(String::new());
                spawn_local(async move {
                    if let Err(e) = save(ctx, updated).await {
                        error.try_set(Some(e));
                    }
                });
            }
            Err(e) => error.set(Some(e)),
        }
    };

    view! {
        <section class="page build" data-page="build">
            <Show when=move || !ctx.models.get().is_empty()
                fallback=|| view! { <div class="panel empty"><h2>"No model yet"</h2>
                    <p class="muted">"Create one on the " <a href=Route::Models.href()>"Models"</a> " page first."</p></div> }>
            <div class="columns">
                <aside class="side">
                    <div class="panel form">
                        <h2>"Build matrix"</h2>
                        <label>"Model"
                            <select data-testid="build-model" on:change=move |ev| ctx.current_model.set(Some(event_target_value(&ev)))>
                                {move || ctx.models.get().into_iter().map(|r| {
                                    let id = r.model_id.clone();
                                    let sel = ctx.current_model.get() == Some(id.clone());
                                    view! { <option value=id.clone() selected=sel>{id.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <p class="muted small">{move || record.get().map(|r| format!("{} · {} · {} · {} risk",
                            r.model.ticker, r.model.pack_id, r.model.cadence, r.model.risk_profile.as_str()))}</p>
                        {move || draft_note.get().map(|why| view! {
                            <div class="notice small" data-testid="build-draft">{format!("From the Backtest page's remedy — {why}. Build Matrix, then sweep again.")}</div>
                        })}
                        <label>"Start" <input type="date" data-testid="start" prop:value=move || start.get() on:input=move |ev| start.set(event_target_value(&ev))/></label>
                        <label>"End" <input type="date" data-testid="end" prop:value=move || end.get() on:input=move |ev| end.set(event_target_value(&ev))/></label>
                        <label>"Label horizon (bars, distance_max)"
                            <input type="number" min="1" data-testid="distance" prop:value=move || distance.get() on:input=move |ev| distance.set(event_target_value(&ev))/></label>
                        <button class="primary" data-testid="build-matrix" disabled=move || building.get() on:click=run>
                            {move || if building.get() { "Building…" } else { "Build Matrix" }}
                        </button>
                        <Show when=move || building.get()>
                            <div class="progress" data-testid="build-progress">
                                <div class="small">{move || format!("Computing features — {:.0}%", progress.get() * 100.0)}</div>
                                <div class="bar"><div style:width=move || format!("{:.1}%", progress.get() * 100.0)></div></div>
                            </div>
                        </Show>
                        {move || failure().map(|e| view! { <ErrorView error=e testid="build-error"/> })}
                    </div>
                    <div class="panel">
                        <h2>{move || format!("Indicators ({})", record.get().map(|r| r.model.features.len()).unwrap_or(0))}</h2>
                        <div class="add-feature">
                            <input type="text" data-testid="custom-feature" placeholder="custom_rsi:21 or {\"name\":…,\"params\":{…}}"
                                prop:value=move || custom.get() on:input=move |ev| custom.set(event_target_value(&ev))/>
                            <button class="small" data-testid="add-feature" on:click=add>"Add"</button>
                        </div>
                        <ul class="features" data-testid="features">
                            {move || record.get().map(|r| r.model.features.into_iter().enumerate().map(|(i, f)| {
                                let label = f.spec_string().unwrap_or_else(|_| f.name.clone());
                                let outputs = f.outputs().map(|o| o.join(", ")).unwrap_or_default();
                                view! {
                                    <li data-feature=label.clone()>
                                        <code title=outputs>{label.clone()}</code>
                                        <button class="ghost small" title="Remove" on:click=move |_| remove(i)>"×"</button>
                                    </li>
                                }
                            }).collect_view())}
                        </ul>
                    </div>
                </aside>
                <div class="main">
                    {move || shown().map(|m| view! { <MatrixView meta=m cached=from_cache.get()/> })}
                    <Show when=move || shown().is_none() && !building.get()>
                        <div class="panel empty"><p class="muted">"Build the matrix to see its sha, rows and a preview."</p></div>
                    </Show>
                </div>
            </div>
            </Show>
        </section>
    }
}

#[component]
fn MatrixView(meta: MatrixMeta, cached: bool) -> impl IntoView {
    let s = meta.summary.clone();
    let p = meta.preview.clone();
    let short: String = s.matrix_sha.chars().take(7).collect();
    view! {
        <div class="panel" data-testid="matrix">
            <div class="panel-head">
                <h2>"Matrix " <code data-testid="matrix-sha" data-sha=s.matrix_sha.clone() title=s.matrix_sha.clone()>{short}</code></h2>
                <span class="muted small" data-testid="matrix-origin">{if cached {
                    format!("from the cache (same inputs, built earlier in {:.0} ms)", meta.build_ms)
                } else {
                    format!("built in {:.0} ms", meta.build_ms)
                }}</span>
            </div>
            <div class="kpis">
                <div><b data-testid="matrix-rows">{format::thousands(s.rows)}</b><span>"rows"</span></div>
                <div><b data-testid="matrix-features">{s.features}</b><span>"features"</span></div>
                <div><b>{format!("{:.1}%", p.positive_rate * 100.0)}</b><span>"label = 1"</span></div>
                <div><b>{format::thousands(s.dropped.warmup)}</b><span>"dropped: warm-up"</span></div>
                <div><b>{format::thousands(s.dropped.label_horizon)}</b><span>"dropped: label past data"</span></div>
                <div><b>{format::thousands(s.dropped.session_end)}</b><span>"dropped: session end"</span></div>
            </div>
        </div>
        <PreviewTable preview=p.clone()/>
        <StatsTable stats=p.stats.clone()/>
    }
}

#[component]
fn PreviewTable(preview: Preview) -> impl IntoView {
    // The first columns only: the full matrix is a download, not a page.
    const SHOWN: usize = 12;
    let names: Vec<String> = preview.feature_names.iter().take(SHOWN).cloned().collect();
    let row = |r: PreviewRow| {
        view! {
            <tr>
                <td>{r.ts.clone()}</td>
                <td class="num">{r.label}</td>
                {r.values.iter().take(SHOWN).map(|v| view! { <td class="num">{format::sig(*v)}</td> }).collect_view()}
            </tr>
        }
    };
    view! {
        <div class="panel scroll-x">
            <h2>"Preview " <span class="muted small">{format!("first and last rows, {} of {} columns", names.len(), preview.feature_names.len())}</span></h2>
            <table class="grid preview" data-testid="preview">
                <thead><tr><th>"time"</th><th class="num">"label"</th>{names.iter().map(|n| view! { <th class="num">{n.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {preview.head.into_iter().map(row).collect_view()}
                    <tr class="ellipsis"><td colspan=(names.len() + 2).to_string()>"⋮"</td></tr>
                    {preview.tail.into_iter().map(row).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// An inline SVG histogram: bar heights are the engine's bin counts scaled to the box.
fn sparkline(bins: &[u32]) -> impl IntoView {
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let w = 3.0;
    let bars = bins
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = (c as f64 / max * 18.0).max(if c > 0 { 1.0 } else { 0.0 });
            view! { <rect x=(i as f64 * w).to_string() y=(20.0 - h).to_string() width=(w - 0.5).to_string() height=h.to_string()/> }
        })
        .collect_view();
    view! { <svg class="spark" width=(bins.len() as f64 * w).to_string() height="20" viewBox=format!("0 0 {} 20", bins.len() as f64 * w)>{bars}</svg> }
}

#[component]
fn StatsTable(stats: Vec<FeatureStat>) -> impl IntoView {
    view! {
        <div class="panel">
            <h2>"Features " <span class="muted small">"min / max / mean / NaN and distribution over the built rows"</span></h2>
            <table class="grid stats" data-testid="stats">
                <thead><tr><th>"feature"</th><th class="num">"min"</th><th class="num">"max"</th><th class="num">"mean"</th><th class="num">"NaN"</th><th>"histogram"</th></tr></thead>
                <tbody>
                    {stats.into_iter().map(|f| view! {
                        <tr>
                            <td><code>{f.name.clone()}</code></td>
                            <td class="num">{format::sig(f.min)}</td>
                            <td class="num">{format::sig(f.max)}</td>
                            <td class="num">{format::sig(f.mean)}</td>
                            <td class="num">{f.nan_count}</td>
                            <td>{sparkline(&f.histogram)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
