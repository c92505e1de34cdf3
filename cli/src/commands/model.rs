//! Models (seed Phase 1): `btb init` creates a model from a pack template on a stored dataset.
//! It takes the seed's API body as JSON (`--spec FILE`) or the same fields as flags; flags win
//! over the file. `btb model rebase` moves a model to a newer dataset of its ticker.

use std::path::PathBuf;

use clap::Args;

use engine::matrix::Found;
use engine::model::{ModelRecord, ModelSpec};
use engine::risk::RiskProfile;

use crate::args::read_json;
use crate::error::CliError;
use crate::print::to_json;
use crate::store::{created, Store};

#[derive(Args)]
pub struct InitArgs {
    /// JSON body of `POST /models`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub pack_id: Option<String>,
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub ticker: Option<String>,
    #[arg(long)]
    pub asset: Option<String>,
    #[arg(long)]
    pub horizon: Option<String>,
    #[arg(long)]
    pub cadence: Option<String>,
    #[arg(long)]
    pub risk_profile: Option<String>,
    #[arg(long)]
    pub template: Option<String>,
    /// Stored dataset the model draws bars from (default: the newest one holding the ticker).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Replace an existing model of the same id.
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn init(store: &Store, args: InitArgs) -> Result<String, CliError> {
    let mut spec: ModelSpec = match &args.spec {
        Some(p) => read_json(p)?,
        None => ModelSpec::new(
            args.pack_id.as_deref().unwrap_or("swingsigma"),
            args.ticker.as_deref().ok_or_else(|| CliError::Usage("init needs --ticker or --spec".into()))?,
        ),
    };
    if let Some(v) = args.pack_id {
        spec.pack_id = v;
    }
    if let Some(v) = args.ticker {
        spec.ticker = v;
    }
    if let Some(v) = args.model_id {
        spec.model_id = Some(v);
    }
    if let Some(v) = args.asset {
        spec.asset = v;
    }
    if let Some(v) = args.horizon {
        spec.horizon = Some(v);
    }
    if let Some(v) = args.cadence {
        spec.cadence = Some(v);
    }
    if let Some(v) = args.template {
        spec.template = Some(v);
    }
    if let Some(v) = args.risk_profile {
        spec.risk_profile = v.parse::<RiskProfile>()?;
    }
    // The dataset: named, or the newest holding the ticker. Its cadence is the model's default.
    let all = store.list()?;
    let dataset = match &args.dataset {
        Some(id) => store.meta(&store.resolve(id)?)?,
        None => all
            .iter()
            .rev()
            .find(|m| m.tickers.iter().any(|t| t.eq_ignore_ascii_case(spec.ticker.trim())))
            .cloned()
            .ok_or_else(|| {
                CliError::Data(format!(
                    "no stored dataset holds ticker {}; add one with `btb data add FILE`",
                    spec.ticker
                ))
            })?,
    };
    let ticker = dataset
        .summary
        .tickers
        .iter()
        .find(|t| t.ticker.eq_ignore_ascii_case(spec.ticker.trim()))
        .ok_or_else(|| CliError::Data(format!("dataset {} has no ticker {}", dataset.id, spec.ticker)))?;
    spec.ticker = ticker.ticker.clone();
    if spec.cadence.is_none() {
        spec.cadence = Some(ticker.cadence.as_str().to_string());
    }
    let model = spec.resolve()?;
    if store.has_model(&model.model_id) && !args.force {
        return Err(CliError::Usage(format!("model {} exists already; pass --force to replace it", model.model_id)));
    }
    let record = ModelRecord {
        model_id: model.model_id.clone(),
        model,
        dataset_id: dataset.id.clone(),
        created: created(),
        matrix_sha: None,
        build_spec: None,
    };
    store.put_model(&record)?;
    Ok(if args.json {
        to_json(&record)
    } else {
        format!(
            "created model {} ({} {}, {} features, {} risk) on dataset {}\n",
            record.model_id,
            record.model.pack_id,
            record.model.ticker,
            record.model.features.len(),
            record.model.risk_profile.as_str(),
            record.dataset_id
        )
    })
}

#[derive(Args)]
pub struct RebaseArgs {
    #[arg(long)]
    pub model_id: String,
    /// The newer stored dataset holding the model's ticker.
    #[arg(long)]
    pub dataset: String,
    #[arg(long)]
    pub json: bool,
}

/// Moves a model to a newer dataset of its ticker (`engine::rebase`): its build runs again on
/// the new bars, must reproduce every row of the model's matrix, and the model then points at
/// the new dataset and matrix, so its strategies' signals reach the newest bar.
pub fn rebase(store: &Store, args: RebaseArgs) -> Result<String, CliError> {
    let record = store.model(&args.model_id)?;
    let stored = match &record.matrix_sha {
        Some(sha) => store.matrix(sha)?,
        None => return Err(engine::rebase::RebaseError::NoMatrix { model_id: record.model_id.clone() }.into()),
    };
    let to = store.resolve(&args.dataset)?;
    let (_, ds) = store.load(&to)?;
    let series = ds
        .series(&record.model.ticker)
        .ok_or_else(|| CliError::Data(format!("dataset {to} has no ticker {}", record.model.ticker)))?;
    let find = |sha: &str| store.matrix(sha).ok();
    // The ticker's last bar in the model's dataset, when it is still stored: a build that ended
    // there is lifted to the new bars, one that ended before keeps its held-out period.
    let old_last =
        store.meta(&record.dataset_id).ok().and_then(|m| m.summary.ticker(&record.model.ticker).map(|t| t.end.clone()));
    let moved = engine::rebase::onto(&record, &stored, &to, series, &ds.tz, old_last.as_deref(), find, &mut |_| {})?;
    if let Found::Built(m) = &moved.matrix {
        store.put_matrix(m)?;
    }
    let report = moved.rebased;
    store.put_model(&moved.record)?;
    Ok(if args.json {
        to_json(&report)
    } else {
        format!(
            "model {} moved from dataset {} to {}: {} rows of its matrix reproduced bit for bit, {} new rows (last {} → {}); matrix {}\n",
            report.model_id,
            report.from_dataset,
            report.to_dataset,
            report.rows_checked,
            report.rows_added,
            report.old_end,
            report.new_end,
            engine::lineage::short(&report.to_matrix),
        )
    })
}
