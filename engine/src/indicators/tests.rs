//! Unit tests: registry parsing/naming, parameter errors, warm-up lengths, no look-ahead.

use super::*;

/// Deterministic 64-bit LCG in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

struct Bars {
    o: Vec<f64>,
    h: Vec<f64>,
    l: Vec<f64>,
    c: Vec<f64>,
    v: Vec<f64>,
}

impl Bars {
    fn view(&self) -> Ohlcv<'_> {
        Ohlcv::new(&self.o, &self.h, &self.l, &self.c, &self.v)
    }

    /// Replace every bar after `t` with fresh random values.
    fn scramble_after(&mut self, t: usize, rng: &mut Lcg) {
        for i in t + 1..self.c.len() {
            let base = 5.0 + rng.next() * 200.0;
            let a = base * (1.0 + (rng.next() - 0.5) * 0.1);
            let b = base * (1.0 + (rng.next() - 0.5) * 0.1);
            self.o[i] = a;
            self.c[i] = b;
            self.h[i] = a.max(b) * (1.0 + rng.next() * 0.05);
            self.l[i] = a.min(b) * (1.0 - rng.next() * 0.05);
            self.v[i] = (rng.next() * 1e6).floor();
        }
    }
}

fn random_bars(n: usize, seed: u64) -> Bars {
    let mut rng = Lcg(seed);
    let mut px = 50.0;
    let mut b = Bars { o: vec![], h: vec![], l: vec![], c: vec![], v: vec![] };
    for i in 0..n {
        let open = px;
        // A flat stretch to exercise zero ranges.
        if (40..50).contains(&(i % 120)) {
            b.o.push(open);
            b.h.push(open);
            b.l.push(open);
            b.c.push(open);
            b.v.push(100.0);
            continue;
        }
        px = (px * (1.0 + (rng.next() - 0.5) * 0.05)).max(1.0);
        b.o.push(open);
        b.c.push(px);
        b.h.push(open.max(px) * (1.0 + rng.next() * 0.02));
        b.l.push(open.min(px) * (1.0 - rng.next() * 0.02));
        b.v.push((rng.next() * 1e5).floor());
    }
    b
}

/// A few parameter sets for every registered indicator.
fn all_specs() -> Vec<&'static str> {
    vec![
        "sma:1",
        "sma:7",
        "ema:1",
        "ema:9",
        "wma:1",
        "wma:6",
        "dema:5",
        "tema:4",
        "kama:1",
        "kama:10",
        "rsi:2",
        "rsi:14",
        "stoch",
        "stoch:9:1:4",
        "stochrsi",
        "stochrsi:7:3:1",
        "macd",
        "macd:26:12:9",
        "macd:3:8:1",
        "ppo",
        "ppo:5:3",
        "roc:1",
        "roc:10",
        "mom:3",
        "cci:2",
        "cci:20",
        "cmo:9",
        "willr:2",
        "willr:14",
        "mfi:5",
        "adx:2",
        "adx:14",
        "plus_di:1",
        "plus_di:14",
        "minus_di:1",
        "minus_di:7",
        "dx:5",
        "aroon:2",
        "aroon:25",
        "aroonosc:14",
        "ultosc",
        "ultosc:28:1:3",
        "bbands",
        "bbands:5:1.5:2.5",
        "atr:1",
        "atr:14",
        "natr:1",
        "natr:7",
        "trange",
        "obv",
        "ad",
        "adosc",
        "adosc:10:3",
        "stddev:2",
        "stddev:20:2",
        "linearreg_slope:2",
        "linearreg_slope:14",
    ]
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn every_known_indicator_is_covered_by_the_tests() {
    let specs = all_specs();
    for name in KNOWN_INDICATORS {
        assert!(specs.iter().any(|s| Indicator::parse(s).unwrap().name() == *name), "no test spec for {name}");
    }
}

#[test]
fn no_look_ahead() {
    let n = 300;
    let mut rng = Lcg(7);
    for spec in all_specs() {
        let ind = Indicator::parse(spec).unwrap();
        let base = random_bars(n, 42);
        let full = ind.compute(&base.view()).unwrap();
        for &t in &[0usize, 1, 5, 33, 47, 99, 150, 250, n - 2] {
            let mut changed = random_bars(n, 42);
            changed.scramble_after(t, &mut rng);
            let part = ind.compute(&changed.view()).unwrap();
            for (k, (a, b)) in full.iter().zip(&part).enumerate() {
                for i in 0..=t {
                    assert!(
                        same(a[i], b[i]),
                        "{spec} output {k}: bar {i} changed ({} -> {}) when bars after {t} changed",
                        a[i],
                        b[i]
                    );
                }
            }
        }
    }
}

#[test]
fn warm_up_is_exactly_the_lookback() {
    let bars = random_bars(400, 3);
    for spec in all_specs() {
        let ind = Indicator::parse(spec).unwrap();
        let outs = ind.compute(&bars.view()).unwrap();
        assert_eq!(outs.len(), ind.outputs().len(), "{spec}");
        for (k, o) in outs.iter().enumerate() {
            assert_eq!(o.len(), 400);
            let lb = ind.lookback();
            assert!(o[..lb].iter().all(|v| v.is_nan()), "{spec} output {k}: value inside the warm-up");
            assert!(o[lb..].iter().all(|v| !v.is_nan()), "{spec} output {k}: NaN after the warm-up ({lb})");
        }
    }
}

#[test]
fn short_inputs_give_all_nan_and_empty_inputs_work() {
    let bars = random_bars(400, 5);
    for spec in all_specs() {
        let ind = Indicator::parse(spec).unwrap();
        let lb = ind.lookback();
        for len in [0, lb.saturating_sub(1), lb] {
            let v = Ohlcv::new(&bars.o[..len], &bars.h[..len], &bars.l[..len], &bars.c[..len], &bars.v[..len]);
            for o in ind.compute(&v).unwrap() {
                assert_eq!(o.len(), len);
                assert!(o.iter().all(|x| x.is_nan()), "{spec} with {len} bars");
            }
        }
    }
}

#[test]
fn leading_nans_are_skipped_like_the_talib_wrapper() {
    let bars = random_bars(200, 9);
    let mut c = bars.c.clone();
    c[0] = f64::NAN;
    c[1] = f64::NAN;
    let shifted = rsi(&bars.c[2..], 14).unwrap();
    let with_nan = rsi(&c, 14).unwrap();
    assert!(with_nan[..16].iter().all(|v| v.is_nan()));
    for i in 16..200 {
        assert!(same(with_nan[i], shifted[i - 2]));
    }
}

#[test]
fn parse_defaults_names_and_canonical_specs() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("rsi", "rsi:14", &["rsi_14"]),
        ("RSI:14", "rsi:14", &["rsi_14"]),
        ("macd:12:26:9", "macd:12:26:9", &["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]),
        ("macd", "macd:12:26:9", &["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]),
        ("bbands:20:2", "bbands:20:2", &["bbands_upper_20_2", "bbands_middle_20_2", "bbands_lower_20_2"]),
        ("bbands", "bbands:20:2", &["bbands_upper_20_2", "bbands_middle_20_2", "bbands_lower_20_2"]),
        (
            "bbands:10:1.5:2.5",
            "bbands:10:1.5:2.5",
            &["bbands_upper_10_1.5_2.5", "bbands_middle_10_1.5_2.5", "bbands_lower_10_1.5_2.5"],
        ),
        ("stoch", "stoch:5:3:3", &["stoch_slowk_5_3_3", "stoch_slowd_5_3_3"]),
        ("stochrsi", "stochrsi:14:5:3", &["stochrsi_fastk_14_5_3", "stochrsi_fastd_14_5_3"]),
        ("aroon:25", "aroon:25", &["aroon_down_25", "aroon_up_25"]),
        ("stddev", "stddev:5:1", &["stddev_5_1"]),
        ("ultosc", "ultosc:7:14:28", &["ultosc_7_14_28"]),
        ("adosc", "adosc:3:10", &["adosc_3_10"]),
        ("ppo", "ppo:12:26", &["ppo_12_26"]),
        (" obv ", "obv", &["obv"]),
        ("sma", "sma:30", &["sma_30"]),
        ("linearreg_slope:5", "linearreg_slope:5", &["linearreg_slope_5"]),
    ];
    for (spec, canon, names) in cases {
        let ind = Indicator::parse(spec).unwrap();
        assert_eq!(ind.spec(), *canon, "{spec}");
        assert_eq!(ind.to_string(), *canon);
        assert_eq!(ind.outputs(), names.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{spec}");
        assert_eq!(Indicator::parse(canon).unwrap(), ind, "canonical spec round-trips");
        ind.validate().unwrap();
    }
    let list = Indicator::parse_list("rsi:14, macd:12:26:9,bbands:20:2,").unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!("rsi:7".parse::<Indicator>().unwrap(), Indicator::Rsi { period: 7 });
}

#[test]
fn parse_errors_name_the_bad_token() {
    let e = Indicator::parse("rsx:14").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("`rsx`") && msg.contains("rsi") && msg.contains("bbands"), "{msg}");
    let e = Indicator::parse("rsi:1").unwrap_err();
    assert!(e.to_string().contains("`1`") && e.to_string().contains("period"), "{e}");
    let e = Indicator::parse("rsi:abc").unwrap_err();
    assert!(e.to_string().contains("`abc`"), "{e}");
    let e = Indicator::parse("macd:12:26:9:4").unwrap_err();
    assert!(e.to_string().contains("`4`") && e.to_string().contains("macd:fast_period"), "{e}");
    let e = Indicator::parse("bbands:20:nan").unwrap_err();
    assert!(e.to_string().contains("`nan`"), "{e}");
    assert_eq!(Indicator::parse("  "), Err(IndicatorError::EmptySpec));
    assert!(Indicator::parse("obv:3").is_err());
    assert!(Indicator::parse_list("rsi,foo").unwrap_err().to_string().contains("`foo`"));
    assert!(Indicator::parse("sma:0").is_err());
    assert!(Indicator::parse("sma:100001").is_err());
}

#[test]
fn invalid_parameters_are_errors_not_panics() {
    let x = [1.0, 2.0, 3.0];
    assert!(matches!(sma(&x, 0), Err(IndicatorError::BadPeriod { .. })));
    assert!(rsi(&x, 1).is_err());
    assert!(cmo(&x, 1).is_err());
    assert!(macd(&x, 1, 26, 9).is_err());
    assert!(macd(&x, 12, 26, 0).is_err());
    assert!(bbands(&x, 1, 2.0, 2.0).is_err());
    assert!(bbands(&x, 5, f64::NAN, 2.0).is_err());
    assert!(stddev(&x, 5, f64::INFINITY).is_err());
    assert!(stoch(&x, &x, &x, 0, 3, 3).is_err());
    assert!(adx(&x, &x, &x, 1).is_err());
    assert!(matches!(atr(&x, &x[..2], &x, 14), Err(IndicatorError::LengthMismatch { .. })));
    assert!(Indicator::Rsi { period: 1 }.validate().is_err());
    assert!(Indicator::Rsi { period: 1 }.compute(&Ohlcv::new(&x, &x, &x, &x, &x)).is_err());
    assert!(Indicator::Bbands { period: 20, nbdevup: f64::NAN, nbdevdn: 2.0 }.validate().is_err());
}

#[test]
fn simple_known_values() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let s = sma(&x, 3).unwrap();
    assert!(s[0].is_nan() && s[1].is_nan());
    assert_eq!(&s[2..], &[2.0, 3.0, 4.0, 5.0]);
    let e = ema(&x, 3).unwrap();
    assert_eq!(e[2], 2.0);
    assert_eq!(e[3], 3.0);
    let m = mom(&x, 2).unwrap();
    assert_eq!(&m[2..], &[2.0, 2.0, 2.0, 2.0]);
    let r = rsi(&x, 2).unwrap();
    assert_eq!(&r[2..], &[100.0, 100.0, 100.0, 100.0]);
    let v = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
    let o = obv(&[1.0, 2.0, 1.0, 1.0, 3.0, 2.0], &v).unwrap();
    assert_eq!(o, vec![10.0, 30.0, 0.0, 0.0, 50.0, -10.0]);
    let sd = stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8, 1.0).unwrap();
    assert_eq!(sd[7], 2.0);
    let lr = linearreg_slope(&x, 4).unwrap();
    assert!(lr[3..].iter().all(|&v| (v - 1.0).abs() < 1e-12));
}
