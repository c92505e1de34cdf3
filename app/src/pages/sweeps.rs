//! Sweeps (seed Phase 3): a sweep body's configs, each judged by a backtest on out-of-fold
//! probabilities. The folds are trained by a pool of workers side by side (any number of
//! workers gives the same bytes: the engine assembles them in fold order); one worker then
//! judges every config. Out-of-fold probabilities are cached in IndexedDB by their engine key,
//! so a second sweep on the same matrix and model settings only re-runs the policies. Runs
//! are stored in one transaction and ranked on the Leaderboard.
//!
//! A sweep survives a reload or a crash: each fold is stored the moment it is trained, and
//! the sweep's inputs are kept (`Interrupted`) until its runs are stored. The page then offers
//! Resume, which trains only the missing folds; the bytes equal an uninterrupted sweep's
//! because the same folds are assembled in the same order.

use leptos::prelude::*;

use engine::cv::CvKind;
use engine::gbt::TrainParams;
use engine::leaderboard::{rank, Query};
use engine::model::ModelRecord;
use engine::run::Run;
use engine::sweep::SweepBody;

use crate::components::picker;
use crate::components::runs_table::RunsTable;
use crate::components::ErrorView;
use crate::db::Store;
use crate::error::AppError;
use crate::pool::{MatrixRef, TrainedFold};
use crate::route::Route;
use crate::state::{pool, refresh_runs, release_idle_workers, release_pool, store, use_ctx, Ctx};

/// Form fields as text, parsed when the sweep starts.
#[derive(Clone, Copy)]
struct Form {
    thresholds: RwSignal<String>,
    top_pct: RwSignal<String>,
    hours: RwSignal<String>,
    splits: RwSignal<String>,
    cv: RwSignal<CvKind>,
    tag: RwSignal<String>,
    min_trades: RwSignal<String>,
    min_sharpe: RwSignal<String>,
    min_dsr: RwSignal<String>,
    trees: RwSignal<String>,
    commission: RwSignal<String>,
    slippage: RwSignal<String>,
    momentum: RwSignal<String>,
    allow_short: RwSignal<bool>,
    workers: RwSignal<String>,
    /// Train the folds again even when their probabilities are cached.
    retrain: RwSignal<bool>,
}

fn default_workers() -> usize {
    let n = web_sys::window().map(|w| w.navigator().hardware_concurrency()).unwrap_or(2.0) as usize;
    n.clamp(1, 4)
}

impl Form {
    /// The form as the daily template's sweep grid has it (`engine::grid`): the same defaults
    /// `btb sweep-config` writes and a body without them gets.
    fn new() -> Form {
        let g = engine::pack::packs().into_iter().next().map(|p| p.templates[0].sweep.clone()).unwrap_or_default();
        let (b, t) = (&g.backtest, &g.train);
        let s = |v: String| RwSignal::new(v);
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let list = |v: &[String]| v.join("\n");
        Form {
            thresholds: s(list(&b.thresholds)),
            top_pct: s(b.top_pct.iter().map(|&f| engine::policy::fmt_level(f)).collect::<Vec<_>>().join(", ")),
            hours: s(list(&b.allowed_hours)),
            splits: s(b.splits.first().map(|n| n.to_string()).unwrap_or_default()),
            cv: RwSignal::new(b.cv),
            tag: s(g.tag.clone().unwrap_or_default()),
            min_trades: s(g.gate.min_trades.map(|n| n.to_string()).unwrap_or_default()),
            min_sharpe: s(num(g.gate.min_sharpe)),
            min_dsr: s(num(g.gate.min_dsr)),
            trees: s(t.trees.first().map(|n| n.to_string()).unwrap_or_default()),
            commission: s(b.costs.commission_bps.to_string()),
            slippage: s(b.costs.slippage_bps.to_string()),
            momentum: s(num(b.momentum_min)),
            allow_short: RwSignal::new(b.allow_short),
            workers: s(default_workers().to_string()),
            retrain: RwSignal::new(false),
        }
    }

    /// The seed's `POST /backtest_sweep` body; the engine checks the variants.
    fn body(&self, model: &ModelRecord) -> Result<(SweepBody, usize), AppError> {
        fn num<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, AppError> {
            text.trim()
                .parse::<T>()
                .map_err(|_| AppError::Input(format!("{name}: \"{}\" is not a valid number", text.trim())))
        }
        fn opt<T: std::str::FromStr>(name: &str, text: &str) -> Result<Option<T>, AppError> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                num(name, text).map(Some)
            }
        }
        let lines =
            |s: String| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>();
        let top_pct = self
            .top_pct
            .get_untracked()
            .split([',', ' ', '\n'])
            .filter(|t| !t.trim().is_empty())
            .map(|t| num::<f64>("top %", t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut body = SweepBody {
            model_id: Some(model.model_id.clone()),
            pack_id: Some(model.model.pack_id.clone()),
            thresholds_variants: lines(self.thresholds.get_untracked()),
            allowed_hours_variants: lines(self.hours.get_untracked()),
            top_pct_variants: top_pct,
            tag: Some(self.tag.get_untracked().trim().to_string()).filter(|t| !t.is_empty()),
            min_trades: opt("min trades", &self.min_trades.get_untracked())?,
            min_sharpe: opt("min Sharpe", &self.min_sharpe.get_untracked())?,
            min_dsr: opt("min DSR", &self.min_dsr.get_untracked())?,
            ..SweepBody::default()
        };
        let r = &mut body.research;
        r.splits = Some(num("splits", &self.splits.get_untracked())?);
        r.cv = Some(self.cv.get_untracked());
        r.params =
            Some(TrainParams { num_trees: num("trees", &self.trees.get_untracked())?, ..TrainParams::default() });
        r.policy.commission_bps = opt("commission", &self.commission.get_untracked())?;
        r.policy.slippage_bps = opt("slippage", &self.slippage.get_untracked())?;
        r.policy.momentum_min = opt("momentum min", &self.momentum.get_untracked())?;
        r.policy.allow_short = Some(self.allow_short.get_untracked());
        let workers: usize = num("workers", &self.workers.get_untracked())?;
        if !(1..=16).contains(&workers) {
            return Err(AppError::Input(format!("workers: {workers} is outside 1..16")));
        }
        Ok((body, workers))
    }
}

/// Per fold: trees built of trees planned.
type FoldBars = RwSignal<Vec<(usize, usize)>>;

/// What one sweep produced, for the summary line.
#[derive(Clone)]
struct Outcome {
    runs: Vec<Run>,
    seconds: f64,
    workers: usize,
    cached: bool,
    oof_key: String,
    oof_sha: String,
    warnings: Vec<String>,
}

/// A sweep whose runs are not stored yet: what it takes to run it again, kept in the settings
/// store from its first fold until its runs are stored (or the user cancels or discards it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Interrupted {
    model_id: String,
    body: SweepBody,
    workers: usize,
    /// The runs' stamp, kept so a resumed sweep's runs are the uninterrupted sweep's.
    created: String,
    oof_key: String,
    splits: usize,
}

const INTERRUPTED: &str = "sweep/interrupted";

async fn interrupted(store: &Store) -> Option<Interrupted> {
    let text = store.setting(INTERRUPTED).await.ok().flatten()?;
    serde_json::from_str(&text).ok()
}

async fn set_interrupted(store: &Store, i: Option<&Interrupted>) -> Result<(), AppError> {
    let text = i.and_then(|i| serde_json::to_string(i).ok()).unwrap_or_default();
    Ok(store.set_setting(INTERRUPTED, &text).await?)
}

/// One sweep: `created` stamps its runs (a resumed sweep passes the interrupted one's).
#[allow(clippy::too_many_arguments)]
async fn run_sweep(
    ctx: Ctx,
    model: ModelRecord,
    body: SweepBody,
    workers: usize,
    retrain: bool,
    created: String,
    folds: FoldBars,
) -> Result<Outcome, AppError> {
    let started = js_sys::Date::now();
    let store = store(ctx)?;
    let sha = model.matrix_sha.clone().ok_or_else(|| {
        AppError::missing(format!("{} has no matrix yet: build it on the Build page", model.model_id))
    })?;
    let matrix = MatrixRef { sha: &sha, store: &store };
    let pool = pool(ctx, workers).await?;
    let lead = pool.workers[0].clone();
    let plan = lead.plan(body.clone(), model.model.clone(), created.clone(), matrix).await?;
    let (settings, oof_spec) = (plan.settings.clone(), &plan.settings.oof_spec);
    if retrain {
        store.delete_folds(&plan.oof_key).await?;
    }
    let cached = if retrain { None } else { store.oof(&plan.oof_key).await? };
    let (swept, was_cached) = match cached {
        Some(oof) => (lead.sweep_cached(settings, plan.configs, matrix, &oof).await?, true),
        None => {
            let n = oof_spec.splits;
            let record = Interrupted {
                model_id: model.model_id.clone(),
                body,
                workers,
                created,
                oof_key: plan.oof_key.clone(),
                splits: n,
            };
            set_interrupted(&store, Some(&record)).await?;
            let trees = oof_spec.params.num_trees;
            let mut have: Vec<TrainedFold> =
                store.folds(&plan.oof_key).await?.into_iter().filter(|f| f.meta.fold < n).collect();
            let todo: Vec<usize> = (0..n).filter(|k| !have.iter().any(|f| f.meta.fold == *k)).collect();
            folds.set((0..n).map(|k| if todo.contains(&k) { (0, trees) } else { (trees, trees) }).collect());
            let key = plan.oof_key.clone();
            let keep = |f: TrainedFold| {
                let (store, key) = (store.clone(), key.clone());
                async move { Ok(store.put_fold(&key, &f).await?) }
            };
            let trained = pool
                .oof(matrix, oof_spec, todo, keep, move |fold, tree, trees| {
                    folds.try_update(|f| {
                        if let Some(slot) = f.get_mut(fold) {
                            *slot = (tree, trees);
                        }
                    });
                })
                .await?;
            have.extend(trained);
            have.sort_by_key(|f| f.meta.fold);
            let swept = lead.sweep(settings, plan.configs, matrix, &have).await?;
            let bytes =
                swept.oof_bytes.clone().ok_or_else(|| AppError::missing("the worker sent no out-of-fold file"))?;
            store.put_oof(&swept.oof_key, &bytes).await?;
            (swept, false)
        }
    };
    store.put_runs(&swept.runs).await?;
    set_interrupted(&store, None).await?;
    Ok(Outcome {
        runs: swept.runs,
        seconds: (js_sys::Date::now() - started) / 1000.0,
        workers,
        cached: was_cached,
        oof_key: swept.oof_key,
        oof_sha: swept.oof_sha,
        warnings: plan.warnings,
    })
}

#[component]
pub fn SweepsPage() -> impl IntoView {
    let ctx = use_ctx();
    let form = Form::new();
    let buildable = move || picker::built(ctx);
    let record = picker::current_built(ctx);
    // A form the page could not read; the sweep's own failures are its action's value.
    let form_error = RwSignal::new(None::<AppError>);
    let folds: FoldBars = RwSignal::new(Vec::new());
    type Args = (ModelRecord, SweepBody, usize, bool, String);
    let sweep = Action::new_local(move |(r, body, workers, retrain, created): &Args| {
        let (r, body, workers, retrain, created) = (r.clone(), body.clone(), *workers, *retrain, created.clone());
        async move {
            release_idle_workers(ctx);
            let outcome = run_sweep(ctx, r, body, workers, retrain, created, folds).await;
            // Its workers hold the matrix and the training's memory (a wasm instance never
            // gives memory back): let them go, the next sweep starts fresh ones.
            release_pool(ctx);
            if outcome.is_ok() {
                refresh_runs(ctx).await;
            }
            outcome
        }
    });
    let running = sweep.pending();
    // A sweep a reload or a crash interrupted (read once storage is open and again whenever no
    // sweep runs), with how many of its folds are stored.
    let discarded = RwSignal::new(0u32);
    let resumable = LocalResource::new(move || {
        let idle = !running.get() && ctx.ready.get();
        discarded.track();
        async move {
            if !idle {
                return None;
            }
            let store = store(ctx).ok()?;
            let i = interrupted(&store).await?;
            let stored = store.folds(&i.oof_key).await.map(|f| f.len()).unwrap_or(0);
            Some((i, stored))
        }
    });
    let resume = move |i: Interrupted| {
        let models = ctx.models.get_untracked();
        match models.into_iter().find(|m| m.model_id == i.model_id) {
            Some(r) => {
                form_error.set(None);
                folds.set(Vec::new());
                sweep.dispatch((r, i.body, i.workers, false, i.created));
            }
            None => form_error.set(Some(AppError::missing(format!("model {} is no longer stored", i.model_id)))),
        }
    };
    let discard = move || {
        leptos::task::spawn_local(async move {
            if let Ok(store) = store(ctx) {
                if let Err(e) = set_interrupted(&store, None).await {
                    form_error.try_set(Some(e));
                }
            }
            discarded.try_update(|n| *n += 1);
        });
    };
    // The last sweep's outcome, hidden while the next one runs.
    let last = move || (!running.get()).then(|| sweep.value().get()).flatten();
    let outcome = move || last().and_then(Result::ok);
    let error = move || form_error.get().or_else(|| last().and_then(Result::err));

    let start = move |_| {
        let Some(r) = record.get_untracked() else { return };
        let retrain = form.retrain.get_untracked();
        match form.body(&r) {
            Ok((body, workers)) => {
                form_error.set(None);
                folds.set(Vec::new());
                let created = engine::data::time::format_utc(js_sys::Date::now() as i64);
                sweep.dispatch((r, body, workers, retrain, created));
            }
            Err(e) => {
                sweep.value().set(None);
                form_error.set(Some(e));
            }
        }
    };

    let field = picker::text_field;
    let area = move |label: &'static str, sig: RwSignal<String>, testid: &'static str, hint: &'static str| {
        view! {
            <label>{label}
                <textarea rows=3 data-testid=testid placeholder=hint prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))></textarea>
            </label>
        }
    };

    view! {
        <section class="page sweeps" data-page="sweeps">
            <Show when=move || !buildable().is_empty()
                fallback=|| view! { <picker::NoMatrix title="Nothing to sweep yet"/> }>
            <div class="columns">
                <aside class="side">
                    <div class="panel form">
                        <h2>"Sweep"</h2>
                        <picker::ModelSelect ctx=ctx testid="sweep-model"/>
                        <p class="muted small" data-testid="sweep-profile">{move || record.get().map(|r| {
                            let p = r.model.risk_profile.params();
                            format!("{} risk: {:.0}% a position, budget {} configs; gate: drawdown under {:.0}%, Sharpe above {} and {} trades unless set below",
                                r.model.risk_profile.as_str(), 100.0 * p.position_size, p.sweep_budget, 100.0 * p.max_drawdown, p.min_sharpe, p.min_trades)
                        })}</p>
                        {area("Threshold ladders (one per line)", form.thresholds, "thresholds", "0.55,0.60,0.65")}
                        {field("Top % variants", form.top_pct, "top-pct")}
                        {area("Allowed hours (one set per line; empty = any)", form.hours, "hours", "13,14,15")}
                        <div class="grid2">
                            {field("Splits", form.splits, "splits")}
                            <label>"Cross-validation"
                                <select data-testid="cv" on:change=move |ev| form.cv.set(if event_target_value(&ev) == "k_fold" { CvKind::KFold } else { CvKind::WalkForward })>
                                    <option value="walk_forward">"purged walk-forward"</option>
                                    <option value="k_fold">"purged k-fold"</option>
                                </select>
                            </label>
                            {field("Tag", form.tag, "tag")}
                            {field("Trees per fold", form.trees, "sweep-trees")}
                            {field("Min trades", form.min_trades, "min-trades")}
                            {field("Min Sharpe", form.min_sharpe, "min-sharpe")}
                            {field("Min DSR (empty: off)", form.min_dsr, "min-dsr")}
                            {field("Commission (bps)", form.commission, "commission")}
                            {field("Slippage (bps)", form.slippage, "slippage")}
                            {field("Momentum min", form.momentum, "momentum")}
                            {field("Workers", form.workers, "workers")}
                        </div>
                        <label class="check"><input type="checkbox" data-testid="allow-short"
                            prop:checked=move || form.allow_short.get()
                            on:change=move |ev| form.allow_short.set(event_target_checked(&ev))/>" trade the short side too"</label>
                        <label class="check"><input type="checkbox" data-testid="retrain"
                            prop:checked=move || form.retrain.get()
                            on:change=move |ev| form.retrain.set(event_target_checked(&ev))/>" train the folds again (ignore cached out-of-fold probabilities)"</label>
                        <button class="primary" data-testid="run-sweep" disabled=move || running.get() on:click=start>
                            {move || if running.get() { "Sweeping…" } else { "Run Sweep" }}
                        </button>
                        <Show when=move || running.get()>
                            <button data-testid="cancel-sweep" on:click=move |_| {
                                if let Some(p) = ctx.pool.get_value() {
                                    p.cancel("the sweep was cancelled: no run was stored; its finished folds are kept for the next sweep");
                                }
                                discard();
                            }>"Cancel"</button>
                        </Show>
                        {move || error().map(|e| view! { <ErrorView error=e testid="sweep-error"/> })}
                    </div>
                </aside>
                <div class="main">
                    {move || resumable.get().flatten().map(|(i, stored)| {
                        let again = i.clone();
                        view! {
                            <div class="panel notice warn" data-testid="sweep-interrupted">
                                <p>{format!(
                                    "A sweep of {} ({} trees per fold) started {} was interrupted before its runs were stored: {stored} of {} folds are kept.",
                                    i.model_id,
                                    i.body.research.params.as_ref().map_or(TrainParams::default().num_trees, |p| p.num_trees),
                                    i.created,
                                    i.splits
                                )}</p>
                                <button class="primary" data-testid="resume-sweep" on:click=move |_| resume(again.clone())>
                                    {format!("Resume (train {} fold{})", i.splits.saturating_sub(stored), if i.splits.saturating_sub(stored) == 1 { "" } else { "s" })}
                                </button>
                                " "
                                <button data-testid="discard-sweep" on:click=move |_| discard()>"Discard"</button>
                            </div>
                        }
                    })}
                    <Show when=move || running.get() && !folds.get().is_empty()>
                        <div class="panel" data-testid="fold-progress">
                            <h2>"Training the folds " <span class="muted small">"each fold's model sees only earlier rows, purged by the label horizon"</span></h2>
                            {move || folds.get().into_iter().enumerate().map(|(k, (tree, trees))| view! {
                                <div class="progress">
                                    <div class="small">{format!("fold {} of {}: tree {tree} of {trees}", k + 1, folds.get_untracked().len())}</div>
                                    <div class="bar"><div style:width=format!("{:.1}%", 100.0 * tree as f64 / trees.max(1) as f64)></div></div>
                                </div>
                            }).collect_view()}
                        </div>
                    </Show>
                    {move || outcome().map(|o| {
                        let passed = o.runs.iter().filter(|r| r.gate.pass()).count();
                        let rows = rank(&o.runs, &Query::default());
                        view! {
                            <div class="panel" data-testid="sweep-result">
                                <div class="panel-head">
                                    <h2>{format!("{} configs", o.runs.len())}</h2>
                                    <span class="muted small" data-testid="sweep-summary" data-oof=o.oof_key.clone() data-oof-sha=o.oof_sha.clone()>{format!(
                                        "{passed} pass the gate · {:.1} s · {} · out-of-fold {}",
                                        o.seconds,
                                        if o.cached { "folds from the cache".to_string() } else { format!("{} worker{}", o.workers, if o.workers == 1 { "" } else { "s" }) },
                                        o.oof_key.chars().take(7).collect::<String>()
                                    )}</span>
                                </div>
                                {o.warnings.iter().map(|w| view! { <div class="notice warn small" data-testid="sweep-warning">{w.clone()}</div> }).collect_view()}
                                <RunsTable rows=rows/>
                                <p class="small"><a href=Route::Leaderboard.href()>"All runs on the Leaderboard →"</a></p>
                            </div>
                        }
                    })}
                </div>
            </div>
            </Show>
        </section>
    }
}
