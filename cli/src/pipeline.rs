//! Sweep → Leaderboard → Train → Backtest → Signals from the command line (seed Phases 3–7).
//! Each command takes the seed's API body as JSON (`--spec FILE`) or the same fields as flags;
//! flags win over the file. Every number comes from the engine (`engine::oof`, `engine::run`,
//! `engine::sweep`, `engine::leaderboard`, `engine::strategy`); this module reads and writes
//! the store and prints.
//!
//! ```text
//! btb sweep     (--spec sweep.json | --model-id ID --thresholds-variants L… --top-pct-variants F…
//!                [--allowed-hours-variants H…]) [--splits N] [--cv walk_forward|k_fold] [--tag T]
//!                [--min-trades N] [--min-sharpe X] [model and policy flags] [--json]
//! btb leaderboard [--model-id ID] [--pack-id P] [--risk-profile R] [--tag T] [--pass-gate]
//!                [--rank-by METRIC] [--limit N] [--json]
//! btb train     (--spec train.json | --model-id ID --config-kind thr|top_pct --config-value V)
//!                [--allowed-hours H] [--calibration C] [--calibration-folds K] [--json]
//! btb backtest  (--spec backtest.json | --model-id ID (--thresholds L | --top-pct F))
//!                [--allowed-hours H] [--splits N] … [--equity-csv FILE] [--json]
//! btb signals   --model-id ID [--limit N] [--json]
//! btb alerts    --model-id ID --out FILE.csv [--limit N]
//! btb pipeline  --model-id ID [--start D] [--end D] [--thresholds L | --top-pct F]
//!                [--allowed-hours H] [--splits N] [--momentum-min X] [--json]
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::cv::CvKind;
use engine::data::time::format_utc;
use engine::gbt::fit::CalibrationKind;
use engine::gbt::TrainParams;
use engine::leaderboard::{self, Query, RankBy};
use engine::matrix::{build_scoring, Matrix};
use engine::oof::{self, Oof, OofProgress, OofSpec};
use engine::policy::PolicyOptions;
use engine::risk::RiskProfile;
use engine::run::{evaluate, RunSettings};
use engine::strategy::{self, Owner, Signal, TrainBody};
use engine::config::{Config, ConfigKind};
use engine::sweep::{self, expand, BacktestBody, ResearchOptions, SweepBody};

use crate::research::{built_matrix, now_ms, read_json};
use crate::store::{ModelRecord, Store};
use crate::train::{ParamArgs, TrainArgs};
use crate::{table, to_json, CliError};

/// `target.f = source.f` for each named field whose flag was given (flags win over the spec).
macro_rules! override_with {
    ($target:expr, $source:expr; $($f:ident),*) => {$(
        if $source.$f.is_some() {
            $target.$f = $source.$f.clone();
        }
    )*};
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// Policy settings every config shares (exits, costs, filters).
#[derive(Args, Clone, Default)]
pub struct PolicyArgs {
    /// Momentum gate: open longs only when momentum_score_total ≥ this.
    #[arg(long, allow_hyphen_values = true)]
    pub momentum_min: Option<f64>,
    /// Exit after this many bars in a trade (0 = no time exit) [default: the label horizon].
    #[arg(long)]
    pub hold_bars: Option<usize>,
    /// Stop at this many ATRs against the entry (needs an atr_* feature).
    #[arg(long)]
    pub atr_stop: Option<f64>,
    /// Take profit at this many ATRs from the entry.
    #[arg(long)]
    pub atr_target: Option<f64>,
    /// Go flat on every session's last bar [default: true for intraday models].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub flat_at_session_end: Option<bool>,
    /// Commission per unit traded, in basis points [default: 0].
    #[arg(long)]
    pub commission_bps: Option<f64>,
    /// Slippage per unit traded, in basis points [default: 0].
    #[arg(long)]
    pub slippage_bps: Option<f64>,
    /// Trade the mirror-image short side too.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_short: Option<bool>,
}

impl PolicyArgs {
    fn apply(&self, o: &mut PolicyOptions) {
        override_with!(o, self; momentum_min, hold_bars, atr_stop, atr_target, flat_at_session_end, commission_bps, slippage_bps, allow_short);
    }
}

/// How configs are judged: CV, model, calibration, policy settings.
#[derive(Args, Clone, Default)]
pub struct ResearchArgs {
    /// Cross-validation folds [default: 5].
    #[arg(long)]
    pub splits: Option<usize>,
    /// walk_forward (default) or k_fold.
    #[arg(long, value_parser = ["walk_forward", "k_fold"])]
    pub cv: Option<String>,
    /// Rows dropped after each k-fold test block besides the purge [default: 0].
    #[arg(long)]
    pub embargo: Option<usize>,
    /// Calibrator of each fold's model [default: sigmoid].
    #[arg(long, value_parser = ["sigmoid", "isotonic", "none"])]
    pub calibration: Option<String>,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl ResearchArgs {
    fn apply(&self, r: &mut ResearchOptions) -> Result<(), CliError> {
        override_with!(r, self; splits, embargo);
        if let Some(cv) = &self.cv {
            r.cv = Some(if cv == "k_fold" { CvKind::KFold } else { CvKind::WalkForward });
        }
        if let Some(c) = &self.calibration {
            r.calibration = Some(c.parse::<CalibrationKind>().map_err(usage)?);
        }
        let p = self.params.apply(r.params.clone().unwrap_or_default());
        if p != TrainParams::default() || r.params.is_some() {
            r.params = Some(p);
        }
        self.policy.apply(&mut r.policy);
        Ok(())
    }
}

#[derive(Args)]
pub struct SweepArgs {
    /// JSON body of `POST /backtest_sweep`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub pack_id: Option<String>,
    /// Threshold ladders, e.g. 0.50,0.55,0.60 0.55,0.60,0.65.
    #[arg(long, num_args = 1..)]
    pub thresholds_variants: Vec<String>,
    /// Top fractions, e.g. 0.10 0.15.
    #[arg(long, num_args = 1..)]
    pub top_pct_variants: Vec<f64>,
    /// Allowed-hours sets, e.g. 13,14 13,14,15.
    #[arg(long, num_args = 1..)]
    pub allowed_hours_variants: Vec<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Gate override: fewest trades.
    #[arg(long)]
    pub min_trades: Option<usize>,
    /// Gate override: Sharpe must exceed this.
    #[arg(long, allow_hyphen_values = true)]
    pub min_sharpe: Option<f64>,
    #[command(flatten)]
    pub research: ResearchArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LeaderboardArgs {
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub pack_id: Option<String>,
    #[arg(long)]
    pub risk_profile: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Only runs that pass the gate.
    #[arg(long)]
    pub pass_gate: bool,
    /// sharpe (default), return, sortino, calmar, cagr, max_dd, trades, win_rate, profit_factor.
    #[arg(long, default_value = "sharpe")]
    pub rank_by: String,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BacktestArgs {
    /// JSON body of `POST /backtest`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub pack_id: Option<String>,
    /// A threshold ladder, e.g. 0.60,0.65,0.70.
    #[arg(long)]
    pub thresholds: Option<String>,
    /// Or a top fraction, e.g. 0.10.
    #[arg(long)]
    pub top_pct: Option<f64>,
    #[arg(long)]
    pub allowed_hours: Option<String>,
    #[arg(long)]
    pub min_trades: Option<usize>,
    #[arg(long, allow_hyphen_values = true)]
    pub min_sharpe: Option<f64>,
    #[command(flatten)]
    pub research: ResearchArgs,
    /// Also write the equity and drawdown curves as CSV.
    #[arg(long, value_name = "FILE")]
    pub equity_csv: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SignalsArgs {
    #[arg(long)]
    pub model_id: String,
    /// The newest N signals [default: 10].
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AlertsArgs {
    #[arg(long)]
    pub model_id: String,
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// The newest N signals [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Args)]
pub struct PipelineArgs {
    #[arg(long)]
    pub model_id: String,
    #[arg(long)]
    pub pack_id: Option<String>,
    /// Create the model on this ticker first when it does not exist yet.
    #[arg(long)]
    pub ticker: Option<String>,
    /// Dataset for a model created here (default: the newest holding the ticker).
    #[arg(long)]
    pub dataset: Option<String>,
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// The ladder to train and backtest [default: 0.60,0.65,0.70 unless --top-pct].
    #[arg(long)]
    pub thresholds: Option<String>,
    #[arg(long)]
    pub top_pct: Option<f64>,
    #[arg(long)]
    pub allowed_hours: Option<String>,
    /// Signals shown at the end.
    #[arg(long, default_value_t = 5)]
    pub signals: usize,
    #[command(flatten)]
    pub research: ResearchArgs,
    #[arg(long)]
    pub json: bool,
}

/// The model's record and its last built matrix.
fn model_and_matrix(store: &Store, model_id: &str, pack_id: Option<&str>) -> Result<(ModelRecord, Matrix), CliError> {
    let record = store.model(model_id)?;
    if let Some(p) = pack_id.filter(|p| !p.is_empty()) {
        if p != record.model.pack_id {
            return Err(usage(format!("model {model_id} is in pack {}, not {p}", record.model.pack_id)));
        }
    }
    let m = built_matrix(store, model_id)?;
    Ok((record, m))
}

/// Prints fold progress on a terminal (stderr), nothing otherwise.
fn progress_printer() -> impl FnMut(OofProgress) {
    let tty = std::io::stderr().is_terminal();
    move |p: OofProgress| {
        if tty && p.tree == p.trees {
            eprintln!("fold {}/{} trained", p.fold + 1, p.folds);
        }
    }
}

/// Out-of-fold probabilities from the store's cache, or computed and cached.
fn oof_cached(store: &Store, m: &Matrix, spec: &OofSpec) -> Result<(Oof, bool), CliError> {
    let key = spec.key(&m.matrix_sha);
    if let Some(o) = store.oof(&key) {
        if o.prob.len() == m.rows() {
            return Ok((o, true));
        }
    }
    let o = oof::compute(m, spec, &mut progress_printer()).map_err(usage)?;
    store.put_oof(&o)?;
    Ok((o, false))
}

fn created() -> String {
    format_utc(now_ms())
}

fn cfg_text(c: &Config) -> String {
    let kind = match c.kind {
        ConfigKind::Thr => "thr",
        ConfigKind::TopPct => "top_pct",
    };
    match &c.allowed_hours {
        Some(h) => format!("{kind} {} hours {h}", c.value),
        None => format!("{kind} {}", c.value),
    }
}

fn pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

fn leaderboard_table(rows: &[leaderboard::Row]) -> String {
    let mut t = vec![["rank", "config", "sharpe", "return", "max_dd", "trades", "win", "gate", "run"].map(String::from).to_vec()];
    for r in rows {
        let gate = if r.gate.pass() { "pass".to_string() } else { format!("fail: {}", r.gate.reasons_text()) };
        t.push(vec![
            r.rank.to_string(),
            cfg_text(&r.config),
            format!("{:.2}", r.metrics.sharpe),
            pct(r.metrics.total_return),
            pct(r.metrics.max_dd),
            r.metrics.trades.to_string(),
            format!("{:.0}%", 100.0 * r.metrics.win_rate),
            gate,
            r.run_id.clone(),
        ]);
    }
    table(&t)
}

pub fn sweep(store: &Store, args: SweepArgs) -> Result<String, CliError> {
    let mut body: SweepBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => SweepBody::default(),
    };
    override_with!(body, args; model_id, pack_id, tag, min_trades, min_sharpe);
    if !args.thresholds_variants.is_empty() {
        body.thresholds_variants = args.thresholds_variants.clone();
    }
    if !args.top_pct_variants.is_empty() {
        body.top_pct_variants = args.top_pct_variants.clone();
    }
    if !args.allowed_hours_variants.is_empty() {
        body.allowed_hours_variants = args.allowed_hours_variants.clone();
    }
    args.research.apply(&mut body.research)?;
    let model_id = body.model_id.clone().ok_or_else(|| usage("sweep needs --model-id or a spec with model_id"))?;
    let (record, m) = model_and_matrix(store, &model_id, body.pack_id.as_deref())?;
    let profile = record.model.risk_profile;
    let configs = expand(&body, &profile.params()).map_err(usage)?;
    let warnings = sweep::warnings(&configs, &m);
    let spec = body.research.oof_spec(&m);
    let started = std::time::Instant::now();
    let (o, cached) = oof_cached(store, &m, &spec)?;
    let base = body.research.base_policy(&m, &record.model.cadence);
    base.validate().map_err(usage)?;
    let settings = RunSettings {
        model_id: model_id.clone(),
        pack_id: record.model.pack_id.clone(),
        cadence: record.model.cadence.clone(),
        oof_spec: spec.clone(),
        base,
        risk_profile: profile,
        overrides: body.gate_overrides(),
        tag: body.tag.clone(),
        created: created(),
    };
    let runs = sweep::run(&settings.context(&m, &o), &configs).map_err(usage)?;
    store.put_runs(&runs)?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = leaderboard::rank(&runs, &Query::default());
    if args.json {
        return Ok(to_json(&json!({
            "model_id": model_id,
            "risk_profile": profile,
            "configs": runs.len(),
            "passed": runs.iter().filter(|r| r.gate.pass()).count(),
            "oof_key": o.key,
            "oof_cached": cached,
            "fold_auc": o.fold_auc,
            "warnings": warnings,
            "runs": rows,
        })));
    }
    let passed = runs.iter().filter(|r| r.gate.pass()).count();
    let warned: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    Ok(format!(
        "{warned}swept {} configs of {model_id} ({} risk, {} {} splits, out-of-fold {}{}) in {seconds:.2} s; {passed} pass the gate\n\n{}",
        runs.len(),
        profile.as_str(),
        spec.splits,
        match spec.cv {
            CvKind::WalkForward => "walk-forward",
            CvKind::KFold => "k-fold",
        },
        engine::lineage::short(&o.key),
        if cached { ", from the cache" } else { "" },
        leaderboard_table(&rows)
    ))
}

pub fn leaderboard(store: &Store, args: LeaderboardArgs) -> Result<String, CliError> {
    let q = Query {
        model_id: args.model_id,
        pack_id: args.pack_id,
        risk_profile: args.risk_profile.map(|r| r.parse::<RiskProfile>()).transpose().map_err(usage)?,
        tag: args.tag,
        pass_gate: args.pass_gate,
        rank_by: args.rank_by.parse::<RankBy>().map_err(usage)?,
        limit: args.limit,
    };
    let rows = leaderboard::rank(&store.runs()?, &q);
    if args.json {
        return Ok(to_json(&rows));
    }
    if rows.is_empty() {
        return Ok("no runs match; run `btb sweep` first\n".into());
    }
    Ok(leaderboard_table(&rows))
}

fn backtest_body(args: &BacktestArgs) -> Result<BacktestBody, CliError> {
    let mut body: BacktestBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => BacktestBody::default(),
    };
    override_with!(body, args; model_id, pack_id, thresholds, top_pct, allowed_hours, min_trades, min_sharpe);
    args.research.apply(&mut body.research)?;
    Ok(body)
}

/// The cross-validated backtest of one config (what a sweep computes for each of its configs).
fn run_backtest(store: &Store, body: &BacktestBody) -> Result<(engine::run::BacktestReport, bool), CliError> {
    let model_id = body.model_id.clone().ok_or_else(|| usage("backtest needs --model-id or a spec with model_id"))?;
    let (record, m) = model_and_matrix(store, &model_id, body.pack_id.as_deref())?;
    let config = body.config().map_err(usage)?;
    let spec = body.research.oof_spec(&m);
    let (o, cached) = oof_cached(store, &m, &spec)?;
    let base = body.research.base_policy(&m, &record.model.cadence);
    let settings = RunSettings {
        model_id,
        pack_id: record.model.pack_id.clone(),
        cadence: record.model.cadence.clone(),
        oof_spec: spec,
        base,
        risk_profile: record.model.risk_profile,
        overrides: body.gate_overrides(),
        tag: body.tag.clone(),
        created: created(),
    };
    let e = evaluate(&settings.context(&m, &o), &config).map_err(usage)?;
    Ok((e.report(&m, &record.model.cadence), cached))
}

fn metrics_text(r: &engine::run::Run) -> String {
    let m = &r.metrics;
    let pf = m.profit_factor.map_or("∞".to_string(), |x| format!("{x:.2}"));
    let gate = if r.gate.pass() { "PASS".to_string() } else { format!("FAIL ({})", r.gate.reasons_text()) };
    format!(
        "{} on {} .. {} ({} bars, {} {:?} splits)\n\
         sharpe {:.2}  sortino {:.2}  calmar {:.2}  return {}  cagr {}  volatility {}\n\
         max drawdown {} over {} bars  trades {}  win rate {:.0}%  profit factor {pf}  avg trade {}  exposure {:.0}%\n\
         gate {gate}\n\
         lineage: matrix {} config {} policy {} risk {} ({})\n",
        cfg_text(&r.config),
        r.start,
        r.end,
        m.bars,
        r.splits,
        r.cv,
        m.sharpe,
        m.sortino,
        m.calmar,
        pct(m.total_return),
        pct(m.cagr),
        pct(m.volatility),
        pct(m.max_dd),
        m.max_dd_bars,
        m.trades,
        100.0 * m.win_rate,
        pct(m.avg_trade),
        100.0 * m.exposure,
        engine::lineage::short(&r.lineage.matrix_sha),
        engine::lineage::short(&r.lineage.config_sha),
        engine::lineage::short(&r.lineage.policy_sha),
        engine::lineage::short(&r.lineage.risk_sha),
        r.lineage.risk_profile.as_str(),
    )
}

pub fn backtest(store: &Store, args: BacktestArgs) -> Result<String, CliError> {
    let body = backtest_body(&args)?;
    let (report, _) = run_backtest(store, &body)?;
    if let Some(path) = &args.equity_csv {
        let mut csv = String::from("time,equity,drawdown\n");
        for p in &report.equity {
            csv.push_str(&format!("{},{},{}\n", p.time, p.equity, p.drawdown));
        }
        std::fs::write(path, csv).map_err(|source| CliError::Read { path: path.display().to_string(), source })?;
    }
    if args.json {
        return Ok(to_json(&report));
    }
    let mut out = metrics_text(&report.run);
    let last: Vec<_> = report.trades.iter().rev().take(5).collect();
    if !last.is_empty() {
        let mut t = vec![["entry", "exit", "side", "entry px", "exit px", "return", "exit on"].map(String::from).to_vec()];
        for tr in last.into_iter().rev() {
            t.push(vec![
                tr.entry_time.clone(),
                tr.exit_time.clone(),
                format!("{:?}", tr.trade.side).to_lowercase(),
                format!("{:.2}", tr.trade.entry_price),
                format!("{:.2}", tr.trade.exit_price),
                pct(tr.trade.ret),
                tr.trade.exit_reason.as_str().to_string(),
            ]);
        }
        out.push_str(&format!("\nlast trades of {}:\n", report.trades.len()));
        out.push_str(&table(&t));
    }
    Ok(out)
}

fn train_body(args: &TrainArgs) -> Result<TrainBody, CliError> {
    let mut body: TrainBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => {
            let model_id = args.model_id.clone().ok_or_else(|| usage("train needs --matrix FILE, or --model-id (or --spec) to train a stored model"))?;
            let kind = match args.config_kind.as_deref() {
                Some("top_pct") => ConfigKind::TopPct,
                Some(_) => ConfigKind::Thr,
                None => return Err(usage("train --model-id needs --config-kind thr|top_pct and --config-value")),
            };
            let value = args.config_value.clone().ok_or_else(|| usage("train --model-id needs --config-value"))?;
            TrainBody {
                model_id,
                pack_id: None,
                allowed_hours: None,
                calibration: None,
                config: Config { kind, value, allowed_hours: None },
                calibration_folds: None,
            }
        }
    };
    if let Some(m) = &args.model_id {
        body.model_id = m.clone();
    }
    if args.allowed_hours.is_some() {
        body.allowed_hours = args.allowed_hours.clone();
    }
    if let Some(c) = &args.calibration {
        body.calibration = Some(c.parse::<CalibrationKind>().map_err(usage)?);
    }
    if args.calibration_folds.is_some() {
        body.calibration_folds = args.calibration_folds;
    }
    Ok(body)
}

/// `btb train --model-id …`: the final model for one config (`POST /train`).
pub fn train(store: &Store, args: TrainArgs) -> Result<String, CliError> {
    let body = train_body(&args)?;
    let mut research = ResearchOptions::default();
    args.policy.apply(&mut research.policy);
    let params = args.params.apply(TrainParams::default());
    let out = train_strategy(store, &body, &research, &params)?;
    if args.json {
        return Ok(to_json(&out));
    }
    Ok(format!(
        "trained {} for {} on matrix {} ({} trees, calibration {} on {} out-of-fold folds): model {}\n",
        out["model_id"].as_str().unwrap_or_default(),
        out["config"].as_str().unwrap_or_default(),
        engine::lineage::short(out["matrix_sha"].as_str().unwrap_or_default()),
        out["trees"],
        out["calibration"].as_str().unwrap_or_default(),
        out["calibration_folds"],
        out["model_sha"].as_str().unwrap_or_default(),
    ))
}

fn train_strategy(
    store: &Store,
    body: &TrainBody,
    research: &ResearchOptions,
    params: &TrainParams,
) -> Result<serde_json::Value, CliError> {
    let (record, m) = model_and_matrix(store, &body.model_id, body.pack_id.as_deref())?;
    let config = body.config().map_err(usage)?;
    let base = research.base_policy(&m, &record.model.cadence);
    let now = created();
    let owner = Owner {
        model_id: &record.model_id,
        pack_id: &record.model.pack_id,
        cadence: &record.model.cadence,
        risk_profile: record.model.risk_profile,
        created: &now,
    };
    let calibration = body.calibration.unwrap_or_default();
    let folds = body.calibration_folds.unwrap_or(5);
    let how = strategy::FinalFit { params: params.clone(), calibration, calibration_folds: folds };
    let (booster, s) = strategy::train(&m, owner, &config, &base, &how, &mut |_| {}).map_err(usage)?;
    store.put_strategy(&s, &booster)?;
    Ok(json!({
        "ok": true,
        "model_id": s.model_id,
        "status": "trained",
        "config": cfg_text(&s.config),
        "config_sha": s.config_sha,
        "policy_sha": s.policy_sha,
        "matrix_sha": s.matrix_sha,
        "model_sha": s.model_sha,
        "top_pct_threshold": s.top_pct_threshold,
        "trees": s.report.trees,
        "rows": s.report.rows_train,
        "calibration": s.report.calibration,
        "calibration_folds": s.report.calibration_folds,
        "oof_auc": s.report.valid_auc,
        "oof_brier": s.report.valid_brier,
        "created": s.created,
    }))
}

/// Signals of the model's trained strategy over its newest bars.
fn model_signals(store: &Store, model_id: &str) -> Result<Vec<Signal>, CliError> {
    let (s, booster) = store.strategy(model_id)?;
    let record = store.model(model_id)?;
    let (_, ds) = store.load(&record.dataset_id)?;
    let series = ds
        .series
        .iter()
        .find(|x| x.ticker == record.model.ticker)
        .ok_or_else(|| usage(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker)))?;
    let mut spec = record.build_spec.clone().unwrap_or_default();
    spec.end = None; // up to the newest bar
    let m = build_scoring(&record.model, series, &ds.tz, &spec).map_err(usage)?;
    strategy::signals(&booster, &s, &m).map_err(usage)
}

fn signals_table(v: &[Signal]) -> String {
    let mut t = vec![["bar", "ticker", "side", "confidence", "status", "close", "position", "exit on"].map(String::from).to_vec()];
    for s in v {
        t.push(vec![
            s.bar.clone(),
            s.ticker.clone(),
            s.side.as_str().to_string(),
            format!("{:.3}", s.confidence),
            s.status.as_str().to_string(),
            format!("{:.2}", s.close),
            format!("{} → {}", pct(s.from), pct(s.to)),
            s.exit_reason.map_or("", |r| r.as_str()).to_string(),
        ]);
    }
    table(&t)
}

pub fn signals(store: &Store, args: SignalsArgs) -> Result<String, CliError> {
    let all = model_signals(store, &args.model_id)?;
    let v = strategy::latest(all, args.limit);
    if args.json {
        return Ok(to_json(&v));
    }
    if v.is_empty() {
        return Ok(format!("no signals for {}\n", args.model_id));
    }
    Ok(signals_table(&v))
}

pub fn alerts(store: &Store, args: AlertsArgs) -> Result<String, CliError> {
    let all = model_signals(store, &args.model_id)?;
    let n = all.len();
    let v = strategy::latest(all, args.limit.unwrap_or(n));
    std::fs::write(&args.out, strategy::to_csv(&v))
        .map_err(|source| CliError::Read { path: args.out.display().to_string(), source })?;
    Ok(format!("wrote {} signals to {}\n", v.len(), args.out.display()))
}

/// build → train → backtest (→ the newest signals), the seed's `make pipeline`.
pub fn pipeline(store: &Store, args: PipelineArgs) -> Result<String, CliError> {
    if !store.has_model(&args.model_id) {
        let Some(ticker) = &args.ticker else {
            return Err(usage(format!(
                "no model {} in the store; create it with `btb init` or pass --ticker (and --pack-id) to create it here",
                args.model_id
            )));
        };
        crate::research::init(
            store,
            crate::research::InitArgs {
                spec: None,
                pack_id: Some(args.pack_id.clone().unwrap_or_else(|| "swingsigma".into())),
                model_id: Some(args.model_id.clone()),
                ticker: Some(ticker.clone()),
                asset: None,
                horizon: None,
                cadence: None,
                risk_profile: None,
                template: None,
                dataset: args.dataset.clone(),
                force: false,
                json: false,
            },
        )?;
    }
    crate::research::build(
        store,
        crate::research::BuildArgs {
            spec: None,
            model_id: Some(args.model_id.clone()),
            pack_id: args.pack_id.clone(),
            start: args.start.clone(),
            end: args.end.clone(),
            ticker: None,
            distance_max: None,
            raw_prices: false,
            json: true,
        },
    )?;
    let (record, m) = model_and_matrix(store, &args.model_id, None)?;
    let thresholds = match (&args.thresholds, args.top_pct) {
        (None, None) => Some("0.60,0.65,0.70".to_string()),
        (t, _) => t.clone(),
    };
    let mut body = BacktestBody {
        model_id: Some(args.model_id.clone()),
        pack_id: args.pack_id.clone(),
        thresholds,
        top_pct: args.top_pct,
        allowed_hours: args.allowed_hours.clone(),
        ..BacktestBody::default()
    };
    args.research.apply(&mut body.research)?;
    let config = body.config().map_err(usage)?.config;
    let tb = TrainBody {
        model_id: args.model_id.clone(),
        pack_id: None,
        allowed_hours: None,
        calibration: body.research.calibration,
        config,
        calibration_folds: body.research.splits,
    };
    let params = body.research.params.clone().unwrap_or_default();
    let trained = train_strategy(store, &tb, &body.research, &params)?;
    let (report, _) = run_backtest(store, &body)?;
    let sig = strategy::latest(model_signals(store, &args.model_id)?, args.signals);
    if args.json {
        return Ok(to_json(&json!({
            "build": m.summary(),
            "train": trained,
            "backtest": { "run": report.run, "trades": report.trades.len() },
            "signals": sig,
        })));
    }
    let s = m.summary();
    Ok(format!(
        "build: matrix {} of {} ({} rows × {} features, {} .. {})\ntrain: model {} ({} trees, {} calibration)\n\nbacktest (out-of-fold):\n{}\nnewest signals:\n{}",
        engine::lineage::short(&s.matrix_sha),
        record.model_id,
        s.rows,
        s.features,
        m.start,
        m.end,
        engine::lineage::short(trained["model_sha"].as_str().unwrap_or_default()),
        trained["trees"],
        trained["calibration"].as_str().unwrap_or_default(),
        metrics_text(&report.run),
        if sig.is_empty() { "none\n".to_string() } else { signals_table(&sig) }
    ))
}
