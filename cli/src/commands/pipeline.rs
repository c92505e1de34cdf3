//! The whole pipeline in one command: init (when asked) → build → train → backtest → the
//! newest signals, each step the same call its own command makes.
//!
//! ```text
//! btb pipeline --model-id ID [--start D] [--end D] [--thresholds L | --top-pct F]
//!              [--allowed-hours H] [--splits N] [--momentum-min X] [--json]
//! ```

use clap::Args;
use serde_json::json;

use engine::strategy::{self, TrainBody};
use engine::sweep::BacktestBody;

use crate::args::ResearchArgs;
use crate::commands::backtest::run_backtest;
use crate::commands::build::{self, model_and_matrix};
use crate::commands::model;
use crate::commands::signals::model_signals;
use crate::commands::train::train_strategy;
use crate::error::{usage, CliError};
use crate::print::{metrics_text, signals_table, to_json};
use crate::store::Store;

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

/// build → train → backtest (→ the newest signals), the seed's `make pipeline`.
pub fn pipeline(store: &Store, args: PipelineArgs) -> Result<String, CliError> {
    if !store.has_model(&args.model_id) {
        let Some(ticker) = &args.ticker else {
            return Err(usage(format!(
                "no model {} in the store; create it with `btb init` or pass --ticker (and --pack-id) to create it here",
                args.model_id
            )));
        };
        model::init(
            store,
            model::InitArgs {
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
    build::build(
        store,
        build::BuildArgs {
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
    let config = body.config()?.config;
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
    let config_sha = trained["config_sha"].as_str().map(str::to_string);
    let sig = strategy::latest(model_signals(store, &args.model_id, config_sha.as_deref())?.signals, args.signals);
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
