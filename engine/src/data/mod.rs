//! Datasets: OHLCV bars loaded from a user's file, checked, and kept columnar.
//!
//! Parsing lives here (not in the app) so the page, its workers and the CLI read a file the same
//! way and report the same problems with the same words.

pub mod cadence;
pub mod columns;
pub mod csv_reader;
pub mod error;
pub mod parquet_reader;
pub mod parquet_writer;
pub mod quality;
pub mod reading;
pub mod table;
pub mod time;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub use cadence::Cadence;
pub use columns::ticker_from_name;
pub use error::{IngestError, Pos};
pub use quality::{IssueCount, IssueKind, QualityIssue, MAX_DETAILED_PER_KIND};
pub use reading::{panic_message, panicked};

/// Bars of one ticker, sorted by time, one `Vec` per column so they can be stored and moved as
/// typed arrays without a row-by-row conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub ticker: String,
    /// Bar open time, milliseconds since the Unix epoch, UTC.
    pub ts: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    /// The file's `Adj Close`, when it has one.
    pub adj_close: Option<Vec<f64>>,
}

/// A loaded file: one or more tickers, a cadence and the time zone its sessions are read in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    /// IANA zone name ("UTC", "America/New_York"). Naive timestamps in the file are read in it.
    pub tz: String,
    pub series: Vec<Series>,
    /// Quality issues in detail (at most [`MAX_DETAILED_PER_KIND`] per kind per ticker), ordered
    /// by ticker, then bar.
    pub issues: Vec<QualityIssue>,
    /// Every issue counted, per ticker and kind (including those not kept in detail).
    #[serde(default)]
    pub issue_counts: Vec<IssueCount>,
}

/// What the page shows above the chart and `btb inspect` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub rows: usize,
    pub tz: String,
    pub tickers: Vec<TickerSummary>,
    pub issues: Vec<QualityIssue>,
    #[serde(default)]
    pub issue_counts: Vec<IssueCount>,
}

impl Summary {
    /// One ticker's summary (its first and last bar, rows, cadence), if the dataset holds it.
    pub fn ticker(&self, ticker: &str) -> Option<&TickerSummary> {
        self.tickers.iter().find(|t| t.ticker == ticker)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickerSummary {
    pub ticker: String,
    pub rows: usize,
    /// ISO 8601 in the dataset's zone (a bare date for daily and slower cadences).
    pub start: String,
    pub end: String,
    pub cadence: Cadence,
    pub has_adj_close: bool,
}

/// How to read a file; everything is optional because the file usually says enough.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Ticker for single-ticker files; defaults to the file name's stem, upper-cased.
    pub ticker: Option<String>,
    /// IANA zone for naive timestamps and for reading sessions; defaults to the zone a
    /// zone-aware Parquet timestamp column names, else UTC.
    pub tz: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// Read a file of bars.
///
/// `name` is the file's name (folders are dropped for messages and the dataset name); it gives
/// the ticker of single-ticker files when `opts.ticker` is not set. The format is sniffed from
/// the bytes: gzip magic → decompress and sniff again (so `.csv.gz` and `.parquet.gz` work),
/// `PAR1` → Parquet, anything else → CSV.
///
/// Long files (a `ticker`/`symbol` column) give one series per ticker, in the order tickers
/// first appear in the file. With `opts.ticker` set, a long file is filtered to that ticker
/// (compared case-insensitively); a single-ticker file is named by it.
///
/// `progress` is called with a non-decreasing fraction in 0..=1, at most 101 times, the last
/// time with 1.0 on success.
pub fn load(
    name: &str,
    bytes: &[u8],
    opts: &LoadOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Dataset, IngestError> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
    // The zone: the one asked for, else the one a zone-aware Parquet timestamp names, else UTC.
    let from_file = match opts.tz.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(_) => None,
        None if bytes.starts_with(b"PAR1") => parquet_reader::file_zone(&file, bytes),
        None => None,
    };
    let tz_name = opts.tz.as_deref().map(str::trim).filter(|s| !s.is_empty()).or(from_file.as_deref()).unwrap_or("UTC");
    let tz = time::parse_tz(tz_name)
        .ok_or_else(|| IngestError::UnknownTimeZone { file: file.clone(), tz: tz_name.to_string() })?;
    let mut prog = Progress::new(progress);
    let explicit = opts.ticker.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let default_ticker = match explicit {
        Some(t) => t.to_string(),
        None => {
            let t = ticker_from_name(&file);
            if t.is_empty() {
                "DATA".to_string()
            } else {
                t
            }
        }
    };
    let mut grouper = Grouper::new(default_ticker, explicit.map(str::to_string));
    read_any(&file, bytes, tz, &mut grouper, &mut prog, 0)?;
    if grouper.raws.is_empty() {
        let wanted = explicit.unwrap_or_default();
        return Err(IngestError::Other {
            file,
            detail: format!("no rows for ticker \"{wanted}\"; tickers in the file: {}", grouper.seen.join(", ")),
        });
    }
    let mut series = Vec::with_capacity(grouper.raws.len());
    let mut issues = Vec::new();
    let mut issue_counts = Vec::new();
    for raw in grouper.raws {
        let (s, _cadence, rep) = quality::finish_series(raw, tz);
        let (mut is, mut cs) = rep.finish();
        issues.append(&mut is);
        issue_counts.append(&mut cs);
        series.push(s);
    }
    prog.finish();
    Ok(Dataset { name: file, tz: tz.name().to_string(), series, issues, issue_counts })
}

fn read_any(
    file: &str,
    bytes: &[u8],
    tz: chrono_tz::Tz,
    grouper: &mut Grouper,
    prog: &mut Progress<'_>,
    depth: u32,
) -> Result<(), IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty { file: file.to_string() });
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        if depth >= 2 {
            return Err(IngestError::Gzip { file: file.to_string(), detail: "gzip nested too deeply".into() });
        }
        let (lo, hi) = (prog.lo, prog.hi);
        let mid = lo + (hi - lo) * 0.3;
        prog.set_range(lo, mid);
        let inner = reading::guarded(file, reading::Format::Gzip, || gunzip(file, bytes, prog))?;
        prog.set_range(mid, hi);
        return read_any(file, &inner, tz, grouper, prog, depth + 1);
    }
    if bytes.starts_with(b"PAR1") {
        parquet_reader::read(file, bytes, tz, grouper, prog)
    } else {
        reading::guarded(file, reading::Format::Csv, || csv_reader::read(file, bytes, tz, grouper, prog))
    }
}

/// The most a gzip file may inflate to: a bomb of a few kilobytes must be an error, not an
/// allocation that ends the process (or, in the page, the worker). 5M minute bars are ~300 MB of CSV.
const MAX_INFLATED: usize = if cfg!(target_pointer_width = "64") { 4 << 30 } else { 1 << 30 };

fn gunzip(file: &str, bytes: &[u8], prog: &mut Progress<'_>) -> Result<Vec<u8>, IngestError> {
    use std::io::Read;
    let mut dec = flate2::read::MultiGzDecoder::new(std::io::Cursor::new(bytes));
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(MAX_INFLATED));
    let mut buf = vec![0u8; 1 << 18];
    let total = bytes.len().max(1) as f64;
    loop {
        match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if out.len() + n > MAX_INFLATED {
                    return Err(IngestError::Gzip {
                        file: file.to_string(),
                        detail: format!(
                            "it inflates to more than {} MiB; unpack it and load the file itself",
                            MAX_INFLATED >> 20
                        ),
                    });
                }
                out.extend_from_slice(&buf[..n]);
                prog.set(dec.get_ref().position() as f64 / total);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(IngestError::Gzip { file: file.to_string(), detail: e.to_string() }),
        }
    }
    prog.set(1.0);
    Ok(out)
}

/// Reports progress at whole-percent steps within a sub-range, never going backwards.
pub(crate) struct Progress<'a> {
    f: &'a mut dyn FnMut(f64),
    lo: f64,
    hi: f64,
    last: i64,
}

impl<'a> Progress<'a> {
    fn new(f: &'a mut dyn FnMut(f64)) -> Self {
        f(0.0);
        Progress { f, lo: 0.0, hi: 1.0, last: 0 }
    }
    fn set_range(&mut self, lo: f64, hi: f64) {
        self.lo = lo;
        self.hi = hi;
    }
    /// Fraction `frac` (0..=1) of the current sub-range is done.
    pub(crate) fn set(&mut self, frac: f64) {
        let frac = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
        let v = self.lo + (self.hi - self.lo) * frac;
        let pct = (v * 100.0).floor() as i64;
        if pct > self.last && pct <= 100 {
            self.last = pct;
            (self.f)(pct as f64 / 100.0);
        }
    }
    fn finish(&mut self) {
        if self.last < 100 {
            self.last = 100;
            (self.f)(1.0);
        }
    }
}

/// Groups rows by ticker, in order of first appearance.
pub(crate) struct Grouper {
    raws: Vec<quality::RawSeries>,
    index: HashMap<String, usize>,
    last: Option<usize>,
    default_ticker: String,
    only: Option<String>,
    /// Tickers seen in the file (first 50), for the "no rows for ticker" message.
    seen: Vec<String>,
}

impl Grouper {
    fn new(default_ticker: String, only: Option<String>) -> Self {
        Grouper { raws: Vec::new(), index: HashMap::new(), last: None, default_ticker, only, seen: Vec::new() }
    }

    fn slot(&mut self, ticker: &str, has_adj: bool) -> usize {
        if let Some(i) = self.last {
            if self.raws[i].series.ticker == ticker {
                return i;
            }
        }
        let i = match self.index.get(ticker) {
            Some(&i) => i,
            None => {
                let i = self.raws.len();
                self.raws.push(quality::RawSeries {
                    series: Series {
                        ticker: ticker.to_string(),
                        ts: Vec::new(),
                        open: Vec::new(),
                        high: Vec::new(),
                        low: Vec::new(),
                        close: Vec::new(),
                        volume: Vec::new(),
                        adj_close: has_adj.then(Vec::new),
                    },
                    rows: Vec::new(),
                });
                self.index.insert(ticker.to_string(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }

    /// One bar: `v` is open, high, low, close, volume.
    pub(crate) fn push(&mut self, ticker: Option<&str>, row: u64, ts: i64, v: [f64; 5], adj: Option<f64>) {
        let i = match ticker {
            Some(t) => {
                if let Some(only) = &self.only {
                    if !t.eq_ignore_ascii_case(only) {
                        if self.seen.len() < 50 && !self.seen.iter().any(|s| s == t) {
                            self.seen.push(t.to_string());
                        }
                        return;
                    }
                }
                self.slot(t, adj.is_some())
            }
            None => {
                let t = std::mem::take(&mut self.default_ticker);
                let i = self.slot(&t, adj.is_some());
                self.default_ticker = t;
                i
            }
        };
        let r = &mut self.raws[i];
        r.series.ts.push(ts);
        r.series.open.push(v[0]);
        r.series.high.push(v[1]);
        r.series.low.push(v[2]);
        r.series.close.push(v[3]);
        r.series.volume.push(v[4]);
        if let (Some(a), Some(x)) = (r.series.adj_close.as_mut(), adj) {
            a.push(x);
        }
        r.rows.push(row);
    }
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

impl Series {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn cadence(&self) -> Cadence {
        Cadence::detect(&self.ts)
    }

    /// Bars `[a, b)` as a series of their own (clamped to the bars there are).
    pub fn slice(&self, a: usize, b: usize) -> Series {
        let b = b.min(self.len());
        let a = a.min(b);
        Series {
            ticker: self.ticker.clone(),
            ts: self.ts[a..b].to_vec(),
            open: self.open[a..b].to_vec(),
            high: self.high[a..b].to_vec(),
            low: self.low[a..b].to_vec(),
            close: self.close[a..b].to_vec(),
            volume: self.volume[a..b].to_vec(),
            adj_close: self.adj_close.as_ref().map(|c| c[a..b].to_vec()),
        }
    }

    /// The prices a build gives the features and the backtest: split- and dividend-adjusted
    /// when the file has an adjusted close, unless the build asked for the raw ones.
    pub fn as_built(self, raw_prices: bool) -> Series {
        if raw_prices {
            Series { adj_close: None, ..self }
        } else {
            self.adjusted().unwrap_or(self)
        }
    }

    /// This series with prices scaled by `adj_close / close` per bar and volume scaled
    /// inversely, so splits and dividends no longer show as jumps; `None` without an adjusted
    /// close. Bars whose factor is not finite and positive keep raw values.
    pub fn adjusted(&self) -> Option<Series> {
        let adj = self.adj_close.as_ref()?;
        let f: Vec<f64> = adj
            .iter()
            .zip(&self.close)
            .map(|(a, c)| {
                let f = a / c;
                if f.is_finite() && f > 0.0 {
                    f
                } else {
                    1.0
                }
            })
            .collect();
        let scale = |col: &[f64]| col.iter().zip(&f).map(|(x, f)| x * f).collect::<Vec<f64>>();
        Some(Series {
            ticker: self.ticker.clone(),
            ts: self.ts.clone(),
            open: scale(&self.open),
            high: scale(&self.high),
            low: scale(&self.low),
            close: scale(&self.close),
            volume: self.volume.iter().zip(&f).map(|(v, f)| v / f).collect(),
            adj_close: None,
        })
    }
}

impl Dataset {
    /// Bars over all tickers.
    pub fn rows(&self) -> usize {
        self.series.iter().map(Series::len).sum()
    }

    pub fn series(&self, ticker: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.ticker == ticker)
    }

    fn tz(&self) -> chrono_tz::Tz {
        time::parse_tz(&self.tz).unwrap_or(chrono_tz::Tz::UTC)
    }

    pub fn summary(&self) -> Summary {
        let tz = self.tz();
        let tickers = self
            .series
            .iter()
            .map(|s| {
                let cadence = s.cadence();
                let date_only = matches!(cadence, Cadence::Daily | Cadence::Weekly | Cadence::Monthly)
                    || (cadence == Cadence::Irregular
                        && s.ts
                            .iter()
                            .all(|&t| time::ms_to_local(t, tz).is_some_and(|n| n.time() == chrono::NaiveTime::MIN)));
                let fmt = |t: Option<&i64>| t.map(|&t| time::format_ms(t, tz, date_only)).unwrap_or_default();
                TickerSummary {
                    ticker: s.ticker.clone(),
                    rows: s.len(),
                    start: fmt(s.ts.first()),
                    end: fmt(s.ts.last()),
                    cadence,
                    has_adj_close: s.adj_close.is_some(),
                }
            })
            .collect();
        Summary {
            name: self.name.clone(),
            rows: self.rows(),
            tz: self.tz.clone(),
            tickers,
            issues: self.issues.clone(),
            issue_counts: self.issue_counts.clone(),
        }
    }

    /// Prices scaled by `adj_close / close` per bar and volume scaled inversely, so splits and
    /// dividends no longer show as jumps. `None` when no series has an adjusted close. Series
    /// without one are kept as they are; bars whose factor is not finite and positive keep raw
    /// values. The result has no `adj_close` and keeps the original quality report.
    pub fn adjusted(&self) -> Option<Dataset> {
        if self.series.iter().all(|s| s.adj_close.is_none()) {
            return None;
        }
        let series = self.series.iter().map(|s| s.adjusted().unwrap_or_else(|| s.clone())).collect();
        Some(Dataset {
            name: self.name.clone(),
            tz: self.tz.clone(),
            series,
            issues: self.issues.clone(),
            issue_counts: self.issue_counts.clone(),
        })
    }

    /// Full lower-case hex SHA-256 of the canonical content encoding (see [`Dataset::canonical_bytes`]
    /// for the layout). The name and the quality report are not part of it.
    pub fn sha(&self) -> String {
        let mut h = Sha256::new();
        self.write_canonical(&mut |b| h.update(b));
        hex(&h.finalize())
    }

    /// The canonical encoding hashed by [`Dataset::sha`]:
    /// `b"btb-dataset-v1\n"`, then the zone name, then the number of series (u64), then per
    /// series: ticker, rows (u64), `ts` as i64, `open high low close volume` as f64, one byte
    /// 1/0 for an adjusted close followed by it as f64 when present. Strings are a u64 byte
    /// length then UTF-8; every number is little-endian.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_canonical(&mut |b| out.extend_from_slice(b));
        out
    }

    fn write_canonical(&self, w: &mut dyn FnMut(&[u8])) {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let flush = |buf: &mut Vec<u8>, w: &mut dyn FnMut(&[u8]), force: bool| {
            if force || buf.len() >= (1 << 16) - 16 {
                w(buf);
                buf.clear();
            }
        };
        let put_str = |buf: &mut Vec<u8>, w: &mut dyn FnMut(&[u8]), s: &str| {
            w(buf);
            buf.clear();
            w(&(s.len() as u64).to_le_bytes());
            w(s.as_bytes());
        };
        buf.extend_from_slice(b"btb-dataset-v1\n");
        put_str(&mut buf, w, &self.tz);
        buf.extend_from_slice(&(self.series.len() as u64).to_le_bytes());
        for s in &self.series {
            put_str(&mut buf, w, &s.ticker);
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            for v in &s.ts {
                buf.extend_from_slice(&v.to_le_bytes());
                flush(&mut buf, w, false);
            }
            for col in [&s.open, &s.high, &s.low, &s.close, &s.volume] {
                for v in col {
                    buf.extend_from_slice(&v.to_le_bytes());
                    flush(&mut buf, w, false);
                }
            }
            match &s.adj_close {
                Some(a) => {
                    buf.push(1);
                    for v in a {
                        buf.extend_from_slice(&v.to_le_bytes());
                        flush(&mut buf, w, false);
                    }
                }
                None => buf.push(0),
            }
        }
        flush(&mut buf, w, true);
    }

    /// All series as flat columns (see [`ColumnSet`]).
    pub fn to_columns(&self) -> ColumnSet {
        let n = self.rows();
        let mut c = ColumnSet {
            layout: Vec::with_capacity(self.series.len()),
            ts: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
            adj_close: Vec::with_capacity(n),
        };
        for s in &self.series {
            c.layout.push(SeriesLayout {
                ticker: s.ticker.clone(),
                offset: c.ts.len(),
                rows: s.len(),
                has_adj_close: s.adj_close.is_some(),
            });
            c.ts.extend_from_slice(&s.ts);
            c.open.extend_from_slice(&s.open);
            c.high.extend_from_slice(&s.high);
            c.low.extend_from_slice(&s.low);
            c.close.extend_from_slice(&s.close);
            c.volume.extend_from_slice(&s.volume);
            match &s.adj_close {
                Some(a) => c.adj_close.extend_from_slice(a),
                None => c.adj_close.extend(std::iter::repeat_n(f64::NAN, s.len())),
            }
        }
        c
    }

    /// Rebuild a dataset from stored columns; `None` if the layout does not fit the columns.
    pub fn from_columns(
        name: &str,
        tz: &str,
        cols: &ColumnSet,
        issues: Vec<QualityIssue>,
        issue_counts: Vec<IssueCount>,
    ) -> Option<Dataset> {
        let n = cols.ts.len();
        if [cols.open.len(), cols.high.len(), cols.low.len(), cols.close.len(), cols.volume.len(), cols.adj_close.len()]
            .iter()
            .any(|&l| l != n)
        {
            return None;
        }
        let mut series = Vec::with_capacity(cols.layout.len());
        for l in &cols.layout {
            let r = l.offset..l.offset.checked_add(l.rows)?;
            if r.end > n {
                return None;
            }
            series.push(Series {
                ticker: l.ticker.clone(),
                ts: cols.ts[r.clone()].to_vec(),
                open: cols.open[r.clone()].to_vec(),
                high: cols.high[r.clone()].to_vec(),
                low: cols.low[r.clone()].to_vec(),
                close: cols.close[r.clone()].to_vec(),
                volume: cols.volume[r.clone()].to_vec(),
                adj_close: l.has_adj_close.then(|| cols.adj_close[r].to_vec()),
            });
        }
        Some(Dataset { name: name.to_string(), tz: tz.to_string(), series, issues, issue_counts })
    }
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

/// A dataset as flat typed columns: every series concatenated in order, `layout` saying where
/// each starts. This is what is stored (IndexedDB typed arrays in the page, little-endian column
/// files in the CLI store). `adj_close` is NaN for series without one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSet {
    pub layout: Vec<SeriesLayout>,
    pub ts: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    pub adj_close: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesLayout {
    pub ticker: String,
    pub offset: usize,
    pub rows: usize,
    pub has_adj_close: bool,
}

/// Names of the stored columns, in a fixed order (`ts` is i64, the rest f64).
pub const COLUMN_NAMES: [&str; 7] = ["ts", "open", "high", "low", "close", "volume", "adj_close"];

impl ColumnSet {
    /// The f64 columns by name, in [`COLUMN_NAMES`] order after `ts`.
    pub fn f64_columns(&self) -> [(&'static str, &[f64]); 6] {
        [
            ("open", &self.open),
            ("high", &self.high),
            ("low", &self.low),
            ("close", &self.close),
            ("volume", &self.volume),
            ("adj_close", &self.adj_close),
        ]
    }

    pub fn f64_column_mut(&mut self, name: &str) -> Option<&mut Vec<f64>> {
        match name {
            "open" => Some(&mut self.open),
            "high" => Some(&mut self.high),
            "low" => Some(&mut self.low),
            "close" => Some(&mut self.close),
            "volume" => Some(&mut self.volume),
            "adj_close" => Some(&mut self.adj_close),
            _ => None,
        }
    }
}

/// Little-endian bytes of an i64 column.
pub fn i64s_to_le(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Little-endian bytes of an f64 column.
pub fn f64s_to_le(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// An i64 column from little-endian bytes; `None` if the length is not a multiple of 8.
pub fn le_to_i64s(b: &[u8]) -> Option<Vec<i64>> {
    if !b.len().is_multiple_of(8) {
        return None;
    }
    Some(b.chunks_exact(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect())
}

/// An f64 column from little-endian bytes; `None` if the length is not a multiple of 8.
pub fn le_to_f64s(b: &[u8]) -> Option<Vec<f64>> {
    if !b.len().is_multiple_of(8) {
        return None;
    }
    Some(b.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, s: &str, opts: &LoadOptions) -> Result<Dataset, IngestError> {
        load(name, s.as_bytes(), opts, &mut |_| {})
    }

    const CSV: &str = "Date,Open,High,Low,Close,Volume,Adj Close\n\
        2024-01-02,10,11,9,10.5,100,5.25\n\
        2024-01-03,10.5,11,10,10.8,200,5.4\n\
        2024-01-04,10.8,12,10.7,11,300,5.5\n";

    #[test]
    fn loads_a_small_csv() {
        let d = load_str("data/spy.csv", CSV, &LoadOptions::default()).unwrap();
        assert_eq!(d.name, "spy.csv");
        assert_eq!(d.tz, "UTC");
        assert_eq!(d.rows(), 3);
        assert_eq!(d.series[0].ticker, "SPY");
        assert_eq!(d.series[0].close, vec![10.5, 10.8, 11.0]);
        let s = d.summary();
        assert_eq!(s.tickers[0].start, "2024-01-02");
        assert_eq!(s.tickers[0].end, "2024-01-04");
        assert!(s.tickers[0].has_adj_close);
        let a = d.adjusted().unwrap();
        assert_eq!(a.series[0].close, vec![5.25, 5.4, 5.5]);
        assert_eq!(a.series[0].volume[0], 200.0);
        assert!(a.series[0].adj_close.is_none());
        assert!(a.adjusted().is_none());
    }

    #[test]
    fn sha_is_stable_and_content_addressed() {
        let d = load_str("a.csv", CSV, &LoadOptions { ticker: Some("X".into()), tz: None }).unwrap();
        let e = load_str("b.csv", CSV, &LoadOptions { ticker: Some("X".into()), tz: None }).unwrap();
        assert_eq!(d.sha(), e.sha());
        assert_eq!(d.sha().len(), 64);
        let mut h = Sha256::new();
        h.update(d.canonical_bytes());
        assert_eq!(hex(&h.finalize()), d.sha());
        let ny = load_str("a.csv", CSV, &LoadOptions { ticker: Some("X".into()), tz: Some("America/New_York".into()) })
            .unwrap();
        assert_ne!(d.sha(), ny.sha());
        // Pinned: the canonical encoding must not drift between platforms or versions.
        assert_eq!(&d.canonical_bytes()[..15], b"btb-dataset-v1\n");
        assert_eq!(d.canonical_bytes().len(), 15 + 8 + 3 + 8 + 8 + 1 + 8 + 3 * 8 * 6 + 1 + 3 * 8);
    }

    #[test]
    fn columns_round_trip() {
        let d = load_str("a.csv", CSV, &LoadOptions::default()).unwrap();
        let c = d.to_columns();
        let ts = le_to_i64s(&i64s_to_le(&c.ts)).unwrap();
        assert_eq!(ts, c.ts);
        let mut c2 = c.clone();
        for (name, col) in c.f64_columns() {
            *c2.f64_column_mut(name).unwrap() = le_to_f64s(&f64s_to_le(col)).unwrap();
        }
        let back = Dataset::from_columns(&d.name, &d.tz, &c2, d.issues.clone(), d.issue_counts.clone()).unwrap();
        assert_eq!(back.sha(), d.sha());
        assert_eq!(back, d);
        assert!(le_to_f64s(&[0; 7]).is_none());
        let mut bad = c.clone();
        bad.layout[0].rows = 99;
        assert!(Dataset::from_columns("a", "UTC", &bad, vec![], vec![]).is_none());
    }

    #[test]
    fn progress_is_bounded_and_monotone() {
        let mut body = String::from("Date,Open,High,Low,Close,Volume\n");
        for i in 0..50_000i64 {
            body.push_str(&format!("{},1,2,0.5,1.5,10\n", 1_000_000_000 + i * 86_400));
        }
        let mut calls = Vec::new();
        let d = load("x.csv", body.as_bytes(), &LoadOptions::default(), &mut |p| calls.push(p)).unwrap();
        assert_eq!(d.rows(), 50_000);
        assert!(calls.len() <= 101 && calls.len() > 10, "{}", calls.len());
        assert!(calls.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(calls.first(), Some(&0.0));
        assert_eq!(calls.last(), Some(&1.0));
    }

    #[test]
    fn long_files_filter_and_order() {
        let s = "Symbol,Date,Open,High,Low,Close,Volume\nB,2024-01-02,1,1,1,1,1\nA,2024-01-02,2,2,2,2,2\nB,2024-01-03,1,1,1,1,1\n";
        let d = load_str("x.csv", s, &LoadOptions::default()).unwrap();
        assert_eq!(d.series.iter().map(|s| s.ticker.as_str()).collect::<Vec<_>>(), ["B", "A"]);
        let d = load_str("x.csv", s, &LoadOptions { ticker: Some("a".into()), tz: None }).unwrap();
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].ticker, "A");
        let e = load_str("x.csv", s, &LoadOptions { ticker: Some("Z".into()), tz: None }).unwrap_err();
        assert!(e.to_string().contains("no rows for ticker \"Z\""), "{e}");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let o = LoadOptions::default();
        let e = load_str(
            "prices.csv",
            "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,1\n2024-01-03,1,1,1,abc,1\n",
            &o,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), r#"prices.csv line 3, column "Close": expected a number, found "abc""#);
        let e = load_str("p.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,inf,1\n", &o).unwrap_err();
        assert!(e.to_string().contains("expected a finite number"), "{e}");
        let e = load_str("p.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,,1\n", &o).unwrap_err();
        assert!(e.to_string().contains("expected a number, found \"\""), "{e}");
        let e = load_str("p.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,-5\n", &o).unwrap_err();
        assert!(e.to_string().contains("non-negative"), "{e}");
        let d = load_str("p.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,\n", &o).unwrap();
        assert_eq!(d.series[0].volume, vec![0.0]);
        let e = load_str("p.csv", CSV, &LoadOptions { ticker: None, tz: Some("Mars/Base".into()) }).unwrap_err();
        assert!(matches!(e, IngestError::UnknownTimeZone { .. }));
        let e = load_str("p.csv", "  \n", &o).unwrap_err();
        assert!(matches!(e, IngestError::Empty { .. }));
        let e = load("p.csv.gz", &[0x1f, 0x8b, 8, 0, 0, 0], &o, &mut |_| {}).unwrap_err();
        assert!(matches!(e, IngestError::Gzip { .. }), "{e}");
    }

    #[test]
    fn separate_date_and_time_columns() {
        let s =
            "Date;Time;Open;High;Low;Close;Volume\n02.01.2024;09:30;1;2;0,5;1,5;10\n02.01.2024;09:31;1;2;0,5;1,5;\n";
        let d = load_str("eu.csv", s, &LoadOptions { ticker: None, tz: Some("Europe/Berlin".into()) }).unwrap();
        assert_eq!(d.series[0].ts, vec![1_704_184_200_000, 1_704_184_260_000]); // 08:30Z, 08:31Z
        assert_eq!(d.series[0].low, vec![0.5, 0.5]);
        assert_eq!(d.series[0].volume, vec![10.0, 0.0]);
        assert_eq!(d.summary().tickers[0].start, "2024-01-02T09:30:00+01:00");
    }

    #[test]
    fn gzip_and_bom_and_crlf() {
        use std::io::Write;
        let crlf = format!("\u{feff}{}", CSV.replace('\n', "\r\n"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(crlf.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let d = load("qqq.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(d.series[0].ticker, "QQQ");
        assert_eq!(d.rows(), 3);
    }

    /// Random edits of valid input never panic; every outcome is Ok or an IngestError.
    #[test]
    fn fuzzish_csv_never_panics() {
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b",;\t\n\r\"0123456789.-:TZ+eE aNn\xff\x00";
        let base = format!("Ticker,{CSV}").replace("\n2024", "\nA,2024");
        for _ in 0..3000 {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..(rnd() % 6 + 1) {
                let at = (rnd() as usize) % (b.len() + 1);
                match rnd() % 3 {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 if at < b.len() => b[at] = alphabet[(rnd() as usize) % alphabet.len()],
                    _ => b.insert(at, alphabet[(rnd() as usize) % alphabet.len()]),
                }
            }
            let cut = (rnd() as usize) % (b.len() + 1);
            let _ = load("f.csv", &b, &LoadOptions::default(), &mut |_| {});
            let _ =
                load("f.csv", &b[..cut], &LoadOptions { ticker: None, tz: Some("Europe/Berlin".into()) }, &mut |_| {});
        }
    }
}
