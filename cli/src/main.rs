//! `btb`: the command line face of the BTB Workbench engine.
//!
//! ```text
//! btb inspect FILE [--ticker T] [--tz ZONE] [--json]
//! btb [--store DIR] data add FILE [--ticker T] [--tz ZONE] [--name N] [--json]
//! btb [--store DIR] data list [--json]
//! btb [--store DIR] data show ID [--json]
//! btb [--store DIR] data rm ID
//! btb indicators FILE [--ticker T] --ind "rsi:14,macd:12:26:9,bbands:20:2" --csv OUT
//! btb [--store DIR] init (--spec model.json | --pack-id P --ticker T [--model-id ID] …) [--json]
//! btb [--store DIR] build (--spec build.json | --model-id ID [--start D] [--end D] …) [--json]
//! btb [--store DIR] preview --model-id ID [--rows N] [--json]
//! btb [--store DIR] matrix export --model-id ID --out FILE.{csv,parquet}
//! btb train --matrix FILE.{csv,parquet} --label COL [--trees N] [--leaves N] [--lr X] … --out model.json [--json]
//! btb predict --model model.json --matrix FILE.{csv,parquet} --out preds.csv
//! btb [--store DIR] sweep (--spec sweep.json | --config sweep.yaml | --model-id ID --thresholds-variants L… …) [--json]
//! btb [--store DIR] sweep-config --model-id ID [--out FILE] [--force]
//! btb [--store DIR] leaderboard [--model-id ID] [--pass-gate] [--tag T] [--limit N] [--json]
//! btb [--store DIR] train (--spec train.json | --model-id ID --config-kind K --config-value V) [--json]
//! btb [--store DIR] backtest (--spec backtest.json | --model-id ID --thresholds L) [--json]
//! btb [--store DIR] signals --model-id ID [--limit N] [--json]
//! btb [--store DIR] alerts --model-id ID --out FILE.csv
//! btb [--store DIR] report (--run RUN_ID | --model-id ID [--pass-gate] [--tag T] [--limit N]) --out FILE.html
//! btb [--store DIR] pipeline --model-id ID [--start D] [--end D] [--momentum-min X] [--json]
//! btb [--store DIR] export --out FILE.btb.zip [--model-id ID …] [--run RUN_ID …] [--with-data] [--json]
//! btb [--store DIR] import FILE.btb.zip [--deep] [--json]
//! ```
//!
//! `SOURCE_DATE_EPOCH` (seconds), when set, is the time stamped on new records, so the same
//! inputs print the same JSON.
//!
//! Errors go to stderr as one line; nothing is printed on stdout then (with `--json` too). The
//! exit status tells a script which side is at fault, as [`EXIT_STATUS`] prints under `--help`:
//! 0 ok; 1 the data or an engine step failed (an unreadable file, a failed build, a store entry
//! that is missing or damaged); 2 the command line is wrong (a missing or contradictory flag, a
//! spec file that is not a valid body), the status clap itself gives its usage errors.

mod args;
mod commands;
mod error;
mod matrix_file;
mod print;
mod store;

use args::ReadArgs;
use clap::{Parser, Subcommand};
use commands::{
    backtest, build, bundle, data, leaderboard, model, pipeline, predict, report, scan, signals, sweep, train,
};
use error::CliError;
use std::path::PathBuf;
use std::process::ExitCode;
use store::Store;

/// Under `--help`: scripts branch on the status, so it is part of the interface.
const EXIT_STATUS: &str = "\
Exit status (errors are one line on stderr, nothing on stdout):
  0  ok
  1  the data or an engine step failed (an unreadable file, a failed build, a missing store entry)
  2  a usage error (a missing or contradictory flag, an invalid spec file)";

#[derive(Parser)]
#[command(
    name = "btb",
    version,
    about = "BTB Workbench: research trading strategies on your own bars",
    after_long_help = EXIT_STATUS
)]
struct Cli {
    /// Store directory (datasets, later models and runs).
    #[arg(long, global = true, default_value = ".btb", value_name = "DIR")]
    store: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Read a CSV/Parquet file (optionally gzip-compressed) and print its summary and quality report.
    Inspect {
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        /// Print JSON: {"rows", "tickers": [...], "issues": [...], ...}.
        #[arg(long)]
        json: bool,
    },
    /// Datasets in the store.
    #[command(subcommand)]
    Data(DataCmd),
    /// Compute indicators on a file's bars and write them as CSV.
    Indicators(data::IndicatorsArgs),
    /// Create a model from a pack template (body of POST /models).
    Init(model::InitArgs),
    /// Stored models.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Build a model's matrix (body of POST /build_matrix).
    Build(build::BuildArgs),
    /// Summary, per-feature statistics and first/last rows of a model's matrix.
    Preview(build::PreviewArgs),
    /// Built matrices.
    #[command(subcommand)]
    Matrix(MatrixCmd),
    /// Train a gradient-boosted tree classifier: on a matrix file (--matrix), or the final model
    /// of a stored model for one config (POST /train).
    Train(train::TrainArgs),
    /// Write a model's probabilities for every row of a matrix file.
    Predict(predict::PredictArgs),
    /// Judge every config of a sweep by a cross-validated backtest (POST /backtest_sweep).
    Sweep(sweep::SweepArgs),
    /// Write the model's template grid as a sweep file to edit (make sweep-config).
    SweepConfig(sweep::SweepConfigArgs),
    /// Stored runs, filtered and ranked (GET /leaderboard).
    Leaderboard(leaderboard::LeaderboardArgs),
    /// The cross-validated backtest of one config, with equity and trades (POST /backtest).
    Backtest(backtest::BacktestArgs),
    /// The newest signals of a model's trained strategy (GET /signals).
    Signals(signals::SignalsArgs),
    /// A model's trained strategies, one per config.
    Strategies(signals::StrategiesArgs),
    /// Write a model's signals to a CSV file.
    Alerts(signals::AlertsArgs),
    /// A run (--run) or a model's leaderboard (--model-id) as one self-contained HTML file.
    Report(report::ReportArgs),
    /// build → train → backtest → signals in one go.
    Pipeline(pipeline::PipelineArgs),
    /// Rank every ticker of a stored dataset by a scanner's score as of a date (make scan-breakout).
    Scan(scan::ScanArgs),
    /// The threshold at which a model fires Top-N signals a day over a universe, from its
    /// out-of-fold probabilities (make calibrate-scanner).
    CalibrateScanner(scan::CalibrateArgs),
    /// Write models, runs and strategies of the store as one bundle file (a ZIP with manifest.json).
    Export(bundle::ExportArgs),
    /// Verify a bundle and merge it into the store: all of it, or nothing if anything fails.
    Import(bundle::ImportArgs),
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Move a model to a newer dataset of its ticker, after checking that its build reproduces
    /// the model's matrix there bit for bit; its strategies' signals then reach the newest bar.
    Rebase(model::RebaseArgs),
}

#[derive(Subcommand)]
enum MatrixCmd {
    /// Write a model's matrix as CSV or Parquet.
    Export(build::ExportArgs),
}

#[derive(Subcommand)]
enum DataCmd {
    /// Load a file and store it.
    Add {
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        /// Display name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List stored datasets.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Read a stored dataset back, verify its hash and print its summary.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a stored dataset.
    Rm { id: String },
}

fn main() -> ExitCode {
    quiet_panics();
    let cli = Cli::parse();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli)));
    let Ok(outcome) = outcome else {
        // Already on stderr with RUST_BACKTRACE set (the default hook's view).
        eprintln!(
            "btb: internal error: {}; run again with RUST_BACKTRACE=1 for where, and please report it",
            last_panic()
        );
        return ExitCode::from(1);
    };
    match outcome {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let msg = e.to_string().replace(['\n', '\r'], " ");
            eprintln!("{msg}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The last panic's message and place, for the one line `main` prints when nothing caught it. A
/// panic on a `--jobs` thread reaches `main` as the scope's own "a scoped thread panicked", which
/// says nothing, so that one does not replace the thread's.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// A dependency that panics on a hostile file is caught where it happens and becomes that file's
/// one-line error (`engine::data::reading`); the default hook would first print "thread 'main'
/// panicked at …" and a backtrace hint. This hook keeps the message for [`main`] and prints
/// nothing, unless `RUST_BACKTRACE` asks for the developer's view.
fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = engine::data::panic_message(info.payload());
        let place = info.location().map_or_else(String::new, |l| format!(" at {l}"));
        if message != "a scoped thread panicked" {
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = format!("{message}{place}");
            }
        }
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
    }));
}

fn last_panic() -> String {
    LAST_PANIC.lock().map(|p| p.clone()).unwrap_or_default()
}

/// Returns everything to print on stdout, so that nothing is printed when a step fails.
fn run(cli: Cli) -> Result<String, CliError> {
    let store = Store::new(&cli.store);
    match cli.cmd {
        Cmd::Inspect { file, read, json } => data::inspect(&file, &read, json),
        Cmd::Data(DataCmd::Add { file, read, name, json }) => data::add(&store, &file, &read, name, json),
        Cmd::Data(DataCmd::List { json }) => data::list(&store, json),
        Cmd::Data(DataCmd::Show { id, json }) => data::show(&store, &id, json),
        Cmd::Data(DataCmd::Rm { id }) => data::rm(&store, &id),
        Cmd::Indicators(args) => data::indicators(args),
        Cmd::Init(args) => model::init(&store, args),
        Cmd::Model(ModelCmd::Rebase(args)) => model::rebase(&store, args),
        Cmd::Build(args) => build::build(&store, args),
        Cmd::Preview(args) => build::preview(&store, args),
        Cmd::Matrix(MatrixCmd::Export(args)) => build::export(&store, args),
        Cmd::Train(args) => train::train(&store, args),
        Cmd::Sweep(args) => sweep::sweep(&store, args),
        Cmd::SweepConfig(args) => sweep::sweep_config(&store, args),
        Cmd::Leaderboard(args) => leaderboard::leaderboard(&store, args),
        Cmd::Backtest(args) => backtest::backtest(&store, args),
        Cmd::Signals(args) => signals::signals(&store, args),
        Cmd::Strategies(args) => signals::strategies(&store, args),
        Cmd::Alerts(args) => signals::alerts(&store, args),
        Cmd::Report(args) => report::report(&store, args),
        Cmd::Pipeline(args) => pipeline::pipeline(&store, args),
        Cmd::Predict(args) => predict::predict(args),
        Cmd::Scan(args) => scan::scan(&store, args),
        Cmd::CalibrateScanner(args) => scan::calibrate_scanner(&store, args),
        Cmd::Export(args) => bundle::export(&store, args),
        Cmd::Import(args) => bundle::import(&store, args),
    }
}
