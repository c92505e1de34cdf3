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
use engine::grid::{Grid, Variant};
use engine::leaderboard::{rank, Query};
use engine::model::ModelRecord;
use engine::run::Run;
use engine::sweep::SweepBody;

use crate::components::picker;
use crate::components::runs_table::RunsTable;
use crate::components::sweep_map::SweepMap;
use crate::components::ErrorView;
use crate::db::Store;
use crate::download;
use crate::error::AppError;
use crate::format;
use crate::pool::{MatrixRef, TrainedFold};
use crate::route::Route;
use crate::state::{build_matrix, pool, refresh_runs, release_idle_workers, release_pool, store, use_ctx, Ctx};

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
    /// Model dimensions, each a list (`100, 200`): every combination is a model variant.
    trees: RwSignal<String>,
    leaves: RwSignal<String>,
    learning_rate: RwSignal<String>,
    feature_fraction: RwSignal<String>,
    calibration: RwSignal<String>,
    horizons: RwSignal<String>,
    commission: RwSignal<String>,
    slippage: RwSignal<String>,
    momentum: RwSignal<String>,
    allow_short: RwSignal<bool>,
    /// Kept from a loaded file (the form has no fields for them) so Save writes them back.
    exits: RwSignal<engine::grid::Exits>,
    embargo: RwSignal<usize>,
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
        let g = template_grid(None);
        let s = || RwSignal::new(String::new());
        let form = Form {
            thresholds: s(),
            top_pct: s(),
            hours: s(),
            splits: s(),
            cv: RwSignal::new(CvKind::WalkForward),
            tag: s(),
            min_trades: s(),
            min_sharpe: s(),
            min_dsr: s(),
            trees: s(),
            leaves: s(),
            learning_rate: s(),
            feature_fraction: s(),
            calibration: s(),
            horizons: s(),
            commission: s(),
            slippage: s(),
            momentum: s(),
            allow_short: RwSignal::new(false),
            exits: RwSignal::new(engine::grid::Exits::default()),
            embargo: RwSignal::new(0),
            workers: RwSignal::new(default_workers().to_string()),
            retrain: RwSignal::new(false),
        };
        form.fill(&g);
        form
    }

    /// Every field from a sweep file's grid (what Load does).
    fn fill(&self, g: &Grid) {
        let (b, t) = (&g.backtest, &g.train);
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let list = |v: Vec<String>| v.join(", ");
        self.thresholds.set(b.thresholds.join("\n"));
        self.top_pct.set(list(b.top_pct.iter().map(|&f| engine::policy::fmt_level(f)).collect()));
        self.hours.set(b.allowed_hours.join("\n"));
        self.splits.set(list(b.splits.iter().map(ToString::to_string).collect()));
        self.cv.set(b.cv);
        self.tag.set(g.tag.clone().unwrap_or_default());
        self.min_trades.set(g.gate.min_trades.map(|n| n.to_string()).unwrap_or_default());
        self.min_sharpe.set(num(g.gate.min_sharpe));
        self.min_dsr.set(num(g.gate.min_dsr));
        self.trees.set(list(t.trees.iter().map(ToString::to_string).collect()));
        self.leaves.set(list(t.leaves.iter().map(ToString::to_string).collect()));
        self.learning_rate.set(list(t.learning_rate.iter().map(ToString::to_string).collect()));
        self.feature_fraction.set(list(t.feature_fraction.iter().map(ToString::to_string).collect()));
        self.calibration.set(list(
            t.calibration
                .iter()
                .map(|c| serde_json::to_value(c).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
                .collect(),
        ));
        self.horizons.set(list(g.build.distance_max.iter().map(ToString::to_string).collect()));
        self.commission.set(b.costs.commission_bps.to_string());
        self.slippage.set(b.costs.slippage_bps.to_string());
        self.momentum.set(num(b.momentum_min));
        self.allow_short.set(b.allow_short);
        self.exits.set(b.exits.clone());
        self.embargo.set(b.embargo);
    }

    /// The sweep the form describes, for `model`: the engine reads the fields through the same
    /// schema and checks as a sweep file's.
    fn grid(&self, model: &ModelRecord) -> Result<Grid, AppError> {
        fn number(name: &str, text: &str) -> Result<serde_json::Value, AppError> {
            let t = text.trim();
            if let Ok(n) = t.parse::<u64>() {
                return Ok(n.into());
            }
            t.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .ok_or_else(|| AppError::Input(format!("{name}: \"{t}\" is not a number")))
        }
        let items = |text: String| -> Vec<String> {
            text.split([',', ' ', '\n']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
        };
        let numbers = |name: &str, text: String| -> Result<Vec<serde_json::Value>, AppError> {
            items(text).iter().map(|t| number(name, t)).collect()
        };
        let opt = |name: &str, text: String| -> Result<serde_json::Value, AppError> {
            if text.trim().is_empty() {
                Ok(serde_json::Value::Null)
            } else {
                number(name, &text)
            }
        };
        let lines =
            |s: String| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>();
        let g = |sig: RwSignal<String>| sig.get_untracked();
        let tag = g(self.tag).trim().to_string();
        let value = serde_json::json!({
            "model_id": model.model_id,
            "pack_id": model.model.pack_id,
            "tag": (!tag.is_empty()).then_some(tag),
            "build": { "distance_max": numbers("label horizons", g(self.horizons))? },
            "train": {
                "calibration": items(g(self.calibration)),
                "trees": numbers("trees", g(self.trees))?,
                "leaves": numbers("leaves", g(self.leaves))?,
                "learning_rate": numbers("learning rate", g(self.learning_rate))?,
                "feature_fraction": numbers("feature fraction", g(self.feature_fraction))?,
            },
            "backtest": {
                "thresholds": lines(g(self.thresholds)),
                "top_pct": numbers("top %", g(self.top_pct))?,
                "allowed_hours": lines(g(self.hours)),
                "splits": numbers("splits", g(self.splits))?,
                "cv": self.cv.get_untracked(),
                "embargo": self.embargo.get_untracked(),
                "momentum_min": opt("momentum min", g(self.momentum))?,
                "allow_short": self.allow_short.get_untracked(),
                "exits": self.exits.get_untracked(),
                "costs": {
                    "commission_bps": number("commission", &g(self.commission))?,
                    "slippage_bps": number("slippage", &g(self.slippage))?,
                },
            },
            "gate": {
                "min_trades": opt("min trades", g(self.min_trades))?,
                "min_sharpe": opt("min Sharpe", g(self.min_sharpe))?,
                "min_dsr": opt("min DSR", g(self.min_dsr))?,
            },
        });
        Ok(Grid::from_json(value).map_err(engine::error::Error::from)?)
    }

    fn workers(&self) -> Result<usize, AppError> {
        let text = self.workers.get_untracked();
        let workers: usize = text
            .trim()
            .parse()
            .map_err(|_| AppError::Input(format!("workers: \"{}\" is not a number", text.trim())))?;
        if !(1..=16).contains(&workers) {
            return Err(AppError::Input(format!("workers: {workers} is outside 1..16")));
        }
        Ok(workers)
    }
}

/// The sweep grid of a model's (pack, template); the daily template's when none.
fn template_grid(of: Option<(String, String)>) -> Grid {
    engine::pack::template_grid(of.as_ref().map(|(p, t)| (p.as_str(), t.as_str())))
}

/// Per fold: trees built of trees planned.
type FoldBars = RwSignal<Vec<(usize, usize)>>;

/// Which model variant is training: (1-based index, count, its wording).
type Stage = RwSignal<Option<(usize, usize, String)>>;

/// What a running sweep shows: the model variant it is on, each fold's trees and when the
/// folds began, the configs being judged (how many, the fraction done, when it began), so each
/// bar can say how long is left.
#[derive(Clone, Copy)]
struct Watch {
    folds: FoldBars,
    folds_started: RwSignal<f64>,
    stage: Stage,
    judging: RwSignal<Option<(usize, f64, f64)>>,
}

/// One model variant's part of a sweep, for the summary.
#[derive(Clone)]
struct VariantOutcome {
    variant: String,
    cached: bool,
    oof_key: String,
    oof_sha: String,
}

/// What one sweep produced, for the summary line.
#[derive(Clone)]
struct Outcome {
    runs: Vec<Run>,
    configs: usize,
    seconds: f64,
    workers: usize,
    variants: Vec<VariantOutcome>,
    warnings: Vec<String>,
}

/// A sweep whose runs are not stored yet: what it takes to run it again, kept in the settings
/// store from its first fold until its runs are stored (or the user cancels or discards it).
/// Variants already trained have their out-of-fold files cached, the one in progress its
/// finished folds, so running the same grid again trains only what is missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Interrupted {
    model_id: String,
    #[serde(default)]
    grid: Option<Grid>,
    /// A sweep interrupted before sweep files (one model variant, as a body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<SweepBody>,
    workers: usize,
    /// The runs' stamp, kept so a resumed sweep's runs are the uninterrupted sweep's.
    created: String,
    /// The variant in progress: its out-of-fold key and splits.
    oof_key: String,
    splits: usize,
    #[serde(default)]
    trees: usize,
}

impl Interrupted {
    /// Its model variants, each a label horizon (none: the model's matrix) and a body.
    fn steps(&self) -> Vec<(Option<usize>, SweepBody)> {
        match (&self.grid, &self.body) {
            (Some(g), _) => steps(g),
            (None, Some(b)) => vec![(None, b.clone())],
            (None, None) => Vec::new(),
        }
    }
}

fn steps(g: &Grid) -> Vec<(Option<usize>, SweepBody)> {
    g.variants().into_iter().map(|v| (v.distance_max, g.body(&v))).collect()
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

/// The sha of the matrix a variant with label horizon `horizon` is judged on: the model's own
/// when it has that horizon (or none is asked), else the model's build with that horizon,
/// found in the store or built in a worker and stored beside it (the model keeps its matrix).
async fn variant_matrix(ctx: Ctx, model: &ModelRecord, horizon: Option<usize>) -> Result<String, AppError> {
    let own = model.matrix_sha.clone().ok_or_else(|| {
        AppError::missing(format!("{} has no matrix yet: build it on the Build page", model.model_id))
    })?;
    let spec = model.build_spec.clone().unwrap_or_else(|| engine::matrix::BuildSpec {
        model_id: model.model_id.clone(),
        pack_id: model.model.pack_id.clone(),
        ..engine::matrix::BuildSpec::default()
    });
    let built_with = spec.distance_max.unwrap_or_else(|| model.model.label.distance_max());
    match horizon {
        Some(d) if d != built_with => {
            let spec = engine::matrix::BuildSpec { distance_max: Some(d), ..spec };
            let (meta, _) = build_matrix(ctx, model.clone(), spec, false, |_| {}).await?;
            Ok(meta.summary.matrix_sha)
        }
        _ => Ok(own),
    }
}

/// One sweep of every model variant in `steps`: `created` stamps its runs (a resumed sweep
/// passes the interrupted one's). `grid` is what Resume runs again.
#[allow(clippy::too_many_arguments)]
async fn run_sweep(
    ctx: Ctx,
    model: ModelRecord,
    grid: Option<Grid>,
    body: Option<SweepBody>,
    workers: usize,
    retrain: bool,
    created: String,
    watch: Watch,
) -> Result<Outcome, AppError> {
    let Watch { folds, stage, .. } = watch;
    // Judging reports its fraction; the bar starts when the first config does.
    let judging = move |n: usize| {
        watch.judging.set(Some((n, 0.0, js_sys::Date::now())));
        move |f: f64| {
            watch.judging.try_update(|j| {
                if let Some(j) = j {
                    j.1 = f
                }
            });
        }
    };
    let started = js_sys::Date::now();
    let store = store(ctx)?;
    let record = Interrupted {
        model_id: model.model_id.clone(),
        grid: grid.clone(),
        body: body.clone(),
        workers,
        created: created.clone(),
        oof_key: String::new(),
        splits: 0,
        trees: 0,
    };
    let steps = record.steps();
    if let Some(g) = &grid {
        // The whole product against the budget, before anything is built or trained.
        g.size(&model.model.risk_profile.params()).map_err(engine::error::Error::from)?;
    }
    let pool = pool(ctx, workers).await?;
    let lead = pool.workers[0].clone();
    let (mut tally, mut variants, mut configs) = (engine::sweep::Tally::default(), Vec::new(), 0);
    let count = steps.len();
    for (i, (horizon, body)) in steps.into_iter().enumerate() {
        let sha = variant_matrix(ctx, &model, horizon).await?;
        let matrix = MatrixRef { sha: &sha, store: &store };
        let plan = lead.plan(body.clone(), model.model.clone(), created.clone(), matrix).await?;
        let (settings, oof_spec) = (plan.settings.clone(), &plan.settings.oof_spec);
        let wording = Variant::of_spec(oof_spec).to_string();
        stage.set(Some((i + 1, count, wording)));
        configs = plan.configs.len();
        if retrain {
            store.delete_folds(&plan.oof_key).await?;
        }
        let cached = if retrain { None } else { store.oof(&plan.oof_key).await? };
        let (swept, was_cached) = match cached {
            Some(oof) => {
                let n = plan.configs.len();
                (lead.sweep_cached(settings, plan.configs, matrix, &oof, judging(n)).await?, true)
            }
            None => {
                let n = oof_spec.splits;
                let trees = oof_spec.params.num_trees;
                let at = Interrupted { oof_key: plan.oof_key.clone(), splits: n, trees, ..record.clone() };
                set_interrupted(&store, Some(&at)).await?;
                let mut have: Vec<TrainedFold> =
                    store.folds(&plan.oof_key).await?.into_iter().filter(|f| f.meta.fold < n).collect();
                let todo: Vec<usize> = (0..n).filter(|k| !have.iter().any(|f| f.meta.fold == *k)).collect();
                folds.set((0..n).map(|k| if todo.contains(&k) { (0, trees) } else { (trees, trees) }).collect());
                watch.folds_started.set(js_sys::Date::now());
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
                folds.set(Vec::new());
                let n = plan.configs.len();
                let swept = lead.sweep(settings, plan.configs, matrix, &have, judging(n)).await?;
                let bytes =
                    swept.oof_bytes.clone().ok_or_else(|| AppError::missing("the worker sent no out-of-fold file"))?;
                store.put_oof(&swept.oof_key, &bytes).await?;
                (swept, false)
            }
        };
        let variant = swept.judged.runs.first().map(|r| Variant::of_run(r).to_string()).unwrap_or_default();
        variants.push(VariantOutcome {
            variant,
            cached: was_cached,
            oof_key: swept.oof_key.clone(),
            oof_sha: swept.oof_sha.clone(),
        });
        tally.add(swept.judged, plan.warnings);
        watch.judging.set(None);
    }
    // Every config of every variant was a try: the runs are deflated by all of them.
    let (runs, warnings) = tally.finish();
    store.put_runs(&runs).await?;
    set_interrupted(&store, None).await?;
    Ok(Outcome { runs, configs, seconds: (js_sys::Date::now() - started) / 1000.0, workers, variants, warnings })
}

#[component]
pub fn SweepsPage() -> impl IntoView {
    let ctx = use_ctx();
    let record = picker::current_built(ctx);
    let form = Form::new();
    let loaded = RwSignal::new(None::<String>);
    // The form starts from the selected model's template grid (an intraday template sweeps
    // hours); it is filled again only when another model's template has another grid.
    let template = Memo::new(move |_| record.get().map(|r| (r.model.pack_id, r.model.template)));
    let filled_from = StoredValue::new(template_grid(None));
    Effect::new(move |_| {
        let grid = template_grid(template.get());
        if filled_from.with_value(|g| *g != grid) {
            form.fill(&grid);
            filled_from.set_value(grid);
        }
    });
    // A sweep another page prepared (a gate remedy on the Backtest page): filled in once, with
    // the template marked as filled so the effect above keeps it.
    let draft_note = RwSignal::new(None::<String>);
    if let Some((grid, why)) = ctx.sweep_draft.get_untracked() {
        ctx.sweep_draft.set(None);
        form.fill(&grid);
        filled_from.set_value(template_grid(untrack(|| template.get())));
        draft_note.set(Some(why));
    }
    let buildable = move || picker::built(ctx);
    // A form the page could not read; the sweep's own failures are its action's value.
    let form_error = RwSignal::new(None::<AppError>);
    let folds: FoldBars = RwSignal::new(Vec::new());
    let stage: Stage = RwSignal::new(None);
    let watch = Watch { folds, stage, folds_started: RwSignal::new(0.0), judging: RwSignal::new(None) };
    type Args = (ModelRecord, Option<Grid>, Option<SweepBody>, usize, bool, String);
    let sweep = Action::new_local(move |(r, grid, body, workers, retrain, created): &Args| {
        let (r, grid, body, workers, retrain, created) =
            (r.clone(), grid.clone(), body.clone(), *workers, *retrain, created.clone());
        async move {
            release_idle_workers(ctx);
            let outcome = run_sweep(ctx, r, grid, body, workers, retrain, created, watch).await;
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
                sweep.dispatch((r, i.grid, i.body, i.workers, false, i.created));
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
        match form.grid(&r).and_then(|g| Ok((g, form.workers()?))) {
            Ok((grid, workers)) => {
                form_error.set(None);
                folds.set(Vec::new());
                stage.set(None);
                let created = engine::data::time::format_utc(js_sys::Date::now() as i64);
                sweep.dispatch((r, Some(grid), None, workers, retrain, created));
            }
            Err(e) => {
                sweep.value().set(None);
                form_error.set(Some(e));
            }
        }
    };

    // The form as a sweep file, and a sweep file into the form: the file `btb sweep-config`
    // writes and `btb sweep --config` runs.
    let save = move |_| {
        let Some(r) = record.get_untracked() else { return };
        let saved = form
            .grid(&r)
            .and_then(|g| download::text(&format!("{}_sweep.yaml", r.model_id), "application/yaml", &g.to_yaml()));
        form_error.set(saved.err());
    };
    let load = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        leptos::task::spawn_local(async move {
            let name = file.name();
            let read = async {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .map_err(|e| AppError::Browser(format!("{name}: {e:?}")))?;
                let text = text.as_string().unwrap_or_default();
                Grid::from_yaml(&text).map_err(|e| {
                    let mut r = engine::error::Error::from(e).report();
                    r.message = format!("{name}: {}", r.message);
                    AppError::Engine(r)
                })
            };
            match read.await {
                Ok(g) => {
                    form.fill(&g);
                    form_error.set(None);
                    loaded.set(Some(name));
                }
                Err(e) => form_error.set(Some(e)),
            }
        });
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
                        {move || draft_note.get().map(|why| view! {
                            <div class="notice small" data-testid="sweep-draft">{format!("Filled in from the Backtest page's remedy — {why}. Check the fields and run it.")}</div>
                        })}
                        <p class="muted small" data-testid="sweep-profile">{move || record.get().map(|r| {
                            let p = r.model.risk_profile.params();
                            format!("{} risk: {:.0}% a position, budget {} configs; gate: drawdown under {:.0}%, Sharpe above {} and {} trades unless set below",
                                r.model.risk_profile.as_str(), 100.0 * p.position_size, p.sweep_budget, 100.0 * p.max_drawdown, p.min_sharpe, p.min_trades)
                        })}</p>
                        <div class="file-row">
                            <label class="button" title="a sweep file written by btb sweep-config or saved here">"Load sweep file"
                                <input type="file" accept=".yaml,.yml,application/yaml,text/yaml" data-testid="load-sweep" style="display:none" on:change=load/>
                            </label>
                            <button data-testid="save-sweep" on:click=save>"Save sweep file"</button>
                            {move || loaded.get().map(|n| view! { <span class="small muted" data-testid="sweep-loaded">{format!("loaded {n}")}</span> })}
                        </div>
                        <p class="small muted">"Lists (comma-separated) in the model fields make model variants: every config is judged on each, and the budget counts the product."</p>
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
                            {field("Leaves", form.leaves, "sweep-leaves")}
                            {field("Learning rate", form.learning_rate, "sweep-lr")}
                            {field("Feature fraction", form.feature_fraction, "sweep-ff")}
                            {field("Calibration", form.calibration, "sweep-calibration")}
                            {field("Label horizons (empty: as built)", form.horizons, "sweep-horizons")}
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
                                    "A sweep of {} ({} model variant{}, {} trees per fold) started {} was interrupted before its runs were stored: {stored} of {} folds are kept{}.",
                                    i.model_id,
                                    i.steps().len(),
                                    if i.steps().len() == 1 { "" } else { "s" },
                                    if i.trees > 0 { i.trees } else { i.body.as_ref().and_then(|b| b.research.params.as_ref()).map_or(TrainParams::default().num_trees, |p| p.num_trees) },
                                    i.created,
                                    i.splits,
                                    if i.steps().len() > 1 { " for the variant it was training; the variants before it are cached" } else { "" }
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
                            {move || stage.get().filter(|(_, n, _)| *n > 1).map(|(i, n, w)| view! {
                                <p class="small" data-testid="sweep-stage">{format!("model variant {i} of {n}: {w}")}</p>
                            })}
                            <p class="small" data-testid="fold-eta">{move || {
                                let f = folds.get();
                                let (done, all) = f.iter().fold((0usize, 0usize), |(d, a), (t, n)| (d + t, a + n));
                                let fraction = done as f64 / all.max(1) as f64;
                                let elapsed = (js_sys::Date::now() - watch.folds_started.get_untracked()) / 1000.0;
                                format!("{:.0}% of the trees · {}", 100.0 * fraction, format::time_left(elapsed, fraction))
                            }}</p>
                            {move || folds.get().into_iter().enumerate().map(|(k, (tree, trees))| view! {
                                <div class="progress">
                                    <div class="small">{format!("fold {} of {}: tree {tree} of {trees}", k + 1, folds.get_untracked().len())}</div>
                                    <div class="bar"><div style:width=format!("{:.1}%", 100.0 * tree as f64 / trees.max(1) as f64)></div></div>
                                </div>
                            }).collect_view()}
                        </div>
                    </Show>
                    {move || watch.judging.get().filter(|_| running.get()).map(|(n, fraction, started)| {
                        let elapsed = (js_sys::Date::now() - started) / 1000.0;
                        view! {
                            <div class="panel" data-testid="judge-progress">
                                <h2>{format!("Judging {n} config{} ", if n == 1 { "" } else { "s" })}
                                    <span class="muted small">"each config's backtest on the out-of-fold probabilities, then its gate"</span></h2>
                                <div class="progress">
                                    <div class="small" data-testid="judge-eta">{format!("{:.0}% · {}", 100.0 * fraction, format::time_left(elapsed, fraction))}</div>
                                    <div class="bar"><div style:width=format!("{:.1}%", 100.0 * fraction)></div></div>
                                </div>
                            </div>
                        }
                    })}
                    {move || outcome().map(|o| {
                        let passed = o.runs.iter().filter(|r| r.gate.pass()).count();
                        let rows = rank(&o.runs, &Query::default());
                        let first = o.variants.first().cloned();
                        let oof = first.as_ref().map(|v| v.oof_key.clone()).unwrap_or_default();
                        let oof_sha = first.as_ref().map(|v| v.oof_sha.clone()).unwrap_or_default();
                        let cached = o.variants.iter().all(|v| v.cached);
                        let many = o.variants.len() > 1;
                        view! {
                            <div class="panel" data-testid="sweep-result">
                                <div class="panel-head">
                                    <h2>{if many { format!("{} runs: {} model variants × {} configs", o.runs.len(), o.variants.len(), o.configs) } else { format!("{} configs", o.runs.len()) }}</h2>
                                    <span class="muted small" data-testid="sweep-summary" data-oof=oof.clone() data-oof-sha=oof_sha data-variants=o.variants.len().to_string()>{format!(
                                        "{passed} pass the gate · {:.1} s · {} · out-of-fold {}",
                                        o.seconds,
                                        if cached { "folds from the cache".to_string() } else { format!("{} worker{}", o.workers, if o.workers == 1 { "" } else { "s" }) },
                                        if many { format!("{} files", o.variants.len()) } else { oof.chars().take(7).collect::<String>() }
                                    )}</span>
                                </div>
                                {many.then(|| view! {
                                    <ul class="small" data-testid="sweep-variants">
                                        {o.variants.iter().map(|v| view! {
                                            <li data-oof-sha=v.oof_sha.clone()>{v.variant.clone()} " · out-of-fold " <code>{v.oof_key.chars().take(7).collect::<String>()}</code>{if v.cached { " · from the cache" } else { "" }}</li>
                                        }).collect_view()}
                                    </ul>
                                })}
                                {o.warnings.iter().map(|w| view! { <div class="notice warn small" data-testid="sweep-warning">{w.clone()}</div> }).collect_view()}
                                <RunsTable rows=rows/>
                                {(o.runs.len() > 1).then(|| view! { <h3>"At a glance"</h3> <SweepMap runs=o.runs.clone()/> })}
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
