//! Scanners (the seed's `make scan-breakout UNIVERSE=… TOP_N=20`): `btb scan` ranks every
//! ticker of a stored multi-ticker dataset by one of `engine::scan`'s documented scores, from
//! bars up to the as-of date only, and prints the facts behind each score; `btb
//! calibrate-scanner` picks a model's threshold for Top-N signals a day over a universe.

use clap::Args;

use engine::scan::{Kind, ScanSpec};
use engine::sweep::ResearchOptions;

use crate::args::ResearchArgs;
use crate::commands::build::model_and_matrix;
use crate::commands::sweep::{default_jobs, oof_cached};
use crate::error::CliError;
use crate::print::{table, to_json};
use crate::store::Store;

#[derive(Args)]
pub struct ScanArgs {
    /// The stored dataset holding the universe.
    #[arg(long)]
    pub dataset: String,
    /// breakout, meanrevert, trend, squeeze, rs or highmomo.
    #[arg(long)]
    pub kind: String,
    #[arg(long, default_value_t = 20)]
    pub top_n: usize,
    /// Last date (YYYY-MM-DD) a score may see; default: the newest bar.
    #[arg(long)]
    pub asof: Option<String>,
    /// Only these tickers (comma-separated); default: all of the dataset's.
    #[arg(long, value_delimiter = ',')]
    pub tickers: Option<Vec<String>>,
    /// Score the file's raw prices even when it has an adjusted close.
    #[arg(long)]
    pub raw_prices: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn scan(store: &Store, args: ScanArgs) -> Result<String, CliError> {
    let kind: Kind = args.kind.parse()?;
    let id = store.resolve(&args.dataset)?;
    let (meta, ds) = store.load(&id)?;
    let spec =
        ScanSpec { kind, top_n: args.top_n, asof: args.asof, tickers: args.tickers, raw_prices: args.raw_prices };
    let s = engine::scan::scan(&ds, &spec)?;
    if args.json {
        return Ok(to_json(&s));
    }
    let mut out = format!(
        "{} scan of dataset {} ({}) as of {}: {} of {} tickers scored, the top {} shown\nscore = {}\n",
        s.kind,
        meta.id,
        meta.name,
        s.asof,
        s.scored,
        s.universe,
        s.rows.len(),
        s.formula
    );
    if let Some(first) = s.rows.first() {
        let mut rows = vec![["rank", "ticker", "bar", "score"].iter().map(|c| c.to_string()).collect::<Vec<_>>()];
        rows[0].extend(first.facts.iter().map(|f| f.name.clone()));
        for r in &s.rows {
            let mut line = vec![r.rank.to_string(), r.ticker.clone(), r.bar.clone(), format!("{:+.4}", r.score)];
            line.extend(r.facts.iter().map(|f| format!("{:.4}", f.value)));
            rows.push(line);
        }
        out.push_str(&table(&rows));
    }
    for k in &s.skipped {
        out.push_str(&format!("skipped {}: {}\n", k.ticker, k.reason));
    }
    Ok(out)
}

#[derive(Args)]
pub struct CalibrateArgs {
    #[arg(long)]
    pub model_id: String,
    /// Signals a day wanted across the universe.
    #[arg(long, default_value_t = 50)]
    pub top_n: usize,
    /// Thresholds to choose from [default: 0.50,0.55,…,0.95].
    #[arg(long, value_delimiter = ',')]
    pub grid: Option<Vec<f64>>,
    /// Tickers the model would be run over [default: the tickers of the model's dataset].
    #[arg(long)]
    pub universe: Option<usize>,
    /// The out-of-fold probabilities' CV and model (as `btb backtest` takes them).
    #[command(flatten)]
    pub research: ResearchArgs,
    #[arg(long)]
    pub json: bool,
}

/// `btb calibrate-scanner` (the seed's `make calibrate-scanner MODEL_ID=… TOP_N=50`): the
/// threshold at which the model fires Top-N signals a day over a universe, from its
/// out-of-fold probabilities (cached, as a sweep's and a backtest's are).
pub fn calibrate_scanner(store: &Store, args: CalibrateArgs) -> Result<String, CliError> {
    let (record, m) = model_and_matrix(store, &args.model_id, None)?;
    let mut research = ResearchOptions::default();
    args.research.apply(&mut research)?;
    let (oof, cached) = oof_cached(store, &m, &research.oof_spec(&m), default_jobs())?;
    let universe = match args.universe {
        Some(n) => n,
        None => store.meta(&record.dataset_id)?.tickers.len(),
    };
    let grid = args.grid.unwrap_or_else(|| (10..20).map(|i| f64::from(i) * 0.05).collect());
    let c = engine::scan::calibrate(&record.model_id, &m.ts, &m.tz, &oof.prob, &grid, args.top_n, universe)?;
    if args.json {
        return Ok(to_json(&c));
    }
    let mut out = format!(
        "{}: out-of-fold probabilities of {} bars over {} days ({}), {} tickers in the universe, Top-{} a day asked\n",
        c.model_id,
        c.bars,
        c.days,
        if cached { "from the cache" } else { "trained" },
        c.universe,
        c.top_n
    );
    let mut rows = vec![["threshold", "signal bars", "share", "a day (ticker)", "a day (universe)", ""]
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()];
    for r in &c.rows {
        let mark = if c.recommended == Some(r.threshold) { "← recommended" } else { "" };
        rows.push(vec![
            format!("{:.2}", r.threshold),
            r.signal_bars.to_string(),
            format!("{:.1}%", r.share * 100.0),
            format!("{:.3}", r.per_day_per_ticker),
            format!("{:.2}", r.per_day),
            mark.to_string(),
        ]);
    }
    out.push_str(&table(&rows));
    out.push_str(&c.note);
    out.push('\n');
    Ok(out)
}
