//! Matching a file's column names to the roles the loader needs (shared by CSV and Parquet).
//!
//! Names are compared after lower-casing and dropping everything but letters and digits, so
//! `Adj Close`, `adj_close`, `ADJCLOSE` and `Adj. Close` are the same name.

use super::IngestError;

/// Lower-case letters and digits only.
pub(crate) fn norm(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

/// Time column names, best first. `date` together with a separate `time` column is combined.
const TIME_NAMES: [&str; 12] = [
    "datetime",
    "timestamp",
    "date",
    "time",
    "dt",
    "ts",
    "gmttime",
    "localtime",
    "utctime",
    "datetimeutc",
    "indexlevel0",
    "index",
];
pub(crate) const OPEN: [&str; 2] = ["open", "o"];
pub(crate) const HIGH: [&str; 2] = ["high", "h"];
pub(crate) const LOW: [&str; 2] = ["low", "l"];
pub(crate) const CLOSE: [&str; 3] = ["close", "c", "last"];
pub(crate) const VOLUME: [&str; 3] = ["volume", "vol", "v"];
const ADJ: [&str; 2] = ["adjclose", "adjustedclose"];
const TICKER: [&str; 3] = ["ticker", "symbol", "sym"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeSource {
    One(usize),
    /// Separate date and time-of-day columns, joined with a space.
    DateAndTime(usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub time: TimeSource,
    pub open: usize,
    pub high: usize,
    pub low: usize,
    pub close: usize,
    pub volume: usize,
    pub adj_close: Option<usize>,
    pub ticker: Option<usize>,
}

impl Mapping {
    /// The column indices the loader reads.
    pub(crate) fn used(&self) -> Vec<usize> {
        let mut v = match self.time {
            TimeSource::One(i) => vec![i],
            TimeSource::DateAndTime(a, b) => vec![a, b],
        };
        v.extend([self.open, self.high, self.low, self.close, self.volume]);
        v.extend(self.adj_close);
        v.extend(self.ticker);
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Map headers to roles. `is_time_typed(i)` says whether column `i` has a date/time type
/// (Parquet); it lets an unnamed or oddly named timestamp column be found.
pub(crate) fn map_columns(
    file: &str,
    headers: &[String],
    is_time_typed: &dyn Fn(usize) -> bool,
) -> Result<Mapping, IngestError> {
    let normed: Vec<String> = headers.iter().map(|h| norm(h)).collect();
    let find = |names: &[&str]| -> Option<usize> { names.iter().find_map(|n| normed.iter().position(|h| h == n)) };
    let missing = |column: &str, names: &[&str]| IngestError::MissingColumn {
        file: file.to_string(),
        column: column.to_string(),
        expected: names.join(", "),
        found: headers.to_vec(),
    };
    let by_name = |n: &str| normed.iter().position(|h| h == n);
    let time = match (by_name("datetime"), by_name("timestamp"), by_name("date"), by_name("time")) {
        (Some(i), _, _, _) | (None, Some(i), _, _) => Some(TimeSource::One(i)),
        (None, None, Some(d), Some(t)) if !is_time_typed(t) && !is_time_typed(d) => Some(TimeSource::DateAndTime(d, t)),
        _ => find(&TIME_NAMES).map(TimeSource::One),
    };
    let time = time
        .or_else(|| (0..headers.len()).find(|&i| is_time_typed(i)).map(TimeSource::One))
        .or_else(|| {
            // pandas' unnamed index column, when it is the only candidate.
            let n0 = normed.first()?;
            (n0.is_empty() || n0 == "unnamed0").then_some(TimeSource::One(0))
        })
        .ok_or_else(|| missing("date", &["date", "datetime", "timestamp", "time", "dt"]))?;
    Ok(Mapping {
        time,
        open: find(&OPEN).ok_or_else(|| missing("open", &OPEN))?,
        high: find(&HIGH).ok_or_else(|| missing("high", &HIGH))?,
        low: find(&LOW).ok_or_else(|| missing("low", &LOW))?,
        close: find(&CLOSE).ok_or_else(|| missing("close", &CLOSE))?,
        volume: find(&VOLUME).ok_or_else(|| missing("volume", &VOLUME))?,
        adj_close: find(&ADJ),
        ticker: find(&TICKER),
    })
}

/// `Prices.csv.gz` → `PRICES`: the file name without folders and known extensions, upper-cased.
pub fn ticker_from_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut stem = base;
    loop {
        let lower = stem.to_ascii_lowercase();
        let cut = [".gz", ".csv", ".tsv", ".txt", ".parquet", ".pq"]
            .iter()
            .find(|ext| lower.ends_with(*ext) && lower.len() > ext.len())
            .map(|ext| ext.len());
        match cut {
            Some(n) => stem = &stem[..stem.len() - n],
            None => break,
        }
    }
    stem.trim().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }
    const NO: &dyn Fn(usize) -> bool = &|_| false;

    #[test]
    fn matches_names() {
        let m = map_columns("f", &h(&["Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close"]), NO)
            .unwrap();
        assert_eq!(m.time, TimeSource::One(1));
        assert_eq!((m.open, m.close, m.volume, m.adj_close, m.ticker), (2, 5, 6, Some(7), Some(0)));
        let m = map_columns("f", &h(&["", "Date", " open ", "HIGH", "low", "close", "vol"]), NO).unwrap();
        assert_eq!(m.time, TimeSource::One(1));
        let m = map_columns("f", &h(&["", "Open", "High", "Low", "Close", "Volume"]), NO).unwrap();
        assert_eq!(m.time, TimeSource::One(0));
        let m = map_columns("f", &h(&["Date", "Time", "o", "h", "l", "c", "v"]), NO).unwrap();
        assert_eq!(m.time, TimeSource::DateAndTime(0, 1));
        let m =
            map_columns("f", &h(&["Date Time", "Symbol", "Open", "High", "Low", "Close", "Volume", "adj_close"]), NO)
                .unwrap();
        assert_eq!((m.time, m.ticker, m.adj_close), (TimeSource::One(0), Some(1), Some(7)));
        let e = map_columns("p.csv", &h(&["Date", "Open", "High", "Low", "Volume"]), NO).unwrap_err();
        assert!(e.to_string().contains("missing required column \"close\""), "{e}");
        assert!(e.to_string().contains("\"Volume\""), "{e}");
    }

    #[test]
    fn ticker_names() {
        assert_eq!(ticker_from_name("aapl.csv"), "AAPL");
        assert_eq!(ticker_from_name("/tmp/x/spy.csv.gz"), "SPY");
        assert_eq!(ticker_from_name("C:\\data\\msft.parquet"), "MSFT");
        assert_eq!(ticker_from_name("brk.b.csv"), "BRK.B");
        assert_eq!(ticker_from_name(".csv"), ".CSV");
    }
}
