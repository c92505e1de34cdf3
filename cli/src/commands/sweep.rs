//! Sweep (seed Phase 3): every config of a sweep judged by a cross-validated backtest on the
//! model's out-of-fold probabilities. Every number comes from the engine (`engine::oof`,
//! `engine::sweep`, `engine::run`); this module reads and writes the store and prints.
//!
//! ```text
//! btb sweep (--spec sweep.json | --model-id ID --thresholds-variants L… --top-pct-variants F…
//!            [--allowed-hours-variants H…]) [--splits N] [--cv walk_forward|k_fold] [--tag T]
//!            [--min-trades N] [--min-sharpe X] [model and policy flags] [--json]
//! ```

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::cv::CvKind;
use engine::leaderboard::{self, Query};
use engine::matrix::Matrix;
use engine::oof::{self, Oof, OofSpec};
use engine::sweep::{self, SweepBody};

use crate::args::{override_with, read_json, ResearchArgs};
use crate::commands::build::model_and_matrix;
use crate::error::{usage, CliError};
use crate::print::{leaderboard_table, progress_printer, to_json};
use crate::store::{created, Store};

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
    /// Gate: the deflated Sharpe ratio (deflated by the sweep's configs) must reach this; off
    /// unless given.
    #[arg(long)]
    pub min_dsr: Option<f64>,
    #[command(flatten)]
    pub research: ResearchArgs,
    /// Threads training folds side by side (default: the machine's cores). Any number gives
    /// the same bytes.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

/// The machine's cores, the default number of fold-training threads.
pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Out-of-fold probabilities from the store's cache, or computed and cached: a sweep and a
/// backtest of one of its configs share them, so the second one only re-runs the policy.
pub(crate) fn oof_cached(store: &Store, m: &Matrix, spec: &OofSpec, jobs: usize) -> Result<(Oof, bool), CliError> {
    let key = spec.key(&m.matrix_sha);
    if let Some(o) = store.oof(&key) {
        if o.prob.len() == m.rows() {
            return Ok((o, true));
        }
    }
    let o = oof::compute_parallel(m, spec, jobs, &mut progress_printer())?;
    store.put_oof(&o)?;
    Ok((o, false))
}

pub fn sweep(store: &Store, args: SweepArgs) -> Result<String, CliError> {
    let mut body: SweepBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => SweepBody::default(),
    };
    override_with!(body, args; model_id, pack_id, tag, min_trades, min_sharpe, min_dsr);
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
    let plan = body.plan(&record.model, &m, created())?;
    let spec = &plan.settings.oof_spec;
    let started = std::time::Instant::now();
    let jobs = args.jobs.map_or_else(default_jobs, |j| j as usize);
    let (o, cached) = oof_cached(store, &m, spec, jobs)?;
    let runs = sweep::run(&plan.settings.context(&m, &o), &plan.configs)?;
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
            "warnings": plan.warnings,
            "runs": rows,
        })));
    }
    let passed = runs.iter().filter(|r| r.gate.pass()).count();
    let warned: String = plan.warnings.iter().map(|w| format!("warning: {w}\n")).collect();
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
