//! Signals (seed Phase 7): the newest signals of a model's trained strategy, printed or written
//! as an alerts CSV. A model keeps one strategy per config trained ("train the top 3–5");
//! `--strategy` names one by a prefix of its config_sha, and the newest is the default.
//!
//! ```text
//! btb strategies --model-id ID [--json]
//! btb signals --model-id ID [--strategy CONFIG_SHA] [--limit N] [--json]
//! btb alerts  --model-id ID [--strategy CONFIG_SHA] --out FILE.csv [--limit N]
//! ```

use std::path::PathBuf;

use clap::Args;

use engine::lineage::short;
use engine::strategy::{self, Signal, Strategy};

use crate::error::{write_err, CliError};
use crate::print::{signals_table, table, to_json};
use crate::store::Store;

#[derive(Args)]
pub struct SignalsArgs {
    #[arg(long)]
    pub model_id: String,
    /// Which trained strategy: a prefix of its config_sha [default: the newest].
    #[arg(long, value_name = "CONFIG_SHA")]
    pub strategy: Option<String>,
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
    /// Which trained strategy: a prefix of its config_sha [default: the newest].
    #[arg(long, value_name = "CONFIG_SHA")]
    pub strategy: Option<String>,
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// The newest N signals [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Args)]
pub struct StrategiesArgs {
    #[arg(long)]
    pub model_id: String,
    #[arg(long)]
    pub json: bool,
}

/// Signals of one of the model's trained strategies (`config_sha` a prefix, or the newest)
/// over its newest bars.
pub(crate) struct Picked {
    pub strategy: Strategy,
    /// How many strategies the model has.
    pub of: usize,
    pub signals: Vec<Signal>,
}

pub(crate) fn model_signals(store: &Store, model_id: &str, config_sha: Option<&str>) -> Result<Picked, CliError> {
    let all = store.strategies(model_id)?;
    if all.is_empty() {
        return Err(crate::store::StoreError::NoStrategy(model_id.to_string()).into());
    }
    let s = strategy::pick(&all, model_id, config_sha).map_err(crate::store::StoreError::from)?.clone();
    let booster = store.booster(&s)?;
    let record = store.model(model_id)?;
    let (_, ds) = store.load(&record.dataset_id)?;
    let series = ds.series(&record.model.ticker).ok_or_else(|| {
        CliError::Data(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker))
    })?;
    let spec = record.build_spec.clone().unwrap_or_default();
    let signals = strategy::latest_signals(&record.model, series, &ds.tz, &spec, &booster, &s)?;
    Ok(Picked { strategy: s, of: all.len(), signals })
}

impl Picked {
    /// Which strategy the signals are of, when the model has several (printed above the table).
    fn which(&self) -> String {
        let s = &self.strategy;
        if self.of > 1 {
            format!(
                "strategy {} ({}) of {}; pick another with --strategy (btb strategies --model-id {})\n",
                short(&s.config_sha),
                s.config,
                self.of,
                s.model_id
            )
        } else {
            String::new()
        }
    }
}

pub fn signals(store: &Store, args: SignalsArgs) -> Result<String, CliError> {
    let picked = model_signals(store, &args.model_id, args.strategy.as_deref())?;
    let head = picked.which();
    let v = strategy::latest(picked.signals, args.limit);
    if args.json {
        return Ok(to_json(&v));
    }
    if v.is_empty() {
        return Ok(format!("{head}no signals for {}\n", args.model_id));
    }
    Ok(format!("{head}{}", signals_table(&v)))
}

pub fn alerts(store: &Store, args: AlertsArgs) -> Result<String, CliError> {
    let picked = model_signals(store, &args.model_id, args.strategy.as_deref())?;
    let head = picked.which();
    let n = picked.signals.len();
    let v = strategy::latest(picked.signals, args.limit.unwrap_or(n));
    std::fs::write(&args.out, engine::sheet::signals(&v)).map_err(write_err(&args.out))?;
    Ok(format!("{head}wrote {} signals to {}\n", v.len(), args.out.display()))
}

/// `btb strategies`: the model's trained strategies, one per config, newest last.
pub fn strategies(store: &Store, args: StrategiesArgs) -> Result<String, CliError> {
    store.model(&args.model_id)?;
    let all = store.strategies(&args.model_id)?;
    if args.json {
        return Ok(to_json(&all));
    }
    if all.is_empty() {
        return Err(crate::store::StoreError::NoStrategy(args.model_id).into());
    }
    let mut rows = vec![["config_sha", "config", "matrix", "model", "trees", "oof AUC", "created"]
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()];
    for s in &all {
        rows.push(vec![
            short(&s.config_sha).to_string(),
            s.config.to_string(),
            short(&s.matrix_sha).to_string(),
            short(&s.model_sha).to_string(),
            s.report.trees.to_string(),
            s.report.valid_auc.map_or("—".to_string(), |a| format!("{a:.3}")),
            s.created.clone(),
        ]);
    }
    Ok(format!(
        "{} trained strategies of {} (signals use the newest unless --strategy names one)\n{}",
        all.len(),
        args.model_id,
        table(&rows)
    ))
}
