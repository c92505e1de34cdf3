//! The feature matrix: features × rows plus the label and the columns a policy needs, built
//! from one ticker's bars over a date range and identified by `matrix_sha`.
//!
//! # Build
//!
//! [`build_matrix`] slices the series to the requested local dates (inclusive, in the dataset's
//! zone), computes every feature **on the slice only** (so the slice alone determines the
//! result), labels every bar, and keeps the rows where every feature is a number and the label
//! exists. Dropped rows are counted in [`Dropped`].
//!
//! # `matrix_sha`
//!
//! ```text
//! data_sha   = sha256_hex( ts[0..n] as i64 little-endian ‖ open[0..n] as f64 LE ‖ high ‖ low ‖ close ‖ volume )
//!              over the bars of the slice (n bars, 8 bytes per value, column after column), with
//!              the adjusted prices the features see (unless BuildSpec::raw_prices)
//! matrix_sha = sha_of({                                  // canonical JSON, see crate::lineage
//!     "code_version": FEATURE_CODE_VERSION,              // 2 (1 hashed raw prices)
//!     "data": {"bars": n, "sha256": data_sha, "ticker": series.ticker, "tz": "<IANA name>"},
//!     "features": [canonical FeatureSpec, …],            // model.features, in order, canonicalised
//!     "label": LabelSpec with the effective distance_max,
//!     "start": "YYYY-MM-DD" | null,                      // the requested bounds, normalised
//!     "end": "YYYY-MM-DD" | null,
//!     "distance_max": effective distance_max             // BuildSpec's, else the label's
//! })
//! ```
//!
//! The model id, pack, risk profile and asset are not part of it: two models with the same
//! features and label on the same bars share a matrix. Same inputs give the same sha natively
//! and in wasm (integers and IEEE bytes only, canonical JSON).

use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::time::{days_from_civil, format_ms, local_day, ms_to_local};
use crate::data::Series;
use crate::features::{self, check_series, compute_features_with_progress, tz_of, Clock, FeatureError, FeatureSpec};
use crate::frame::{self, Frame, FrameError};
use crate::label::{LabelGap, LabelSpec};
use crate::lineage::sha_of;
use crate::model::Model;

/// Version of the feature code; part of `matrix_sha`. Bump it whenever a feature, label or the
/// row selection changes its numbers, so cached matrices are rebuilt.
pub const FEATURE_CODE_VERSION: u32 = 2;

/// Body of `POST /build_matrix`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildSpec {
    /// When non-empty, must be the model's id.
    #[serde(default)]
    pub model_id: String,
    /// When non-empty, must be the model's pack.
    #[serde(default)]
    pub pack_id: String,
    /// First local date (`YYYY-MM-DD`, inclusive, in the dataset's zone); default: the first bar.
    #[serde(default)]
    pub start: Option<String>,
    /// Last local date (inclusive); default: the last bar.
    #[serde(default)]
    pub end: Option<String>,
    /// Ticker of the series; default: the model's. The series must be this ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Label horizon in bars; overrides the template label's.
    #[serde(default)]
    pub distance_max: Option<usize>,
    /// Use the file's raw prices even when it has an adjusted close (by default prices are
    /// scaled by `adj_close / close`, see [`Series::adjusted`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_prices: bool,
}

/// Rows left out of the matrix, each counted once, in this order of precedence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// A feature was missing (indicator warm-up, the first bars of a session for opening-range
    /// features, unusable input bars) or an input of the label was (ATR warm-up, bad close).
    pub warmup: usize,
    /// The label's horizon runs past the last bar of the slice.
    pub label_horizon: usize,
    /// The label's horizon crosses the session's last bar (session-bound labels).
    pub session_end: usize,
}

impl Dropped {
    pub fn total(&self) -> usize {
        self.warmup + self.label_horizon + self.session_end
    }
}

/// The built matrix. Every column has one value per kept row, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub matrix_sha: String,
    pub ticker: String,
    /// IANA zone of the dataset (hours, sessions, formatted times).
    pub tz: String,
    pub feature_names: Vec<String>,
    /// Column-major: `features[j][i]` is feature `j` at row `i`. Never `NaN`.
    pub features: Vec<Vec<f64>>,
    /// 0.0 or 1.0.
    pub label: Vec<f64>,
    /// Bar open time, UTC epoch milliseconds.
    pub ts: Vec<i64>,
    pub close: Vec<f64>,
    /// Open of the next bar of the slice (where a decision on this bar's close executes); `NaN`
    /// on the slice's last bar.
    pub next_open: Vec<f64>,
    /// Local hour (0..23) in the dataset's zone.
    pub hour: Vec<f64>,
    /// See [`features::momentum_score_total`]; may be `NaN` on rows in its 60-bar warm-up when the
    /// model's own features warm up sooner (it is a policy column, not a feature).
    pub momentum_score_total: Vec<f64>,
    pub dropped: Dropped,
    /// First and last kept row: `YYYY-MM-DD` for daily bars, else ISO 8601 with offset.
    pub start: String,
    pub end: String,
    /// The effective label horizon in bars (the purge gap for cross-validation).
    pub distance_max: usize,
}

/// What `btb build --json` prints: `{"matrix_sha","rows","features","dropped"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildSummary {
    pub matrix_sha: String,
    pub rows: usize,
    pub features: usize,
    pub dropped: Dropped,
}

/// One row of a preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// ISO time in the dataset's zone (a bare date for daily bars).
    pub ts: String,
    pub label: f64,
    /// Feature values in `feature_names` order.
    pub values: Vec<f64>,
}

/// Distribution of one feature over the kept rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStat {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub nan_count: usize,
    /// 20 equal-width bins over `[min, max]` (all in the first when `min == max`).
    pub histogram: Vec<u32>,
}

/// A quick look at a matrix (`btb preview`, the Build page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub feature_names: Vec<String>,
    pub rows: usize,
    /// Share of rows labelled 1.
    pub positive_rate: f64,
    pub head: Vec<PreviewRow>,
    pub tail: Vec<PreviewRow>,
    pub stats: Vec<FeatureStat>,
}

pub const HISTOGRAM_BINS: usize = 20;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("build is for model `{requested}` but the model is `{model}`")]
    ModelMismatch { requested: String, model: String },
    #[error("build is for pack `{requested}` but model {model} is in pack `{pack}`")]
    PackMismatch { requested: String, model: String, pack: String },
    #[error("the series is {got} but the build is for ticker {expected}")]
    TickerMismatch { expected: String, got: String },
    #[error("`{field}` must be a date like 2022-01-31, got `{value}`")]
    BadDate { field: &'static str, value: String },
    #[error("start {start} is after end {end}")]
    StartAfterEnd { start: String, end: String },
    #[error("no bars of {ticker} between {start} and {end} (the data covers {first} to {last})")]
    EmptyRange { ticker: String, start: String, end: String, first: String, last: String },
    #[error("distance_max must be at least 1")]
    BadDistanceMax,
    #[error(
        "no rows left for {ticker}: {bars} bars from {first} to {last}; dropped {warmup} in warm-up (the features need about {lookback} bars), \
         {label_horizon} whose label runs past the data, {session_end} at session ends — extend the date range or pick shorter indicators"
    )]
    NoRows {
        ticker: String,
        bars: usize,
        first: String,
        last: String,
        lookback: usize,
        warmup: usize,
        label_horizon: usize,
        session_end: usize,
    },
    #[error(transparent)]
    Feature(#[from] FeatureError),
}

/// Why stored matrix bytes could not be read back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixDecodeError {
    #[error("not a stored matrix (bad magic bytes)")]
    BadMagic,
    #[error("stored matrix format version {0} is not supported (this build reads versions 1 and 2)")]
    UnsupportedVersion(u32),
    #[error("stored matrix is truncated: {needed} bytes needed, {got} present")]
    Truncated { needed: usize, got: usize },
    #[error("stored matrix header is unreadable: {0}")]
    BadHeader(String),
    #[error("stored matrix is corrupt (its columns do not match their checksum)")]
    Corrupt,
}

fn parse_date(field: &'static str, s: &Option<String>) -> Result<Option<(String, i64)>, BuildError> {
    let Some(raw) = s.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || BuildError::BadDate { field, value: raw.to_string() };
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
    use chrono::Datelike;
    let day = days_from_civil(d.year(), d.month(), d.day()).ok_or_else(bad)?;
    Ok(Some((d.format("%Y-%m-%d").to_string(), day)))
}

/// The bars of `series` from the first local date of `spec` (in the zone `tz`) to the last bar:
/// what rebuilds both the matrix of that build (features see the slice only) and the scoring
/// rows signals are read from (which run to the newest bar). A bundle carries this slice.
pub fn bars_from_start(series: &Series, tz: &str, spec: &BuildSpec) -> Series {
    let zone = crate::data::time::parse_tz(tz).unwrap_or(chrono_tz::UTC);
    let a = match parse_date("start", &spec.start) {
        Ok(Some((_, d))) => series.ts.partition_point(|&t| local_day(t, zone) < d),
        _ => 0,
    };
    series.slice(a, series.len())
}

/// SHA-256 of the slice's ts/open/high/low/close/volume columns as little-endian bytes.
fn data_sha(s: &Series) -> String {
    let mut h = Sha256::new();
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let flush = |buf: &mut Vec<u8>, h: &mut Sha256| {
        h.update(&buf[..]);
        buf.clear();
    };
    for &t in &s.ts {
        buf.extend_from_slice(&t.to_le_bytes());
        if buf.len() >= 8 * 1024 {
            flush(&mut buf, &mut h);
        }
    }
    for col in [&s.open, &s.high, &s.low, &s.close, &s.volume] {
        for &v in col.iter() {
            buf.extend_from_slice(&v.to_le_bytes());
            if buf.len() >= 8 * 1024 {
                flush(&mut buf, &mut h);
            }
        }
    }
    flush(&mut buf, &mut h);
    let d = h.finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize)]
struct ShaData<'a> {
    bars: usize,
    sha256: String,
    ticker: &'a str,
    tz: &'a str,
}

#[derive(Serialize)]
struct ShaInput<'a> {
    code_version: u32,
    data: ShaData<'a>,
    features: &'a [FeatureSpec],
    label: &'a LabelSpec,
    start: Option<&'a str>,
    end: Option<&'a str>,
    distance_max: usize,
}

/// Whether every time is a local midnight (daily or slower bars): then times print as dates.
pub(crate) fn date_only(ts: &[i64], tz: chrono_tz::Tz) -> bool {
    use chrono::Timelike;
    !ts.is_empty()
        && ts.iter().all(|&t| ms_to_local(t, tz).is_some_and(|n| n.hour() == 0 && n.minute() == 0 && n.second() == 0))
}

/// A build request checked and its slice cut: everything `matrix_sha` depends on, before any
/// feature is computed, so a cached matrix can be found without building it.
struct Prepared {
    zone: chrono_tz::Tz,
    feats: Vec<FeatureSpec>,
    label_spec: LabelSpec,
    distance_max: usize,
    fmt_all: bool,
    sl: Series,
    matrix_sha: String,
}

/// The bars a build gives its features, `[a, b)` of the series: from the spec's start date to
/// its end date in the dataset's zone, each bound the whole range when unset. The page draws a
/// model's features over the same bars, so their warm-up is the one the trees saw.
pub fn build_range(series: &Series, spec: &BuildSpec, zone: chrono_tz::Tz) -> Result<(usize, usize), BuildError> {
    let start = parse_date("start", &spec.start)?;
    let end = parse_date("end", &spec.end)?;
    if let (Some((s, a)), Some((e, b))) = (&start, &end) {
        if a > b {
            return Err(BuildError::StartAfterEnd { start: s.clone(), end: e.clone() });
        }
    }
    let fmt = |t: i64| format_ms(t, zone, date_only(&series.ts, zone));
    let a = match &start {
        Some((_, d)) => series.ts.partition_point(|&t| local_day(t, zone) < *d),
        None => 0,
    };
    let b = match &end {
        Some((_, d)) => series.ts.partition_point(|&t| local_day(t, zone) <= *d),
        None => series.len(),
    };
    if a >= b {
        return Err(BuildError::EmptyRange {
            ticker: series.ticker.clone(),
            start: start.as_ref().map_or("the first bar".into(), |s| s.0.clone()),
            end: end.as_ref().map_or("the last bar".into(), |e| e.0.clone()),
            first: series.ts.first().map(|&t| fmt(t)).unwrap_or_else(|| "-".into()),
            last: series.ts.last().map(|&t| fmt(t)).unwrap_or_else(|| "-".into()),
        });
    }
    Ok((a, b))
}

fn prepare(model: &Model, series: &Series, tz: &str, spec: &BuildSpec) -> Result<Prepared, BuildError> {
    let zone = tz_of(tz)?;
    let tz_name = zone.name();
    // Requests must be about this model and ticker.
    let req_model = spec.model_id.trim();
    if !req_model.is_empty() && req_model != model.model_id {
        return Err(BuildError::ModelMismatch { requested: req_model.to_string(), model: model.model_id.clone() });
    }
    let req_pack = spec.pack_id.trim();
    if !req_pack.is_empty() && !req_pack.eq_ignore_ascii_case(&model.pack_id) {
        return Err(BuildError::PackMismatch {
            requested: req_pack.to_string(),
            model: model.model_id.clone(),
            pack: model.pack_id.clone(),
        });
    }
    let expected = spec.ticker.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or(&model.ticker);
    if !expected.eq_ignore_ascii_case(series.ticker.trim()) {
        return Err(BuildError::TickerMismatch { expected: expected.to_string(), got: series.ticker.clone() });
    }
    check_series(series)?;
    let distance_max = spec.distance_max.unwrap_or_else(|| model.label.distance_max());
    if distance_max == 0 {
        return Err(BuildError::BadDistanceMax);
    }
    let label_spec = model.label.with_distance_max(distance_max);
    label_spec.validate()?;
    // Canonical features (a model from `resolve` already has them; a hand-built one may not).
    let feats: Vec<FeatureSpec> = model.features.iter().map(FeatureSpec::canonical).collect::<Result<_, _>>()?;

    let (a, b) = build_range(series, spec, zone)?;
    // Checked by `build_range`; their wording goes into the sha.
    let (start, end) = (parse_date("start", &spec.start)?, parse_date("end", &spec.end)?);
    let fmt_all = date_only(&series.ts, zone);
    // Split- and dividend-adjusted prices when the file has an adjusted close: a 2:1 split is
    // not a 50% crash, neither for the features nor for the backtest's equity.
    let sl = series.slice(a, b).as_built(spec.raw_prices);
    let n = sl.len();
    let sha_input = ShaInput {
        code_version: FEATURE_CODE_VERSION,
        data: ShaData { bars: n, sha256: data_sha(&sl), ticker: &sl.ticker, tz: tz_name },
        features: &feats,
        label: &label_spec,
        start: start.as_ref().map(|s| s.0.as_str()),
        end: end.as_ref().map(|e| e.0.as_str()),
        distance_max,
    };
    let matrix_sha = sha_of(&sha_input);
    Ok(Prepared { zone, feats, label_spec, distance_max, fmt_all, sl, matrix_sha })
}

/// The `matrix_sha` that [`build_matrix`] would return for these inputs, without computing a
/// feature: the key under which the app and the CLI cache built matrices.
pub fn matrix_sha(model: &Model, series: &Series, tz: &str, spec: &BuildSpec) -> Result<String, BuildError> {
    Ok(prepare(model, series, tz, spec)?.matrix_sha)
}

/// Build the matrix of `model` on `series` (one ticker's bars, in the dataset's zone `tz`).
pub fn build_matrix(model: &Model, series: &Series, tz: &str, spec: &BuildSpec) -> Result<Matrix, BuildError> {
    build(prepare(model, series, tz, spec)?, false, &mut |_| {})
}

/// What a build request comes to in a store: the matrix already stored under its sha (as the
/// store's `find` gave it), or one just built (a shell may carry it as something else, as the
/// page does a worker's reply).
#[derive(Debug)]
pub enum Found<S, B = Matrix> {
    Stored(S),
    Built(B),
}

/// The Build step as both shells run it: the inputs' `matrix_sha` is computed once (hashing a
/// million bars is a third of a second in wasm); `find` looks it up in the caller's store and
/// only what it does not find is built, calling `progress` with the fraction done (features
/// are most of the work) so the page can show a progress bar for a long build.
pub fn find_or_build<T>(
    model: &Model,
    series: &Series,
    tz: &str,
    spec: &BuildSpec,
    find: impl FnOnce(&str) -> Option<T>,
    progress: &mut dyn FnMut(f64),
) -> Result<Found<T>, BuildError> {
    let prepared = prepare(model, series, tz, spec)?;
    match find(&prepared.matrix_sha) {
        Some(stored) => Ok(Found::Stored(stored)),
        None => Ok(Found::Built(build(prepared, false, progress)?)),
    }
}

/// The rows a trained model can score: like [`build_matrix`], but rows whose label is not known
/// yet (the last `distance_max` bars, the bars at session ends) are kept with a `NaN` label.
/// Signals are read from the newest of these rows. Its `matrix_sha` is the training matrix's
/// with a `scoring:` prefix hashed in, so the two are never confused in a cache.
pub fn build_scoring(model: &Model, series: &Series, tz: &str, spec: &BuildSpec) -> Result<Matrix, BuildError> {
    build_scoring_with_progress(model, series, tz, spec, &mut |_| {})
}

/// [`build_scoring`], calling `progress(fraction)` as the features are computed.
pub fn build_scoring_with_progress(
    model: &Model,
    series: &Series,
    tz: &str,
    spec: &BuildSpec,
    progress: &mut dyn FnMut(f64),
) -> Result<Matrix, BuildError> {
    let mut m = build(prepare(model, series, tz, spec)?, true, progress)?;
    m.matrix_sha = crate::lineage::sha_of(&format!("scoring:{}", m.matrix_sha));
    Ok(m)
}

fn build(prepared: Prepared, keep_unlabelled: bool, progress: &mut dyn FnMut(f64)) -> Result<Matrix, BuildError> {
    let Prepared { zone, feats, label_spec, distance_max, fmt_all, sl, matrix_sha } = prepared;
    let tz_name = zone.name();
    let fmt = |t: i64| format_ms(t, zone, fmt_all);
    let n = sl.len();

    // Features, policy columns, labels.
    let frame = compute_features_with_progress(&feats, &sl, tz_name, &mut |done, total| {
        progress(0.95 * done as f64 / total.max(1) as f64)
    })?;
    let clock = Clock::new(&sl.ts, zone);
    let hour = features::hour(&clock);
    let momentum = features::momentum_score_total(&sl.close);
    let labels = label_spec.compute(&sl, &clock.day)?;

    // Row selection.
    let mut dropped = Dropped::default();
    let mut keep: Vec<usize> = Vec::with_capacity(n);
    let mut label = Vec::with_capacity(n);
    for t in 0..n {
        if frame.columns.iter().any(|c| !c[t].is_finite()) {
            dropped.warmup += 1;
            continue;
        }
        match labels[t] {
            Ok(v) => {
                keep.push(t);
                label.push(v);
            }
            Err(_) if keep_unlabelled => {
                keep.push(t);
                label.push(f64::NAN);
            }
            Err(LabelGap::PastEnd) => dropped.label_horizon += 1,
            Err(LabelGap::SessionEnd) => dropped.session_end += 1,
            Err(LabelGap::Missing) => dropped.warmup += 1,
        }
    }
    if keep.is_empty() {
        let lookback =
            frame.columns.iter().map(|c| c.iter().position(|v| v.is_finite()).unwrap_or(n)).max().unwrap_or(0);
        return Err(BuildError::NoRows {
            ticker: sl.ticker.clone(),
            bars: n,
            first: fmt(sl.ts[0]),
            last: fmt(sl.ts[n - 1]),
            lookback,
            warmup: dropped.warmup,
            label_horizon: dropped.label_horizon,
            session_end: dropped.session_end,
        });
    }

    let pick = |col: &[f64]| keep.iter().map(|&t| col[t]).collect::<Vec<f64>>();
    // In place, column by column: a million-row frame is 320 MB, and a picked copy beside it
    // would double the build's peak memory (in wasm, memory once grown is never given back).
    let features = frame
        .columns
        .into_iter()
        .map(|mut c| {
            for (j, &t) in keep.iter().enumerate() {
                c[j] = c[t];
            }
            c.truncate(keep.len());
            c.shrink_to_fit();
            c
        })
        .collect();
    let next_open: Vec<f64> = keep.iter().map(|&t| if t + 1 < n { sl.open[t + 1] } else { f64::NAN }).collect();
    let first = keep[0];
    let last = keep[keep.len() - 1];
    progress(1.0);
    Ok(Matrix {
        matrix_sha,
        ticker: sl.ticker.clone(),
        tz: tz_name.to_string(),
        feature_names: frame.names,
        features,
        label,
        ts: keep.iter().map(|&t| sl.ts[t]).collect(),
        close: pick(&sl.close),
        next_open,
        hour: pick(&hour),
        momentum_score_total: pick(&momentum),
        dropped,
        start: fmt(sl.ts[first]),
        end: fmt(sl.ts[last]),
        distance_max,
    })
}

/// Version 2: the columns' checksum is XXH3-64. Version 1 (SHA-256) is still read, so a store
/// made by an older build keeps its matrices.
const MAGIC: &[u8; 8] = b"BTBMTX\x00\x02";
const MAGIC_V1: &[u8; 8] = b"BTBMTX\x00\x01";
const FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    matrix_sha: String,
    ticker: String,
    tz: String,
    feature_names: Vec<String>,
    rows: usize,
    dropped: Dropped,
    start: String,
    end: String,
    distance_max: usize,
    /// Version 1: SHA-256 of the column bytes that follow the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    columns_sha: Option<String>,
    /// Version 2: XXH3-64 of the column bytes, 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    columns_xxh3: Option<String>,
}

/// The columns' checksum. It guards a stored cache against damage, not against forgery (whoever
/// can write the file can write its checksum), so it needs speed, not a cryptographic hash: in
/// wasm, SHA-256 over a million-row matrix (357 MB) took longer than building it. The matrix's
/// identity stays `matrix_sha`, a SHA-256 of its inputs.
enum Checksum {
    Sha256(crate::lineage::Sha256Stream),
    Xxh3(Box<twox_hash::XxHash3_64>),
}

impl Checksum {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Sha256(h) => h.update(bytes),
            Checksum::Xxh3(h) => h.write(bytes),
        }
    }

    fn hex(self) -> String {
        match self {
            Checksum::Sha256(h) => h.hex(),
            Checksum::Xxh3(h) => format!("{:016x}", h.finish()),
        }
    }
}

impl Matrix {
    pub fn rows(&self) -> usize {
        self.ts.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// A feature column by name.
    pub fn feature(&self, name: &str) -> Option<&[f64]> {
        let j = self.feature_names.iter().position(|n| n == name)?;
        self.features.get(j).map(Vec::as_slice)
    }

    /// Feature values of row `i` (in `feature_names` order); empty when out of range.
    pub fn row(&self, i: usize) -> Vec<f64> {
        if i >= self.rows() {
            return Vec::new();
        }
        self.features.iter().map(|c| c[i]).collect()
    }

    pub fn summary(&self) -> BuildSummary {
        BuildSummary {
            matrix_sha: self.matrix_sha.clone(),
            rows: self.rows(),
            features: self.n_features(),
            dropped: self.dropped,
        }
    }

    fn zone(&self) -> chrono_tz::Tz {
        crate::data::time::parse_tz(&self.tz).unwrap_or(chrono_tz::Tz::UTC)
    }

    /// Timestamps as text in the dataset's zone (dates for daily bars).
    fn ts_strings(&self, rows: impl Iterator<Item = usize>) -> Vec<String> {
        let z = self.zone();
        let d = date_only(&self.ts, z);
        rows.map(|i| format_ms(self.ts[i], z, d)).collect()
    }

    /// First and last `n` rows plus per-feature statistics (20-bin histograms).
    pub fn preview(&self, n: usize) -> Preview {
        let rows = self.rows();
        let head_idx: Vec<usize> = (0..n.min(rows)).collect();
        let tail_idx: Vec<usize> = (rows.saturating_sub(n)..rows).collect();
        let mk = |idx: &[usize]| -> Vec<PreviewRow> {
            let ts = self.ts_strings(idx.iter().copied());
            idx.iter().zip(ts).map(|(&i, ts)| PreviewRow { ts, label: self.label[i], values: self.row(i) }).collect()
        };
        let stats = self.feature_names.iter().zip(&self.features).map(|(name, col)| feature_stat(name, col)).collect();
        let positive_rate =
            if rows == 0 { f64::NAN } else { self.label.iter().filter(|&&v| v > 0.5).count() as f64 / rows as f64 };
        Preview {
            feature_names: self.feature_names.clone(),
            rows,
            positive_rate,
            head: mk(&head_idx),
            tail: mk(&tail_idx),
            stats,
        }
    }

    /// CSV for `btb matrix export`: `timestamp,<features…>,label`, one line per row, times in the
    /// dataset's zone, numbers in Rust's shortest round-trip form, an empty cell for `NaN`.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(self.rows() * (self.n_features() + 2) * 10 + 64);
        out.push_str("timestamp");
        for n in &self.feature_names {
            out.push(',');
            out.push_str(n);
        }
        out.push_str(",label\n");
        let ts = self.ts_strings(0..self.rows());
        for (i, t) in ts.iter().enumerate() {
            out.push_str(t);
            for c in &self.features {
                out.push(',');
                push_num(&mut out, c[i]);
            }
            out.push(',');
            push_num(&mut out, self.label[i]);
            out.push('\n');
        }
        out
    }

    /// Bytes for storage (CLI store, IndexedDB), keyed by `matrix_sha`:
    ///
    /// ```text
    /// magic "BTBMTX\0\x01" (8 bytes) ‖ header length (u32 LE) ‖ header (JSON) ‖ columns
    /// columns = ts (i64 LE) ‖ label ‖ close ‖ next_open ‖ hour ‖ momentum_score_total ‖ feature 0 ‖ … (f64 LE)
    /// ```
    ///
    /// each column `rows × 8` bytes; the header holds the names, counts, dates and an XXH3-64 of
    /// the column bytes that [`Matrix::from_bytes`] checks.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rows() * 8 * (6 + self.n_features()) + 4096);
        self.write_to(&mut |b| out.extend_from_slice(b));
        out
    }

    /// The bytes of [`Matrix::to_bytes`] handed to `sink` piece by piece (the framed header,
    /// then one column at a time), so a caller keeping them elsewhere (a worker building a Blob)
    /// never holds a second full copy of a large matrix. The columns are encoded twice: once
    /// for the header's checksum, once to hand over.
    pub fn write_to(&self, sink: &mut dyn FnMut(&[u8])) {
        let rows = self.rows();
        let mut buf: Vec<u8> = Vec::with_capacity(rows * 8);
        let mut each_column = |f: &mut dyn FnMut(&[u8])| {
            buf.clear();
            frame::put_i64s(&mut buf, self.ts.iter().copied());
            f(&buf);
            for col in [&self.label, &self.close, &self.next_open, &self.hour, &self.momentum_score_total]
                .into_iter()
                .chain(self.features.iter())
            {
                buf.clear();
                frame::put_f64s(&mut buf, (0..rows).map(|i| col.get(i).copied().unwrap_or(f64::NAN)));
                f(&buf);
            }
        };
        let mut hasher = Checksum::Xxh3(Box::default());
        each_column(&mut |b| hasher.update(b));
        let header = Header {
            format: "btb-matrix".into(),
            version: FORMAT_VERSION,
            matrix_sha: self.matrix_sha.clone(),
            ticker: self.ticker.clone(),
            tz: self.tz.clone(),
            feature_names: self.feature_names.clone(),
            rows,
            dropped: self.dropped,
            start: self.start.clone(),
            end: self.end.clone(),
            distance_max: self.distance_max,
            columns_sha: None,
            columns_xxh3: Some(hasher.hex()),
        };
        sink(&frame::encode(MAGIC, &header, &[]));
        each_column(sink);
    }

    /// Read bytes written by [`Matrix::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Matrix, MatrixDecodeError> {
        Matrix::from_source(bytes.len(), &mut |at, buf| buf.copy_from_slice(&bytes[at..at + buf.len()]))
    }

    /// [`Matrix::from_bytes`] from a source of `len` bytes that `read(offset, buf)` copies out
    /// piece by piece (in order, never past `len`), so a caller holding the bytes elsewhere (a
    /// worker's transferred `ArrayBuffer`) never needs a second full copy of a large matrix.
    pub fn from_source(len: usize, read: &mut dyn FnMut(usize, &mut [u8])) -> Result<Matrix, MatrixDecodeError> {
        let frame_err = |e| match e {
            FrameError::Short { .. } | FrameError::BadMagic => MatrixDecodeError::BadMagic,
            FrameError::Version(v) => MatrixDecodeError::UnsupportedVersion(v as u32),
            FrameError::Truncated { needed, got } => MatrixDecodeError::Truncated { needed, got },
            FrameError::Header(e) => MatrixDecodeError::BadHeader(e),
        };
        let mut fixed = vec![0u8; len.min(12)];
        read(0, &mut fixed);
        let magic = if fixed.starts_with(MAGIC_V1) { MAGIC_V1 } else { MAGIC };
        if let Err(e) = frame::decode::<serde::de::IgnoredAny>(&fixed, magic) {
            if !matches!(e, FrameError::Truncated { .. }) {
                return Err(frame_err(e));
            }
        }
        let hlen = u32::from_le_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]) as usize;
        let hend = 12usize.saturating_add(hlen);
        if len < hend {
            return Err(MatrixDecodeError::Truncated { needed: hend, got: len });
        }
        let mut prefix = vec![0u8; hend];
        read(0, &mut prefix);
        let Frame { header, .. } = frame::decode::<Header>(&prefix, magic).map_err(frame_err)?;
        if header.format != "btb-matrix" {
            return Err(MatrixDecodeError::BadHeader(format!("format is `{}`", header.format)));
        }
        let (mut hasher, expected) = match (header.version, magic == MAGIC_V1) {
            (1, true) => (Checksum::Sha256(crate::lineage::Sha256Stream::new()), header.columns_sha.clone()),
            (FORMAT_VERSION, false) => (Checksum::Xxh3(Box::default()), header.columns_xxh3.clone()),
            (v, _) => return Err(MatrixDecodeError::UnsupportedVersion(v)),
        };
        let expected = expected
            .ok_or_else(|| MatrixDecodeError::BadHeader(format!("no checksum of the columns (v{})", header.version)))?;
        let rows = header.rows;
        let ncols = 6usize.saturating_add(header.feature_names.len());
        let needed = rows
            .checked_mul(8)
            .and_then(|b| b.checked_mul(ncols))
            .and_then(|b| b.checked_add(hend))
            .ok_or(MatrixDecodeError::Truncated { needed: usize::MAX, got: len })?;
        if len < needed {
            return Err(MatrixDecodeError::Truncated { needed, got: len });
        }
        // Columns in the order `to_bytes` writes them, each read in pieces, hashed on the way.
        let mut at = hend;
        let mut chunk = vec![0u8; (rows * 8).min(1 << 20)];
        let mut column = |decode: &mut dyn FnMut(&[u8])| {
            let end = at + rows * 8;
            while at < end {
                let n = (end - at).min(chunk.len());
                read(at, &mut chunk[..n]);
                hasher.update(&chunk[..n]);
                decode(&chunk[..n]);
                at += n;
            }
        };
        let mut ts: Vec<i64> = Vec::with_capacity(rows);
        column(&mut |b| ts.extend(frame::words(b).map(i64::from_le_bytes)));
        let mut col = || -> Vec<f64> {
            let mut v = Vec::with_capacity(rows);
            column(&mut |b| v.extend(frame::words(b).map(f64::from_le_bytes)));
            v
        };
        let label = col();
        let close = col();
        let next_open = col();
        let hour = col();
        let momentum_score_total = col();
        let features = (0..header.feature_names.len()).map(|_| col()).collect();
        if hasher.hex() != expected {
            return Err(MatrixDecodeError::Corrupt);
        }
        Ok(Matrix {
            matrix_sha: header.matrix_sha,
            ticker: header.ticker,
            tz: header.tz,
            features,
            feature_names: header.feature_names,
            label,
            ts,
            close,
            next_open,
            hour,
            momentum_score_total,
            dropped: header.dropped,
            start: header.start,
            end: header.end,
            distance_max: header.distance_max,
        })
    }
}

fn push_num(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.is_finite() {
        let _ = write!(out, "{v}");
    }
}

fn feature_stat(name: &str, col: &[f64]) -> FeatureStat {
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    let mut sum = 0.0;
    let mut k = 0usize;
    let mut nan_count = 0usize;
    for &v in col {
        if v.is_finite() {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            k += 1;
        } else {
            nan_count += 1;
        }
    }
    let mut histogram = vec![0u32; HISTOGRAM_BINS];
    if k == 0 {
        return FeatureStat {
            name: name.to_string(),
            min: f64::NAN,
            max: f64::NAN,
            mean: f64::NAN,
            nan_count,
            histogram,
        };
    }
    let w = max - min;
    for &v in col {
        if v.is_finite() {
            let b = if w > 0.0 { (((v - min) / w) * HISTOGRAM_BINS as f64) as usize } else { 0 };
            histogram[b.min(HISTOGRAM_BINS - 1)] += 1;
        }
    }
    FeatureStat { name: name.to_string(), min, max, mean: sum / k as f64, nan_count, histogram }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::sha256_hex;
    use crate::model::ModelSpec;

    fn daily(n: usize) -> Series {
        let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.21).sin() * 6.0 + i as f64 * 0.05).collect();
        Series {
            ticker: "TEST".into(),
            ts: (0..n as i64).map(|i| 1_577_836_800_000 + i * 86_400_000).collect(), // from 2020-01-01
            open: close.iter().map(|c| c - 0.3).collect(),
            high: close.iter().map(|c| c + 1.0).collect(),
            low: close.iter().map(|c| c - 1.0).collect(),
            close,
            volume: (0..n).map(|i| 1e6 + (i % 5) as f64 * 1e4).collect(),
            adj_close: None,
        }
    }

    fn small_model() -> Model {
        let mut s = ModelSpec::new("swingsigma", "TEST");
        s.indicators = Some(vec![FeatureSpec::parse("rsi:5").unwrap(), FeatureSpec::parse("logret:3").unwrap()]);
        s.resolve().unwrap()
    }

    #[test]
    fn builds_and_counts() {
        let m = small_model();
        let s = daily(100);
        let mx = build_matrix(&m, &s, "UTC", &BuildSpec::default()).unwrap();
        assert_eq!(mx.feature_names, vec!["rsi_5", "logret_3"]);
        assert_eq!(mx.dropped, Dropped { warmup: 5, label_horizon: 7, session_end: 0 });
        assert_eq!(mx.rows(), 100 - 5 - 7);
        assert_eq!(mx.start, "2020-01-06");
        assert_eq!(mx.ts[0], s.ts[5]);
        assert_eq!(mx.close[0], s.close[5]);
        assert_eq!(mx.next_open[0], s.open[6]);
        assert_eq!(mx.label[0], if s.close[12] > s.close[5] { 1.0 } else { 0.0 });
        assert!(mx.hour.iter().all(|&h| h == 0.0));
        assert!(mx.momentum_score_total[..55].iter().all(|v| v.is_nan()));
        assert_eq!(mx.summary().features, 2);
        let j = serde_json::to_value(mx.summary()).unwrap();
        assert_eq!(j["dropped"]["label_horizon"], 7);
        assert_eq!(j.as_object().unwrap().len(), 4);
    }

    #[test]
    fn sha_depends_on_inputs_only() {
        let m = small_model();
        let s = daily(100);
        let spec = BuildSpec { start: Some("2020-01-10".into()), end: Some("2020-03-31".into()), ..Default::default() };
        let a = build_matrix(&m, &s, "UTC", &spec).unwrap();
        let b = build_matrix(&m, &s, "UTC", &spec).unwrap();
        assert_eq!(a.matrix_sha, b.matrix_sha);
        assert_eq!(a.matrix_sha.len(), 64);
        assert_eq!(a.start, "2020-01-15"); // 2020-01-10 + 5 warm-up bars
        let mut spec2 = spec.clone();
        spec2.distance_max = Some(3);
        let c = build_matrix(&m, &s, "UTC", &spec2).unwrap();
        assert_ne!(a.matrix_sha, c.matrix_sha);
        assert_eq!(c.distance_max, 3);
        let mut s2 = s.clone();
        s2.close[50] += 0.01;
        assert_ne!(build_matrix(&m, &s2, "UTC", &spec).unwrap().matrix_sha, a.matrix_sha);
        // Outside the slice: no change.
        let mut s3 = s.clone();
        s3.close[99] += 1.0;
        assert_eq!(build_matrix(&m, &s3, "UTC", &spec).unwrap().matrix_sha, a.matrix_sha);
        // The model id is not part of it.
        let mut m2 = m.clone();
        m2.model_id = "other".into();
        assert_eq!(build_matrix(&m2, &s, "UTC", &spec).unwrap().matrix_sha, a.matrix_sha);
    }

    #[test]
    fn sha_alone_equals_the_built_sha() {
        let m = small_model();
        let s = daily(100);
        for spec in [
            BuildSpec::default(),
            BuildSpec { start: Some("2020-01-10".into()), distance_max: Some(3), ..Default::default() },
        ] {
            assert_eq!(
                matrix_sha(&m, &s, "UTC", &spec).unwrap(),
                build_matrix(&m, &s, "UTC", &spec).unwrap().matrix_sha
            );
        }
    }

    /// The documented `matrix_sha` definition, recomputed by hand; the fixed string lets a wasm
    /// test assert the very same value.
    #[test]
    fn sha_definition() {
        let m = small_model();
        let s = daily(100);
        let spec = BuildSpec { start: Some("2020-01-10".into()), end: Some("2020-03-31".into()), ..Default::default() };
        let mx = build_matrix(&m, &s, "UTC", &spec).unwrap();
        let (a, b) = (9, 91); // 2020-01-10 ..= 2020-03-31 (2020 is a leap year)
        let mut bytes = Vec::new();
        for t in &s.ts[a..b] {
            bytes.extend_from_slice(&t.to_le_bytes());
        }
        for col in [&s.open, &s.high, &s.low, &s.close, &s.volume] {
            for v in &col[a..b] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let v = serde_json::json!({
            "code_version": 2,
            "data": {"bars": 82, "sha256": sha256_hex(&bytes), "ticker": "TEST", "tz": "UTC"},
            "features": [{"name": "rsi", "params": {"period": 5.0}}, {"name": "logret", "params": {"period": 3.0}}],
            "label": {"kind": "forward_return", "distance_max": 7, "threshold": 0.0, "within_session": false},
            "start": "2020-01-10",
            "end": "2020-03-31",
            "distance_max": 7,
        });
        assert_eq!(mx.matrix_sha, sha_of(&v));
        assert_eq!(
            mx.matrix_sha, FIXED_SHA,
            "the matrix_sha definition changed: bump FEATURE_CODE_VERSION deliberately"
        );
    }

    const FIXED_SHA: &str = "e78a6c3ee45f115c431fa8e7fb9d77faceeabafb769f430916c118eef649e18c";

    #[test]
    fn errors() {
        let m = small_model();
        let s = daily(100);
        let e = |spec: BuildSpec| build_matrix(&m, &s, "UTC", &spec).unwrap_err();
        assert!(matches!(
            e(BuildSpec { start: Some("2020-13-01".into()), ..Default::default() }),
            BuildError::BadDate { .. }
        ));
        assert!(matches!(
            e(BuildSpec { start: Some("2020-03-01".into()), end: Some("2020-02-01".into()), ..Default::default() }),
            BuildError::StartAfterEnd { .. }
        ));
        let er = e(BuildSpec { start: Some("2021-01-01".into()), ..Default::default() });
        assert!(er.to_string().contains("2020-01-01 to 2020-04-09"), "{er}");
        let er = e(BuildSpec { end: Some("2020-01-08".into()), ..Default::default() });
        assert!(matches!(er, BuildError::NoRows { bars: 8, .. }), "{er}");
        assert!(er.to_string().contains("no rows left"), "{er}");
        assert!(matches!(
            e(BuildSpec { ticker: Some("MSFT".into()), ..Default::default() }),
            BuildError::TickerMismatch { .. }
        ));
        assert!(matches!(
            e(BuildSpec { model_id: "x".into(), ..Default::default() }),
            BuildError::ModelMismatch { .. }
        ));
        assert!(matches!(
            e(BuildSpec { pack_id: "zerosigma".into(), ..Default::default() }),
            BuildError::PackMismatch { .. }
        ));
        assert!(matches!(e(BuildSpec { distance_max: Some(0), ..Default::default() }), BuildError::BadDistanceMax));
        assert!(build_matrix(&m, &s, "Nowhere/Land", &BuildSpec::default()).is_err());
        let mut bad = s.clone();
        bad.close.pop();
        assert!(build_matrix(&m, &bad, "UTC", &BuildSpec::default()).is_err());
    }

    #[test]
    fn storage_round_trip() {
        let m = small_model();
        let mx = build_matrix(&m, &daily(100), "UTC", &BuildSpec::default()).unwrap();
        let bytes = mx.to_bytes();
        let back = Matrix::from_bytes(&bytes).unwrap();
        assert_eq!(back.matrix_sha, mx.matrix_sha);
        assert_eq!(back.ts, mx.ts);
        assert_eq!(back.features, mx.features);
        assert_eq!(back.label, mx.label);
        assert_eq!(back.dropped, mx.dropped);
        // NaN columns survive bit for bit.
        assert_eq!(
            back.momentum_score_total.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            mx.momentum_score_total.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(
            Matrix::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err(),
            MatrixDecodeError::Truncated { needed: bytes.len(), got: bytes.len() - 1 }
        );
        let mut bad = bytes.clone();
        let k = bad.len() - 3;
        bad[k] ^= 1;
        assert_eq!(Matrix::from_bytes(&bad).unwrap_err(), MatrixDecodeError::Corrupt);
        assert_eq!(Matrix::from_bytes(b"hello world!!").unwrap_err(), MatrixDecodeError::BadMagic);
        assert!(Matrix::from_bytes(&[]).is_err());
    }

    /// A store written before version 2 (SHA-256 of the columns) is still read, and checked.
    #[test]
    fn version_1_is_still_read() {
        let mx = build_matrix(&small_model(), &daily(100), "UTC", &BuildSpec::default()).unwrap();
        let bytes = mx.to_bytes();
        let Frame { header, body } = frame::decode::<Header>(&bytes, MAGIC).unwrap();
        let v1 =
            Header { version: 1, columns_sha: Some(crate::lineage::sha256_hex(body)), columns_xxh3: None, ..header };
        let old = frame::encode(MAGIC_V1, &v1, body);
        let back = Matrix::from_bytes(&old).unwrap();
        assert_eq!((back.matrix_sha.as_str(), &back.features), (mx.matrix_sha.as_str(), &mx.features));
        let mut bad = old.clone();
        let k = bad.len() - 3;
        bad[k] ^= 1;
        assert_eq!(Matrix::from_bytes(&bad).unwrap_err(), MatrixDecodeError::Corrupt);
        // A version 1 header behind version 2's magic (or the reverse) is refused, not misread.
        let mixed = frame::encode(
            MAGIC,
            &Header { version: 1, ..frame::decode::<Header>(&old, MAGIC_V1).unwrap().header },
            body,
        );
        assert_eq!(Matrix::from_bytes(&mixed).unwrap_err(), MatrixDecodeError::UnsupportedVersion(1));
        let reverse = frame::encode(
            MAGIC_V1,
            &Header { version: 2, ..frame::decode::<Header>(&bytes, MAGIC).unwrap().header },
            body,
        );
        assert_eq!(Matrix::from_bytes(&reverse).unwrap_err(), MatrixDecodeError::UnsupportedVersion(2));
    }

    #[test]
    fn csv_and_preview() {
        let m = small_model();
        let mx = build_matrix(&m, &daily(100), "UTC", &BuildSpec::default()).unwrap();
        let csv = mx.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "timestamp,rsi_5,logret_3,label");
        assert_eq!(lines.len(), mx.rows() + 1);
        assert!(lines[1].starts_with("2020-01-06,"));
        assert_eq!(lines[1].split(',').count(), 4);
        let p = mx.preview(3);
        assert_eq!(p.head.len(), 3);
        assert_eq!(p.tail.len(), 3);
        assert_eq!(p.head[0].ts, "2020-01-06");
        assert_eq!(p.tail[2].values, mx.row(mx.rows() - 1));
        assert_eq!(p.stats.len(), 2);
        assert_eq!(p.stats[0].histogram.len(), 20);
        assert_eq!(p.stats[0].histogram.iter().sum::<u32>() as usize, mx.rows());
        assert!(p.stats[0].min >= 0.0 && p.stats[0].max <= 100.0);
        assert!(p.positive_rate > 0.0 && p.positive_rate < 1.0);
        let big = mx.preview(10_000);
        assert_eq!(big.head.len(), mx.rows());
    }
}
