//! The quality report: what looks wrong in a loaded file, where, and what was done about it.
//!
//! Rules (per ticker):
//! - `high_below_low`: high < low.
//! - `open_close_outside_range`: open or close above the high or below the low (relative
//!   tolerance 1e-9), checked only when high ≥ low.
//! - `non_positive_price`: any of open, high, low, close ≤ 0.
//! - `duplicate_timestamp`: a bar with the same time as an earlier one in the file; the first is
//!   kept, the later one is dropped (`row` is the dropped row, `bar` the kept bar).
//! - `non_monotonic`: a row whose time is earlier than the previous row of the same ticker; the
//!   bars are sorted (stable). A file wholly in reverse order (newest first) gets one issue.
//! - `gap`: daily data: more than 5 calendar days (in the dataset's zone) between consecutive
//!   bars, so weekends and ordinary holidays (even a holiday next to a weekend) are not gaps;
//!   weekly: more than 21 days; monthly: more than 62 days; intraday: more than 2 intervals
//!   between consecutive bars of the same local calendar day (overnight breaks and weekends are
//!   not gaps); irregular data: never. Reported on the bar after the gap.
//! - `zero_volume`: volume = 0.
//! - `suspected_split`: the next bar opens more than 30% away from the previous close and the
//!   ratio open/previous close is within 8% of 1/k for a forward split k:1 (2:1, 3:2, 3:1, 4:1,
//!   5:1, 7:1, 8:1, 10:1, 20:1) or of k for a reverse split 1:k (1:2, 1:3, 1:4, 1:5, 1:10, 1:20).
//!   When the file has Adj Close, the ratio adj/close must also jump by k (±5%), which tells a
//!   split from a crash of the same size (AAPL fell 52% on 2000-09-29; it was not a split).
//!
//! At most [`MAX_DETAILED_PER_KIND`] issues per kind per ticker are kept in detail; all are
//! counted in [`IssueCount`].

use super::time::{format_ms, local_day};
use super::{Cadence, Series};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Detailed issues kept per (ticker, kind); the rest are only counted.
pub const MAX_DETAILED_PER_KIND: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    HighBelowLow,
    OpenCloseOutsideRange,
    NonPositivePrice,
    DuplicateTimestamp,
    NonMonotonic,
    Gap,
    ZeroVolume,
    SuspectedSplit,
}

impl IssueKind {
    pub const ALL: [IssueKind; 8] = [
        IssueKind::HighBelowLow,
        IssueKind::OpenCloseOutsideRange,
        IssueKind::NonPositivePrice,
        IssueKind::DuplicateTimestamp,
        IssueKind::NonMonotonic,
        IssueKind::Gap,
        IssueKind::ZeroVolume,
        IssueKind::SuspectedSplit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::HighBelowLow => "high_below_low",
            IssueKind::OpenCloseOutsideRange => "open_close_outside_range",
            IssueKind::NonPositivePrice => "non_positive_price",
            IssueKind::DuplicateTimestamp => "duplicate_timestamp",
            IssueKind::NonMonotonic => "non_monotonic",
            IssueKind::Gap => "gap",
            IssueKind::ZeroVolume => "zero_volume",
            IssueKind::SuspectedSplit => "suspected_split",
        }
    }
}

impl std::fmt::Display for IssueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub kind: IssueKind,
    pub ticker: String,
    /// 1-based data row in the file (header excluded), so the user can find it.
    pub row: u64,
    /// Index into the stored (sorted, de-duplicated) series, for the chart to jump to.
    pub bar: usize,
    /// Bar time, UTC epoch ms.
    pub ts: i64,
    /// A sentence for people.
    pub message: String,
}

/// How many issues of one kind one ticker has, and how many of them are in the detailed list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCount {
    pub ticker: String,
    pub kind: IssueKind,
    pub count: usize,
    pub detailed: usize,
}

/// Collects issues for one ticker, capping the detail per kind.
pub(crate) struct TickerReport {
    ticker: String,
    issues: Vec<QualityIssue>,
    counts: [usize; 8],
}

impl TickerReport {
    pub(crate) fn new(ticker: &str) -> Self {
        TickerReport { ticker: ticker.to_string(), issues: Vec::new(), counts: [0; 8] }
    }

    fn push(&mut self, kind: IssueKind, row: u64, bar: usize, ts: i64, message: impl FnOnce() -> String) {
        let k = kind as usize;
        self.counts[k] += 1;
        if self.counts[k] <= MAX_DETAILED_PER_KIND {
            self.issues.push(QualityIssue { kind, ticker: self.ticker.clone(), row, bar, ts, message: message() });
        }
    }

    /// Issues ordered by bar then kind, and the non-zero counts.
    pub(crate) fn finish(mut self) -> (Vec<QualityIssue>, Vec<IssueCount>) {
        self.issues.sort_by_key(|a| (a.bar, a.kind, a.row));
        let counts = IssueKind::ALL
            .iter()
            .filter(|k| self.counts[**k as usize] > 0)
            .map(|k| IssueCount {
                ticker: self.ticker.clone(),
                kind: *k,
                count: self.counts[*k as usize],
                detailed: self.counts[*k as usize].min(MAX_DETAILED_PER_KIND),
            })
            .collect();
        (self.issues, counts)
    }
}

/// Bars of one ticker in file order, with the 1-based data row each came from.
pub(crate) struct RawSeries {
    pub series: Series,
    pub rows: Vec<u64>,
}

fn fmt_day(ts: i64, tz: Tz, intraday: bool) -> String {
    format_ms(ts, tz, !intraday)
}

/// Sort (stable), drop duplicate timestamps, run every check. Returns the stored series, its
/// cadence and the report.
pub(crate) fn finish_series(raw: RawSeries, tz: Tz) -> (Series, Cadence, TickerReport) {
    let RawSeries { series: s, rows } = raw;
    let n = s.ts.len();
    let mut rep = TickerReport::new(&s.ticker);

    // Stable order by time.
    let sorted_in_file = s.ts.windows(2).all(|w| w[0] <= w[1]);
    let perm: Vec<usize> = if sorted_in_file {
        (0..n).collect()
    } else {
        let mut p: Vec<usize> = (0..n).collect();
        p.sort_by_key(|&i| s.ts[i]);
        p
    };
    // Keep the first of equal times; map each file index to its stored bar.
    let mut keep: Vec<usize> = Vec::with_capacity(n);
    let mut bar_of = vec![0usize; n];
    let mut dups: Vec<(usize, usize)> = Vec::new(); // (dropped file index, kept file index)
    for &i in &perm {
        match keep.last() {
            Some(&k) if s.ts[k] == s.ts[i] => {
                bar_of[i] = keep.len() - 1;
                dups.push((i, k));
            }
            _ => {
                bar_of[i] = keep.len();
                keep.push(i);
            }
        }
    }
    let pick = |col: &Vec<f64>| -> Vec<f64> { keep.iter().map(|&i| col[i]).collect() };
    let out = Series {
        ticker: s.ticker.clone(),
        ts: keep.iter().map(|&i| s.ts[i]).collect(),
        open: pick(&s.open),
        high: pick(&s.high),
        low: pick(&s.low),
        close: pick(&s.close),
        volume: pick(&s.volume),
        adj_close: s.adj_close.as_ref().map(pick),
    };
    let out_rows: Vec<u64> = keep.iter().map(|&i| rows[i]).collect();
    let cadence = Cadence::detect(&out.ts);
    let intraday = cadence.is_intraday();

    if !sorted_in_file {
        let descending = s.ts.windows(2).all(|w| w[0] > w[1]);
        if descending {
            rep.push(IssueKind::NonMonotonic, rows[0], bar_of[0], s.ts[0], || {
                "the file is in reverse time order (newest first); bars were sorted by time".to_string()
            });
        } else {
            for i in 1..n {
                if s.ts[i] < s.ts[i - 1] {
                    rep.push(IssueKind::NonMonotonic, rows[i], bar_of[i], s.ts[i], || {
                        format!(
                            "time goes backwards: {} comes after {} (row {}); bars were sorted by time",
                            fmt_day(s.ts[i], tz, intraday),
                            fmt_day(s.ts[i - 1], tz, intraday),
                            rows[i - 1]
                        )
                    });
                }
            }
        }
    }
    for &(i, k) in &dups {
        rep.push(IssueKind::DuplicateTimestamp, rows[i], bar_of[k], s.ts[i], || {
            format!("same time ({}) as row {}; the later row was dropped", fmt_day(s.ts[i], tz, intraday), rows[k])
        });
    }

    check_bars(&out, &out_rows, cadence, tz, &mut rep);
    (out, cadence, rep)
}

fn outside(x: f64, lo: f64, hi: f64) -> bool {
    let tol = 1e-9 * hi.abs().max(lo.abs());
    x > hi + tol || x < lo - tol
}

const SPLITS: [(f64, &str); 15] = [
    (2.0, "2:1 split"),
    (1.5, "3:2 split"),
    (3.0, "3:1 split"),
    (4.0, "4:1 split"),
    (5.0, "5:1 split"),
    (7.0, "7:1 split"),
    (8.0, "8:1 split"),
    (10.0, "10:1 split"),
    (20.0, "20:1 split"),
    (0.5, "1:2 reverse split"),
    (1.0 / 3.0, "1:3 reverse split"),
    (0.25, "1:4 reverse split"),
    (0.2, "1:5 reverse split"),
    (0.1, "1:10 reverse split"),
    (0.05, "1:20 reverse split"),
];

/// The split a price ratio `open / previous close` looks like, if any: (k, name) with
/// ratio ≈ 1/k.
pub fn split_like(ratio: f64) -> Option<(f64, &'static str)> {
    if !ratio.is_finite() || ratio <= 0.0 || (0.7..=1.3).contains(&ratio) {
        return None;
    }
    SPLITS.iter().copied().find(|(k, _)| (ratio * k - 1.0).abs() <= 0.08)
}

fn check_bars(s: &Series, rows: &[u64], cadence: Cadence, tz: Tz, rep: &mut TickerReport) {
    let intraday = cadence.is_intraday();
    let n = s.ts.len();
    for i in 0..n {
        let (o, h, l, c) = (s.open[i], s.high[i], s.low[i], s.close[i]);
        let (row, ts) = (rows[i], s.ts[i]);
        if h < l {
            rep.push(IssueKind::HighBelowLow, row, i, ts, || format!("high {h} is below low {l}"));
        } else {
            let oo = outside(o, l, h);
            let co = outside(c, l, h);
            if oo || co {
                rep.push(IssueKind::OpenCloseOutsideRange, row, i, ts, || {
                    let what = match (oo, co) {
                        (true, true) => format!("open {o} and close {c} are"),
                        (true, false) => format!("open {o} is"),
                        _ => format!("close {c} is"),
                    };
                    format!("{what} outside the bar's range low {l} – high {h}")
                });
            }
        }
        if o <= 0.0 || h <= 0.0 || l <= 0.0 || c <= 0.0 {
            rep.push(IssueKind::NonPositivePrice, row, i, ts, || {
                let names: Vec<&str> = [("open", o), ("high", h), ("low", l), ("close", c)]
                    .iter()
                    .filter(|(_, v)| *v <= 0.0)
                    .map(|(n, _)| *n)
                    .collect();
                format!("{} ≤ 0; prices must be positive", names.join(", "))
            });
        }
        if s.volume[i] == 0.0 {
            rep.push(IssueKind::ZeroVolume, row, i, ts, || "volume is 0".to_string());
        }
        if i == 0 {
            continue;
        }
        let prev = s.ts[i - 1];
        // Gaps.
        let gap = match cadence {
            Cadence::Daily | Cadence::Weekly | Cadence::Monthly => {
                let days = local_day(ts, tz) - local_day(prev, tz);
                let limit = match cadence {
                    Cadence::Daily => 5,
                    Cadence::Weekly => 21,
                    _ => 62,
                };
                (days > limit).then(|| {
                    format!(
                        "no bars for {days} days between {} and {}",
                        format_ms(prev, tz, true),
                        format_ms(ts, tz, true)
                    )
                })
            }
            c if c.is_intraday() => {
                let iv = c.interval_ms().unwrap_or(i64::MAX);
                let d = ts.saturating_sub(prev);
                (d > iv.saturating_mul(2) && local_day(ts, tz) == local_day(prev, tz)).then(|| {
                    format!(
                        "no bars for {} minutes between {} and {} ({} bars missing)",
                        d / 60_000,
                        format_ms(prev, tz, false),
                        format_ms(ts, tz, false),
                        d / iv - 1
                    )
                })
            }
            _ => None,
        };
        if let Some(msg) = gap {
            rep.push(IssueKind::Gap, row, i, ts, || msg);
        }
        // Splits.
        let pc = s.close[i - 1];
        let ratio = o / pc;
        if pc > 0.0 {
            if let Some((k, name)) = split_like(ratio) {
                // With an adjusted close, a real split shows as adj/close jumping by the same
                // factor; a crash or a spike that merely looks like a split ratio does not.
                let adj_agrees = s.adj_close.as_ref().map(|a| {
                    let jump = (a[i] / c) / (a[i - 1] / pc);
                    (jump / k - 1.0).abs() <= 0.05
                });
                if adj_agrees != Some(false) {
                    rep.push(IssueKind::SuspectedSplit, row, i, ts, || {
                        format!(
                            "opened at {o} after closing at {pc} on {} (×{ratio:.3}), consistent with a {name}{}",
                            format_ms(prev, tz, !intraday),
                            if adj_agrees == Some(true) { "; Adj Close agrees" } else { "" }
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn raw(ts: &[i64], close: &[f64]) -> RawSeries {
        let n = ts.len();
        RawSeries {
            series: Series {
                ticker: "T".into(),
                ts: ts.to_vec(),
                open: close.to_vec(),
                high: close.iter().map(|c| c * 1.01).collect(),
                low: close.iter().map(|c| c * 0.99).collect(),
                close: close.to_vec(),
                volume: vec![100.0; n],
                adj_close: None,
            },
            rows: (1..=n as u64).collect(),
        }
    }

    #[test]
    fn sorts_dedups_and_reports() {
        let r = raw(&[0, 2 * DAY, DAY, DAY, 3 * DAY], &[10.0, 10.2, 10.1, 10.15, 10.3]);
        let (s, cad, rep) = finish_series(r, Tz::UTC);
        let (issues, counts) = rep.finish();
        assert_eq!(cad, Cadence::Daily);
        assert_eq!(s.ts, vec![0, DAY, 2 * DAY, 3 * DAY]);
        assert_eq!(s.close, vec![10.0, 10.1, 10.2, 10.3]);
        let kinds: Vec<_> = issues.iter().map(|i| (i.kind, i.row, i.bar)).collect();
        assert!(kinds.contains(&(IssueKind::NonMonotonic, 3, 1)), "{kinds:?}");
        assert!(kinds.contains(&(IssueKind::DuplicateTimestamp, 4, 1)), "{kinds:?}");
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn reverse_order_is_one_issue() {
        let ts: Vec<i64> = (0..50).rev().map(|d| d * DAY).collect();
        let (s, _, rep) = finish_series(raw(&ts, &vec![10.0; 50]), Tz::UTC);
        let (issues, _) = rep.finish();
        assert_eq!(s.ts[0], 0);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].kind, IssueKind::NonMonotonic);
        assert_eq!(issues[0].row, 1);
        assert_eq!(issues[0].bar, 49);
    }

    #[test]
    fn gaps_and_splits() {
        // Mon..Fri, weekend, Mon..Fri, then a 9-day hole.
        let ts = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 20].map(|d| d * DAY);
        let mut close = vec![100.0; 11];
        close[8] = 100.0;
        let mut r = raw(&ts, &close);
        r.series.open[9] = 50.5; // 2:1 split-like overnight move
        r.series.volume[2] = 0.0;
        let (_, _, rep) = finish_series(r, Tz::UTC);
        let (issues, _) = rep.finish();
        let kinds: Vec<_> = issues.iter().map(|i| (i.kind, i.bar)).collect();
        assert!(kinds.contains(&(IssueKind::Gap, 10)), "{kinds:?}");
        assert!(kinds.contains(&(IssueKind::SuspectedSplit, 9)), "{kinds:?}");
        assert!(kinds.contains(&(IssueKind::ZeroVolume, 2)), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.0 == IssueKind::Gap && k.1 == 5));
    }

    #[test]
    fn split_ratios() {
        assert_eq!(split_like(0.502).map(|s| s.1), Some("2:1 split"));
        assert_eq!(split_like(0.66).map(|s| s.1), Some("3:2 split"));
        assert_eq!(split_like(2.01).map(|s| s.1), Some("1:2 reverse split"));
        assert_eq!(split_like(0.9), None);
        assert_eq!(split_like(0.6), None);
        assert_eq!(split_like(f64::NAN), None);
    }

    #[test]
    fn caps_detail_but_counts_all() {
        let n = 2500;
        let ts: Vec<i64> = (0..n).map(|d| d * DAY).collect();
        let mut r = raw(&ts, &vec![10.0; n as usize]);
        r.series.volume = vec![0.0; n as usize];
        let (_, _, rep) = finish_series(r, Tz::UTC);
        let (issues, counts) = rep.finish();
        assert_eq!(issues.len(), MAX_DETAILED_PER_KIND);
        assert_eq!(counts[0].count, 2500);
        assert_eq!(counts[0].detailed, MAX_DETAILED_PER_KIND);
        assert_eq!(serde_json::to_string(&IssueKind::OpenCloseOutsideRange).unwrap(), "\"open_close_outside_range\"");
    }
}
