//! Leaderboard (seed Phase 4): the stored runs, filtered and ranked by the engine.
//!
//! ```text
//! btb leaderboard [--model-id ID] [--pack-id P] [--risk-profile R] [--tag T] [--pass-gate]
//!                 [--variant TEXT] [--rank-by METRIC] [--limit N] [--csv FILE] [--json]
//! ```

use clap::Args;

use engine::leaderboard::{self, Query, RankBy};
use engine::risk::RiskProfile;

use crate::error::{write_err, CliError};
use crate::print::{leaderboard_table_marked, to_json};
use crate::store::Store;

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
    /// Only runs of this model variant, as the table's `variant` column words it.
    #[arg(long)]
    pub variant: Option<String>,
    /// sharpe (default), return, sortino, calmar, cagr, max_dd, trades, win_rate, profit_factor.
    #[arg(long, default_value = "sharpe")]
    pub rank_by: String,
    #[arg(long)]
    pub limit: Option<usize>,
    /// Also write the rows as CSV (every metric, the gate and the lineage), as the page's
    /// Leaderboard downloads them.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn leaderboard(store: &Store, args: LeaderboardArgs) -> Result<String, CliError> {
    let q = Query {
        model_id: args.model_id,
        pack_id: args.pack_id,
        risk_profile: args.risk_profile.map(|r| r.parse::<RiskProfile>()).transpose()?,
        tag: args.tag,
        pass_gate: args.pass_gate,
        variant: args.variant,
        rank_by: args.rank_by.parse::<RankBy>()?,
        limit: args.limit,
    };
    let rows = leaderboard::rank(&store.runs()?, &q);
    if let Some(path) = &args.csv {
        std::fs::write(path, engine::sheet::leaderboard(&rows)).map_err(write_err(path))?;
    }
    // Imported runs that could not be verified say so, in the JSON and the table alike.
    let marks = store.verifications("run");
    if args.json {
        let mut v = serde_json::to_value(&rows).unwrap_or_default();
        if let Some(list) = v.as_array_mut() {
            for row in list.iter_mut() {
                let id = row.get("run_id").and_then(|x| x.as_str()).unwrap_or_default().to_string();
                if let (Some(m), Some(o)) = (marks.get(&id), row.as_object_mut()) {
                    o.insert(
                        "verification".into(),
                        serde_json::json!({"status": m.status, "detail": m.detail, "bundle": m.bundle}),
                    );
                }
            }
        }
        return Ok(to_json(&v));
    }
    if rows.is_empty() {
        return Ok("no runs match; run `btb sweep` first\n".into());
    }
    let text = marks.into_iter().map(|(id, m)| (id, m.status.as_str().to_string())).collect();
    Ok(leaderboard_table_marked(&rows, &text))
}
