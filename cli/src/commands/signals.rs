//! Signals (seed Phase 7): the newest signals of a model's trained strategy, printed or written
//! as an alerts CSV.
//!
//! ```text
//! btb signals --model-id ID [--limit N] [--json]
//! btb alerts  --model-id ID --out FILE.csv [--limit N]
//! ```

use std::path::PathBuf;

use clap::Args;

use engine::strategy::{self, Signal};

use crate::error::CliError;
use crate::print::{signals_table, to_json};
use crate::store::Store;

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

/// Signals of the model's trained strategy over its newest bars.
pub(crate) fn model_signals(store: &Store, model_id: &str) -> Result<Vec<Signal>, CliError> {
    let (s, booster) = store.strategy(model_id)?;
    let record = store.model(model_id)?;
    let (_, ds) = store.load(&record.dataset_id)?;
    let series = ds.series.iter().find(|x| x.ticker == record.model.ticker).ok_or_else(|| {
        CliError::Data(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker))
    })?;
    let spec = record.build_spec.clone().unwrap_or_default();
    Ok(strategy::latest_signals(&record.model, series, &ds.tz, &spec, &booster, &s)?)
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
