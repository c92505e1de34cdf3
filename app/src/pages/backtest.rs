//! Backtest (seed Phase 6): one run judged again in a worker from its own record, on the same
//! matrix and out-of-fold probabilities, now with its equity and drawdown curves and its trades.
//! The numbers are the run's own (the engine guarantees it: same inputs, same run), so what the
//! Leaderboard ranked is what this page draws.

use leptos::prelude::*;

use engine::bundle::Kind;
use engine::config::SweepConfig;
use engine::data::Series;
use engine::leaderboard::{rank, Query};
use engine::run::{BacktestReport, Run, RunSettings, TradeRow};

use engine::remedy::{remedies, Setting, Span, Step};
use engine::sheet;
use engine::study::{self, Place, Study};

use std::sync::Arc;

use crate::chart::CandleChart;
use crate::components::equity_chart::EquityChart;
use crate::components::error::outcome;
use crate::components::table::{row_keys, sorted, Key, Order, SortTh};
use crate::components::train_strategy::TrainStrategy;
use crate::components::ErrorView;
use crate::download;
use crate::error::AppError;
use crate::format::{self, definition, pct, short, Clock};
use crate::pool::{MatrixRef, TrainedFold};
use crate::route::Route;
use crate::share::{self, status_of};
use crate::state::{pool, run_inputs, store, use_ctx, worker, BuildDraft, Ctx};

/// What a backtest being loaded is doing: the step, its fraction done and when it began.
type Loading = RwSignal<Option<(&'static str, f64, f64)>>;

async fn load_report(ctx: Ctx, run: Run, loading: Loading) -> Result<BacktestReport, AppError> {
    let step = move |what: &'static str| {
        loading.try_set(Some((what, 0.0, js_sys::Date::now())));
        move |f: f64| {
            loading.try_update(|l| {
                if let Some(l) = l {
                    l.1 = f
                }
            });
        }
    };
    let (store, cadence, sha) = match run_inputs(ctx, &run).await {
        Err(AppError::Missing(why)) => {
            // An imported run without its bars: say so, rather than "build the model again".
            return Err(match status_of(&ctx.marks.get_untracked(), Kind::Run, &run.run_id) {
                Some(status) => AppError::Missing(format!(
                    "this run was imported without its data ({status}); its curves and trades need the bars: import a bundle exported with data"
                )),
                None => AppError::Missing(why),
            });
        }
        other => other?,
    };
    let settings = RunSettings::of_run(&run, &cadence);
    let config = SweepConfig { config_sha: run.lineage.config_sha.clone(), config: run.config.clone() };
    let matrix = MatrixRef { sha: &sha, store: &store };
    let worker = worker(ctx).await?;
    let oof = match store.oof(&run.lineage.oof_key).await? {
        Some(o) => o,
        None => {
            // Not cached (cleared storage): train the folds again, as the sweep did.
            let pool = pool(ctx, 1).await?;
            let spec = run.oof_spec.clone();
            let key = run.lineage.oof_key.clone();
            let keep = |f: TrainedFold| {
                let (store, key) = (store.clone(), key.clone());
                async move { Ok(store.put_fold(&key, &f).await?) }
            };
            // Every fold's trees count alike: the fraction is trees built of all the folds' trees.
            let trees = spec.params.num_trees.max(1);
            let per_fold = std::rc::Rc::new(std::cell::RefCell::new(vec![0usize; spec.splits]));
            let train = step("training the out-of-fold models again (their probabilities were not cached)");
            let folds = pool
                .oof(matrix, &spec, (0..spec.splits).collect(), keep, move |fold, tree, _| {
                    let mut p = per_fold.borrow_mut();
                    if let Some(slot) = p.get_mut(fold) {
                        *slot = tree;
                    }
                    train(p.iter().sum::<usize>() as f64 / (trees * p.len().max(1)) as f64);
                })
                .await?;
            let judge = step("judging the config on them");
            let swept = worker.sweep(settings.clone(), vec![config.clone()], matrix, &folds, judge).await?;
            let bytes = swept.oof_bytes.ok_or_else(|| AppError::missing("the worker sent no out-of-fold file"))?;
            store.put_oof(&swept.oof_key, &bytes).await?;
            bytes
        }
    };
    let _ = step("running the backtest");
    worker.backtest(settings, config, matrix, &oof).await
}

#[component]
pub fn BacktestPage() -> impl IntoView {
    let ctx = use_ctx();
    // A link (`#/backtest?run=…`) names the run; the run shown is written back to the URL.
    if let Some(id) = crate::route::current_param("run") {
        ctx.focus_run.set(Some(id));
    }
    // Cart first, then every other run, best Sharpe first.
    let choices = Memo::new(move |_| {
        let cart = ctx.cart.get();
        let mut rows = rank(&ctx.runs.get(), &Query::default());
        rows.sort_by_key(|r| !cart.contains(&r.run_id));
        rows
    });
    // The run shown: the one asked for (from the Leaderboard or the select) while it exists,
    // else the first choice. Derived, not written back by an effect, so opening the page from
    // the navigation loads a run at once.
    let focus_id = Memo::new(move |_| {
        let list = choices.get();
        let asked = ctx.focus_run.get();
        match asked {
            Some(id) if list.iter().any(|r| r.run_id == id) => Some(id),
            _ => list.first().map(|r| r.run_id.clone()),
        }
    });
    // A run asked for (by a link or the Leaderboard) that is not stored here: said, not hidden
    // behind another run, and kept in the URL so a reload says it again.
    let missing = Memo::new(move |_| {
        let asked = ctx.focus_run.get()?;
        let list = choices.get();
        (!list.is_empty() && !list.iter().any(|r| r.run_id == asked)).then_some(asked)
    });
    Effect::new(move |_| {
        if let (Some(id), None) = (focus_id.get(), missing.get()) {
            crate::route::set_query(Route::Backtest, &[("run", id)]);
        }
    });
    // The focused run's record; a Memo, so runs reloaded unchanged do not judge it again.
    let focused = Memo::new(move |_| {
        let id = focus_id.get()?;
        ctx.runs.get().into_iter().find(|r| r.run_id == id)
    });
    // Keyed by run id: a slower earlier load never replaces the run now selected.
    let progress: Loading = RwSignal::new(None);
    let report = LocalResource::new(move || {
        let run = focused.get();
        async move {
            let run = run?;
            let id = run.run_id.clone();
            let out = load_report(ctx, run, progress).await;
            progress.try_set(None);
            Some((id, out))
        }
    });
    let current = move || report.get().flatten().filter(|(id, _)| Some(id) == focus_id.get().as_ref());
    let loading = move || focused.get().is_some() && current().is_none();
    view! {
        <section class="page backtest" data-page="backtest">
            <Show when=move || !ctx.runs.get().is_empty()
                fallback=|| view! { <div class="panel empty"><h2>"Nothing to backtest yet"</h2>
                    <p class="muted">"Run a sweep on the " <a href=Route::Sweeps.href()>"Sweeps"</a>
                    " page and pick runs on the " <a href=Route::Leaderboard.href()>"Leaderboard"</a> "."</p></div> }>
            <div class="panel">
                <div class="filters">
                    <label>"Run"
                        <select data-testid="bt-run" on:change=move |ev| ctx.focus_run.set(Some(event_target_value(&ev)))>
                            {move || {
                                let cart = ctx.cart.get();
                                choices.get().into_iter().map(|r| {
                                    let id = r.run_id.clone();
                                    let sel = focus_id.get() == Some(id.clone());
                                    let mark = if cart.contains(&id) { "in cart · " } else { "" };
                                    view! { <option value=id.clone() selected=sel>{format!("{mark}{} · {} · Sharpe {:.2}", r.model_id, r.config, r.metrics.sharpe)}</option> }
                                }).collect_view()
                            }}
                        </select>
                    </label>
                    <Show when=loading><span class="muted small" data-testid="bt-loading">{move || match progress.get() {
                        Some((what, f, started)) if f > 0.0 => format!("{what}: {:.0}% · {}", 100.0 * f,
                            format::time_left((js_sys::Date::now() - started) / 1000.0, f)),
                        Some((what, _, _)) => format!("{what}…"),
                        None => "running the backtest in a worker…".into(),
                    }}</span></Show>
                </div>
                {move || missing.get().map(|id| view! {
                    <div class="notice warn small" data-testid="bt-missing">{format!("Run {id} is not stored here (deleted, or a link from another copy of the page: import its bundle on the Data page); showing another run.")}</div>
                })}
                {move || current().and_then(|(_, r)| r.err()).map(|e| view! { <ErrorView error=e testid="bt-error"/> })}
            </div>
            {move || current().and_then(|(_, r)| r.ok()).map(|r| { let run = r.run.clone(); view! { <ShareRun r=r.clone()/> <Report r=r/> <TrainStrategy run=run/> } })}
            </Show>
        </section>
    }
}

/// This run as a bundle (with its model, and its data when asked) or as a standalone report.
#[component]
fn ShareRun(r: BacktestReport) -> impl IntoView {
    let ctx = use_ctx();
    let with_data = RwSignal::new(true);
    let id = r.run.run_id.clone();
    let status = status_of(&ctx.marks.get_untracked(), Kind::Run, &id);
    let export = Action::new_local(move |id: &String| {
        let id = id.clone();
        let with_data = with_data.get_untracked();
        async move {
            share::export(ctx, Vec::new(), vec![id], with_data)
                .await
                .map(|e| format!("Wrote {} ({}) in {:.0} ms.", e.file, format::bytes(e.bytes), e.ms))
        }
    });
    let report = Action::new_local(move |r: &BacktestReport| {
        let r = r.clone();
        let model = ctx.models.get_untracked().into_iter().find(|m| m.model_id == r.run.model_id);
        async move { share::run_report(ctx, r, model).await.map(|f| format!("Wrote {f}.")) }
    });
    view! {
        <div class="panel share" data-testid="bt-share">
            {match status {
                Some(why) => view! { <span class="chip warn" data-testid="bt-status" title=why.clone()>"unverifiable"</span> <span class="small muted">{why}</span> }.into_any(),
                None => view! { <span class="chip ok" data-testid="bt-status">"verified"</span> <span class="small muted">"computed here, or imported and re-judged bit for bit"</span> }.into_any(),
            }}
            <label class="check"><input type="checkbox" data-testid="bt-export-with-data" prop:checked=move || with_data.get()
                on:change=move |ev| with_data.set(event_target_checked(&ev))/>" with data"</label>
            <button data-testid="bt-export" disabled=move || export.pending().get()
                on:click={ let id = id.clone(); move |_| { export.dispatch(id.clone()); } }>"Export this run"</button>
            <button data-testid="bt-report-download" disabled=move || report.pending().get()
                on:click=move |_| { report.dispatch(r.clone()); }>"Download report"</button>
            {move || outcome(export.value().get(), "bt-export-done", "share-error")}
            {move || outcome(report.value().get(), "bt-report-done", "share-error")}
        </div>
    }
}

/// What a trade is sorted by in the column named `column`.
fn trade_key(t: &(usize, TradeRow), column: &str) -> Key {
    let x = &t.1.trade;
    match column {
        "exit" => Key::Text(t.1.exit_time.clone()),
        "side" => Key::Text(x.side.as_str().to_string()),
        "entry_price" => Key::Num(x.entry_price),
        "exit_price" => Key::Num(x.exit_price),
        "size" => Key::Num(x.size),
        "return" => Key::Num(x.ret),
        "bars" => Key::Num(x.bars_held as f64),
        "prob" => Key::Num(x.prob),
        "exit_on" => Key::Text(x.exit_reason.as_str().to_string()),
        // "entry", and the default: newest first, as the table opens
        _ => Key::Num(t.0 as f64),
    }
}

/// How many trade rows are drawn at once (a sort chooses which: the worst, the longest…).
const TRADES_SHOWN: usize = 250;

#[component]
fn Report(r: BacktestReport) -> impl IntoView {
    let m = r.run.metrics;
    let hold = r.buy_and_hold;
    let pass = r.run.gate.pass();
    let kpi = |value: String, label: &'static str, testid: &'static str, metric: &'static str| {
        view! { <div title=definition(metric)><b data-testid=testid>{value}</b><span>{label}</span></div> }
    };
    let l = &r.run.lineage;
    let selected = RwSignal::new(None::<usize>);
    let order = RwSignal::new(None::<Order>);
    let total = r.trades.len();
    let trades: Vec<(usize, TradeRow)> = r.trades.iter().cloned().enumerate().collect();
    let shown = move || {
        let rows = sorted(trades.clone(), order.get(), trade_key);
        // The engine's order is oldest first; the table opens newest first.
        let rows: Vec<_> = if order.get().is_none() { rows.into_iter().rev().collect() } else { rows };
        rows.into_iter().take(TRADES_SHOWN).collect::<Vec<_>>()
    };
    // Each pick from the table, counted: picking the trade shown again brings it back into view.
    let picks = RwSignal::new(0u64);
    let pick = move |key: String| {
        selected.set(key.parse().ok());
        picks.update(|n| *n += 1);
    };
    let csv_error = RwSignal::new(None::<AppError>);
    let name = format!("{}_{}", r.run.model_id, short(&r.run.run_id));
    let report = StoredValue::new(r.clone());
    let download = move |what: &'static str| {
        let text = report.with_value(|r| if what == "trades" { sheet::trades(r) } else { sheet::equity(r) });
        csv_error.set(download::text(&format!("{what}_{name}.csv"), "text/csv", &text).err());
    };
    let download2 = download.clone();
    view! {
        <div class="panel" data-testid="bt-report" data-run=r.run.run_id.clone()>
            <div class="panel-head">
                <h2><code>{r.run.config.to_string()}</code> " · " {r.run.model_id.clone()}</h2>
                <span class="muted small">{format!("{} .. {} · {} bars · out of fold, {} {} splits", r.run.start, r.run.end, m.bars, r.run.splits,
                    match r.run.cv { engine::cv::CvKind::WalkForward => "purged walk-forward", engine::cv::CvKind::KFold => "purged k-fold" })}</span>
                {if pass {
                    view! { <span class="chip ok" data-testid="bt-gate">"pass"</span> }.into_any()
                } else {
                    view! { <span class="chip bad" data-testid="bt-gate">"fail"</span> " " <span class="small muted">{r.run.gate.reasons_text()}</span> }.into_any()
                }}
            </div>
            {(!pass).then(|| view! { <Remedies run=r.run.clone()/> })}
            <div class="kpis">
                {kpi(format::fixed(m.sharpe, 2), "Sharpe", "bt-sharpe", "sharpe")}
                {kpi(format::fixed(m.sortino, 2), "Sortino", "bt-sortino", "sortino")}
                {kpi(format::fixed(m.calmar, 2), "Calmar", "bt-calmar", "calmar")}
                {kpi(pct(m.total_return), "total return", "bt-return", "return")}
                {kpi(pct(m.cagr), "CAGR", "bt-cagr", "cagr")}
                {kpi(pct(m.volatility), "volatility (annual)", "bt-vol", "volatility")}
                {kpi(pct(m.max_dd), "max drawdown", "bt-maxdd", "max_dd")}
                {kpi(format!("{}", m.max_dd_bars), "longest drawdown (bars)", "bt-ddbars", "max_dd_bars")}
                {kpi(format!("{}", m.trades), "trades", "bt-trade-count", "trades")}
                {kpi(format!("{:.0}%", 100.0 * m.win_rate), "win rate", "bt-win", "win_rate")}
                {kpi(if m.trades == 0 { "—".into() } else { m.profit_factor.map(|p| format!("{p:.2}")).unwrap_or_else(|| "∞".into()) }, "profit factor", "bt-pf", "profit_factor")}
                {kpi(pct(m.avg_trade), "average trade", "bt-avg", "avg_trade")}
                {kpi(format!("{} / {}", pct(m.best_trade), pct(m.worst_trade)), "best / worst trade", "bt-bestworst", "best_trade")}
                {kpi(format!("{:.1}", m.avg_bars_held), "bars held (mean)", "bt-held", "avg_bars_held")}
                {kpi(format!("{:.0}%", 100.0 * m.exposure), "exposure", "bt-exposure", "exposure")}
                {kpi(format::fixed(m.psr, 3), "PSR: P(Sharpe > 0)", "bt-psr", "psr")}
                <div title=definition("dsr")>
                    <b data-testid="bt-dsr">{format::fixed(m.dsr, 3)}</b>
                    <span>{r.run.trials.map_or("DSR (judged alone)".to_string(), |t| format!("DSR, {} configs", t.count))}</span>
                </div>
                {r.run.top_pct_share.map(|s| view! {
                    <div title="tested bars whose probability reached their threshold (the quantile of the model's year before)">
                        <b data-testid="bt-top-pct-share" data-met=s.met().to_string()>{s.realised_text()}</b>
                        <span>{format!("top % got, asked {}{}", s.asked_text(), if s.met() { "" } else { " (not met)" })}</span>
                    </div>
                })}
            </div>
            <p class="small muted" data-testid="bt-hold-kpis" title="the ticker bought at the first tested bar's close and held to the last, fully invested, without costs">{format!(
                "Buy and hold over the same bars: return {} · Sharpe {:.2} · max drawdown {} · CAGR {}",
                pct(hold.total_return), hold.sharpe, pct(hold.max_dd), pct(hold.cagr)
            )}</p>
            <p class="small muted" data-testid="bt-lineage">{format!(
                "run {} · matrix {} · config {} · policy {} · risk {} ({}) · out-of-fold {}",
                r.run.run_id, l.matrix_sha, l.config_sha, l.policy_sha, l.risk_sha, l.risk_profile.as_str(), l.oof_key
            )}</p>
        </div>
        <Prices r=report.get_value() selected picks/>
        <div class="panel">
            <div class="panel-head">
                <h2>"Equity and drawdown " <span class="muted small">"starting at 1.0; positions are the risk profile's fraction of equity, filled at the next open"</span></h2>
                <button data-testid="bt-equity-csv" on:click=move |_| download("equity")>"Download equity CSV"</button>
            </div>
            <EquityChart equity=r.equity.clone() trades=r.trades.clone() selected/>
        </div>
        <div class="panel">
            <div class="panel-head">
                <h2>{format!("Trades ({total})")} {(total > TRADES_SHOWN).then(|| view! { <span class="muted small">{format!(" {TRADES_SHOWN} shown: sort to choose which")}</span> })}</h2>
                <span class="muted small">"click a row (or Enter) to mark it on the chart"</span>
                <button data-testid="bt-trades-csv" disabled=total == 0 on:click=move |_| download2("trades")>"Download trades CSV"</button>
            </div>
            {move || csv_error.get().map(|e| view! { <ErrorView error=e testid="bt-csv-error"/> })}
            <div class="scroll-x tradescroll">
            <table class="grid" data-testid="bt-trades">
                <thead><tr>
                    <SortTh order column="entry" label="entry"/>
                    <SortTh order column="exit" label="exit"/>
                    <SortTh order column="side" label="side"/>
                    <SortTh order column="entry_price" label="entry price" numeric=true/>
                    <SortTh order column="exit_price" label="exit price" numeric=true/>
                    <SortTh order column="size" label="size" numeric=true title="fraction of equity"/>
                    <SortTh order column="return" label="return" numeric=true/>
                    <SortTh order column="bars" label="bars" numeric=true/>
                    <SortTh order column="prob" label="p at entry" numeric=true/>
                    <SortTh order column="exit_on" label="exit on"/>
                </tr></thead>
                <tbody on:keydown=move |ev| row_keys(ev, pick)>
                    {move || shown().into_iter().enumerate().map(|(i, (k, t))| view! {
                        <tr tabindex=if i == 0 { "0" } else { "-1" } data-key=k.to_string() aria-current=move || (selected.get() == Some(k)).to_string()
                            class:selected=move || selected.get() == Some(k) on:click=move |_| { selected.set(Some(k)); picks.update(|n| *n += 1); }>
                            <td>{t.entry_time.clone()}</td><td>{t.exit_time.clone()}</td>
                            <td>{t.trade.side.as_str()}</td>
                            <td class="num">{format!("{:.2}", t.trade.entry_price)}</td>
                            <td class="num">{format!("{:.2}", t.trade.exit_price)}</td>
                            <td class="num">{pct(t.trade.size).trim_start_matches('+').to_string()}</td>
                            <td class="num">{pct(t.trade.ret)}</td>
                            <td class="num">{t.trade.bars_held}</td>
                            <td class="num">{format!("{:.3}", t.trade.prob)}</td>
                            <td>{t.trade.exit_reason.as_str()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </div>
    }
}

/// The tested bars as the model's build priced them, with its fills.
#[derive(Clone)]
struct Picture {
    /// The bars the build gave the features: studies are computed over these, so their warm-up
    /// is the one the trees saw.
    full: Arc<Series>,
    bars: std::ops::Range<usize>,
    shown: Arc<Series>,
    marks: Arc<Vec<study::Mark>>,
    clock: Clock,
    tz: String,
}

async fn load_picture(ctx: Ctx, r: &BacktestReport) -> Result<Picture, AppError> {
    let without = |what: String| {
        AppError::missing(format!(
            "{what}, so the bars of this run cannot be drawn (imported without data? import a bundle exported with data)"
        ))
    };
    let model = ctx
        .models
        .get_untracked()
        .into_iter()
        .find(|m| m.model_id == r.run.model_id)
        .ok_or_else(|| without(format!("model {} is not stored here", r.run.model_id)))?;
    let meta = ctx
        .datasets
        .get_untracked()
        .into_iter()
        .find(|d| d.id == model.dataset_id)
        .ok_or_else(|| without(format!("the dataset model {} was built on is not stored here", model.model_id)))?;
    let idx = meta
        .summary
        .tickers
        .iter()
        .position(|t| t.ticker == model.model.ticker)
        .ok_or_else(|| without(format!("dataset {} has no ticker {}", meta.name, model.model.ticker)))?;
    // The bars the build gave the features, priced as it priced them.
    let spec = model.build_spec.clone().unwrap_or_default();
    let full = study::built(&store(ctx)?.series(&meta, idx).await?, &spec, &meta.summary.tz)?;
    let (first, last) = match (r.equity.first(), r.equity.last()) {
        (Some(a), Some(b)) => (a.time.as_str(), b.time.as_str()),
        _ => return Err(AppError::missing("this run has no tested bars")),
    };
    let bars = study::tested(&full, &meta.summary.tz, first, last);
    let shown = Arc::new(full.slice(bars.start, bars.end));
    let trades: Vec<_> = r.trades.iter().map(|t| t.trade.clone()).collect();
    let marks = Arc::new(study::marks(&shown.ts, &trades));
    let clock = Clock::new(&meta.summary.tz, meta.summary.tickers[idx].cadence);
    Ok(Picture { full: Arc::new(full), bars, shown, marks, clock, tz: meta.summary.tz.clone() })
}

/// The tested bars with the run's fills and the model's own features drawn as studies (over
/// the prices, or in panes), linked to the trades table both ways.
#[component]
fn Prices(r: BacktestReport, selected: RwSignal<Option<usize>>, picks: RwSignal<u64>) -> impl IntoView {
    let ctx = use_ctx();
    let features = ctx
        .models
        .get_untracked()
        .into_iter()
        .find(|m| m.model_id == r.run.model_id)
        .map(|m| m.model.features)
        .unwrap_or_default();
    let choices = StoredValue::new(study::choices(&features));
    let chosen = RwSignal::new(study::defaults(&choices.get_value()));
    let log = RwSignal::new(false);
    let report = StoredValue::new(r);
    let picture = LocalResource::new(move || async move { load_picture(ctx, &report.get_value()).await });
    let ready = move || picture.get().and_then(|p| p.ok());
    // A log axis to begin with when the tested prices grew (or fell) more than tenfold, as the
    // equity chart does: a decade of a stock that grew many times over is readable at both ends.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(p) = ready() else { return false };
        let lo = p.shown.low.iter().copied().filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
        let hi = p.shown.high.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        log.set(hi / lo > 10.0);
        true
    });
    // Each chosen study over every bar, then cut to the tested ones.
    let studies = Memo::new(move |_| -> Result<Vec<Arc<Study>>, AppError> {
        let Some(p) = ready() else { return Ok(Vec::new()) };
        let ids = chosen.get();
        choices.with_value(|all| {
            ids.iter()
                .filter_map(|id| all.iter().find(|c| &c.id == id))
                .map(|c| Ok(Arc::new(study::compute(c, &p.full, &p.tz)?.slice(p.bars.clone()))))
                .collect()
        })
    });
    let series = Signal::derive(move || ready().map(|p| p.shown));
    let marks = Signal::derive(move || ready().map(|p| p.marks).unwrap_or_default());
    let clock = Signal::derive(move || ready().map(|p| p.clock).unwrap_or_default());
    let focus = Signal::derive(move || {
        let k = selected.get()?;
        ready()?.marks.iter().find(|m| m.trade == k && m.entry).map(|m| m.bar)
    });
    let on_trade = Callback::new(move |k: usize| selected.set(Some(k)));
    let place = |p: Place| if p == Place::Price { "over the prices" } else { "in a pane" };
    view! {
        <div class="panel" data-testid="bt-prices">
            <div class="panel-head">
                <h2>"Prices and trades " <span class="muted small">"the tested bars as the build priced them; ▲ buy, ▼ sell, filled: entry, hollow: exit"</span></h2>
                <label class="check small"><input type="checkbox" data-testid="price-log" prop:checked=move || log.get()
                    on:change=move |ev| log.set(event_target_checked(&ev))/>" log scale"</label>
            </div>
            <div class="studies" data-testid="studies">
                {move || chosen.get().into_iter().map(|id| {
                    let label = id.clone();
                    view! {
                        <span class="chip study" data-testid="study-chip" data-study=id.clone()>{label}
                            <button class="link" aria-label=format!("remove {id}") title="remove"
                                on:click={ let id = id.clone(); move |_| chosen.update(|c| c.retain(|x| *x != id)) }>"×"</button>
                        </span>
                    }
                }).collect_view()}
                <label class="small">"Add a study "
                    <select data-testid="study-add" on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if !id.is_empty() {
                            chosen.update(|c| if !c.contains(&id) { c.push(id) });
                        }
                    }>
                        <option value="" selected=true>{move || if choices.with_value(|c| c.is_empty()) { "the model has no feature to draw" } else { "one of the model's features…" }}</option>
                        {move || {
                            let taken = chosen.get();
                            choices.with_value(|all| all.iter().filter(|c| !taken.contains(&c.id)).map(|c| {
                                view! { <option value=c.id.clone()>{format!("{} ({})", c.id, place(c.place))}</option> }
                            }).collect_view())
                        }}
                    </select>
                </label>
                <span class="muted small">"drag or ←/→ to move · wheel, pinch or +/− to zoom · double-click or Esc: all · click a fill to pick its trade"</span>
            </div>
            {move || match picture.get() {
                None => view! { <p class="muted small" data-testid="prices-loading">"reading the bars…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice warn small" data-testid="prices-missing">{e.to_string()}</p> }.into_any(),
                Some(Ok(_)) => ().into_any(),
            }}
            {move || studies.get().err().map(|e| view! { <ErrorView error=e testid="studies-error"/> })}
            <CandleChart series focus clock marks selected log on_trade pick=picks
                studies=Signal::derive(move || studies.get().unwrap_or_default())/>
        </div>
    }
}

/// Each failed check with what to try, in the seed's words, and the steps that do it
/// (`engine::remedy`): a sweep filled in on the Sweeps page, a wider build on the Build page.
#[component]
fn Remedies(run: Run) -> impl IntoView {
    let ctx = use_ctx();
    let model = ctx.models.get_untracked().into_iter().find(|m| m.model_id == run.model_id);
    let base =
        engine::pack::template_grid(model.as_ref().map(|m| (m.model.pack_id.as_str(), m.model.template.as_str())));
    let data = model.as_ref().and_then(|m| {
        let d = ctx.datasets.get_untracked().into_iter().find(|d| d.id == m.dataset_id)?;
        let t = d.summary.ticker(&m.model.ticker)?;
        Some((t.start.chars().take(10).collect::<String>(), t.end.chars().take(10).collect::<String>()))
    });
    let spec = model.as_ref().and_then(|m| m.build_spec.clone()).unwrap_or_default();
    let built =
        data.as_ref().map(|(s, e)| (spec.start.clone().unwrap_or(s.clone()), spec.end.clone().unwrap_or(e.clone())));
    let span = match (&data, &built) {
        (Some(d), Some(b)) => Some(Span { built: (&b.0, &b.1), data: (&d.0, &d.1) }),
        _ => None,
    };
    // A stop needs an ATR column (`run::atr_column`: a feature named atr).
    let has_atr = model.as_ref().is_some_and(|m| m.model.features.iter().any(|f| f.name == "atr"));
    let list = remedies(&run, Setting { base: &base, span, has_atr });
    let model_id = run.model_id.clone();
    let go = move |step: Step| {
        ctx.current_model.set(Some(model_id.clone()));
        let route = match step {
            Step::Sweep { label, grid } => {
                ctx.sweep_draft.set(Some((*grid, label)));
                Route::Sweeps
            }
            Step::Build { label, start, end, horizon } => {
                ctx.build_draft.set(Some(BuildDraft { model_id: model_id.clone(), start, end, horizon, why: label }));
                Route::Build
            }
            Step::Import { .. } => Route::Data,
        };
        let _ = web_sys::window().map(|w| w.location().set_hash(&route.href()));
    };
    view! {
        <ul class="remedies" data-testid="bt-remedies">
            {list.into_iter().map(|r| {
                let go = go.clone();
                view! {
                    <li data-reason=r.reason.as_str()>
                        <code>{r.reason.as_str()}</code>" — "{r.advice}
                        {r.steps.into_iter().map(|step| {
                            let go = go.clone();
                            let (label, kind) = match &step {
                                Step::Sweep { label, .. } => (label.clone(), "sweep"),
                                Step::Build { label, .. } => (label.clone(), "build"),
                                Step::Import { label } => (label.clone(), "import"),
                            };
                            view! { " " <button class="link" data-testid="bt-remedy" data-step=kind on:click=move |_| go(step.clone())>{label}" →"</button> }
                        }).collect_view()}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
