//! Models: create the research unit from a pack template (seed Phase 1) and list what exists.
//! Every default (model id, features, label) is filled by the engine's `ModelSpec::resolve`.

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::model::{created_stamp, ModelRecord, ModelSpec};
use engine::pack::packs;
use engine::rebase::Rebased;
use engine::risk::RiskProfile;

use crate::components::ErrorView;
use crate::error::AppError;
use crate::format::{short, thousands};
use crate::route::Route;
use crate::state::{default_dataset, rebase_model, refresh_models, refresh_runs, use_ctx};

const PROFILES: [RiskProfile; 3] = [RiskProfile::Conservative, RiskProfile::Balanced, RiskProfile::Aggressive];

#[component]
pub fn ModelsPage() -> impl IntoView {
    let ctx = use_ctx();
    let all_packs = packs();
    let pack_id = RwSignal::new(all_packs.first().map(|p| p.id.clone()).unwrap_or_default());
    let template = RwSignal::new(String::new());
    let dataset_id = RwSignal::new(None::<String>);
    let ticker = RwSignal::new(String::new());
    let risk = RwSignal::new(RiskProfile::Balanced);
    let model_id = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);

    // The dataset defaults to the selected one (the demo on first open), the ticker to its first.
    default_dataset(ctx, dataset_id);
    let dataset = Memo::new(move |_| {
        let id = dataset_id.get()?;
        ctx.datasets.get().into_iter().find(|m| m.id == id)
    });
    Effect::new(move |_| {
        if let Some(m) = dataset.get() {
            if !m.summary.tickers.iter().any(|t| t.ticker == ticker.get_untracked()) {
                ticker.set(m.summary.tickers.first().map(|t| t.ticker.clone()).unwrap_or_default());
            }
        }
    });

    let pack = {
        let all_packs = all_packs.clone();
        Memo::new(move |_| all_packs.iter().find(|p| p.id == pack_id.get()).cloned())
    };
    // The spec as the form stands; the engine resolves it (and names the model) on every change.
    let spec = move || {
        let mut s = ModelSpec::new(&pack_id.get(), &ticker.get());
        s.risk_profile = risk.get();
        // The model's cadence is the data's, not the pack's default.
        let t = ticker.get();
        if let Some(c) = dataset.get().and_then(|m| m.summary.ticker(&t).cloned()) {
            s.cadence = Some(c.cadence.as_str().to_string());
        }
        let t = template.get();
        s.template = (!t.is_empty()).then_some(t);
        let id = model_id.get();
        s.model_id = (!id.trim().is_empty()).then(|| id.trim().to_string());
        s
    };
    let resolved = Memo::new(move |_| spec().resolve().map_err(AppError::from));

    let save = Action::new_local(move |(model, ds): &(engine::model::Model, String)| {
        let (model, ds) = (model.clone(), ds.clone());
        async move {
            let Some(store) = ctx.store.get_value() else { return };
            if ctx.models.get_untracked().iter().any(|m| m.model_id == model.model_id) {
                error.set(Some(AppError::Input(format!(
                    "a model named {} exists already; choose another model id",
                    model.model_id
                ))));
                return;
            }
            let record = ModelRecord {
                model_id: model.model_id.clone(),
                model,
                dataset_id: ds,
                created: created_stamp(js_sys::Date::now() as i64),
                matrix_sha: None,
                build_spec: None,
            };
            match store.put_model(&record).await {
                Ok(()) => {
                    error.set(None);
                    model_id.set(String::new());
                    ctx.current_model.set(Some(record.model_id.clone()));
                }
                Err(e) => error.set(Some(e.into())),
            }
            refresh_models(ctx).await;
        }
    });
    let create = move |_| {
        let (Ok(model), Some(ds)) = (resolved.get_untracked(), dataset_id.get_untracked()) else {
            error.set(Some(match resolved.get_untracked() {
                Err(e) => e,
                Ok(_) => AppError::Input("choose a dataset first (Data page)".to_string()),
            }));
            return;
        };
        save.dispatch((model, ds));
    };

    view! {
        <section class="page models" data-page="models">
            <div class="columns">
                <aside class="side">
                    <div class="panel form">
                        <h2>"Create model"</h2>
                        <label>"Pack"
                            <select data-testid="pack" on:change=move |ev| { pack_id.set(event_target_value(&ev)); template.set(String::new()); }>
                                {all_packs.iter().map(|p| {
                                    let id = p.id.clone();
                                    let id2 = id.clone();
                                    view! { <option value=id selected=move || pack_id.get() == id2>{p.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <p class="muted small">{move || pack.get().map(|p| p.description)}</p>
                        <label>"Template"
                            <select data-testid="template" on:change=move |ev| template.set(event_target_value(&ev))>
                                {move || pack.get().map(|p| p.templates.into_iter().map(|t| view! {
                                    <option value=t.id.clone()>{format!("{} — {} features", t.name, t.features.len())}</option>
                                }).collect_view())}
                            </select>
                        </label>
                        <label>"Dataset"
                            <select data-testid="model-dataset" on:change=move |ev| dataset_id.set(Some(event_target_value(&ev)))>
                                {move || ctx.datasets.get().into_iter().map(|m| {
                                    let id = m.id.clone();
                                    let sel = dataset_id.get() == Some(id.clone());
                                    view! { <option value=id selected=sel>{m.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Ticker"
                            <select data-testid="ticker" on:change=move |ev| ticker.set(event_target_value(&ev))>
                                {move || dataset.get().map(|m| m.summary.tickers.into_iter().map(|t| {
                                    let name = t.ticker.clone();
                                    let sel = ticker.get() == name;
                                    view! { <option value=name.clone() selected=sel>{format!("{} · {} · {} rows", name, t.cadence.as_str(), t.rows)}</option> }
                                }).collect_view())}
                            </select>
                        </label>
                        <label>"Risk profile"
                            <select data-testid="risk" on:change=move |ev| {
                                if let Ok(r) = event_target_value(&ev).parse::<RiskProfile>() { risk.set(r) }
                            }>
                                {PROFILES.iter().map(|r| {
                                    let r = *r;
                                    let p = r.params();
                                    view! { <option value=r.as_str() selected=move || risk.get() == r>
                                        {format!("{} — size {:.0}%, budget {}, min Sharpe {}, max DD {:.0}%",
                                            r.as_str(), p.position_size * 100.0, p.sweep_budget, p.min_sharpe, p.max_drawdown * 100.0)}
                                    </option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Model id"
                            <input type="text" data-testid="model-id"
                                placeholder=move || resolved.get().map(|m| m.model_id).unwrap_or_default()
                                prop:value=move || model_id.get()
                                on:input=move |ev| model_id.set(event_target_value(&ev))/>
                        </label>
                        <button class="primary" data-testid="create-model" on:click=create>"Create"</button>
                        {move || error.get().map(|e| view! { <ErrorView error=e testid="model-error"/> })}
                        {move || resolved.get().err().map(|e| view! { <div class="muted small">{e.to_string()}</div> })}
                    </div>
                </aside>
                <div class="main">
                    <div class="panel">
                        <h2>"Models"</h2>
                        <Show when=move || !ctx.models.get().is_empty()
                            fallback=|| view! { <p class="muted small">"No models yet: create one from a pack template."</p> }>
                            <table class="grid" data-testid="models">
                                <thead><tr><th>"Model"</th><th>"Pack"</th><th>"Template"</th><th>"Ticker"</th><th>"Dataset"</th><th>"Cadence"</th>
                                    <th>"Horizon"</th><th>"Risk"</th><th class="num">"Features"</th><th>"Matrix"</th><th></th></tr></thead>
                                <tbody>
                                    <For each=move || ctx.models.get() key=|r| (r.model_id.clone(), r.matrix_sha.clone(), r.dataset_id.clone()) let:r>
                                        <ModelRow record=r/>
                                    </For>
                                </tbody>
                            </table>
                        </Show>
                    </div>
                    <Show when=move || ctx.models.get().iter().any(|m| m.matrix_sha.is_some())>
                        <MoveModel/>
                    </Show>
                </div>
            </div>
        </section>
    }
}

/// The seed's "new bars" step: a built model moves to a newer dataset of its ticker when its
/// build there reproduces every row of its matrix (`engine::rebase`), so its strategies'
/// signals reach the newest bar without training again.
#[component]
fn MoveModel() -> impl IntoView {
    let ctx = use_ctx();
    let model_id = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let progress = RwSignal::new(None::<f64>);
    let outcome = RwSignal::new(None::<Result<Rebased, AppError>>);
    let record = Memo::new(move |_| {
        let built: Vec<ModelRecord> = ctx.models.get().into_iter().filter(|m| m.matrix_sha.is_some()).collect();
        let id = model_id.get();
        built.iter().find(|m| m.model_id == id).or(built.first()).cloned()
    });
    // Datasets holding the model's ticker, other than its own, the newest first.
    let targets = Memo::new(move |_| {
        let Some(r) = record.get() else { return Vec::new() };
        let mut all: Vec<(String, String)> = ctx
            .datasets
            .get()
            .into_iter()
            .filter(|d| d.id != r.dataset_id)
            .filter_map(|d| {
                let t = d.summary.ticker(&r.model.ticker)?;
                Some((d.id.clone(), format!("{} · {} → {} · {} rows", d.name, t.start, t.end, t.rows)))
            })
            .collect();
        all.reverse();
        all
    });
    let target = Memo::new(move |_| {
        let all = targets.get();
        let id = to.get();
        all.iter().find(|(d, _)| *d == id).or(all.first()).map(|(d, _)| d.clone())
    });
    let on_dataset = move || {
        let r = record.get()?;
        ctx.datasets.get().into_iter().find(|d| d.id == r.dataset_id).map(|d| d.name)
    };
    let run = Action::new_local(move |(r, to): &(ModelRecord, String)| {
        let (r, to) = (r.clone(), to.clone());
        async move {
            outcome.set(None);
            progress.set(Some(0.0));
            let result = rebase_model(ctx, r, to, move |f| progress.set(Some(f))).await;
            progress.set(None);
            outcome.set(Some(result));
        }
    });
    let start = move |_| {
        if let (Some(r), Some(to)) = (record.get_untracked(), target.get_untracked()) {
            run.dispatch((r, to));
        }
    };
    view! {
        <div class="panel form" data-testid="move-model">
            <h2>"Move a model to newer bars"</h2>
            <p class="muted small">"The model's build runs on the other dataset and must reproduce every row of its matrix bit for bit \
                (the same bars, features computed by the same code). The model then draws its bars from that dataset, \
                and its strategies' signals reach the newest bar without training again."</p>
            <div class="move-row">
                <label>"Model"
                    <select data-testid="rebase-model" on:change=move |ev| { model_id.set(event_target_value(&ev)); outcome.set(None); }>
                        {move || ctx.models.get().into_iter().filter(|m| m.matrix_sha.is_some()).map(|m| {
                            let sel = record.get().is_some_and(|r| r.model_id == m.model_id);
                            view! { <option value=m.model_id.clone() selected=sel>{m.model_id.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Now on"
                    <input type="text" readonly data-testid="rebase-from" prop:value=move || on_dataset().unwrap_or_default()/>
                </label>
                <label>"Move to"
                    <select data-testid="rebase-dataset" on:change=move |ev| { to.set(event_target_value(&ev)); outcome.set(None); }>
                        {move || targets.get().into_iter().map(|(id, label)| {
                            let sel = target.get().as_deref() == Some(id.as_str());
                            view! { <option value=id selected=sel>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <Show when=move || target.get().is_some()
                fallback=move || view! { <p class="muted small" data-testid="rebase-none">{move || record.get().map(|r| format!(
                    "No other dataset holds {}: add one with newer bars on the Data page.", r.model.ticker))}</p> }>
                <button class="primary" data-testid="rebase" disabled=move || run.pending().get() on:click=start>"Check and move"</button>
            </Show>
            {move || progress.get().map(|f| view! {
                <div class="progress" data-testid="rebase-progress">
                    <div class="small">{format!("Building the model on the new bars — {:.0}%", f * 100.0)}</div>
                    <div class="bar"><div style:width=format!("{:.1}%", f * 100.0)></div></div>
                </div>
            })}
            {move || outcome.get().map(|o| match o {
                Ok(r) => {
                    let name = |id: &str| ctx.datasets.get_untracked().into_iter().find(|d| d.id == id).map_or(id.to_string(), |d| d.name);
                    view! {
                        <p class="moved" data-testid="rebased">{format!(
                            "{} moved from {} to {}: {} rows of its matrix reproduced bit for bit, {} new rows (last bar {} → {}). Matrix {}; its strategies now signal on the new bars.",
                            r.model_id, name(&r.from_dataset), name(&r.to_dataset), thousands(r.rows_checked), thousands(r.rows_added),
                            r.old_end, r.new_end, short(&r.to_matrix))}</p>
                    }.into_any()
                }
                Err(e) => view! { <ErrorView error=e testid="rebase-error"/> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn ModelRow(record: ModelRecord) -> impl IntoView {
    let ctx = use_ctx();
    let m = record.model.clone();
    let id = record.model_id.clone();
    let dataset_id = record.dataset_id.clone();
    let id_build = id.clone();
    let id_del = id.clone();
    let confirming = RwSignal::new(false);
    view! {
            <tr data-model=id.clone()>
                <td><strong>{id.clone()}</strong></td>
                <td>{m.pack_id.clone()}</td>
                <td>{m.template.clone()}</td>
                <td>{m.ticker.clone()}</td>
                <td data-testid="model-dataset-name">{move || ctx.datasets.get().into_iter().find(|d| d.id == dataset_id).map(|d| d.name).unwrap_or_else(|| "deleted".into())}</td>
                <td>{m.cadence.clone()}</td>
                <td>{m.horizon.clone()}</td>
                <td>{m.risk_profile.as_str()}</td>
                <td class="num">{m.features.len()}</td>
                <td><code>{record.matrix_sha.as_deref().map(|s| s.chars().take(7).collect::<String>()).unwrap_or_else(|| "—".into())}</code></td>
                <td class="actions">
                    <a class="button small" href=Route::Build.href() data-testid="open-build"
                        on:click=move |_| ctx.current_model.set(Some(id_build.clone()))>"Build →"</a>
    <Show
                        when=move || confirming.get()
                        fallback=move || view! { <button class="ghost small" data-testid="delete-model" on:click=move |_| confirming.set(true)>"Delete"</button> }
                    >
                        <button class="danger small" data-testid="delete-model-confirm" on:click={
                            let id_del = id_del.clone();
                            move |_| {
                                let id = id_del.clone();
                                spawn_local(async move {
                                    if let Some(store) = ctx.store.get_value() {
                                        if let Err(e) = store.delete_model(&id).await {
                                            ctx.error.set(Some(e.into()));
                                        }
                                    }
                                    refresh_models(ctx).await;
                                    refresh_runs(ctx).await;
                                });
                            }
                        }>"Confirm delete"</button>
                        <button class="ghost small" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </Show>
                </td>
            </tr>
        }
}
