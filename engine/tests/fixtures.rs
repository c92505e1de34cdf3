//! Every fixture in tests/fixtures/ (see its README) read through `engine::data::load`.

use engine::data::{load, Cadence, Dataset, IngestError, IssueKind, LoadOptions, Pos};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn load_with(rel: &str, ticker: Option<&str>, tz: Option<&str>) -> Result<Dataset, IngestError> {
    let opts = LoadOptions { ticker: ticker.map(str::to_string), tz: tz.map(str::to_string) };
    let mut calls = 0;
    let r = load(rel, &read(rel), &opts, &mut |p| {
        assert!((0.0..=1.0).contains(&p));
        calls += 1;
    });
    assert!(calls <= 101, "{rel}: {calls} progress calls");
    r
}

fn ok(rel: &str, ticker: Option<&str>, tz: Option<&str>) -> Dataset {
    load_with(rel, ticker, tz).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn tickers(d: &Dataset) -> Vec<&str> {
    d.series.iter().map(|s| s.ticker.as_str()).collect()
}

/// rows, first and last date, cadence of every ticker.
fn check(d: &Dataset, rows: usize, start: &str, end: &str, cadence: Cadence) {
    let s = d.summary();
    for t in &s.tickers {
        assert_eq!(
            (t.rows, t.start.as_str(), t.end.as_str(), t.cadence),
            (rows, start, end, cadence),
            "{} {}",
            d.name,
            t.ticker
        );
    }
}

const D0: &str = "2005-01-03";
const D1: &str = "2005-04-29";

#[test]
fn msft_daily_csv_variants_all_agree() {
    let reference = ok("long_multi.csv", Some("MSFT"), None);
    assert_eq!(tickers(&reference), ["MSFT"]);
    check(&reference, 82, D0, D1, Cadence::Daily);
    let mut plain = reference.clone();
    plain.series[0].adj_close = None;
    for f in [
        "semicolon.csv",
        "tab.tsv",
        "pandas_index.csv",
        "unnamed0.csv",
        "epoch_seconds.csv",
        "epoch_ms.csv",
        "yyyymmdd.csv",
        "us_dates.csv",
        "descending.csv",
        "pyarrow_ms.parquet",
    ] {
        let d = ok(f, Some("MSFT"), None);
        check(&d, 82, D0, D1, Cadence::Daily);
        assert_eq!(d.series, plain.series, "{f}");
        assert_eq!(d.sha(), plain.sha(), "{f}");
        let issues: Vec<_> = d.issues.iter().map(|i| i.kind).collect();
        if f == "descending.csv" {
            assert_eq!(issues, [IssueKind::NonMonotonic], "{f}");
            assert_eq!((d.issues[0].row, d.issues[0].bar), (1, 81));
        } else {
            assert!(issues.is_empty(), "{f}: {:?}", d.issues);
        }
    }
    // Without --ticker the name gives it.
    assert_eq!(tickers(&ok("tab.tsv", None, None)), ["TAB"]);
    assert_eq!(tickers(&ok("pyarrow_ms.parquet", None, None)), ["PYARROW_MS"]);
}

#[test]
fn long_files_csv_gzip_polars() {
    let csv = ok("long_multi.csv", None, None);
    assert_eq!(tickers(&csv), ["AAPL", "IBM", "MSFT"]);
    check(&csv, 82, D0, D1, Cadence::Daily);
    assert_eq!(csv.rows(), 246);
    assert!(csv.series.iter().all(|s| s.adj_close.is_some()));
    let gz = ok("long_multi.csv.gz", None, None);
    assert_eq!(gz.sha(), csv.sha());
    assert_eq!(gz.name, "long_multi.csv.gz");
    let src = ok("source_subset.csv", None, None);
    assert_eq!(src.sha(), csv.sha());
    let pl = ok("polars_zstd.parquet", None, None);
    assert_eq!(tickers(&pl), ["AAPL", "IBM", "MSFT"]);
    check(&pl, 82, D0, D1, Cadence::Daily);
    let mut no_adj = csv.clone();
    no_adj.series.iter_mut().for_each(|s| s.adj_close = None);
    assert_eq!(pl.sha(), no_adj.sha());
    // AAPL's 2:1 split on 2005-02-28 is found in each.
    for d in [&csv, &pl] {
        let splits: Vec<_> = d.issues.iter().filter(|i| i.kind == IssueKind::SuspectedSplit).collect();
        assert_eq!(splits.len(), 1, "{:?}", splits);
        assert_eq!(splits[0].ticker, "AAPL");
        assert_eq!(engine::data::time::format_ms(splits[0].ts, chrono_tz::UTC, true), "2005-02-28");
        assert!(splits[0].message.contains("2:1 split"), "{}", splits[0].message);
    }
    // The file row of AAPL's 2005-02-28 bar in the long file (header excluded).
    let row = std::str::from_utf8(&read("long_multi.csv"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("AAPL,2005-02-28"))
        .unwrap();
    let split = csv.issues.iter().find(|i| i.kind == IssueKind::SuspectedSplit).unwrap();
    assert_eq!(split.row as usize, row);
    assert_eq!(csv.series[0].ts[split.bar], split.ts);
    assert!(split.message.contains("Adj Close agrees"), "{}", split.message);
}

#[test]
fn aapl_parquet_variants() {
    let reference = ok("long_multi.csv", Some("AAPL"), None);
    for f in ["pyarrow_snappy_ns.parquet", "pandas_index.parquet", "pandas_unnamed_index.parquet"] {
        let d = ok(f, Some("AAPL"), None);
        check(&d, 82, D0, D1, Cadence::Daily);
        assert_eq!(d.series, reference.series, "{f}");
        assert!(d.issues.iter().any(|i| i.kind == IssueKind::SuspectedSplit), "{f}");
        let adj = d.adjusted().unwrap();
        let split_bar = d.issues.iter().find(|i| i.kind == IssueKind::SuspectedSplit).unwrap().bar;
        let jump = adj.series[0].open[split_bar] / adj.series[0].close[split_bar - 1];
        assert!((0.9..1.1).contains(&jump), "adjusted prices should not jump: {jump}");
    }
}

#[test]
fn ibm_date32_int_prices_dictionary_ticker() {
    let d = ok("pyarrow_lz4_date32.parquet", None, None);
    assert_eq!(tickers(&d), ["IBM"]);
    check(&d, 82, D0, D1, Cadence::Daily);
    assert_eq!(d.series[0].open[0], 99.0);
    // In another zone a date is midnight there.
    let ny = ok("pyarrow_lz4_date32.parquet", None, Some("America/New_York"));
    assert_eq!(ny.series[0].ts[0] - d.series[0].ts[0], 5 * 3_600_000);
    check(&ny, 82, D0, D1, Cadence::Daily);
}

#[test]
fn intraday_csv_and_tz_aware_parquet_agree() {
    let ny = Some("America/New_York");
    let csv = ok("intraday_5min.csv", Some("X"), ny);
    check(&csv, 156, "2024-01-02T09:30:00-05:00", "2024-01-03T15:55:00-05:00", Cadence::FiveMinute);
    assert!(csv.issues.is_empty(), "{:?}", csv.issues);
    let pq = ok("pyarrow_snappy_us_tz.parquet", Some("X"), ny);
    assert_eq!(pq.series, csv.series);
    assert_eq!(pq.sha(), csv.sha());
    // An instant column does not depend on the dataset's zone; only the display does. Without a
    // zone asked for, the dataset takes the one the file names.
    let pq_default = ok("pyarrow_snappy_us_tz.parquet", Some("X"), None);
    assert_eq!(pq_default.tz, "America/New_York");
    assert_eq!(pq_default.series, csv.series);
    let pq_utc = ok("pyarrow_snappy_us_tz.parquet", Some("X"), Some("UTC"));
    assert_eq!(pq_utc.series, csv.series);
    check(&pq_utc, 156, "2024-01-02T14:30:00+00:00", "2024-01-03T20:55:00+00:00", Cadence::FiveMinute);
    // Naive times read in UTC land five hours earlier.
    let csv_utc = ok("intraday_5min.csv", Some("X"), None);
    assert_eq!(csv.series[0].ts[0] - csv_utc.series[0].ts[0], 5 * 3_600_000);
}

#[test]
fn iso_offsets() {
    let d = ok("iso_offsets.csv", None, Some("Asia/Tokyo"));
    assert_eq!(tickers(&d), ["ISO_OFFSETS"]);
    let s = &d.series[0];
    assert_eq!(s.len(), 78);
    assert_eq!(s.ts[0], 1_704_205_800_000); // 2024-01-02T14:30:00Z
    assert!(s.ts.windows(2).all(|w| w[1] / 1000 - w[0] / 1000 == 300), "{:?}", &s.ts[..5]);
    assert_eq!(s.ts[3] % 1000, 123); // fractional seconds kept to the millisecond
    assert_eq!(d.summary().tickers[0].cadence, Cadence::FiveMinute);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
}

#[test]
fn quality_fixture_reports_each_problem() {
    let d = ok("quality_issues.csv", None, None);
    let got: Vec<(IssueKind, u64)> = d.issues.iter().map(|i| (i.kind, i.row)).collect();
    let want = [
        (IssueKind::HighBelowLow, 4),
        (IssueKind::OpenCloseOutsideRange, 6),
        (IssueKind::OpenCloseOutsideRange, 8),
        (IssueKind::NonPositivePrice, 8),
        (IssueKind::DuplicateTimestamp, 11),
        (IssueKind::ZeroVolume, 13),
        (IssueKind::Gap, 16),
    ];
    for w in want {
        assert!(got.contains(&w), "missing {w:?} in {got:?}");
    }
    assert_eq!(got.len(), want.len(), "{got:?}");
    assert_eq!(d.rows(), 23); // 24 rows in the file, one duplicate dropped
    let dup = d.issues.iter().find(|i| i.kind == IssueKind::DuplicateTimestamp).unwrap();
    assert_eq!(dup.bar, 9);
    assert!(dup.message.contains("row 10"), "{}", dup.message);
    let gap = d.issues.iter().find(|i| i.kind == IssueKind::Gap).unwrap();
    assert!(gap.message.contains("days"), "{}", gap.message);
    assert_eq!(d.issue_counts.iter().map(|c| c.count).sum::<usize>(), want.len());
    // JSON names.
    let j = serde_json::to_value(&d.issues).unwrap();
    let kinds: Vec<&str> = j.as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"high_below_low") && kinds.contains(&"duplicate_timestamp"));
}

fn err(rel: &str) -> IngestError {
    match load_with(rel, None, None) {
        Ok(d) => panic!("{rel} loaded {} rows", d.rows()),
        Err(e) => e,
    }
}

#[test]
fn bad_files_give_precise_errors() {
    let e = err("bad/empty.csv");
    assert!(matches!(e, IngestError::Empty { .. }), "{e:?}");
    assert_eq!(e.to_string(), "empty.csv: the file is empty");

    let e = err("bad/header_only.csv");
    assert!(matches!(e, IngestError::NoRows { .. }), "{e:?}");
    assert!(e.to_string().starts_with("header_only.csv:"));

    let e = err("bad/missing_close.csv");
    assert!(matches!(&e, IngestError::MissingColumn { column, .. } if column == "close"), "{e:?}");
    assert!(e.to_string().contains("\"Date\", \"Open\", \"High\", \"Low\", \"Volume\""), "{e}");

    let e = err("bad/text_in_price.csv");
    assert!(matches!(&e, IngestError::BadValue { pos: Pos::Line(7), column, .. } if column == "Close"), "{e:?}");
    assert_eq!(e.to_string(), r#"text_in_price.csv line 7, column "Close": expected a number, found "abc""#);

    let e = err("bad/impossible_date.csv");
    assert!(matches!(&e, IngestError::BadValue { pos: Pos::Line(5), column, .. } if column == "Date"), "{e:?}");
    assert!(e.to_string().contains("\"2023-02-30\""), "{e}");
    assert!(e.to_string().contains("calendar date"), "{e}");

    let e = err("bad/ragged.csv");
    assert!(matches!(e, IngestError::Ragged { pos: Pos::Line(6), expected: 6, found: 4, .. }), "{e:?}");
    assert_eq!(e.to_string(), "ragged.csv line 6: expected 6 fields like the header, found 4");

    let e = err("bad/non_finite.csv");
    assert!(matches!(&e, IngestError::BadValue { pos: Pos::Line(4), column, .. } if column == "Low"), "{e:?}");
    assert!(e.to_string().contains("expected a finite number, found \"NaN\""), "{e}");

    let e = err("bad/junk.bin");
    assert!(matches!(e, IngestError::NotText { .. }), "{e:?}");
    assert!(e.to_string().starts_with("junk.bin line 1: not a CSV or Parquet file"), "{e}");

    let e = err("bad/truncated.parquet");
    assert!(matches!(e, IngestError::Parquet { .. } | IngestError::NotText { .. }), "{e:?}");
    assert!(e.to_string().starts_with("truncated.parquet"), "{e}");

    let e = err("bad/fake.parquet");
    assert!(matches!(e, IngestError::Parquet { .. }), "{e:?}");
    assert!(e.to_string().starts_with("fake.parquet: not a readable Parquet file"), "{e}");

    // A pyarrow file as the fuzzer mutated it, on which the parquet crate itself panics decoding a
    // page: natively the panic is caught and named; in the page it ends the worker, whose hook
    // sends the same error (`data::reading`).
    let e = err("bad/parquet_panics.parquet");
    assert_eq!(
        e.to_string(),
        "parquet_panics.parquet: not a readable Parquet file (the Parquet decoder failed: offset + len out of bounds)"
    );

    let e = err("bad/truncated.csv.gz");
    assert!(matches!(e, IngestError::Gzip { .. }), "{e:?}");

    let e = load_with("long_multi.csv", None, Some("Nowhere/City")).unwrap_err();
    assert!(matches!(e, IngestError::UnknownTimeZone { .. }), "{e:?}");
    assert!(e.to_string().contains("\"Nowhere/City\""), "{e}");
}

/// Random damage to real Parquet files never panics and never aborts.
#[test]
fn damaged_parquet_never_panics() {
    let mut seed: u64 = 0x2545f4914f6cdd1d;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for f in ["pyarrow_snappy_ns.parquet", "polars_zstd.parquet", "pyarrow_ms.parquet", "pyarrow_lz4_date32.parquet"] {
        let orig = read(f);
        for i in 0..150 {
            let mut b = orig.clone();
            // Damage the data pages (keep the footer so the reader gets past the metadata), or
            // anywhere, or truncate.
            match i % 3 {
                0 => {
                    for _ in 0..4 {
                        let at = 4 + (rnd() as usize) % (b.len() / 2);
                        b[at] = rnd() as u8;
                    }
                }
                1 => {
                    let at = (rnd() as usize) % b.len();
                    b[at] ^= 1 << (rnd() % 8);
                }
                _ => b.truncate((rnd() as usize) % b.len()),
            }
            let _ = load(f, &b, &LoadOptions::default(), &mut |_| {});
        }
    }
}

#[test]
fn shared_demo_file() {
    let path = Path::new("/work/shared/data/stocks-daily-2000-2013.csv.gz");
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("skipping: {} not present", path.display());
        return;
    };
    let d = load("stocks-daily-2000-2013.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap();
    let s = d.summary();
    let got: Vec<(&str, usize)> = s.tickers.iter().map(|t| (t.ticker.as_str(), t.rows)).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, [("AAPL", 3270), ("FB", 196), ("GOOG", 2148), ("IBM", 3270), ("MSFT", 3270)]);
    assert!(s.tickers.iter().all(|t| t.cadence == Cadence::Daily && t.has_adj_close));
    let aapl = s.tickers.iter().find(|t| t.ticker == "AAPL").unwrap();
    assert_eq!((aapl.start.as_str(), aapl.end.as_str()), ("2000-03-01", "2013-03-01"));
    let splits: Vec<String> = d
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::SuspectedSplit)
        .map(|i| format!("{} {}", i.ticker, engine::data::time::format_ms(i.ts, chrono_tz::UTC, true)))
        .collect();
    // The real splits in the period (AAPL 2:1 in 2000 and 2005, MSFT 2:1 in 2003), and not
    // AAPL's 52% fall on 2000-09-29, which Adj Close shows was no split.
    assert_eq!(splits, ["AAPL 2000-06-21", "AAPL 2005-02-28", "MSFT 2003-02-18"]);
    let gaps: Vec<String> = d
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::Gap)
        .map(|i| format!("{} {}", i.ticker, engine::data::time::format_ms(i.ts, chrono_tz::UTC, true)))
        .collect();
    // Markets closed after 2001-09-11: the only gap longer than 5 days.
    assert_eq!(gaps, ["AAPL 2001-09-17", "IBM 2001-09-17", "MSFT 2001-09-17"]);
    // Few issues of any kind on real, clean daily data.
    let total: usize = d.issue_counts.iter().map(|c| c.count).sum();
    assert!(total < 50, "{:?}", d.issue_counts);
    eprintln!("splits: {splits:?}\ncounts: {:?}", d.issue_counts);
}
