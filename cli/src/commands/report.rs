//! Report: one run, or one model's leaderboard, as a standalone HTML file (`engine::report`),
//! readable offline without the app.
//!
//! ```text
//! btb report --run RUN_ID --out FILE.html [--json]
//! btb report --model-id ID [--pass-gate] [--tag T] [--rank-by METRIC] [--limit N] --out FILE.html [--json]
//! ```
//!
//! A run's curves and trades are not stored: the run is judged again from its own record on the
//! store's matrix and cached out-of-fold probabilities, as `btb backtest` judges a config (the
//! folds are trained again only when the cache was cleared). The result must be the stored run
//! bit for bit; if it is not, the report says so in its verification status instead of passing
//! the re-judged numbers off as the stored ones.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::config::SweepConfig;
use engine::leaderboard::{self, Query, RankBy};
use engine::report::{self, LeaderboardReportInput, Provenance, RunReportInput, DEFAULT_STATUS};
use engine::run::{evaluate, Run, RunSettings};

use crate::commands::sweep::{default_jobs, oof_cached};
use crate::error::{usage, write_err, CliError};
use crate::print::to_json;
use crate::store::{created, Store};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["run", "model_id"])))]
pub struct ReportArgs {
    /// A run's id (or a prefix naming one run): its backtest, metrics, gate, trades and lineage.
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
    /// A model's leaderboard.
    #[arg(long)]
    pub model_id: Option<String>,
    /// Leaderboard: only runs that pass the gate.
    #[arg(long, requires = "model_id")]
    pub pass_gate: bool,
    /// Leaderboard: only runs with this tag.
    #[arg(long, requires = "model_id")]
    pub tag: Option<String>,
    /// Leaderboard: sharpe (default), return, sortino, calmar, cagr, max_dd, trades, win_rate, profit_factor.
    #[arg(long, default_value = "sharpe", requires = "model_id")]
    pub rank_by: String,
    /// Leaderboard: the best N runs.
    #[arg(long, requires = "model_id")]
    pub limit: Option<usize>,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html")]
    pub out: PathBuf,
    /// Print {"out", "bytes", "kind", "id"} instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

fn provenance() -> Provenance {
    Provenance { producer: format!("btb {}", env!("CARGO_PKG_VERSION")), created: created(), bundle: None }
}

/// The one stored run `id` names (its full id, or a prefix no other run shares).
fn find_run(store: &Store, id: &str) -> Result<Run, CliError> {
    let mut runs: Vec<Run> = store.runs()?.into_iter().filter(|r| r.run_id.starts_with(id)).collect();
    match runs.len() {
        0 => Err(CliError::Data(format!("no run `{id}` in the store; `btb leaderboard` lists them"))),
        1 => Ok(runs.remove(0)),
        n => match runs.iter().position(|r| r.run_id == id) {
            Some(i) => Ok(runs.remove(i)),
            None => Err(CliError::Data(format!("`{id}` is the start of {n} run ids; give more of it"))),
        },
    }
}

/// The run's HTML report, judged again from its record (see the module doc).
pub(crate) fn run_report(store: &Store, run: &Run) -> Result<String, CliError> {
    let record = store.model(&run.model_id)?;
    let cadence = record.model.cadence.clone();
    let m = store.matrix(&run.lineage.matrix_sha)?;
    let (o, _) = oof_cached(store, &m, &run.oof_spec, default_jobs())?;
    let settings = RunSettings::of_run(run, &cadence);
    let config = SweepConfig { config_sha: run.lineage.config_sha.clone(), config: run.config.clone() };
    let e = evaluate(&settings.context(&m, &o), &config)?;
    let status = if e.run != *run {
        format!(
            "mismatch: judged again here, run {} differs from the stored record; the report shows the new numbers",
            e.run.run_id
        )
    } else if let Some(mark) = store.verification("run", &run.run_id) {
        mark.status_text()
    } else {
        DEFAULT_STATUS.to_string()
    };
    let bt = e.report(&m, &cadence);
    Ok(report::run_html(&RunReportInput {
        report: &bt,
        model: Some(&record),
        status: &status,
        provenance: &provenance(),
    }))
}

pub fn report(store: &Store, args: ReportArgs) -> Result<String, CliError> {
    let (kind, id, html) = match (&args.run, &args.model_id) {
        (Some(id), _) => {
            let run = find_run(store, id)?;
            ("run", run.run_id.clone(), run_report(store, &run)?)
        }
        (None, Some(model_id)) => {
            let q = Query {
                model_id: Some(model_id.clone()),
                tag: args.tag.clone(),
                pass_gate: args.pass_gate,
                rank_by: args.rank_by.parse::<RankBy>()?,
                limit: args.limit,
                ..Query::default()
            };
            let rows = leaderboard::rank(&store.runs()?, &q);
            if rows.is_empty() {
                return Err(CliError::Data(format!("no runs of model `{model_id}` match; run `btb sweep` first")));
            }
            // The runs may outlive their model record; the report says so rather than failing.
            let record = store.model(model_id).ok();
            let html = report::leaderboard_html(&LeaderboardReportInput {
                model_id,
                model: record.as_ref(),
                query: &q,
                rows: &rows,
                statuses: &store.verifications("run").into_iter().map(|(id, v)| (id, v.status_text())).collect(),
                provenance: &provenance(),
            });
            ("leaderboard", model_id.clone(), html)
        }
        (None, None) => return Err(usage("report needs --run RUN_ID or --model-id ID")),
    };
    std::fs::write(&args.out, &html).map_err(write_err(&args.out))?;
    let out = args.out.display().to_string();
    if args.json {
        return Ok(to_json(&json!({"out": out, "bytes": html.len(), "kind": kind, "id": id})));
    }
    Ok(format!("wrote {out} ({} bytes): {kind} report of {id}\n", html.len()))
}
