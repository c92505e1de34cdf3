//! Sweep (seed Phase 3): every config of a sweep judged by a cross-validated backtest on the
//! model's out-of-fold probabilities. Every number comes from the engine (`engine::oof`,
//! `engine::sweep`, `engine::run`); this module reads and writes the store and prints.
//!
//! ```text
//! btb sweep (--spec sweep.json | --model-id ID --thresholds-variants L… --top-pct-variants F…
//!            [--allowed-hours-variants H…]) [--splits N] [--cv walk_forward|k_fold] [--tag T]
//!            [--min-trades N] [--min-sharpe X] [model and policy flags] [--json]
//! btb sweep --config sweeps/ID_sweep.yaml [--model-id ID] [--tag T] [--jobs N] [--json]
//! btb sweep-config --model-id ID [--out FILE] [--force]
//! ```
//!
//! A sweep file (`engine::grid`) may vary the model too: each model variant's folds are trained
//! (or found in the cache) in turn, every config is judged on each, and all the runs are deflated
//! by the whole product.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::cv::CvKind;
use engine::grid::Grid;
use engine::leaderboard::{self, Query};
use engine::matrix::Matrix;
use engine::oof::{self, Oof, OofSpec};
use engine::sweep::{self, SweepBody};

use crate::args::{override_with, read_json, ResearchArgs};
use crate::commands::build::{matrix_with_horizon, model_and_matrix};
use crate::error::{read_err, usage, write_err, CliError};
use crate::print::{leaderboard_table, progress_printer, to_json};
use crate::store::{created, Store};

#[derive(Args)]
pub struct SweepArgs {
    /// JSON body of `POST /backtest_sweep`.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub spec: Option<PathBuf>,
    /// A sweep file (`btb sweep-config` writes one): model variants × policy configs.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["thresholds_variants", "top_pct_variants", "allowed_hours_variants", "min_trades", "min_sharpe", "min_dsr"])]
    pub config: Option<PathBuf>,
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

#[derive(Args)]
pub struct SweepConfigArgs {
    #[arg(long)]
    pub model_id: String,
    /// Where to write it [default: sweeps/<model_id>_sweep.yaml].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace a file that is already there.
    #[arg(long)]
    pub force: bool,
}

/// `btb sweep-config`: the model's template grid as a commented sweep file to edit and run.
pub fn sweep_config(store: &Store, args: SweepConfigArgs) -> Result<String, CliError> {
    let record = store.model(&args.model_id)?;
    let pack = engine::pack::pack(&record.model.pack_id).ok_or_else(|| {
        CliError::Data(format!("model {} names an unknown pack {}", args.model_id, record.model.pack_id))
    })?;
    let template = pack.template(&record.model.template).ok_or_else(|| {
        CliError::Data(format!("pack {} has no template {}", record.model.pack_id, record.model.template))
    })?;
    let grid = Grid::for_model(template, &record.model_id, &record.model.pack_id);
    let path = args.out.unwrap_or_else(|| PathBuf::from("sweeps").join(format!("{}_sweep.yaml", record.model_id)));
    if path.exists() && !args.force {
        return Err(usage(format!(
            "{} exists; edit it, or pass --force to write the template's grid over it",
            path.display()
        )));
    }
    let write = |path: &std::path::Path| -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, grid.to_yaml())
    };
    write(&path).map_err(write_err(&path))?;
    let (variants, configs) = grid.size(&record.model.risk_profile.params()).map_err(engine::error::Error::from)?;
    Ok(format!(
        "wrote {}: {variants} model variant{} × {configs} configs, from template {}; run it with `btb sweep --config {}`\n",
        path.display(),
        if variants == 1 { "" } else { "s" },
        template.id,
        path.display()
    ))
}

/// A sweep file, read as hostile bytes: any error names the file and the line.
fn read_grid(path: &std::path::Path) -> Result<Grid, CliError> {
    let text = std::fs::read_to_string(path).map_err(read_err(path))?;
    Grid::from_yaml(&text).map_err(|e| CliError::engine_at(path.display(), e))
}

/// `btb sweep --config FILE`: every model variant of the file, then every config on each.
fn sweep_file(store: &Store, args: &SweepArgs, path: &std::path::Path) -> Result<String, CliError> {
    let mut grid = read_grid(path)?;
    if args.model_id.is_some() {
        grid.model_id = args.model_id.clone();
    }
    if args.pack_id.is_some() {
        grid.pack_id = args.pack_id.clone();
    }
    if args.tag.is_some() {
        grid.tag = args.tag.clone();
    }
    let model_id = grid
        .model_id
        .clone()
        .ok_or_else(|| usage(format!("{} names no model_id: add one, or pass --model-id", path.display())))?;
    let (record, built) = model_and_matrix(store, &model_id, grid.pack_id.as_deref())?;
    let profile = record.model.risk_profile;
    let (n_variants, n_configs) = grid.size(&profile.params()).map_err(engine::error::Error::from)?;
    let jobs = args.jobs.map_or_else(default_jobs, |j| j as usize);
    let started = std::time::Instant::now();
    let stamp = created();
    let (mut tally, mut variants) = (sweep::Tally::default(), Vec::new());
    for v in grid.variants() {
        let other;
        let m = match v.distance_max {
            Some(d) if d != built.distance_max => {
                other = matrix_with_horizon(store, &record, d)?;
                &other
            }
            _ => &built,
        };
        let plan = grid.body(&v).plan(&record.model, m, stamp.clone())?;
        let (o, cached) = oof_cached(store, m, &plan.settings.oof_spec, jobs)?;
        tally.add(sweep::judge(&plan.settings.context(m, &o), &plan.configs)?, plan.warnings);
        variants.push(json!({
            "variant": v.on(m).to_string(),
            "matrix_sha": m.matrix_sha,
            "oof_key": o.key,
            "oof_cached": cached,
            "fold_auc": o.fold_auc,
        }));
    }
    let (runs, warnings) = tally.finish();
    store.put_runs(&runs)?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = leaderboard::rank(&runs, &Query::default());
    let passed = runs.iter().filter(|r| r.gate.pass()).count();
    if args.json {
        return Ok(to_json(&json!({
            "model_id": model_id,
            "risk_profile": profile,
            "configs": runs.len(),
            "variants": variants,
            "passed": passed,
            "warnings": warnings,
            "runs": rows,
        })));
    }
    let warned: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    let listed: String = variants
        .iter()
        .map(|v| {
            format!(
                "  {}: out-of-fold {}{}\n",
                v["variant"].as_str().unwrap_or_default(),
                engine::lineage::short(v["oof_key"].as_str().unwrap_or_default()),
                if v["oof_cached"] == json!(true) { ", from the cache" } else { "" }
            )
        })
        .collect();
    Ok(format!(
        "{warned}swept {} runs of {model_id} ({n_variants} model variant{} × {n_configs} configs, {} risk) in {seconds:.2} s; {passed} pass the gate\n{listed}\n{}",
        runs.len(),
        if n_variants == 1 { "" } else { "s" },
        profile.as_str(),
        leaderboard_table(&rows)
    ))
}

pub fn sweep(store: &Store, args: SweepArgs) -> Result<String, CliError> {
    if let Some(path) = args.config.clone() {
        return sweep_file(store, &args, &path);
    }
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
