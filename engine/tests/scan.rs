//! Scanners against an independent pandas computation (`tests/scan/golden_scan.json`, made by
//! `tests/scan/cross_check.py`): the demo's five tickers, every kind, three as-of dates; and a
//! scan that cannot see past its as-of bar.

use std::path::Path;

use engine::data::{load, Dataset, LoadOptions};
use engine::scan::{scan, Kind, ScanError, ScanSpec};

fn demo() -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/demo/stocks-daily-2000-2013.csv.gz");
    let bytes = std::fs::read(path).unwrap();
    load("stocks-daily-2000-2013.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap()
}

fn spec(kind: Kind, asof: Option<&str>) -> ScanSpec {
    ScanSpec { kind, top_n: 20, asof: asof.map(str::to_string), tickers: None, raw_prices: false }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

#[test]
fn every_scanner_matches_pandas_on_the_demo_universe() {
    let ds = demo();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/scan/golden_scan.json")).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let scans = golden["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 18);
    for g in scans {
        let kind: Kind = g["kind"].as_str().unwrap().parse().unwrap();
        let asof = g["asof"].as_str();
        let got = scan(&ds, &spec(kind, asof)).unwrap();
        let what = format!("{kind} as of {asof:?}");
        assert_eq!(got.asof, g["newest"].as_str().unwrap(), "{what}");
        let want: Vec<&str> = g["rows"].as_array().unwrap().iter().map(|r| r["ticker"].as_str().unwrap()).collect();
        let have: Vec<&str> = got.rows.iter().map(|r| r.ticker.as_str()).collect();
        assert_eq!(have, want, "{what}: ranking");
        let mut skipped: Vec<&str> = got.skipped.iter().map(|s| s.ticker.as_str()).collect();
        skipped.sort();
        let want_skipped: Vec<&str> = g["skipped"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert_eq!(skipped, want_skipped, "{what}: skipped");
        assert_eq!(got.universe, 5);
        for (row, g) in got.rows.iter().zip(g["rows"].as_array().unwrap()) {
            assert_eq!(row.bar, g["bar"].as_str().unwrap(), "{what} {}", row.ticker);
            let s = g["score"].as_f64().unwrap();
            assert!(close(row.score, s), "{what} {}: score {} vs pandas {s}", row.ticker, row.score);
            let facts = g["facts"].as_object().unwrap();
            assert_eq!(row.facts.len(), facts.len(), "{what} {}", row.ticker);
            for f in &row.facts {
                let p = facts[&f.name].as_f64().unwrap();
                assert!(close(f.value, p), "{what} {} {}: {} vs pandas {p}", row.ticker, f.name, f.value);
            }
        }
    }
}

#[test]
fn a_scan_sees_nothing_after_its_as_of_date() {
    let ds = demo();
    let asof = "2011-03-15";
    let before = scan(&ds, &spec(Kind::Breakout, Some(asof))).unwrap();
    // Every bar after the as-of date perturbed: the same scan, bit for bit.
    let mut future = ds.clone();
    for s in &mut future.series {
        let zone = chrono_tz::UTC;
        let cut = s.ts.partition_point(|&t| engine::data::time::format_ms(t, zone, true).as_str() <= asof);
        for i in cut..s.len() {
            s.high[i] *= 3.0;
            s.close[i] *= 0.5;
            s.volume[i] += 1e9;
        }
    }
    for kind in Kind::ALL {
        let a = scan(&ds, &spec(kind, Some(asof))).unwrap();
        let b = scan(&future, &spec(kind, Some(asof))).unwrap();
        assert_eq!(a, b, "{kind}");
    }
    assert_eq!(before.asof, "2011-03-15");
}

#[test]
fn top_n_tickers_and_bad_requests() {
    let ds = demo();
    let two = scan(&ds, &ScanSpec { top_n: 2, ..spec(Kind::Rs, None) }).unwrap();
    assert_eq!(two.rows.len(), 2);
    assert_eq!(two.scored, 5);
    assert_eq!(two.rows[1].rank, 2);
    let some =
        scan(&ds, &ScanSpec { tickers: Some(vec!["ibm".into(), "AAPL".into()]), ..spec(Kind::Trend, None) }).unwrap();
    assert_eq!(some.universe, 2);
    assert!(some.rows.iter().all(|r| r.ticker == "IBM" || r.ticker == "AAPL"));
    let e = scan(&ds, &ScanSpec { tickers: Some(vec!["TSLA".into()]), ..spec(Kind::Trend, None) }).unwrap_err();
    assert!(matches!(e, ScanError::Ticker { .. }) && e.to_string().contains("AAPL"), "{e}");
    let e = scan(&ds, &spec(Kind::Trend, Some("2011-13-01"))).unwrap_err();
    assert!(matches!(e, ScanError::AsOf(_)), "{e}");
    let e = scan(&ds, &spec(Kind::Trend, Some("1999-01-01"))).unwrap_err();
    assert!(matches!(e, ScanError::NoBars { .. }), "{e}");
    assert!(scan(&ds, &ScanSpec { top_n: 0, ..spec(Kind::Trend, None) }).is_err());
    assert!("squeezy".parse::<Kind>().unwrap_err().to_string().contains("breakout, meanrevert"));
    // A ticker short of history is skipped with the reason, not scored.
    let trend = scan(&ds, &spec(Kind::Trend, None)).unwrap();
    let fb = trend.skipped.iter().find(|s| s.ticker == "FB").unwrap();
    assert!(fb.reason.contains("196 bars") && fb.reason.contains("needs 200"), "{}", fb.reason);
}
