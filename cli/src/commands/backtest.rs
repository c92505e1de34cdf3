//! Backtest (seed Phase 6): the cross-validated backtest of one config, with its equity curve
//! and trades.
//!
//! ```text
//! btb backtest (--spec backtest.json | --model-id ID (--thresholds L | --top-pct F))
//!              [--allowed-hours H] [--splits N] … [--equity-csv FILE] [--trades-csv FILE] [--json]
//! ```

use std::path::PathBuf;

use clap::Args;

use engine::run::evaluate;
use engine::sweep::BacktestBody;

use crate::args::{override_with, read_json, ResearchArgs};
use crate::commands::build::model_and_matrix;
use crate::commands::sweep::{default_jobs, oof_cached};
use crate::error::{usage, write_err, CliError};
use crate::print::{metrics_text, pct, table, to_json};
use crate::store::{created, Store};

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
    /// Gate: the deflated Sharpe ratio must reach this (off unless given).
    #[arg(long)]
    pub min_dsr: Option<f64>,
    #[command(flatten)]
    pub research: ResearchArgs,
    /// Also write the equity and drawdown curves (beside buy and hold) as CSV.
    #[arg(long, value_name = "FILE")]
    pub equity_csv: Option<PathBuf>,
    /// Also write the trades as CSV.
    #[arg(long, value_name = "FILE")]
    pub trades_csv: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn backtest_body(args: &BacktestArgs) -> Result<BacktestBody, CliError> {
    let mut body: BacktestBody = match &args.spec {
        Some(p) => read_json(p)?,
        None => BacktestBody::default(),
    };
    override_with!(body, args; model_id, pack_id, thresholds, top_pct, allowed_hours, min_trades, min_sharpe, min_dsr);
    args.research.apply(&mut body.research)?;
    Ok(body)
}

/// The cross-validated backtest of one config (what a sweep computes for each of its configs).
pub(crate) fn run_backtest(
    store: &Store,
    body: &BacktestBody,
) -> Result<(engine::run::BacktestReport, bool), CliError> {
    let model_id = body.model_id.clone().ok_or_else(|| usage("backtest needs --model-id or a spec with model_id"))?;
    let (record, m) = model_and_matrix(store, &model_id, body.pack_id.as_deref())?;
    let (config, settings) = body.plan(&record.model, &m, created())?;
    let (o, cached) = oof_cached(store, &m, &settings.oof_spec, default_jobs())?;
    let e = evaluate(&settings.context(&m, &o), &config)?;
    Ok((e.report(&m, &record.model.cadence), cached))
}

pub fn backtest(store: &Store, args: BacktestArgs) -> Result<String, CliError> {
    let body = backtest_body(&args)?;
    let (report, _) = run_backtest(store, &body)?;
    if let Some(path) = &args.equity_csv {
        std::fs::write(path, engine::sheet::equity(&report)).map_err(write_err(path))?;
    }
    if let Some(path) = &args.trades_csv {
        std::fs::write(path, engine::sheet::trades(&report)).map_err(write_err(path))?;
    }
    if args.json {
        return Ok(to_json(&report));
    }
    let mut out = metrics_text(&report.run);
    let h = &report.buy_and_hold;
    out.push_str(&format!(
        "buy and hold: return {}, Sharpe {:.2}, max drawdown {}\n",
        pct(h.total_return),
        h.sharpe,
        pct(h.max_dd)
    ));
    let last: Vec<_> = report.trades.iter().rev().take(5).collect();
    if !last.is_empty() {
        let mut t =
            vec![["entry", "exit", "side", "entry px", "exit px", "return", "exit on"].map(String::from).to_vec()];
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
