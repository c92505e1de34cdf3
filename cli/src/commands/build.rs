//! Build (seed Phase 2): `build` a model's matrix, `preview` it, `matrix export` it. Each command
//! takes the seed's API body as JSON (`--spec FILE`) or the same fields as flags; flags win over
//! the file. The later phases read the matrix a build left through [`model_and_matrix`].

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use engine::matrix::{find_or_build, BuildSpec, Found, Matrix};
use engine::model::ModelRecord;

use crate::args::read_json;
use crate::error::{usage, write_err, CliError};
use crate::print::{table, to_json};
use crate::store::Store;

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

pub fn build(store: &Store, args: BuildArgs) -> Result<String, CliError> {
    let mut spec: BuildSpec = match &args.spec {
        Some(p) => read_json(p)?,
        None => BuildSpec {
            model_id: args
                .model_id
                .clone()
                .ok_or_else(|| CliError::Usage("build needs --model-id or --spec".into()))?,
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
    let series = ds.series.iter().find(|s| s.ticker == record.model.ticker).ok_or_else(|| {
        CliError::Data(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker))
    })?;
    // Cached by sha: the same inputs reuse the stored matrix instead of rebuilding it (one that
    // cannot be read back is built again).
    let find = |sha: &str| store.matrix(sha).ok();
    let (matrix, cached) = match find_or_build(&record.model, series, &ds.tz, &spec, find, &mut |_| {})? {
        Found::Stored(m) => (m, true),
        Found::Built(m) => {
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
    let sha = record.matrix_sha.ok_or_else(|| {
        CliError::Data(format!("model {model_id} has no matrix yet; run `btb build --model-id {model_id}`"))
    })?;
    Ok(store.matrix(&sha)?)
}

/// The model's matrix with label horizon `distance_max`: its last build with that horizon (a
/// sweep's build dimension), from the store or built and stored; the model keeps its matrix.
pub(crate) fn matrix_with_horizon(
    store: &Store,
    record: &ModelRecord,
    distance_max: usize,
) -> Result<Matrix, CliError> {
    let mut spec = record.build_spec.clone().unwrap_or_else(|| BuildSpec {
        model_id: record.model_id.clone(),
        pack_id: record.model.pack_id.clone(),
        ..BuildSpec::default()
    });
    spec.distance_max = Some(distance_max);
    let (_, ds) = store.load(&record.dataset_id)?;
    let series = ds.series.iter().find(|s| s.ticker == record.model.ticker).ok_or_else(|| {
        CliError::Data(format!("dataset {} has no ticker {}", record.dataset_id, record.model.ticker))
    })?;
    let find = |sha: &str| store.matrix(sha).ok();
    Ok(match find_or_build(&record.model, series, &ds.tz, &spec, find, &mut |_| {})? {
        Found::Stored(m) => m,
        Found::Built(m) => {
            store.put_matrix(&m)?;
            m
        }
    })
}

/// The model's record and its last built matrix.
pub(crate) fn model_and_matrix(
    store: &Store,
    model_id: &str,
    pack_id: Option<&str>,
) -> Result<(ModelRecord, Matrix), CliError> {
    let record = store.model(model_id)?;
    if let Some(p) = pack_id.filter(|p| !p.is_empty()) {
        if p != record.model.pack_id {
            return Err(usage(format!("model {model_id} is in pack {}, not {p}", record.model.pack_id)));
        }
    }
    let m = built_matrix(store, model_id)?;
    Ok((record, m))
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
        rows.push(vec![
            f.name.clone(),
            format!("{:.6}", f.min),
            format!("{:.6}", f.max),
            format!("{:.6}", f.mean),
            f.nan_count.to_string(),
        ]);
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
    let write_err = write_err(&args.out);
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
