//! The Build phase end to end: models from pack templates, matrices on the demo data, their
//! hashes, and the no-look-ahead property for both packs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use chrono::NaiveDate;
use engine::data::time::local_to_ms;
use engine::data::{load, Dataset, LoadOptions, Series};
use engine::features::compute_features;
use engine::matrix::{build_matrix, BuildError, BuildSpec, Matrix};
use engine::model::{Model, ModelSpec};

fn demo() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/demo/stocks-daily-2000-2013.csv.gz");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        load("stocks-daily-2000-2013.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap()
    })
}

fn swing(ticker: &str) -> Model {
    ModelSpec::new("swingsigma", ticker).resolve().unwrap()
}

fn aapl_spec(start: &str, end: &str) -> BuildSpec {
    BuildSpec {
        model_id: "aapl_swing_daily".into(),
        pack_id: "swingsigma".into(),
        start: Some(start.into()),
        end: Some(end.into()),
        ticker: Some("AAPL".into()),
        distance_max: None,
        raw_prices: false,
    }
}

#[test]
fn aapl_swing_daily_on_the_demo_data() {
    let d = demo();
    let model = swing("AAPL");
    assert_eq!(model.model_id, "aapl_swing_daily");
    let s = d.series("AAPL").unwrap();
    let spec = aapl_spec("2005-01-01", "2012-12-31");
    let m = build_matrix(&model, s, &d.tz, &spec).unwrap();
    let nf = m.n_features();
    assert!((65..=80).contains(&nf), "{nf} features");
    assert_eq!(m.feature_names, model.feature_names());
    // 2005..2012 has 2014 trading days; warm-up ~60 bars, 7 at the end without a label.
    let bars = m.rows() + m.dropped.total();
    assert!((2000..=2020).contains(&bars), "{bars} bars");
    assert_eq!(m.dropped.label_horizon, 7);
    assert_eq!(m.dropped.session_end, 0);
    assert!((55..=70).contains(&m.dropped.warmup), "{:?}", m.dropped);
    assert!(m.start.starts_with("2005-0") && m.end.starts_with("2012-12"), "{} .. {}", m.start, m.end);
    assert!(m.features.iter().all(|c| c.len() == m.rows() && c.iter().all(|v| v.is_finite())));
    assert!(m.label.iter().all(|&v| v == 0.0 || v == 1.0));
    let pos = m.label.iter().sum::<f64>() / m.rows() as f64;
    assert!((0.4..0.75).contains(&pos), "positive rate {pos}");
    assert!(m.momentum_score_total.iter().all(|v| v.is_finite()));
    assert!(m.next_open.iter().all(|v| v.is_finite())); // the data goes on past 2012
    let summary = serde_json::to_value(m.summary()).unwrap();
    assert_eq!(summary["features"], nf);
    assert_eq!(summary["rows"], m.rows());

    // Same inputs, same sha; a different end date or horizon, another.
    let again = build_matrix(&model, s, &d.tz, &spec).unwrap();
    assert_eq!(again.matrix_sha, m.matrix_sha);
    assert_eq!(again.features, m.features);
    let shorter = build_matrix(&model, s, &d.tz, &aapl_spec("2005-01-01", "2012-11-30")).unwrap();
    assert_ne!(shorter.matrix_sha, m.matrix_sha);
    let mut d5 = spec.clone();
    d5.distance_max = Some(5);
    let h5 = build_matrix(&model, s, &d.tz, &d5).unwrap();
    assert_ne!(h5.matrix_sha, m.matrix_sha);
    assert_eq!(h5.dropped.label_horizon, 5);
    // Storage round trip keeps everything.
    let back = Matrix::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(back.matrix_sha, m.matrix_sha);
    assert_eq!(back.features, m.features);
    assert_eq!(m.to_csv().lines().count(), m.rows() + 1);
    eprintln!("aapl_swing_daily 2005..2012: {}", serde_json::to_string(&m.summary()).unwrap());
}

#[test]
fn short_history_is_handled_clearly() {
    let d = demo();
    let fb = d.series("FB").unwrap();
    assert_eq!(fb.len(), 196);
    let model = swing("FB");
    let m = build_matrix(&model, fb, &d.tz, &BuildSpec::default()).unwrap();
    assert!(m.rows() > 0 && m.rows() < 140, "{} rows", m.rows());
    assert!(m.dropped.warmup >= 55);
    assert_eq!(m.rows() + m.dropped.total(), 196);
    // A quarter of FB is all warm-up: a clear error, not an empty matrix.
    let spec = BuildSpec { start: Some("2012-10-01".into()), end: Some("2012-12-31".into()), ..Default::default() };
    let e = build_matrix(&model, fb, &d.tz, &spec).unwrap_err();
    assert!(matches!(e, BuildError::NoRows { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("no rows left for FB") && msg.contains("extend the date range"), "{msg}");
    // Wrong ticker for the series.
    let e = build_matrix(&swing("AAPL"), fb, &d.tz, &BuildSpec::default()).unwrap_err();
    assert!(e.to_string().contains("the series is FB but the build is for ticker AAPL"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// No look-ahead
// ---------------------------------------------------------------------------------------------

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

/// Every bar after `t` replaced by other plausible prices and volumes (times kept).
fn scramble_after(s: &Series, t: usize, rng: &mut Lcg) -> Series {
    let mut s = s.clone();
    for i in t + 1..s.len() {
        let base = s.close[i] * (0.8 + 0.4 * rng.next());
        let a = base * (1.0 + (rng.next() - 0.5) * 0.05);
        let b = base * (1.0 + (rng.next() - 0.5) * 0.05);
        s.open[i] = a;
        s.close[i] = b;
        s.high[i] = a.max(b) * (1.0 + rng.next() * 0.02);
        s.low[i] = a.min(b) * (1.0 - rng.next() * 0.02);
        s.volume[i] = (rng.next() * 2e6).round();
    }
    s
}

fn truncate(s: &Series, t: usize) -> Series {
    let mut s = s.clone();
    for c in [&mut s.open, &mut s.high, &mut s.low, &mut s.close, &mut s.volume] {
        c.truncate(t + 1);
    }
    s.ts.truncate(t + 1);
    s.adj_close = None;
    s
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Raw feature columns (before rows are dropped) and the built matrix's kept rows at or before
/// `t` do not change when later bars change or disappear.
fn assert_no_look_ahead(model: &Model, s: &Series, tz: &str, cuts: &[usize], seed: u64) {
    let mut rng = Lcg(seed);
    let full = compute_features(&model.features, s, tz).unwrap();
    let built = build_matrix(model, s, tz, &BuildSpec::default()).unwrap();
    for &t in cuts {
        for (kind, other) in [("scrambled", scramble_after(s, t, &mut rng)), ("truncated", truncate(s, t))] {
            let f = compute_features(&model.features, &other, tz).unwrap();
            assert_eq!(f.names, full.names);
            for (j, (a, b)) in full.columns.iter().zip(&f.columns).enumerate() {
                for i in 0..=t {
                    assert!(
                        same(a[i], b[i]),
                        "{kind} after bar {t}: feature {} changed at bar {i}: {} vs {}",
                        full.names[j],
                        a[i],
                        b[i]
                    );
                }
            }
            // The matrix: rows at or before t that both keep carry identical features.
            let Ok(m) = build_matrix(model, &other, tz, &BuildSpec::default()) else {
                continue;
            };
            let rows: HashMap<i64, usize> = m.ts.iter().enumerate().map(|(i, &ts)| (ts, i)).collect();
            let mut compared = 0;
            for (i, &ts) in built.ts.iter().enumerate() {
                if ts > s.ts[t] {
                    break;
                }
                if let Some(&k) = rows.get(&ts) {
                    compared += 1;
                    for j in 0..built.n_features() {
                        assert!(
                            same(built.features[j][i], m.features[j][k]),
                            "{kind} after {t}: matrix feature {} changed",
                            built.feature_names[j]
                        );
                    }
                    assert!(
                        same(built.hour[i], m.hour[k])
                            && same(built.momentum_score_total[i], m.momentum_score_total[k])
                    );
                    assert_eq!(built.close[i], m.close[k]);
                }
            }
            if kind == "scrambled" {
                // Same keep rule for rows whose label horizon ends inside the unchanged data.
                let want = built.ts.iter().filter(|&&ts| ts <= s.ts[t.saturating_sub(built.distance_max)]).count();
                assert!(compared >= want, "{kind} after {t}: compared {compared} rows, expected at least {want}");
            }
        }
    }
}

#[test]
fn swingsigma_has_no_look_ahead() {
    let d = demo();
    let s = d.series("MSFT").unwrap();
    let s = truncate(s, 399); // 400 bars keep the debug-build test quick
    let model = swing("MSFT");
    assert_no_look_ahead(&model, &s, &d.tz, &[0, 59, 60, 61, 150, 257, 398], 7);
}

/// Five-minute bars 09:30–15:55 New York time over six sessions around the 2024 spring DST
/// change (Wed 6 March … Wed 13 March, clocks went forward on Sunday the 10th).
fn synthetic_five_minute() -> Series {
    let tz = chrono_tz::America::New_York;
    let mut rng = Lcg(42);
    let mut s = Series {
        ticker: "SYN".into(),
        ts: vec![],
        open: vec![],
        high: vec![],
        low: vec![],
        close: vec![],
        volume: vec![],
        adj_close: None,
    };
    let mut price = 100.0;
    for day in [6, 7, 8, 11, 12, 13] {
        price *= 1.0 + (rng.next() - 0.5) * 0.02; // overnight gap
        for k in 0..78u32 {
            let (h, m) = (9 + (30 + 5 * k) / 60, (30 + 5 * k) % 60);
            let local = NaiveDate::from_ymd_opt(2024, 3, day).unwrap().and_hms_opt(h, m, 0).unwrap();
            let open = price;
            price *= 1.0 + (rng.next() - 0.5) * 0.004;
            s.ts.push(local_to_ms(local, tz));
            s.open.push(open);
            s.close.push(price);
            s.high.push(open.max(price) * (1.0 + rng.next() * 0.001));
            s.low.push(open.min(price) * (1.0 - rng.next() * 0.001));
            s.volume.push((1000.0 + rng.next() * 5000.0).round());
        }
    }
    s
}

#[test]
fn zerosigma_session_rules_and_no_look_ahead() {
    let s = synthetic_five_minute();
    let tz = "America/New_York";
    let model = ModelSpec::new("zerosigma", "SYN").resolve().unwrap();
    assert_eq!(model.model_id, "syn_intraday_five_minute");
    let m = build_matrix(&model, &s, tz, &BuildSpec::default()).unwrap();
    for col in ["vwap_dist", "or_pos_6", "gap_pct", "hour", "minute_of_day", "momentum_score_total"] {
        assert!(m.feature(col).is_some(), "{col} missing");
    }
    // The first session is all warm-up (no previous close for the gap); later sessions lose
    // their first 5 bars (the 6-bar opening range is not complete yet).
    assert_eq!(m.dropped.warmup, 78 + 5 * 5);
    // Labels never cross a session end: the last 6 bars of sessions 2..5 go, and the last 6
    // bars of the data have no label at all.
    assert_eq!(m.dropped.session_end, 4 * 6);
    assert_eq!(m.dropped.label_horizon, 6);
    assert_eq!(m.rows() + m.dropped.total(), 6 * 78);
    // Session clock in New York time, across the DST change.
    let hours = m.feature("hour").unwrap();
    assert!(hours.iter().all(|&h| (9.0..=15.0).contains(&h)));
    assert!(m.hour.iter().all(|&h| (9.0..=15.0).contains(&h)));
    let minutes = m.feature("minute_of_day").unwrap();
    assert!(
        minutes.iter().all(|&x| (575.0..=945.0).contains(&x)),
        "opening range needs 6 bars: first kept bar at 09:55"
    );
    assert!(minutes.iter().all(|&x| x <= 15.0 * 60.0 + 25.0), "no kept bar's label may pass 15:55");
    // Look-ahead: cuts mid-session, at a session's last bar and at the next session's first bar.
    assert_no_look_ahead(&model, &s, tz, &[70, 77, 78, 100, 155, 156, 250, 311, 312, 400], 11);
}

#[test]
fn custom_indicators_from_the_seed() {
    let d = demo();
    let body = r#"{"pack_id":"swingsigma","model_id":"spy_swing_daily","ticker":"MSFT","asset":"eq",
        "horizon":"swing","cadence":"daily","risk_profile":"balanced",
        "custom_indicators":[{"name":"custom_rsi","params":{"period":21}},{"name":"volatility_filter","params":{"threshold":0.02}}]}"#;
    let model = serde_json::from_str::<ModelSpec>(body).unwrap().resolve().unwrap();
    let s = d.series("MSFT").unwrap();
    let spec = BuildSpec { start: Some("2010-01-01".into()), end: Some("2010-12-31".into()), ..Default::default() };
    let m = build_matrix(&model, s, &d.tz, &spec).unwrap();
    let rsi21 = m.feature("custom_rsi_21").unwrap();
    assert!(rsi21.iter().all(|v| (0.0..=100.0).contains(v)));
    let vf = m.feature("volatility_filter_20_0.02").unwrap();
    assert!(vf.iter().all(|&v| v == 0.0 || v == 1.0));
    assert!(vf.contains(&0.0), "MSFT's daily volatility is mostly under 2%");
}

/// The demo's `aapl_swing_daily` matrix, pinned: its `matrix_sha` (inputs) and the sha of its
/// bytes (every computed feature and label). `app/tests/engine_wasm.rs` asserts the same two
/// strings in the browser, so native and wasm agree bit for bit.
#[test]
fn demo_aapl_matrix_is_pinned() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/stocks-daily-2000-2013.csv.gz")).unwrap();
    let (matrix_sha, bytes_sha) = engine::determinism::demo_matrix_hashes(&bytes).unwrap();
    assert_eq!(matrix_sha, DEMO_AAPL_MATRIX_SHA);
    assert_eq!(bytes_sha, DEMO_AAPL_BYTES_SHA);
}

const DEMO_AAPL_MATRIX_SHA: &str = "e4c04711f36e455fb7d9053c066389463fdfefdb4927c6486120dc037155b3b9";
const DEMO_AAPL_BYTES_SHA: &str = "20b2149bafb1cc7d932aaa957c8279ca0b72c72ea2a33a3c60f3e412d8021d9e";

/// A model trained on the demo's AAPL matrix with bagging and column sampling, pinned by its
/// `model_sha`; `app/tests/engine_wasm.rs` trains the same model in the browser and asserts the
/// same string, so training is bit-for-bit identical natively and in wasm.
#[test]
fn demo_aapl_model_is_pinned() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/stocks-daily-2000-2013.csv.gz")).unwrap();
    let (sha, preds) = engine::determinism::demo_model_hashes(&bytes).unwrap();
    assert_eq!(sha, DEMO_AAPL_MODEL_SHA);
    assert_eq!(preds, DEMO_AAPL_PREDICTIONS_SHA);
}

const DEMO_AAPL_PREDICTIONS_SHA: &str = "b6f21e3ce48067abdbaaaa1e32aa40a8b9f85bd2693bc5f426b2539436012cf1";
const DEMO_AAPL_MODEL_SHA: &str = "b1202025ba23f7bf3817ec77f511a261c50afa43a02de0439a509f60850f077d";

/// The demo's AAPL file has an adjusted close: its 2005-02-28 2:1 split must not reach the
/// features or the backtest as a 50% crash (unless raw prices are asked for).
#[test]
fn splits_are_adjusted_unless_raw_prices_are_asked_for() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/stocks-daily-2000-2013.csv.gz")).unwrap();
    let ds = engine::data::load("demo.csv.gz", &bytes, &Default::default(), &mut |_| {}).unwrap();
    let aapl = ds.series.iter().find(|s| s.ticker == "AAPL").unwrap();
    let model = swing("AAPL");
    let worst_bar = |raw: bool| {
        let spec = BuildSpec { raw_prices: raw, ..aapl_spec("2004-06-01", "2005-12-31") };
        let m = build_matrix(&model, aapl, &ds.tz, &spec).unwrap();
        m.close.windows(2).map(|w| w[1] / w[0] - 1.0).fold(0.0f64, f64::min)
    };
    assert!(worst_bar(true) < -0.45, "raw prices show the split");
    assert!(worst_bar(false) > -0.15, "adjusted prices do not: {}", worst_bar(false));
    let sha = |raw: bool| {
        let spec = BuildSpec { raw_prices: raw, ..aapl_spec("2004-06-01", "2005-12-31") };
        engine::matrix::matrix_sha(&model, aapl, &ds.tz, &spec).unwrap()
    };
    assert_ne!(sha(true), sha(false));
}

/// The Build step of both shells: a matrix their store holds under the inputs' sha is found and
/// not built (no feature is computed); one it does not hold is built with that same sha.
#[test]
fn find_or_build_builds_only_what_the_store_lacks() {
    use engine::matrix::{find_or_build, Found};
    let ds = demo();
    let aapl = ds.series.iter().find(|s| s.ticker == "AAPL").unwrap();
    let model = swing("AAPL");
    let spec = aapl_spec("2004-01-01", "2008-12-31");
    let sha = engine::matrix::matrix_sha(&model, aapl, &ds.tz, &spec).unwrap();
    let mut asked = Vec::new();
    let mut steps = 0;
    let found = find_or_build(
        &model,
        aapl,
        &ds.tz,
        &spec,
        |s| {
            asked.push(s.to_string());
            Some("stored")
        },
        &mut |_| steps += 1,
    )
    .unwrap();
    assert!(matches!(found, Found::Stored("stored")), "{found:?}");
    assert_eq!((asked, steps), (vec![sha.clone()], 0));
    match find_or_build(&model, aapl, &ds.tz, &spec, |_| None::<()>, &mut |_| steps += 1).unwrap() {
        Found::Built(m) => {
            assert_eq!(m.matrix_sha, sha);
            assert_eq!(m.to_bytes(), build_matrix(&model, aapl, &ds.tz, &spec).unwrap().to_bytes());
        }
        Found::Stored(()) => panic!("nothing was stored"),
    }
    assert!(steps > 0, "a build reports its progress");
}
