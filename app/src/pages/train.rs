//! Train: the final gradient-boosted tree model for a model's matrix (seed Phase 5) — settings,
//! calibration, Start Training with per-tree progress from a worker, train/valid loss curves,
//! feature importance and a reliability diagram. Trained models are kept in IndexedDB.

use leptos::prelude::*;

use engine::gbt::fit::{CalibrationKind, FitOptions, FitReport};
use engine::gbt::TrainParams;
use engine::model::ModelRecord;

use crate::components::picker;
use crate::components::train_strategy::TrainStrategy;
use crate::components::ErrorView;
use crate::db::TrainedRecord;
use crate::error::AppError;
use crate::format;
use crate::pool::MatrixRef;
use crate::state::{store, use_ctx, worker, Ctx};

/// Form fields as text, parsed on Start so a half-typed number is not an error while typing.
#[derive(Clone, Copy)]
struct Settings {
    trees: RwSignal<String>,
    leaves: RwSignal<String>,
    lr: RwSignal<String>,
    max_bin: RwSignal<String>,
    min_data: RwSignal<String>,
    feature_fraction: RwSignal<String>,
    bagging_fraction: RwSignal<String>,
    seed: RwSignal<String>,
    early_stopping: RwSignal<String>,
    valid_fraction: RwSignal<String>,
    calibration: RwSignal<CalibrationKind>,
    /// 0 = fit the calibrator on the validation holdout; k = on k out-of-fold folds.
    calibration_folds: RwSignal<usize>,
}

impl Settings {
    fn new() -> Settings {
        let d = TrainParams::default();
        let s = |v: String| RwSignal::new(v);
        Settings {
            trees: s("200".into()),
            leaves: s(d.max_leaves.to_string()),
            lr: s(d.learning_rate.to_string()),
            max_bin: s(d.max_bin.to_string()),
            min_data: s(d.min_data_in_leaf.to_string()),
            feature_fraction: s(d.feature_fraction.to_string()),
            bagging_fraction: s(d.bagging_fraction.to_string()),
            seed: s(d.seed.to_string()),
            early_stopping: s("20".into()),
            valid_fraction: s("0.2".into()),
            calibration: RwSignal::new(CalibrationKind::Sigmoid),
            calibration_folds: RwSignal::new(0),
        }
    }

    fn options(&self) -> Result<FitOptions, AppError> {
        fn num<T: std::str::FromStr>(name: &str, v: RwSignal<String>) -> Result<T, AppError> {
            let text = v.get_untracked();
            text.trim().parse::<T>().map_err(|_| AppError::Input(format!("{name}: \"{text}\" is not a valid number")))
        }
        let bagging_fraction: f64 = num("bagging fraction", self.bagging_fraction)?;
        let params = TrainParams {
            num_trees: num("trees", self.trees)?,
            max_leaves: num("leaves", self.leaves)?,
            learning_rate: num("learning rate", self.lr)?,
            max_bin: num("max bin", self.max_bin)?,
            min_data_in_leaf: num("min data in leaf", self.min_data)?,
            feature_fraction: num("feature fraction", self.feature_fraction)?,
            bagging_fraction,
            bagging_freq: if bagging_fraction < 1.0 { 1 } else { 0 },
            seed: num("seed", self.seed)?,
            early_stopping_rounds: num("early stopping", self.early_stopping)?,
            ..TrainParams::default()
        };
        Ok(FitOptions {
            params,
            valid_fraction: num("validation fraction", self.valid_fraction)?,
            calibration: self.calibration.get_untracked(),
            calibration_folds: self.calibration_folds.get_untracked(),
            purge: 0,
        })
    }
}

async fn run_training(
    ctx: Ctx,
    record: ModelRecord,
    options: FitOptions,
    curve: RwSignal<Vec<(f64, Option<f64>)>>,
) -> Result<TrainedRecord, AppError> {
    let store = store(ctx)?;
    let matrix_sha = record.matrix_sha.clone().ok_or_else(|| {
        AppError::missing(format!("{} has no matrix yet: build it on the Build page", record.model_id))
    })?;
    let worker = worker(ctx).await?;
    let (report, model_json, train_ms) = worker
        .train(options.clone(), MatrixRef { sha: &matrix_sha, store: &store }, move |_, train, valid| {
            curve.try_update(|c| c.push((train, valid)));
        })
        .await?;
    let trained = TrainedRecord {
        model_sha: report.model_sha.clone(),
        model_id: record.model_id.clone(),
        matrix_sha,
        created: js_sys::Date::now(),
        train_ms,
        options,
        report,
        model_json,
    };
    store.put_trained(&trained).await?;
    ctx.trained.try_update(|n| *n += 1);
    Ok(trained)
}

#[component]
pub fn TrainPage() -> impl IntoView {
    let ctx = use_ctx();
    let settings = Settings::new();
    let buildable = move || picker::built(ctx);
    let record = picker::current_built(ctx);
    // Runs picked into the cart on the Leaderboard, best Sharpe first.
    let cart_runs = Memo::new(move |_| {
        let cart = ctx.cart.get();
        let mut runs: Vec<_> = ctx.runs.get().into_iter().filter(|r| cart.contains(&r.run_id)).collect();
        runs.sort_by(|a, b| b.metrics.sharpe.total_cmp(&a.metrics.sharpe));
        runs
    });
    let form_error = RwSignal::new(None::<AppError>);
    let curve = RwSignal::new(Vec::<(f64, Option<f64>)>::new());
    let total = RwSignal::new(0usize);
    let shown = RwSignal::new(None::<TrainedRecord>);
    let history = LocalResource::new(move || {
        let ready = ctx.ready.get();
        ctx.trained.track();
        async move {
            if !ready {
                return Ok(Vec::new());
            }
            Ok::<_, AppError>(store(ctx)?.trained().await?)
        }
    });
    let trained = move || history.get().and_then(Result::ok).unwrap_or_default();
    let train = Action::new_local(move |(r, options): &(ModelRecord, FitOptions)| {
        let (r, options) = (r.clone(), options.clone());
        async move {
            let t = run_training(ctx, r, options, curve).await?;
            shown.try_set(Some(t.clone()));
            Ok::<_, AppError>(t)
        }
    });
    let training = train.pending();
    let error = move || {
        let failed = (!training.get()).then(|| train.value().get().and_then(Result::err)).flatten();
        form_error.get().or(failed).or_else(|| history.get().and_then(Result::err))
    };
    // The latest trained model of the current model, when none is being shown.
    Effect::new(move |_| {
        let id = record.get().map(|r| r.model_id);
        let latest = trained().into_iter().find(|t| Some(&t.model_id) == id.as_ref());
        if shown.get_untracked().map(|s| Some(s.model_id) != id).unwrap_or(true) {
            shown.set(latest);
        }
    });

    let start = move |_| {
        let Some(r) = record.get_untracked() else { return };
        match settings.options() {
            Ok(options) => {
                total.set(options.params.num_trees);
                curve.set(Vec::new());
                form_error.set(None);
                train.dispatch((r, options));
            }
            Err(e) => {
                train.value().set(None);
                form_error.set(Some(e));
            }
        }
    };

    let field = picker::text_field;

    view! {
        <section class="page train" data-page="train">
            <Show when=move || !buildable().is_empty()
                fallback=|| view! { <picker::NoMatrix title="Nothing to train yet"/> }>
            <div class="columns">
                <aside class="side">
                    <div class="panel form">
                        <h2>"Train"</h2>
                        <picker::ModelSelect ctx=ctx testid="train-model"/>
                        <p class="muted small">{move || record.get().map(|r| format!("matrix {} · gradient-boosted trees, logistic loss",
                            r.matrix_sha.unwrap_or_default().chars().take(7).collect::<String>()))}</p>
                        <div class="grid2">
                            {field("Trees", settings.trees, "trees")}
                            {field("Leaves", settings.leaves, "leaves")}
                            {field("Learning rate", settings.lr, "lr")}
                            {field("Max bin", settings.max_bin, "max-bin")}
                            {field("Min data in leaf", settings.min_data, "min-data")}
                            {field("Early stopping", settings.early_stopping, "early-stopping")}
                            {field("Feature fraction", settings.feature_fraction, "feature-fraction")}
                            {field("Bagging fraction", settings.bagging_fraction, "bagging-fraction")}
                            {field("Seed", settings.seed, "seed")}
                            {field("Validation (last)", settings.valid_fraction, "valid-fraction")}
                        </div>
                        <label>"Calibration"
                            <select data-testid="calibration" on:change=move |ev| {
                                if let Ok(c) = event_target_value(&ev).parse::<CalibrationKind>() { settings.calibration.set(c) }
                            }>
                                <option value="sigmoid">"Sigmoid (Platt)"</option>
                                <option value="isotonic">"Isotonic"</option>
                                <option value="none">"None"</option>
                            </select>
                        </label>
                        <label>"Calibrate on"
                            <select data-testid="calibration-folds" on:change=move |ev| {
                                settings.calibration_folds.set(event_target_value(&ev).parse().unwrap_or(0))
                            }>
                                <option value="0">"the validation rows (last)"</option>
                                <option value="4">"out-of-fold predictions (4 purged walk-forward folds)"</option>
                            </select>
                        </label>
                        <button class="primary" data-testid="start-training" disabled=move || training.get() on:click=start>
                            {move || if training.get() { "Training…" } else { "Start Training" }}
                        </button>
                        <Show when=move || training.get()>
                            <div class="progress" data-testid="train-progress">
                                <div class="small">{move || format!("tree {} of {}", curve.get().len(), total.get())}</div>
                                <div class="bar"><div style:width=move || format!("{:.1}%", 100.0 * curve.get().len() as f64 / total.get().max(1) as f64)></div></div>
                            </div>
                        </Show>
                        {move || error().map(|e| view! { <ErrorView error=e testid="train-error"/> })}
                    </div>
                    <div class="panel">
                        <h2>"Trained models"</h2>
                        <ul class="trained" data-testid="trained">
                            {move || trained().into_iter().map(|t| {
                                let t2 = t.clone();
                                view! {
                                    <li data-sha=t.model_sha.clone()>
                                        <button class="link" on:click=move |_| shown.set(Some(t2.clone()))>
                                            <code>{t.model_sha.chars().take(7).collect::<String>()}</code>
                                        </button>
                                        " " {t.model_id.clone()} " · AUC "
                                        {t.report.valid_auc.map(|a| format!("{a:.3}")).unwrap_or_else(|| "—".into())}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                </aside>
                <div class="main">
                    <Show when=move || !cart_runs.get().is_empty()>
                        <div class="panel" data-testid="cart-train"><h2>"Selected configurations " <span class="muted small">
                            "the cart from the Leaderboard: train the final model of each on its whole matrix, then see its signals"</span></h2></div>
                        {move || cart_runs.get().into_iter().map(|r| view! { <TrainStrategy run=r named=true/> }).collect_view()}
                    </Show>
                    <Show when=move || training.get()>
                        <div class="panel"><h2>"Loss (live)"</h2>{move || loss_chart(&curve.get())}</div>
                    </Show>
                    {move || shown.get().map(|t| view! { <TrainedView t=t/> })}
                </div>
            </div>
            </Show>
        </section>
    }
}

#[component]
fn TrainedView(t: TrainedRecord) -> impl IntoView {
    let r: FitReport = t.report.clone();
    let curve: Vec<(f64, Option<f64>)> =
        r.train_loss.iter().enumerate().map(|(i, &l)| (l, r.valid_loss.get(i).copied())).collect();
    let f = |v: Option<f64>, d: usize| v.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "—".into());
    let mut imp = r.importance.clone();
    imp.sort_by(|a, b| b.gain.total_cmp(&a.gain));
    imp.truncate(20);
    let max_gain = imp.first().map(|i| i.gain).unwrap_or(1.0).max(f64::MIN_POSITIVE);
    view! {
        <div class="panel" data-testid="trained-model">
            <div class="panel-head">
                <h2>"Model " <code data-testid="model-sha" data-sha=r.model_sha.clone() title=r.model_sha.clone()>{r.model_sha.chars().take(7).collect::<String>()}</code></h2>
                <span class="muted small">{format!("{} · trained in {:.1} s", t.model_id, t.train_ms / 1000.0)}</span>
            </div>
            <div class="kpis">
                <div><b data-testid="trees-built">{r.trees}</b><span>{format!("trees (best iteration {})", r.best_iteration)}</span></div>
                <div><b data-testid="valid-auc">{f(r.valid_auc, 3)}</b><span>"validation AUC"</span></div>
                <div><b>{f(r.valid_logloss_calibrated, 4)}</b><span data-testid="calibrated-on">{
                    let how = format!("{:?}", r.calibration).to_lowercase();
                    if r.calibration_folds > 0 { format!("logloss ({how}, fitted out-of-fold, {} folds)", r.calibration_folds) }
                    else { format!("logloss ({how}, fitted on validation)") }
                }</span></div>
                <div><b>{f(r.valid_brier, 4)}</b><span>"Brier score"</span></div>
                <div><b>{format::thousands(r.rows_train)}</b><span>"training rows"</span></div>
                <div><b>{format::thousands(r.rows_valid)}</b><span>"validation rows (last)"</span></div>
            </div>
        </div>
        <div class="panel two">
            <div><h2>"Loss per tree"</h2>{loss_chart(&curve)}</div>
            <div><h2>"Reliability " <span class="muted small">"calibrated validation probabilities"</span></h2>{reliability_chart(&r)}</div>
        </div>
        <div class="panel">
            <h2>"Feature importance " <span class="muted small">"total gain, top 20"</span></h2>
            <table class="grid importance" data-testid="importance">
                <tbody>
                    {imp.into_iter().map(|i| view! {
                        <tr>
                            <td><code>{i.name.clone()}</code></td>
                            <td class="barcell"><div class="hbar" style:width=format!("{:.1}%", 100.0 * i.gain / max_gain)></div></td>
                            <td class="num">{format::sig(i.gain)}</td>
                            <td class="num muted">{format!("{} splits", i.splits)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const W: f64 = 420.0;
const H: f64 = 200.0;
const PAD: f64 = 28.0;

fn polyline(points: &[(f64, f64)], class: &'static str) -> impl IntoView {
    let pts = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    view! { <polyline class=class points=pts/> }
}

/// Train (solid) and validation (dashed) logloss per tree.
fn loss_chart(curve: &[(f64, Option<f64>)]) -> impl IntoView {
    let values = curve.iter().flat_map(|(t, v)| std::iter::once(*t).chain(*v)).filter(|x| x.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (0.0, 1.0) };
    let n = curve.len().max(2) as f64 - 1.0;
    let px = |i: usize| PAD + i as f64 / n * (W - 2.0 * PAD);
    let py = |v: f64| H - PAD - (v - lo) / (hi - lo) * (H - 2.0 * PAD);
    let train: Vec<(f64, f64)> = curve.iter().enumerate().map(|(i, (t, _))| (px(i), py(*t))).collect();
    let valid: Vec<(f64, f64)> = curve.iter().enumerate().filter_map(|(i, (_, v))| v.map(|v| (px(i), py(v)))).collect();
    view! {
        <svg class="chart-svg" data-testid="loss-chart" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none">
            <line class="axis" x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD/>
            <line class="axis" x1=PAD y1=PAD x2=PAD y2=H - PAD/>
            <text class="tick" x=2 y=PAD + 4.0>{format!("{hi:.3}")}</text>
            <text class="tick" x=2 y=H - PAD>{format!("{lo:.3}")}</text>
            <text class="tick" x=W - PAD - 30.0 y=H - 8.0>{format!("{} trees", curve.len())}</text>
            {polyline(&train, "train")}
            {polyline(&valid, "valid")}
        </svg>
        <div class="legend small muted"><span class="sw train"></span>"train " <span class="sw valid"></span>"validation"</div>
    }
}

/// Predicted probability (x) against the observed frequency (y) per bin; the diagonal is perfect.
fn reliability_chart(r: &FitReport) -> impl IntoView {
    let s = H - 2.0 * PAD;
    let px = |p: f64| PAD + p.clamp(0.0, 1.0) * s;
    let py = |p: f64| H - PAD - p.clamp(0.0, 1.0) * s;
    let points: Vec<(f64, f64)> = r.reliability.iter().map(|b| (px(b.mean_pred), py(b.frac_pos))).collect();
    let dots = r
        .reliability
        .iter()
        .map(|b| view! { <circle class="dot" cx=px(b.mean_pred) cy=py(b.frac_pos) r=3><title>{format!("{} rows: predicted {:.3}, observed {:.3}", b.count, b.mean_pred, b.frac_pos)}</title></circle> })
        .collect_view();
    view! {
        <svg class="chart-svg square" data-testid="reliability-chart" viewBox=format!("0 0 {H} {H}")>
            <line class="axis" x1=PAD y1=H - PAD x2=H - PAD y2=H - PAD/>
            <line class="axis" x1=PAD y1=PAD x2=PAD y2=H - PAD/>
            <line class="diag" x1=px(0.0) y1=py(0.0) x2=px(1.0) y2=py(1.0)/>
            <text class="tick" x=PAD - 4.0 y=H - 10.0>"0"</text>
            <text class="tick" x=H - PAD - 4.0 y=H - 10.0>"1"</text>
            {polyline(&points, "valid")}
            {dots}
        </svg>
    }
}
