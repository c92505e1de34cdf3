//! Backtest (seed Phase 6): one run judged again in a worker from its own record, on the same
//! matrix and out-of-fold probabilities, now with its equity and drawdown curves and its trades.
//! The numbers are the run's own (the engine guarantees it: same inputs, same run), so what the
//! Leaderboard ranked is what this page draws.

use leptos::prelude::*;

use engine::bundle::Kind;
use engine::config::SweepConfig;
use engine::leaderboard::{rank, Query};
use engine::run::{BacktestReport, Run, RunSettings};

use crate::components::error::outcome;
use crate::components::train_strategy::TrainStrategy;
use crate::components::ErrorView;
use crate::error::AppError;
use crate::format::{self, pct};
use crate::pool::{MatrixRef, TrainedFold};
use crate::route::Route;
use crate::share::{self, status_of};
use crate::state::{pool, run_inputs, use_ctx, worker, Ctx};

async fn load_report(ctx: Ctx, run: Run) -> Result<BacktestReport, AppError> {
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
            let folds = pool.oof(matrix, &spec, (0..spec.splits).collect(), keep, |_, _, _| {}).await?;
            let swept = worker.sweep(settings.clone(), vec![config.clone()], matrix, &folds).await?;
            let bytes = swept.oof_bytes.ok_or_else(|| AppError::missing("the worker sent no out-of-fold file"))?;
            store.put_oof(&swept.oof_key, &bytes).await?;
            bytes
        }
    };
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
    let report = LocalResource::new(move || {
        let run = focused.get();
        async move {
            let run = run?;
            let id = run.run_id.clone();
            Some((id, load_report(ctx, run).await))
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
                    <Show when=loading><span class="muted small" data-testid="bt-loading">"running the backtest in a worker…"</span></Show>
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

#[component]
fn Report(r: BacktestReport) -> impl IntoView {
    let m = r.run.metrics;
    let pass = r.run.gate.pass();
    let reasons = r.run.gate.reasons_text();
    let kpi = |value: String, label: &'static str, testid: &'static str| view! { <div><b data-testid=testid>{value}</b><span>{label}</span></div> };
    let shown = r.trades.len().min(250);
    let l = &r.run.lineage;
    view! {
        <div class="panel" data-testid="bt-report" data-run=r.run.run_id.clone()>
            <div class="panel-head">
                <h2><code>{r.run.config.to_string()}</code> " · " {r.run.model_id.clone()}</h2>
                <span class="muted small">{format!("{} .. {} · {} bars · out of fold, {} {} splits", r.run.start, r.run.end, m.bars, r.run.splits,
                    match r.run.cv { engine::cv::CvKind::WalkForward => "purged walk-forward", engine::cv::CvKind::KFold => "purged k-fold" })}</span>
                {if pass {
                    view! { <span class="chip ok" data-testid="bt-gate">"pass"</span> }.into_any()
                } else {
                    view! { <span class="chip bad" data-testid="bt-gate">"fail"</span> " " <span class="small muted">{reasons}</span> }.into_any()
                }}
            </div>
            <div class="kpis">
                {kpi(format!("{:.2}", m.sharpe), "Sharpe", "bt-sharpe")}
                {kpi(format!("{:.2}", m.sortino), "Sortino", "bt-sortino")}
                {kpi(format!("{:.2}", m.calmar), "Calmar", "bt-calmar")}
                {kpi(pct(m.total_return), "total return", "bt-return")}
                {kpi(pct(m.cagr), "CAGR", "bt-cagr")}
                {kpi(pct(m.volatility), "volatility (annual)", "bt-vol")}
                {kpi(pct(m.max_dd), "max drawdown", "bt-maxdd")}
                {kpi(format!("{}", m.max_dd_bars), "longest drawdown (bars)", "bt-ddbars")}
                {kpi(format!("{}", m.trades), "trades", "bt-trade-count")}
                {kpi(format!("{:.0}%", 100.0 * m.win_rate), "win rate", "bt-win")}
                {kpi(m.profit_factor.map(|p| format!("{p:.2}")).unwrap_or_else(|| "∞".into()), "profit factor", "bt-pf")}
                {kpi(pct(m.avg_trade), "average trade", "bt-avg")}
                {kpi(format!("{} / {}", pct(m.best_trade), pct(m.worst_trade)), "best / worst trade", "bt-bestworst")}
                {kpi(format!("{:.1}", m.avg_bars_held), "bars held (mean)", "bt-held")}
                {kpi(format!("{:.0}%", 100.0 * m.exposure), "exposure", "bt-exposure")}
                {kpi(format!("{:.3}", m.psr), "PSR: P(Sharpe > 0)", "bt-psr")}
                <div title="the PSR against the Sharpe the best of the sweep's configs reaches by luck">
                    <b data-testid="bt-dsr">{format!("{:.3}", m.dsr)}</b>
                    <span>{r.run.trials.map_or("DSR (judged alone)".to_string(), |t| format!("DSR, {} configs", t.count))}</span>
                </div>
                {r.run.top_pct_share.map(|s| view! {
                    <div title="tested bars whose probability reached their threshold (the quantile of the model's year before)">
                        <b data-testid="bt-top-pct-share" data-met=s.met().to_string()>{s.realised_text()}</b>
                        <span>{format!("top % got, asked {}{}", s.asked_text(), if s.met() { "" } else { " (not met)" })}</span>
                    </div>
                })}
            </div>
            <p class="small muted" data-testid="bt-lineage">{format!(
                "run {} · matrix {} · config {} · policy {} · risk {} ({}) · out-of-fold {}",
                r.run.run_id, l.matrix_sha, l.config_sha, l.policy_sha, l.risk_sha, l.risk_profile.as_str(), l.oof_key
            )}</p>
        </div>
        <div class="panel">
            <h2>"Equity " <span class="muted small">"starting at 1.0; positions are the risk profile's fraction of equity, filled at the next open"</span></h2>
            {curve(&r, false)}
            <h2>"Drawdown"</h2>
            {curve(&r, true)}
        </div>
        <div class="panel">
            <h2>{format!("Trades ({})", r.trades.len())} {(r.trades.len() > shown).then(|| view! { <span class="muted small">{format!(" the last {shown} shown")}</span> })}</h2>
            <div class="scroll-x tradescroll">
            <table class="grid" data-testid="bt-trades">
                <thead><tr><th>"entry"</th><th>"exit"</th><th>"side"</th><th class="num">"entry price"</th><th class="num">"exit price"</th>
                    <th class="num">"size"</th><th class="num">"return"</th><th class="num">"bars"</th><th class="num">"p at entry"</th><th>"exit on"</th></tr></thead>
                <tbody>
                    {r.trades.iter().rev().take(shown).map(|t| view! {
                        <tr>
                            <td>{t.entry_time.clone()}</td><td>{t.exit_time.clone()}</td>
                            <td>{format!("{:?}", t.trade.side).to_lowercase()}</td>
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

const W: f64 = 900.0;
const PAD: f64 = 36.0;

/// The equity (or drawdown) curve as an SVG polyline, at most one point per pixel column.
fn curve(r: &BacktestReport, drawdown: bool) -> impl IntoView {
    let h = if drawdown { 110.0 } else { 220.0 };
    let values: Vec<f64> = r.equity.iter().map(|p| if drawdown { p.drawdown } else { p.equity }).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let (lo, hi) = if drawdown {
        (lo.min(-1e-9), 0.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.01, hi + 0.01)
    };
    let n = values.len().max(2);
    let step = (n as f64 / (W - 2.0 * PAD)).ceil().max(1.0) as usize;
    let px = |i: usize| PAD + i as f64 / (n - 1) as f64 * (W - 2.0 * PAD);
    let py = |v: f64| h - 18.0 - (v - lo) / (hi - lo) * (h - 30.0);
    let pts = values
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == values.len())
        .map(|(i, &v)| format!("{:.1},{:.1}", px(i), py(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let first = r.equity.first().map(|p| p.time.clone()).unwrap_or_default();
    let last = r.equity.last().map(|p| p.time.clone()).unwrap_or_default();
    let (top, bottom) = if drawdown { (pct(hi), pct(lo)) } else { (format!("{hi:.4}"), format!("{lo:.4}")) };
    view! {
        <svg class=if drawdown { "chart-svg dd" } else { "chart-svg" } data-testid=if drawdown { "bt-drawdown" } else { "bt-equity" } viewBox=format!("0 0 {W} {h}") preserveAspectRatio="none">
            <line class="axis" x1=PAD y1=h - 18.0 x2=W - PAD y2=h - 18.0/>
            <text class="tick" x=2 y=16>{top}</text>
            <text class="tick" x=2 y=h - 20.0>{bottom}</text>
            <text class="tick" x=PAD y=h - 4.0>{first}</text>
            <text class="tick" x=W - PAD - 70.0 y=h - 4.0>{last}</text>
            <polyline class=if drawdown { "drawdown" } else { "train" } points=pts/>
        </svg>
    }
}
