//! Scanners over a universe (the seed's "Scanner Integration", `btb scan` and the Scanner
//! page): every ticker of a multi-ticker dataset ranked by one documented score, computed from
//! its bars up to the as-of bar only, with the facts the score is made of.
//!
//! Each ticker is read at its *as-of bar*: its last bar on or before the as-of date (default:
//! the newest bar of the dataset). A ticker whose as-of bar is older than the universe's newest
//! as-of bar (delisted, or a gap on that day) is skipped and said so: a score compares like with
//! like. Prices are split- and dividend-adjusted as builds adjust them
//! ([`crate::data::Series::adjusted`]) unless `raw_prices` is set.
//!
//! With `c`, `h`, `v` the adjusted close, high and volume, `t` the as-of bar and windows of
//! bars ending at `t` unless said otherwise (`sma_n`, `std_n`: mean and population standard
//! deviation, ddof = 0, of the last `n` closes; the formulas are [`Kind::formula`], and
//! `tests/scan/cross_check.py` computes the same with pandas):
//!
//! | kind | score | needs |
//! |---|---|---|
//! | `breakout` | `c[t] / max(h[t-20..t-1]) - 1`: above 0 when the close clears the prior 20-bar high | 21 bars |
//! | `meanrevert` | `-(c[t] - sma_20) / std_20`: high when the close is far below its mean | 20 bars |
//! | `trend` | `sma_50 / sma_200 - 1`: the golden-cross spread | 200 bars |
//! | `squeeze` | `min(bw[t-119..t]) / bw[t]`, `bw = 4 std_20 / sma_20` (Bollinger 20, 2 width): 1 at the tightest in 120 bars | 139 bars |
//! | `rs` | `c[t] / c[t-63] - 1` minus the median of that return across the scanned tickers | 64 bars |
//! | `highmomo` | `c[t-21] / c[t-252] - 1`: twelve-month momentum skipping the last month | 253 bars |
//!
//! Rows are ranked by score, highest first (ties by ticker); a score that is not a number (a
//! flat window) skips the ticker with the reason.
//!
//! [`calibrate`] (`btb calibrate-scanner`) goes the other way: from a model's out-of-fold
//! probabilities, the threshold at which its signals would fire Top-N a day over a universe.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::time::{format_ms, local_day, parse_tz};
use crate::data::{Dataset, Series};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Breakout,
    MeanRevert,
    Trend,
    Squeeze,
    Rs,
    HighMomo,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Breakout, Kind::MeanRevert, Kind::Trend, Kind::Squeeze, Kind::Rs, Kind::HighMomo];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Breakout => "breakout",
            Kind::MeanRevert => "meanrevert",
            Kind::Trend => "trend",
            Kind::Squeeze => "squeeze",
            Kind::Rs => "rs",
            Kind::HighMomo => "highmomo",
        }
    }

    /// The score in one line, as the output prints it.
    pub fn formula(self) -> &'static str {
        match self {
            Kind::Breakout => "close / max(high of the 20 bars before) - 1",
            Kind::MeanRevert => "-(close - sma_20) / std_20 (population std)",
            Kind::Trend => "sma_50 / sma_200 - 1",
            Kind::Squeeze => "min(bandwidth over 120 bars) / bandwidth, bandwidth = 4 std_20 / sma_20",
            Kind::Rs => "close / close 63 bars before - 1, minus the universe's median of it",
            Kind::HighMomo => "close 21 bars before / close 252 bars before - 1",
        }
    }

    /// Bars a ticker needs up to its as-of bar.
    pub fn needs(self) -> usize {
        match self {
            Kind::Breakout => 21,
            Kind::MeanRevert => 20,
            Kind::Trend => 200,
            Kind::Squeeze => 20 + 119,
            Kind::Rs => 64,
            Kind::HighMomo => 253,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ScanError;
    fn from_str(s: &str) -> Result<Self, ScanError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ScanError::Kind(s.to_string()))
    }
}

/// What to scan (`btb scan` flags, the Scanner page's form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSpec {
    pub kind: Kind,
    pub top_n: usize,
    /// Last local date (`YYYY-MM-DD`, inclusive) a score may see; default: the newest bar.
    #[serde(default)]
    pub asof: Option<String>,
    /// The tickers to rank; default: every ticker of the dataset.
    #[serde(default)]
    pub tickers: Option<Vec<String>>,
    #[serde(default)]
    pub raw_prices: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRow {
    pub rank: usize,
    pub ticker: String,
    /// The as-of bar the score was read at.
    pub bar: String,
    pub score: f64,
    pub facts: Vec<Fact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub ticker: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub dataset: String,
    pub kind: Kind,
    pub formula: String,
    /// The universe's newest as-of bar.
    pub asof: String,
    /// Tickers asked for (scored or skipped).
    pub universe: usize,
    /// The best `top_n` of the scored tickers.
    pub rows: Vec<ScanRow>,
    /// How many were scored in all (`rows` keeps `top_n` of them).
    pub scored: usize,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    #[error("unknown scanner {0:?}; expected one of breakout, meanrevert, trend, squeeze, rs, highmomo")]
    Kind(String),
    #[error("top N must be at least 1")]
    TopN,
    #[error("as-of date {0:?} is not a date; expected YYYY-MM-DD")]
    AsOf(String),
    #[error("dataset {dataset} has no ticker {ticker} (it holds {held})")]
    Ticker { dataset: String, ticker: String, held: String },
    #[error("no ticker of dataset {dataset} has a bar on or before {asof}")]
    NoBars { dataset: String, asof: String },
}

/// Ranks the tickers of `ds` by `spec.kind` at the as-of bar (see the module docs).
pub fn scan(ds: &Dataset, spec: &ScanSpec) -> Result<Scan, ScanError> {
    if spec.top_n == 0 {
        return Err(ScanError::TopN);
    }
    let zone = parse_tz(&ds.tz).unwrap_or(chrono_tz::UTC);
    let asof_day = match spec.asof.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ScanError::AsOf(raw.to_string()))?;
            use chrono::Datelike;
            Some(
                crate::data::time::days_from_civil(d.year(), d.month(), d.day())
                    .ok_or_else(|| ScanError::AsOf(raw.to_string()))?,
            )
        }
    };
    let chosen: Vec<&Series> = match &spec.tickers {
        None => ds.series.iter().collect(),
        Some(list) => list
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                ds.series.iter().find(|s| s.ticker.eq_ignore_ascii_case(t.trim())).ok_or_else(|| ScanError::Ticker {
                    dataset: ds.name.clone(),
                    ticker: t.trim().to_string(),
                    held: ds.series.iter().map(|s| s.ticker.as_str()).collect::<Vec<_>>().join(", "),
                })
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .fold(Vec::new(), |mut seen: Vec<&Series>, s| {
                // `AAPL,aapl` names one ticker once.
                if !seen.iter().any(|x| x.ticker == s.ticker) {
                    seen.push(s);
                }
                seen
            }),
    };
    let date_only = ds.series.iter().all(|s| crate::matrix::date_only(&s.ts, zone));
    let fmt = |t: i64| format_ms(t, zone, date_only);

    // Each ticker's bars up to its as-of bar.
    let mut skipped = Vec::new();
    let mut cut: Vec<(&Series, usize)> = Vec::new();
    for s in &chosen {
        let n = match asof_day {
            Some(d) => s.ts.partition_point(|&t| local_day(t, zone) <= d),
            None => s.len(),
        };
        if n == 0 {
            skipped.push(Skipped { ticker: s.ticker.clone(), reason: "no bar on or before the as-of date".into() });
        } else {
            cut.push((s, n));
        }
    }
    let newest = cut.iter().map(|(s, n)| s.ts[n - 1]).max().ok_or_else(|| ScanError::NoBars {
        dataset: ds.name.clone(),
        asof: spec.asof.clone().unwrap_or_else(|| "the newest bar".into()),
    })?;
    let mut scored: Vec<(String, String, f64, Vec<Fact>)> = Vec::new();
    let mut rs_returns: Vec<(usize, f64)> = Vec::new();
    for (s, n) in cut {
        let t = s.ts[n - 1];
        if t < newest {
            skipped.push(Skipped {
                ticker: s.ticker.clone(),
                reason: format!("stale: its last bar is {}, the universe's is {}", fmt(t), fmt(newest)),
            });
            continue;
        }
        let needs = spec.kind.needs();
        if n < needs {
            skipped.push(Skipped {
                ticker: s.ticker.clone(),
                reason: format!("{n} bars up to the as-of bar; {} needs {needs}", spec.kind),
            });
            continue;
        }
        let adjusted = if spec.raw_prices { None } else { s.adjusted() };
        let p = adjusted.as_ref().unwrap_or(s);
        let (close, high, volume) = (&p.close[..n], &p.high[..n], &p.volume[..n]);
        let (score, facts) = score(spec.kind, close, high, volume);
        if !score.is_finite() {
            skipped.push(Skipped {
                ticker: s.ticker.clone(),
                reason: format!("its {} score is not a number (a flat window)", spec.kind),
            });
            continue;
        }
        if spec.kind == Kind::Rs {
            rs_returns.push((scored.len(), score));
        }
        scored.push((s.ticker.clone(), fmt(t), score, facts));
    }
    if spec.kind == Kind::Rs && !rs_returns.is_empty() {
        let mut r: Vec<f64> = rs_returns.iter().map(|x| x.1).collect();
        let median = median(&mut r);
        for (i, ret) in rs_returns {
            scored[i].2 = ret - median;
            scored[i].3.push(Fact { name: "universe_median".into(), value: median });
        }
    }
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let count = scored.len();
    let rows = scored
        .into_iter()
        .take(spec.top_n)
        .enumerate()
        .map(|(i, (ticker, bar, score, facts))| ScanRow { rank: i + 1, ticker, bar, score, facts })
        .collect();
    Ok(Scan {
        dataset: ds.name.clone(),
        kind: spec.kind,
        formula: spec.kind.formula().to_string(),
        asof: fmt(newest),
        universe: chosen.len(),
        rows,
        scored: count,
        skipped,
    })
}

/// The last `n` values.
fn last(x: &[f64], n: usize) -> &[f64] {
    &x[x.len() - n..]
}

fn fact(name: &str, value: f64) -> Fact {
    Fact { name: name.to_string(), value }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Population standard deviation (ddof = 0), two-pass; `NaN` for a flat window (a halted or
/// forward-filled ticker), where the mean's rounding would leave a deviation of ~1e-15 and a
/// z-score or band width of pure noise.
fn std(x: &[f64]) -> f64 {
    let m = mean(x);
    let sd = (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64).sqrt();
    if sd <= 1e-12 * m.abs() {
        f64::NAN
    } else {
        sd
    }
}

fn median(x: &mut [f64]) -> f64 {
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n % 2 == 1 {
        x[n / 2]
    } else {
        (x[n / 2 - 1] + x[n / 2]) / 2.0
    }
}

/// The score at the last bar of the slices (each at least `kind.needs()` long) and its facts;
/// for `rs` the raw 63-bar return (the median is taken across tickers by the caller).
fn score(kind: Kind, c: &[f64], h: &[f64], v: &[f64]) -> (f64, Vec<Fact>) {
    let t = c.len() - 1;
    match kind {
        Kind::Breakout => {
            let prior = &h[t - 20..t];
            let hh = prior.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let vol = v[t] / mean(&v[t - 20..t]);
            (c[t] / hh - 1.0, vec![fact("close", c[t]), fact("high_20", hh), fact("volume_ratio_20", vol)])
        }
        Kind::MeanRevert => {
            let w = last(c, 20);
            let (m, sd) = (mean(w), std(w));
            let z = (c[t] - m) / sd;
            (-z, vec![fact("close", c[t]), fact("sma_20", m), fact("std_20", sd), fact("z_20", z)])
        }
        Kind::Trend => {
            let (s50, s200) = (mean(last(c, 50)), mean(last(c, 200)));
            (s50 / s200 - 1.0, vec![fact("close", c[t]), fact("sma_50", s50), fact("sma_200", s200)])
        }
        Kind::Squeeze => {
            let bw = |end: usize| {
                let w = &c[end + 1 - 20..=end];
                4.0 * std(w) / mean(w)
            };
            let now = bw(t);
            let low = (t - 119..=t).map(bw).fold(f64::INFINITY, f64::min);
            (low / now, vec![fact("close", c[t]), fact("bandwidth_20", now), fact("min_bandwidth_120", low)])
        }
        Kind::Rs => {
            let r = c[t] / c[t - 63] - 1.0;
            (r, vec![fact("close", c[t]), fact("return_63", r)])
        }
        Kind::HighMomo => {
            let r = c[t - 21] / c[t - 252] - 1.0;
            let hi = last(c, 252).iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (r, vec![fact("close", c[t]), fact("return_252_21", r), fact("off_high_252", c[t] / hi - 1.0)])
        }
    }
}

/// One threshold of [`calibrate`]'s table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    pub threshold: f64,
    /// Out-of-fold bars whose probability reaches the threshold.
    pub signal_bars: usize,
    /// `signal_bars` over the out-of-fold bars.
    pub share: f64,
    /// Signals a day on the model's own ticker: `signal_bars` over the days out-of-fold.
    pub per_day_per_ticker: f64,
    /// Expected signals a day across the universe: `per_day_per_ticker × universe`.
    pub per_day: f64,
}

/// `btb calibrate-scanner`: the threshold at which, on average, `top_n` signals fire a day
/// across a universe of `universe` tickers, read from the model's out-of-fold probabilities
/// only (no bar any of its fold models trained on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub model_id: String,
    pub top_n: usize,
    pub universe: usize,
    /// Out-of-fold bars (a probability no fold model trained on) and the days they cover.
    pub bars: usize,
    pub days: usize,
    pub rows: Vec<CalibrationRow>,
    /// The grid's threshold whose expected count a day is nearest `top_n` (the higher one on a
    /// tie); `None` when even the lowest threshold fires fewer than `top_n`.
    pub recommended: Option<f64>,
    /// What the choice means, in one sentence.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error("the grid is empty; give thresholds such as 0.50,0.55,0.60")]
    EmptyGrid,
    #[error("threshold {0} is not a probability in (0, 1)")]
    Threshold(f64),
    #[error("--top-n and the universe must be at least 1")]
    Zero,
    #[error("no out-of-fold probability: the model's folds test no bar")]
    NoBars,
}

/// See [`Calibration`]. `prob` is one per row of the matrix whose times are `ts` (in zone
/// `tz`), `NaN` where no fold tests the row; days are local calendar days.
pub fn calibrate(
    model_id: &str,
    ts: &[i64],
    tz: &str,
    prob: &[f64],
    grid: &[f64],
    top_n: usize,
    universe: usize,
) -> Result<Calibration, CalibrationError> {
    if grid.is_empty() {
        return Err(CalibrationError::EmptyGrid);
    }
    if let Some(&t) = grid.iter().find(|t| !(**t > 0.0 && **t < 1.0)) {
        return Err(CalibrationError::Threshold(t));
    }
    if top_n == 0 || universe == 0 {
        return Err(CalibrationError::Zero);
    }
    let zone = parse_tz(tz).unwrap_or(chrono_tz::UTC);
    let tested: Vec<(i64, f64)> =
        ts.iter().zip(prob).filter(|(_, p)| p.is_finite()).map(|(&t, &p)| (local_day(t, zone), p)).collect();
    if tested.is_empty() {
        return Err(CalibrationError::NoBars);
    }
    let mut days: Vec<i64> = tested.iter().map(|x| x.0).collect();
    days.dedup();
    let (bars, days) = (tested.len(), days.len());
    let mut sorted = grid.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let rows: Vec<CalibrationRow> = sorted
        .iter()
        .map(|&threshold| {
            let signal_bars = tested.iter().filter(|x| x.1 >= threshold).count();
            let per_day_per_ticker = signal_bars as f64 / days as f64;
            CalibrationRow {
                threshold,
                signal_bars,
                share: signal_bars as f64 / bars as f64,
                per_day_per_ticker,
                per_day: per_day_per_ticker * universe as f64,
            }
        })
        .collect();
    let target = top_n as f64;
    let reachable = rows.first().is_some_and(|r| r.per_day >= target);
    let recommended = reachable
        .then(|| {
            rows.iter()
                .min_by(|a, b| {
                    (a.per_day - target)
                        .abs()
                        .total_cmp(&(b.per_day - target).abs())
                        .then(b.threshold.total_cmp(&a.threshold))
                })
                .map(|r| r.threshold)
        })
        .flatten();
    let note = match (recommended, rows.first()) {
        (Some(t), _) => {
            let r = rows.iter().find(|r| r.threshold == t).map_or(0.0, |r| r.per_day);
            format!("at {t:.2} about {r:.1} signals a day fire across {universe} tickers (Top-{top_n} asked)")
        }
        (None, Some(low)) => format!(
            "even at {:.2} only {:.2} signals a day fire across {universe} tickers, fewer than the Top-{top_n} asked: \
             widen the universe or lower the grid",
            low.threshold, low.per_day
        ),
        (None, None) => String::new(),
    };
    Ok(Calibration { model_id: model_id.to_string(), top_n, universe, bars, days, rows, recommended, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn daily(ticker: &str, closes: &[f64]) -> Series {
        let n = closes.len();
        Series {
            ticker: ticker.into(),
            ts: (0..n as i64).map(|i| i * DAY).collect(),
            open: closes.to_vec(),
            high: closes.iter().map(|c| c + 0.5).collect(),
            low: closes.iter().map(|c| c - 0.5).collect(),
            close: closes.to_vec(),
            volume: vec![1000.0; n],
            adj_close: None,
        }
    }

    #[test]
    fn a_flat_window_is_skipped_and_a_ticker_named_twice_counts_once() {
        let moving: Vec<f64> = (0..30).map(|i| 10.0 + (i % 7) as f64 * 0.3).collect();
        let ds = Dataset {
            name: "u".into(),
            tz: "UTC".into(),
            series: vec![daily("FLAT", &[10.1; 30]), daily("MOVE", &moving)],
            issues: Vec::new(),
            issue_counts: Vec::new(),
        };
        let spec = ScanSpec { kind: Kind::MeanRevert, top_n: 5, asof: None, tickers: None, raw_prices: false };
        let s = scan(&ds, &spec).unwrap();
        assert_eq!(s.rows.iter().map(|r| r.ticker.as_str()).collect::<Vec<_>>(), ["MOVE"]);
        assert!(s.skipped[0].reason.contains("flat window"), "{:?}", s.skipped);
        let twice = ScanSpec { tickers: Some(vec!["MOVE".into(), "move".into(), " ".into()]), ..spec };
        assert_eq!(scan(&ds, &twice).unwrap().universe, 1);
    }

    #[test]
    fn calibration_counts_out_of_fold_signals_a_day_across_the_universe() {
        // Ten days, two bars a day; the first day untested (NaN); probabilities 0.401 up by 0.025.
        let ts: Vec<i64> = (0..20).map(|i| (i / 2) * DAY + (i % 2) * 3_600_000).collect();
        let prob: Vec<f64> = (0..20).map(|i| if i < 2 { f64::NAN } else { 0.401 + 0.025 * (i - 2) as f64 }).collect();
        let c = calibrate("m", &ts, "UTC", &prob, &[0.7, 0.5, 0.6], 7, 5).unwrap();
        assert_eq!((c.bars, c.days), (18, 9));
        let thresholds: Vec<f64> = c.rows.iter().map(|r| r.threshold).collect();
        assert_eq!(thresholds, [0.5, 0.6, 0.7], "sorted");
        // p >= 0.5 from i = 6: 14 bars; 14 / 9 a day on the ticker, × 5 tickers.
        assert_eq!(c.rows[0].signal_bars, 14);
        assert!((c.rows[0].per_day - 14.0 / 9.0 * 5.0).abs() < 1e-12);
        // 7.8, 5.6, 3.3 a day: 0.50 is nearest 7, 0.60 nearest 5.
        assert_eq!(c.recommended, Some(0.5));
        let c = calibrate("m", &ts, "UTC", &prob, &[0.5, 0.6, 0.7], 5, 5).unwrap();
        assert_eq!(c.recommended, Some(0.6), "{:?}", c.rows);
        assert!(c.note.contains("at 0.60"), "{}", c.note);
        // Top-50 of five tickers cannot be reached.
        let c = calibrate("m", &ts, "UTC", &prob, &[0.5, 0.6], 50, 5).unwrap();
        assert_eq!(c.recommended, None);
        assert!(c.note.contains("fewer than the Top-50"), "{}", c.note);
        assert!(matches!(calibrate("m", &ts, "UTC", &prob, &[], 5, 5), Err(CalibrationError::EmptyGrid)));
        assert!(matches!(calibrate("m", &ts, "UTC", &prob, &[1.0], 5, 5), Err(CalibrationError::Threshold(_))));
        assert!(matches!(calibrate("m", &ts, "UTC", &[f64::NAN; 20], &[0.5], 5, 5), Err(CalibrationError::NoBars)));
    }
}
