//! Golden test: every registered indicator against TA-Lib (the `ta-lib` Python wheel).
//!
//! The expected values come from `tests/golden/make_golden.py` (see `tests/golden/README.md`):
//! AAPL and IBM daily bars from the demo dataset, plus a synthetic series with flat stretches,
//! zero-range bars and zero volume. For every output column: NaN exactly where TA-Lib has NaN, and
//! `|ours − talib| ≤ 1e-9 · max(1, |talib|)` everywhere else.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use engine::indicators::{Indicator, Ohlcv};
use flate2::read::GzDecoder;

const TOL: f64 = 1e-9;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("engine/ has a parent").to_path_buf()
}

fn read_gz(path: &Path) -> String {
    let mut s = String::new();
    GzDecoder::new(File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display())))
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
    s
}

struct Cols {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

/// One ticker's bars from the demo file, sorted by date.
fn demo_bars(ticker: &str) -> Cols {
    let text = read_gz(&repo_root().join("public/demo/stocks-daily-2000-2013.csv.gz"));
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let idx = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (it, id, io, ih, il, ic, iv) =
        (idx("Ticker"), idx("Date"), idx("Open"), idx("High"), idx("Low"), idx("Close"), idx("Volume"));
    let mut rows: Vec<(String, [f64; 5])> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        if &rec[it] != ticker {
            continue;
        }
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        rows.push((rec[id].to_string(), [f(io), f(ih), f(il), f(ic), f(iv)]));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let col = |k: usize| rows.iter().map(|r| r.1[k]).collect::<Vec<_>>();
    Cols { open: col(0), high: col(1), low: col(2), close: col(3), volume: col(4) }
}

/// A golden file: column name → values (NaN for empty cells).
fn golden(name: &str) -> (Vec<String>, HashMap<String, Vec<f64>>) {
    let text = read_gz(&repo_root().join(format!("tests/golden/{name}.csv.gz")));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for (r, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{name}.csv.gz row {}: wrong number of cells", r + 2);
        for (c, cell) in cells.iter().enumerate() {
            cols[c].push(if cell.is_empty() { f64::NAN } else { cell.parse().expect("a float") });
        }
    }
    let map = header.iter().cloned().zip(cols).collect();
    (header, map)
}

fn specs(name: &str) -> Vec<Indicator> {
    let text = std::fs::read_to_string(repo_root().join(format!("tests/golden/{name}.specs"))).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| Indicator::parse(l).unwrap()).collect()
}

/// Compare one output column; returns a description of the mismatches (empty when equal).
fn compare(col: &str, ours: &[f64], theirs: &[f64]) -> Vec<String> {
    let mut bad = Vec::new();
    if ours.len() != theirs.len() {
        return vec![format!("{col}: length {} vs {}", ours.len(), theirs.len())];
    }
    let mut worst = 0.0f64;
    let mut count = 0;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let ok =
            if b.is_nan() || a.is_nan() { a.is_nan() && b.is_nan() } else { (a - b).abs() <= TOL * b.abs().max(1.0) };
        if !ok {
            count += 1;
            if !b.is_nan() && !a.is_nan() {
                worst = worst.max((a - b).abs() / b.abs().max(1.0));
            }
            if bad.len() < 5 {
                bad.push(format!("{col}[{i}]: ours {a:?} talib {b:?}"));
            }
        }
    }
    if count > 0 {
        bad.push(format!("{col}: {count} mismatching rows, worst scaled error {worst:e}"));
    }
    if std::env::var_os("TALIB_GOLDEN_VERBOSE").is_some() {
        let exact =
            ours.iter().zip(theirs).filter(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())).count();
        let max_err = ours
            .iter()
            .zip(theirs)
            .filter(|(a, b)| !a.is_nan() && !b.is_nan())
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0.0f64, f64::max);
        println!("{col}: {exact}/{} bit-identical, max scaled error {max_err:e}", ours.len());
    }
    bad
}

fn check_dataset(name: &str, bars: &Cols) -> Vec<String> {
    let (header, gold) = golden(name);
    let view = Ohlcv::new(&bars.open, &bars.high, &bars.low, &bars.close, &bars.volume);
    let mut failures = Vec::new();
    let mut covered = 0;
    for ind in specs(name) {
        let outs = ind.compute(&view).unwrap_or_else(|e| panic!("{ind}: {e}"));
        for (col, ours) in ind.outputs().iter().zip(&outs) {
            let theirs = gold.get(col).unwrap_or_else(|| panic!("{name}: no golden column {col} for {ind}"));
            failures.extend(compare(&format!("{name}/{col}"), ours, theirs));
            covered += 1;
        }
    }
    let inputs = ["open", "high", "low", "close", "volume"];
    let expected = header.iter().filter(|h| !inputs.contains(&h.as_str())).count();
    assert_eq!(covered, expected, "{name}: every golden column is checked");
    failures
}

fn report(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn aapl_matches_talib() {
    let bars = demo_bars("AAPL");
    assert_eq!(bars.close.len(), 3270);
    report(check_dataset("aapl", &bars));
}

#[test]
fn ibm_matches_talib() {
    let bars = demo_bars("IBM");
    assert_eq!(bars.close.len(), 3270);
    report(check_dataset("ibm", &bars));
}

/// Datasets that carry their own inputs (`open,high,low,close,volume` columns).
fn check_self_contained(name: &str) {
    let (_, gold) = golden(name);
    let bars = Cols {
        open: gold["open"].clone(),
        high: gold["high"].clone(),
        low: gold["low"].clone(),
        close: gold["close"].clone(),
        volume: gold["volume"].clone(),
    };
    report(check_dataset(name, &bars));
}

#[test]
fn synthetic_with_flat_stretches_matches_talib() {
    check_self_contained("synthetic");
}

/// Edge parameters on a 1e6 level moving by cents (cancellation) and on prices through zero.
#[test]
fn edge_parameters_match_talib() {
    check_self_contained("edge_level");
    check_self_contained("edge_zero");
}

/// The comparison itself must be able to fail: a value off by more than the tolerance, or a NaN
/// where TA-Lib has a number, is reported.
#[test]
fn the_comparison_detects_a_perturbed_value() {
    let theirs = vec![f64::NAN, 1.0, 100.0, 2.5];
    assert!(compare("x", &theirs, &theirs).is_empty());
    let mut ours = theirs.clone();
    ours[2] = 100.0 * (1.0 + 2e-9);
    assert!(!compare("x", &ours, &theirs).is_empty());
    let mut ours = theirs.clone();
    ours[0] = 0.0;
    assert!(!compare("x", &ours, &theirs).is_empty());
    let mut ours = theirs.clone();
    ours[1] = f64::NAN;
    assert!(!compare("x", &ours, &theirs).is_empty());
    let mut ours = theirs.clone();
    ours[3] = 2.5 + 0.9e-9;
    assert!(compare("x", &ours, &theirs).is_empty(), "within tolerance");
}
