//! The Build phase from the command line (seed Phases 1–2): indicators on a file, `init` a
//! model, `build` its matrix, `preview` it, `matrix export` it. Each command takes the seed's API
//! body as JSON (`--spec FILE`) or the same fields as flags; flags win over the file.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use engine::data::{time, Dataset};
use engine::indicators::{Indicator, Ohlcv};
use engine::matrix::{build_matrix, matrix_sha, BuildSpec, Matrix};
use engine::model::ModelSpec;
use engine::risk::RiskProfile;

use crate::args::{read_json, ReadArgs};
use crate::error::CliError;
use crate::print::{table, to_json};
use crate::commands::data::read_file;
use crate::store::{ModelRecord, Store};

#[derive(Args)]
pub struct IndicatorsArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Comma-separated indicators with TA-Lib's parameter order, e.g. "rsi:14,macd:12:26:9,bbands:20:2".
    #[arg(long = "ind", value_name = "LIST")]
    pub ind: String,
    /// Output CSV: a timestamp column and one column per output; empty cells during warm-up.
    #[arg(long, value_name = "OUT")]
    pub csv: PathBuf,
}

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

#[derive(Args)]
pub struct BuildArgs {
    /// JSON body of `POST /build_matrix`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub pack_id: Option<String>,
    /// First day, inclusive (YYYY-MM-DD, in the dataset's zone).
    #[arg(long)]
    pub start: Option<String>,
    /// Last day, inclusive.
    #[arg(long)]
    pub end: Option<String>,
    #[arg(long)]
    pub ticker: Option<String>,
    /// Label horizon in bars.
    #[arg(long)]
    pub distance_max: Option<usize>,
    /// Use raw prices even when the file has an adjusted close (default: adjusted).
    #[arg(long)]
    pub raw_prices: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PreviewArgs {
    #[arg(long)]
    pub model_id: String,
    /// Rows shown from each end.
    #[arg(long, default_value_t = 5)]
    pub rows: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub model_id: String,
    /// FILE.csv or FILE.parquet.
    #[arg(long)]
    pub out: PathBuf,
}

fn one_series<'a>(ds: &'a Dataset, file: &Path) -> Result<&'a engine::data::Series, CliError> {
    match ds.series.as_slice() {
        [one] => Ok(one),
        many => Err(CliError::Usage(format!(
            "{} holds {} tickers ({}); choose one with --ticker",
            file.display(),
            many.len(),
            many.iter().map(|s| s.ticker.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

pub fn indicators(args: IndicatorsArgs) -> Result<String, CliError> {
    let list = Indicator::parse_list(&args.ind)?;
    let ds = read_file(&args.file, &args.read)?;
    let series = one_series(&ds, &args.file)?;
    let tz = time::parse_tz(&ds.tz).unwrap_or(chrono_tz::UTC);
    let date_only = !series.cadence().is_intraday();
    let bars = Ohlcv::from(series);
    let mut names = vec!["timestamp".to_string()];
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for ind in &list {
        names.extend(ind.outputs());
        columns.extend(ind.compute(&bars).map_err(|e| CliError::engine_at(ind.spec(), e))?);
    }
    let mut out = String::with_capacity(series.ts.len() * 16 * (columns.len() + 1));
    out.push_str(&names.join(","));
    out.push('\n');
    for (i, &ts) in series.ts.iter().enumerate() {
        out.push_str(&time::format_ms(ts, tz, date_only));
        for c in &columns {
            out.push(',');
            let v = c[i];
            if v.is_finite() {
                // Shortest representation that reads back to the same f64.
                out.push_str(&format!("{v:?}"));
            }
        }
        out.push('\n');
    }
    std::fs::write(&args.csv, out).map_err(|source| CliError::Read { path: args.csv.display().to_string(), source })?;
    Ok(format!(
        "wrote {} rows × {} columns to {}\n",
        series.ts.len(),
        names.len() - 1,
        args.csv.display()
    ))
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
        return Err(CliError::Usage(format!(
            "model {} exists already; pass --force to replace it",
            model.model_id
        )));
    }
    let record = ModelRecord {
        model_id: model.model_id.clone(),
        model,
        dataset_id: dataset.id.clone(),
        created: time::format_utc(now_ms()),
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

/// Now, or `SOURCE_DATE_EPOCH` (seconds) when set, so that two runs can print identical JSON.
pub(crate) fn now_ms() -> i64 {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok()) {
        return s.saturating_mul(1000);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn build(store: &Store, args: BuildArgs) -> Result<String, CliError> {
    let mut spec: BuildSpec = match &args.spec {
        Some(p) => read_json(p)?,
        None => BuildSpec {
            model_id: args.model_id.clone().ok_or_else(|| CliError::Usage("build needs --model-id or --spec".into()))?,
            pack_id: String::new(),
            start: None,
            end: None,
            ticker: None,
            distance_max: None,
            raw_prices: false,
        },
    };
    if let Some(v) = args.model_id {
        spec.model_id = v;
    }
    if let Some(v) = args.pack_id {
        spec.pack_id = v;
    }
    if let Some(v) = args.start {
        spec.start = Some(v);
    }
    if let Some(v) = args.end {
        spec.end = Some(v);
    }
    if let Some(v) = args.ticker {
        spec.ticker = Some(v);
    }
    if let Some(v) = args.distance_max {
        spec.distance_max = Some(v);
    }
    if args.raw_prices {
        spec.raw_prices = true;
    }
    let mut record = store.model(&spec.model_id)?;
    if spec.pack_id.is_empty() {
        spec.pack_id = record.model.pack_id.clone();
    }
    let (_, ds) = store.load(&record.dataset_id)?;
    let series = ds
        .series
        .iter()
        .find(|s| s.ticker == record.model.ticker)
        .ok_or_else(|| CliError::Data(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker)))?;
    // Cached by sha: the same inputs reuse the stored matrix instead of rebuilding it.
    let sha = matrix_sha(&record.model, series, &ds.tz, &spec)?;
    let (matrix, cached) = match store.matrix(&sha) {
        Ok(m) => (m, true),
        Err(_) => {
            let m = build_matrix(&record.model, series, &ds.tz, &spec)?;
            store.put_matrix(&m)?;
            (m, false)
        }
    };
    record.matrix_sha = Some(matrix.matrix_sha.clone());
    record.build_spec = Some(spec.clone());
    store.put_model(&record)?;
    let summary = matrix.summary();
    Ok(if args.json {
        let mut v = serde_json::to_value(&summary).unwrap_or_default();
        v["cached"] = json!(cached);
        to_json(&v)
    } else {
        format!(
            "{}matrix {} ({}): {} rows × {} features, dropped {} warm-up, {} past the data, {} at session ends\n",
            if cached { "cached " } else { "" },
            engine::lineage::short(&summary.matrix_sha),
            summary.matrix_sha,
            summary.rows,
            summary.features,
            summary.dropped.warmup,
            summary.dropped.label_horizon,
            summary.dropped.session_end
        )
    })
}

pub(crate) fn built_matrix(store: &Store, model_id: &str) -> Result<Matrix, CliError> {
    let record = store.model(model_id)?;
    let sha = record
        .matrix_sha
        .ok_or_else(|| CliError::Data(format!("model {model_id} has no matrix yet; run `btb build --model-id {model_id}`")))?;
    Ok(store.matrix(&sha)?)
}

pub fn preview(store: &Store, args: PreviewArgs) -> Result<String, CliError> {
    let m = built_matrix(store, &args.model_id)?;
    let p = m.preview(args.rows);
    if args.json {
        return Ok(to_json(&json!({ "summary": m.summary(), "preview": p })));
    }
    let s = m.summary();
    let mut rows = vec![vec!["feature".into(), "min".into(), "max".into(), "mean".into(), "nan".into()]];
    for f in &p.stats {
        rows.push(vec![f.name.clone(), format!("{:.6}", f.min), format!("{:.6}", f.max), format!("{:.6}", f.mean), f.nan_count.to_string()]);
    }
    Ok(format!(
        "matrix {} : {} rows × {} features, label=1 in {:.1}% of rows\n\n{}",
        engine::lineage::short(&s.matrix_sha),
        s.rows,
        s.features,
        p.positive_rate * 100.0,
        table(&rows)
    ))
}

pub fn export(store: &Store, args: ExportArgs) -> Result<String, CliError> {
    let m = built_matrix(store, &args.model_id)?;
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let write_err = |source| CliError::Read { path: args.out.display().to_string(), source };
    match ext.as_str() {
        "csv" => std::fs::write(&args.out, m.to_csv()).map_err(write_err)?,
        "parquet" => std::fs::write(&args.out, to_parquet(&m)?).map_err(write_err)?,
        other => return Err(CliError::Usage(format!("--out must end in .csv or .parquet, not .{other}"))),
    }
    Ok(format!("wrote {} rows × {} features to {}\n", m.rows(), m.n_features(), args.out.display()))
}

/// The matrix as Parquet (zstd): a UTC millisecond timestamp, every feature, and the label.
fn to_parquet(m: &Matrix) -> Result<Vec<u8>, CliError> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;

    let fail = |e: String| CliError::Data(format!("cannot write Parquet: {e}"));
    let mut names = vec!["timestamp".to_string()];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(TimestampMillisecondArray::from(m.ts.clone()).with_timezone("UTC"))];
    for (name, col) in m.feature_names.iter().zip(&m.features) {
        names.push(name.clone());
        cols.push(Arc::new(Float64Array::from(col.clone())));
    }
    names.push("label".into());
    cols.push(Arc::new(Float64Array::from(m.label.clone())));
    let batch = RecordBatch::try_from_iter(names.into_iter().zip(cols)).map_err(|e| fail(e.to_string()))?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| fail(e.to_string()))?;
    w.write(&batch).map_err(|e| fail(e.to_string()))?;
    w.close().map_err(|e| fail(e.to_string()))?;
    Ok(buf)
}
