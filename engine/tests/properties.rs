//! Property tests (proptest) of the engine's contracts on arbitrary finite bars:
//!
//! 1. every feature of the catalogue (each TA-Lib indicator of the registry and each of the
//!    engine's own features) returns one value per bar, `NaN` exactly in its documented warm-up
//!    and a finite number after it;
//! 2. a matrix's features never look ahead: perturbing the bars after bar `t` leaves every kept
//!    row at or before `t` — its features, hour, momentum and close — bit for bit unchanged;
//! 3. a small gradient-boosted model's probabilities (calibrated or not) are finite and in
//!    [0, 1], whatever it is asked about (`NaN`, ±∞, huge or tiny features);
//! 4. every metric is finite on any finite equity series (flat, a single bar, all-zero returns,
//!    zero or negative equity), with the degenerate values `engine::metrics` documents;
//! 5. a backtest never holds a position before the first bar whose signal is on, enters only on
//!    such a bar (filled at the next open), and never holds one past the last bar.
//!
//! Case counts are modest (see [`cases`]) so the file runs in seconds in the dev profile. Failing
//! inputs are shrunk and printed; nothing is written to disk (no regression files).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use proptest::prelude::*;

use engine::backtest::{self, BacktestInputs, ExitReason, Side};
use engine::data::Series;
use engine::features::{compute_features, feature_catalog, FeatureInfo, FeatureSpec};
use engine::gbt::fit::{fit, CalibrationKind, FitOptions};
use engine::gbt::{ColumnMatrix, GbtError, TrainParams};
use engine::indicators::Indicator;
use engine::label::LabelSpec;
use engine::matrix::{build_matrix, BuildError, BuildSpec};
use engine::metrics::{self, Metrics};
use engine::model::Model;
use engine::policy::{Policy, PolicyKind};
use engine::risk::{RiskParams, RiskProfile};

/// `cases` random cases, no failure files (a failure prints its shrunk input instead).
fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Same value, `NaN`s included (bit-for-bit otherwise, so `-0.0 != 0.0`).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

// ---------------------------------------------------------------------------------------------
// Bars
// ---------------------------------------------------------------------------------------------

const DAY_MS: i64 = 86_400_000;
/// 2024-01-01 00:00 UTC: the series run through the March and November DST changes.
const DAY0_MS: i64 = 1_704_067_200_000;

/// One bar's moves relative to the previous close.
#[derive(Clone, Debug)]
struct Step {
    /// Out of 100: the bar is flat (open = high = low = close = previous close) when below the
    /// case's flat percentage.
    flat_roll: u8,
    gap: f64,
    ret: f64,
    up: f64,
    down: f64,
    /// log10 of the volume.
    log_volume: f64,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..100, -0.02f64..0.02, -0.08f64..0.08, 0.0f64..0.03, 0.0f64..0.03, 0.0f64..7.0)
        .prop_map(|(flat_roll, gap, ret, up, down, log_volume)| Step { flat_roll, gap, ret, up, down, log_volume })
}

/// A case's bars plus what the test knows of their sessions (independently of the engine).
#[derive(Clone, Debug)]
struct Bars {
    series: Series,
    tz: &'static str,
    /// Bars per session: 1 for daily bars (local midnights), else five-minute bars.
    per_session: usize,
}

impl Bars {
    fn len(&self) -> usize {
        self.series.len()
    }
    /// Position of bar `t` in its session (0 = the session's first bar).
    fn pos_in_session(&self, t: usize) -> usize {
        t % self.per_session
    }
    fn session(&self, t: usize) -> usize {
        t / self.per_session
    }
}

/// Consistent OHLCV bars: every price positive and finite, `low ≤ min(open, close)`,
/// `high ≥ max(open, close)`, volume ≥ 1. (Bars breaking those rules are what the data-quality
/// report flags; the features' "finite after the warm-up" contract is stated for real bars —
/// e.g. an opening range whose high is below its low has no position in it.)
fn apply_steps(start: f64, steps: &[Step], flat_pct: u8, from: usize, s: &mut Series) {
    for (i, st) in steps.iter().enumerate().skip(from) {
        let prev = if i == 0 { start } else { s.close[i - 1] };
        let (o, h, l, c) = if st.flat_roll < flat_pct {
            (prev, prev, prev, prev)
        } else {
            let o = if i == 0 { start } else { prev * st.gap.exp() };
            let c = o * st.ret.exp();
            (o, o.max(c) * (1.0 + st.up), o.min(c) * (1.0 - st.down), c)
        };
        let v = 10f64.powf(st.log_volume).round().max(1.0);
        if i < s.close.len() {
            (s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]) = (o, h, l, c, v);
        } else {
            s.open.push(o);
            s.high.push(h);
            s.low.push(l);
            s.close.push(c);
            s.volume.push(v);
        }
    }
}

fn make_bars(start: f64, steps: &[Step], flat_pct: u8, per_session: usize, tz: &'static str) -> Bars {
    let n = steps.len();
    let ts = (0..n)
        .map(|i| {
            let (day, j) = ((i / per_session) as i64, (i % per_session) as i64);
            if per_session == 1 {
                DAY0_MS + day * DAY_MS
            } else {
                // 14:30 UTC onwards: one local day per session in UTC and in New York alike.
                DAY0_MS + day * DAY_MS + (14 * 60 + 30 + 5 * j) * 60_000
            }
        })
        .collect();
    let mut series = Series {
        ticker: "PROP".into(),
        ts,
        open: vec![],
        high: vec![],
        low: vec![],
        close: vec![],
        volume: vec![],
        adj_close: None,
    };
    apply_steps(start, steps, flat_pct, 0, &mut series);
    Bars { series, tz, per_session }
}

fn bars(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Bars> {
    (
        (-2.0f64..4.0).prop_map(|e| 10f64.powf(e)),
        prop::collection::vec(step(), len),
        prop_oneof![3 => Just(0u8), 3 => Just(10u8), 2 => Just(50u8), 1 => Just(100u8)],
        prop_oneof![Just(1usize), 2usize..=40],
        prop_oneof![Just("UTC"), Just("America/New_York")],
    )
        .prop_map(|(start, steps, flat, per_session, tz)| make_bars(start, &steps, flat, per_session, tz))
}

// ---------------------------------------------------------------------------------------------
// Features of the catalogue with drawn parameters
// ---------------------------------------------------------------------------------------------

/// Catalogue entry `info` (number `index`) with parameters drawn from `seeds`: integers 1..=30 (2 where the
/// feature needs at least 2), deviations in [-1.5, 1.5], thresholds in [0, 0.1).
fn spec_for(info: &FeatureInfo, index: usize, seeds: &[u16]) -> FeatureSpec {
    let draw = |k: usize, p: &engine::features::ParamInfo, min2: bool| {
        let s = seeds[(3 * index + k) % seeds.len()];
        if p.integer {
            let v = 1.0 + (s % 30) as f64;
            if min2 && v < 2.0 {
                2.0
            } else {
                v
            }
        } else if p.name == "threshold" {
            (s % 100) as f64 / 1000.0
        } else {
            (s % 13) as f64 * 0.25 - 1.5
        }
    };
    let build = |min2: bool| FeatureSpec {
        name: info.name.clone(),
        params: info.params.iter().enumerate().map(|(k, p)| (p.name.clone(), draw(k, p, min2))).collect(),
    };
    build(false)
        .canonical()
        .or_else(|_| build(true).canonical())
        .unwrap_or_else(|e| panic!("{}: drawn parameters rejected: {e}", info.name))
}

/// Whether the feature documents a value at each bar of `bars` (`false` = its warm-up).
///
/// TA-Lib indicators: `Indicator::lookback` leading bars. The engine's own features, as their
/// docs state: `logret_k` from bar k; `rvol_n` from bar n; z-scores and distances to the n-bar
/// high/low from bar n−1; `custom_rsi_p` like RSI (bar p); `volatility_filter` like `rvol`;
/// `momentum_score_total` from bar 60; VWAP, hour, minute and weekday on every bar; the opening
/// range of k bars from a session's k-th bar; the gap from the second session on.
fn has_value(spec: &FeatureSpec, family: &str, bars: &Bars) -> Vec<bool> {
    let n = bars.len();
    let from = |k: usize| (0..n).map(|t| t >= k).collect::<Vec<_>>();
    let p = |name: &str| spec.params.get(name).copied().unwrap_or_else(|| panic!("{spec}: no `{name}`")) as usize;
    if family == "talib" {
        let ind = Indicator::parse(&spec.spec_string().unwrap()).unwrap();
        return from(ind.lookback());
    }
    match spec.name.as_str() {
        "logret" | "rvol" | "custom_rsi" | "volatility_filter" => from(p("period")),
        "zscore" | "volume_zscore" | "dist_high" | "dist_low" => from(p("period") - 1),
        "momentum_score_total" => from(60),
        "vwap" | "hour" | "minute_of_day" | "day_of_week" => from(0),
        "opening_range" => (0..n).map(|t| bars.pos_in_session(t) + 1 >= p("bars")).collect(),
        "gap" => (0..n).map(|t| bars.session(t) > 0).collect(),
        other => panic!("no documented warm-up for feature `{other}`: add its rule to this test"),
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// Property 1: every catalogue feature (all of them, each case, with drawn parameters) gives
    /// as many values as bars, `NaN` exactly during its documented warm-up and a finite number
    /// on every later bar — on flat stretches (zero ranges, zero returns) too.
    #[test]
    fn every_feature_has_the_input_length_and_nan_only_in_its_warm_up(
        bars in bars(1..=400),
        seeds in prop::collection::vec(any::<u16>(), 150),
    ) {
        let n = bars.len();
        let catalog = feature_catalog();
        prop_assert!(catalog.len() >= 48, "the catalogue lost entries: {}", catalog.len());
        let specs: Vec<FeatureSpec> = catalog.iter().enumerate().map(|(i, info)| spec_for(info, i, &seeds)).collect();
        let frame = compute_features(&specs, &bars.series, bars.tz).unwrap();
        let mut col = 0;
        for (spec, info) in specs.iter().zip(&catalog) {
            let outputs = spec.outputs().unwrap();
            let expected = has_value(spec, &info.family, &bars);
            for name in &outputs {
                prop_assert_eq!(&frame.names[col], name);
                let values = &frame.columns[col];
                prop_assert_eq!(values.len(), n, "{}: {} values for {} bars", name, values.len(), n);
                for (t, (&v, &want)) in values.iter().zip(&expected).enumerate() {
                    if want {
                        prop_assert!(v.is_finite(), "{} ({}): {} at bar {} of {}, after the warm-up", name, spec, v, t, n);
                    } else {
                        prop_assert!(v.is_nan(), "{} ({}): {} at bar {} of {}, inside the warm-up", name, spec, v, t, n);
                    }
                }
                col += 1;
            }
        }
        prop_assert_eq!(col, frame.columns.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Matrix: no feature looks ahead
// ---------------------------------------------------------------------------------------------

fn label() -> impl Strategy<Value = LabelSpec> {
    prop_oneof![
        (1usize..=10, -0.01f64..0.01, any::<bool>()).prop_map(|(distance_max, threshold, within_session)| {
            LabelSpec::ForwardReturn { distance_max, threshold, within_session }
        }),
        (1usize..=10, 1usize..=20, 0.5f64..3.0, 0.5f64..3.0, any::<bool>()).prop_map(
            |(distance_max, atr_period, up_mult, down_mult, within_session)| LabelSpec::TripleBarrier {
                distance_max,
                atr_period,
                up_mult,
                down_mult,
                within_session,
            }
        ),
    ]
}

fn model(features: Vec<FeatureSpec>, label: LabelSpec) -> Model {
    Model {
        pack_id: "swingsigma".into(),
        model_id: "prop_swing_daily".into(),
        ticker: "PROP".into(),
        asset: "eq".into(),
        horizon: "swing".into(),
        cadence: "daily".into(),
        risk_profile: RiskProfile::default(),
        template: "properties".into(),
        features,
        label,
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// Property 2: build a matrix, replace every bar after bar `t` (prices, volumes; times kept),
    /// build again. Rows at or before `t` are the same rows (their features and labels' inputs
    /// are all known by `t`: features look back only, a label's gap depends on times and the
    /// number of bars) with bit-identical features, hour, momentum and close; a label whose
    /// horizon ends by `t` is unchanged too. Only labels may see the changed future.
    #[test]
    fn matrix_features_never_see_the_future(
        bars in bars(60..=400),
        picks in prop::collection::btree_set(0usize..64, 1..=6),
        seeds in prop::collection::vec(any::<u16>(), 150),
        label in label(),
        cut in 0.0f64..1.0,
        future in prop::collection::vec(step(), 400),
        future_flat in prop_oneof![Just(0u8), Just(30u8)],
        jump in -0.3f64..0.3,
    ) {
        let n = bars.len();
        let catalog = feature_catalog();
        let features: Vec<FeatureSpec> =
            picks.iter().map(|&i| spec_for(&catalog[i % catalog.len()], i, &seeds)).collect();
        // Daily bars have one-bar sessions: a session-bound label would have none at all.
        let label = if bars.per_session == 1 {
            match label {
                LabelSpec::ForwardReturn { distance_max, threshold, .. } =>
                    LabelSpec::ForwardReturn { distance_max, threshold, within_session: false },
                LabelSpec::TripleBarrier { distance_max, atr_period, up_mult, down_mult, .. } =>
                    LabelSpec::TripleBarrier { distance_max, atr_period, up_mult, down_mult, within_session: false },
            }
        } else {
            label
        };
        let d = label.distance_max();
        let m = model(features, label);
        let spec = BuildSpec::default();
        let built = build_matrix(&m, &bars.series, bars.tz, &spec);
        // Warm-ups longer than the data (a 30-bar opening range on 5-bar sessions, …) leave no
        // rows: nothing to compare, draw another case.
        if let Err(e) = &built {
            prop_assert!(matches!(e, BuildError::NoRows { .. }), "build failed: {}", e);
        }
        prop_assume!(built.is_ok());
        let a = built.unwrap();

        let t = ((n - 1) as f64 * cut) as usize;
        let mut other = bars.series.clone();
        if t + 1 < n {
            let mut steps = vec![step_flat(); t + 1];
            steps.extend(future.iter().take(n - t - 1).cloned());
            // Bar t+1 opens after a jump from close[t], so the future really differs.
            steps[t + 1].gap += jump;
            apply_steps(f64::NAN, &steps, future_flat, t + 1, &mut other);
        }
        prop_assert_eq!(other.len(), n);
        prop_assert_eq!(&other.close[..=t], &bars.series.close[..=t]);

        let cut_ts = bars.series.ts[t];
        let b = match build_matrix(&m, &other, bars.tz, &spec) {
            Ok(b) => b,
            Err(e) => {
                prop_assert!(matches!(e, BuildError::NoRows { .. }), "rebuild failed: {}", e);
                prop_assert!(
                    a.ts.iter().all(|&ts| ts > cut_ts),
                    "no rows after changing bars past {}, but the first build kept rows up to it", t
                );
                return Ok(());
            }
        };
        prop_assert_eq!(&a.feature_names, &b.feature_names);
        let bar_of: BTreeMap<i64, usize> = bars.series.ts.iter().enumerate().map(|(i, &ts)| (ts, i)).collect();
        let row_b: BTreeMap<i64, usize> = b.ts.iter().enumerate().map(|(i, &ts)| (ts, i)).collect();
        let early_a = a.ts.iter().filter(|&&ts| ts <= cut_ts).count();
        let early_b = b.ts.iter().filter(|&&ts| ts <= cut_ts).count();
        prop_assert_eq!(early_a, early_b, "rows at or before bar {} differ in number", t);
        for (i, &ts) in a.ts.iter().enumerate().take(early_a) {
            let bar = bar_of[&ts];
            let k = row_b.get(&ts).copied();
            prop_assert!(k.is_some(), "row of bar {} (≤ {}) dropped after changing later bars", bar, t);
            let k = k.unwrap();
            for j in 0..a.n_features() {
                prop_assert!(
                    same(a.features[j][i], b.features[j][k]),
                    "feature {} of bar {} changed ({} -> {}) when bars after {} changed",
                    a.feature_names[j], bar, a.features[j][i], b.features[j][k], t
                );
            }
            prop_assert!(same(a.hour[i], b.hour[k]), "hour of bar {} changed", bar);
            prop_assert!(
                same(a.momentum_score_total[i], b.momentum_score_total[k]),
                "momentum of bar {} changed", bar
            );
            prop_assert!(same(a.close[i], b.close[k]), "close of bar {} changed", bar);
            if bar + d <= t {
                prop_assert_eq!(a.label[i], b.label[k], "label of bar {} (horizon {}) changed", bar, d);
            }
        }
    }
}

/// A placeholder for the unchanged bars' steps (never applied: `apply_steps` starts after them).
fn step_flat() -> Step {
    Step { flat_roll: 0, gap: 0.0, ret: 0.0, up: 0.0, down: 0.0, log_volume: 0.0 }
}

// ---------------------------------------------------------------------------------------------
// Gradient-boosted trees: probabilities are probabilities
// ---------------------------------------------------------------------------------------------

/// Feature values: mostly ordinary numbers (and small integers, for ties), some missing, some
/// infinite, extreme or subnormal.
fn feature_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1e3f64..1e3,
        2 => (0u8..4).prop_map(f64::from),
        1 => Just(f64::NAN),
        1 => prop::sample::select(vec![
            f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324, 0.0, -0.0, 1e300, -1e300,
        ]),
        1 => prop::num::f64::ANY,
    ]
}

fn calibration() -> impl Strategy<Value = CalibrationKind> {
    prop_oneof![Just(CalibrationKind::Sigmoid), Just(CalibrationKind::Isotonic), Just(CalibrationKind::None)]
}

fn check_probabilities(what: &str, p: &[f64], rows: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(p.len(), rows, "{}: {} probabilities for {} rows", what, p.len(), rows);
    for (i, &v) in p.iter().enumerate() {
        prop_assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{}: row {} has probability {}", what, i, v);
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(64))]

    /// Property 3: train a few small trees (holdout calibration, sigmoid or isotonic, or
    /// out-of-fold calibration, or none) on features with missing and infinite values; every
    /// probability it gives — calibrated and uncalibrated, column-major and row-major, on its
    /// training rows and on arbitrary rows (`NaN`, ±∞, ±f64::MAX, subnormals) — is finite and
    /// in [0, 1].
    #[test]
    fn gbt_probabilities_stay_in_unit_interval(
        (k, x) in (1usize..=4, 60usize..=300).prop_flat_map(|(k, n)| {
            (Just(k), prop::collection::vec(prop::collection::vec(feature_value(), n), k))
        }),
        y_bits in prop::collection::vec(any::<bool>(), 300),
        signal in any::<bool>(),
        probe in prop::collection::vec(prop::collection::vec(feature_value(), 4), 1..=40),
        num_trees in 1usize..=8,
        max_leaves in 2usize..=8,
        min_data_in_leaf in 1usize..=10,
        learning_rate in 0.05f64..1.0,
        max_bin in prop_oneof![Just(255usize), 2usize..=16],
        valid_fraction in 0.1f64..0.5,
        calibration in calibration(),
        calibration_folds in prop_oneof![3 => Just(0usize), 1 => 2usize..=3],
    ) {
        let n = x[0].len();
        // Labels: random, or a noisy function of the first feature so trees have splits to make;
        // both classes at the start of the training rows.
        let mut y: Vec<f64> = (0..n)
            .map(|i| {
                let v = x[0][i];
                let bit = y_bits[i % y_bits.len()];
                if signal && v.is_finite() && bit { (v > 0.5) as u8 as f64 } else { bit as u8 as f64 }
            })
            .collect();
        y[0] = 0.0;
        y[1] = 1.0;
        let names: Vec<String> = (0..k).map(|j| format!("f{j}")).collect();
        let opts = FitOptions {
            params: TrainParams {
                num_trees,
                max_leaves,
                min_data_in_leaf,
                learning_rate,
                max_bin,
                ..TrainParams::default()
            },
            valid_fraction,
            calibration,
            calibration_folds,
            purge: 0,
        };
        let (booster, report) = match fit(&names, &x, &y, &opts, &mut |_| {}) {
            Ok(r) => r,
            // A fold or the training head with one class only: nothing to learn, not a finding.
            Err(GbtError::OneClass(_)) => return Err(TestCaseError::reject("one class only")),
            Err(e) => return Err(TestCaseError::fail(format!("fit failed: {e}"))),
        };
        prop_assert_eq!(booster.calibration.is_some(), calibration != CalibrationKind::None);
        for v in report.valid_logloss_calibrated.iter().chain(&report.valid_brier) {
            prop_assert!(v.is_finite(), "validation metric {}", v);
        }
        let train = ColumnMatrix::new(&names, &x).unwrap();
        check_probabilities("training rows", &booster.predict_proba(&train).unwrap(), n)?;
        check_probabilities("training rows, uncalibrated", &booster.predict_proba_uncalibrated(&train).unwrap(), n)?;
        let rows: Vec<Vec<f64>> = probe.iter().map(|r| r[..k].to_vec()).collect();
        let cols: Vec<Vec<f64>> = (0..k).map(|j| rows.iter().map(|r| r[j]).collect()).collect();
        let probe_m = ColumnMatrix::new(&names, &cols).unwrap();
        let calibrated = booster.predict_proba(&probe_m).unwrap();
        check_probabilities("probe rows", &calibrated, rows.len())?;
        check_probabilities("probe rows, uncalibrated", &booster.predict_proba_uncalibrated(&probe_m).unwrap(), rows.len())?;
        let by_row = booster.predict_proba_rows(&rows).unwrap();
        check_probabilities("probe rows, row-major", &by_row, rows.len())?;
        for (a, b) in calibrated.iter().zip(&by_row) {
            prop_assert!(same(*a, *b), "column-major {} and row-major {} disagree", a, b);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics are numbers
// ---------------------------------------------------------------------------------------------

/// Any finite f64 of either sign (normal, subnormal or zero).
fn finite() -> impl Strategy<Value = f64> {
    use prop::num::f64 as f;
    f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO
}

/// Equity series as a backtest makes them (compounded returns > −100%, exact zeros among them),
/// flat ones, single bars and empty ones, and arbitrary finite values (zero, negative, huge).
fn equity() -> impl Strategy<Value = Vec<f64>> {
    let ret = prop_oneof![3 => Just(0.0), 6 => -0.2f64..0.2, 1 => -0.999f64..5.0];
    prop_oneof![
        4 => (0.01f64..100.0, prop::collection::vec(ret, 0..400)).prop_map(|(e0, r)| {
            let mut e = vec![e0];
            for x in r {
                let last = *e.last().unwrap();
                e.push(last * (1.0 + x));
            }
            e
        }),
        2 => (1usize..400, 1e-3f64..1e3).prop_map(|(n, v)| vec![v; n]),
        1 => finite().prop_map(|v| vec![v]),
        1 => Just(Vec::new()),
        2 => prop::collection::vec(finite(), 0..50),
    ]
}

fn trade(pnl: f64, ret: f64, bars_held: usize) -> backtest::Trade {
    backtest::Trade {
        entry_ts: 0,
        exit_ts: 0,
        entry_row: 0,
        exit_row: bars_held,
        entry_price: 1.0,
        exit_price: 1.0,
        size: 0.05,
        side: Side::Long,
        pnl,
        ret,
        bars_held,
        prob: 0.6,
        exit_reason: ExitReason::Signal,
    }
}

/// Every `f64` field of `m`, by name.
fn float_fields(m: &Metrics) -> [(&'static str, f64); 14] {
    [
        ("sharpe", m.sharpe),
        ("return", m.total_return),
        ("max_dd", m.max_dd),
        ("cagr", m.cagr),
        ("volatility", m.volatility),
        ("sortino", m.sortino),
        ("calmar", m.calmar),
        ("win_rate", m.win_rate),
        ("avg_trade", m.avg_trade),
        ("best_trade", m.best_trade),
        ("worst_trade", m.worst_trade),
        ("avg_bars_held", m.avg_bars_held),
        ("exposure", m.exposure),
        ("profit_factor", m.profit_factor.unwrap_or(0.0)),
    ]
}

/// What `engine::metrics` documents for any equity and trades: every metric a finite number
/// (`profit_factor` `None` exactly when no trade lost), the fractions in their ranges, and the
/// documented zeros for degenerate series.
fn check_metrics(m: &Metrics, equity: &[f64], trades: &[backtest::Trade]) -> Result<(), TestCaseError> {
    for (name, v) in float_fields(m) {
        prop_assert!(v.is_finite(), "{} = {} on equity {:?}", name, v, equity);
    }
    let n = equity.len().saturating_sub(1);
    prop_assert_eq!(m.bars, equity.len());
    prop_assert_eq!(m.trades, trades.len());
    prop_assert_eq!(
        m.profit_factor.is_none(),
        !trades.iter().any(|t| t.pnl < 0.0),
        "profit_factor {:?}",
        m.profit_factor
    );
    if let Some(pf) = m.profit_factor {
        prop_assert!(pf >= 0.0, "profit_factor {}", pf);
    }
    prop_assert!(m.max_dd <= 0.0, "max_dd {} > 0", m.max_dd);
    prop_assert!(m.max_dd_bars <= n, "max_dd_bars {} of {} intervals", m.max_dd_bars, n);
    prop_assert!(m.volatility >= 0.0, "volatility {}", m.volatility);
    prop_assert!((0.0..=1.0).contains(&m.exposure), "exposure {}", m.exposure);
    prop_assert!((0.0..=1.0).contains(&m.win_rate), "win_rate {}", m.win_rate);
    if equity.iter().all(|&e| e.is_finite() && e > 0.0) {
        prop_assert!(m.max_dd >= -1.0, "max_dd {} below -100% on positive equity", m.max_dd);
        let dd = metrics::drawdown_series(equity);
        prop_assert_eq!(dd.len(), equity.len());
        prop_assert!(dd.iter().all(|&v| v.is_finite() && v <= 0.0), "drawdown curve {:?}", dd);
        let lowest = dd.iter().copied().fold(0.0, f64::min);
        prop_assert_eq!(lowest, m.max_dd, "the drawdown curve's minimum is max_dd");
    }
    if n == 0 {
        // "0 when N < 2" (return), "n = 0" (cagr), "n < 2" (volatility), std 0 (sharpe), …
        for (name, v) in float_fields(m).into_iter().take(7) {
            prop_assert_eq!(v, 0.0, "{} on a series of {} bars", name, equity.len());
        }
        prop_assert_eq!((m.max_dd_bars, m.exposure), (0, 0.0));
    }
    if n == 1 {
        prop_assert_eq!((m.volatility, m.sharpe), (0.0, 0.0), "one return has no sample std");
    }
    if n >= 1 && equity.iter().all(|&e| e == equity[0] && e != 0.0) {
        // Flat equity: every return exactly 0.
        for (name, v) in float_fields(m).into_iter().take(7) {
            prop_assert_eq!(v, 0.0, "{} on flat equity", name);
        }
        prop_assert_eq!(m.max_dd_bars, 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    /// Property 4: metrics of any finite equity series (and any trade list) are finite numbers
    /// in their documented ranges, with the documented zeros for empty, single-bar and flat
    /// series; `from_equity` and `compute` agree on the return-based fields.
    #[test]
    fn metrics_are_finite_on_any_finite_equity(
        equity in equity(),
        trades in prop::collection::vec((-1.0f64..1.0, -1.0f64..1.0, 0usize..100), 0..20),
        zero_pnl in any::<bool>(),
        bars_in_position in 0usize..500,
        bars_per_year in prop_oneof![
            4 => prop::sample::select(vec![252.0, 365.0, 52.0, 12.0, 6552.0, 98_280.0]),
            1 => prop::sample::select(vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300]),
            1 => 0.1f64..1e6,
        ],
    ) {
        let trades: Vec<backtest::Trade> = trades
            .into_iter()
            .map(|(pnl, ret, held)| trade(if zero_pnl { 0.0 } else { pnl }, ret, held))
            .collect();
        let m = metrics::compute(&equity, &trades, bars_in_position, bars_per_year);
        check_metrics(&m, &equity, &trades)?;
        let e = metrics::from_equity(&equity, bars_per_year);
        check_metrics(&e, &equity, &[])?;
        for ((name, a), (_, b)) in float_fields(&m).into_iter().zip(float_fields(&e)).take(7) {
            prop_assert!(same(a, b), "{}: compute {} vs from_equity {}", name, a, b);
        }
        prop_assert_eq!(m.max_dd_bars, e.max_dd_bars);
    }
}

// ---------------------------------------------------------------------------------------------
// Backtest: no position before the first signal or past the data
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Tape {
    ts: Vec<i64>,
    close: Vec<f64>,
    next_open: Vec<f64>,
    hour: Vec<f64>,
    momentum: Vec<f64>,
    prob: Vec<f64>,
    threshold: Vec<f64>,
    atr: Vec<f64>,
    session_end: Vec<bool>,
    /// Whether some bar before the last has no next open to fill at.
    gaps: bool,
}

#[derive(Clone, Debug)]
struct Row {
    ret: f64,
    gap: f64,
    no_fill: bool,
    hour: u8,
    momentum: f64,
    prob: f64,
    threshold: f64,
    atr: f64,
    session_end: bool,
}

fn prob() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0f64..=1.0,
        1 => Just(f64::NAN),
        1 => prop::sample::select(vec![0.0, 1.0, 0.5]),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (
        (-0.05f64..0.05, -0.01f64..0.01, 0u8..100, 0u8..24),
        prop_oneof![8 => -2.0f64..2.0, 1 => Just(f64::NAN)],
        prob(),
        prop_oneof![8 => 0.0f64..1.0, 1 => Just(f64::NAN)],
        prop_oneof![8 => 0.0f64..5.0, 1 => Just(f64::NAN)],
        prop::bool::weighted(0.15),
    )
        .prop_map(|((ret, gap, fill_roll, hour), momentum, prob, threshold, atr, session_end)| Row {
            ret,
            gap,
            no_fill: fill_roll < 3,
            hour,
            momentum,
            prob,
            threshold,
            atr,
            session_end,
        })
}

fn tape() -> impl Strategy<Value = Tape> {
    ((0.5f64..500.0), prop::collection::vec(row(), 1..=400), any::<bool>()).prop_map(|(start, rows, with_gaps)| {
        let n = rows.len();
        let mut close = Vec::with_capacity(n);
        let mut px = start;
        for r in &rows {
            px *= r.ret.exp();
            close.push(px);
        }
        let next_open: Vec<f64> = (0..n)
            .map(|t| if t + 1 == n || (with_gaps && rows[t].no_fill) { f64::NAN } else { close[t] * rows[t].gap.exp() })
            .collect();
        Tape {
            ts: (0..n as i64).map(|i| 1_700_000_000_000 + i * 3_600_000).collect(),
            gaps: next_open[..n - 1].iter().any(|v| v.is_nan()),
            close,
            next_open,
            hour: rows.iter().map(|r| f64::from(r.hour)).collect(),
            momentum: rows.iter().map(|r| r.momentum).collect(),
            prob: rows.iter().map(|r| r.prob).collect(),
            threshold: rows.iter().map(|r| r.threshold).collect(),
            atr: rows.iter().map(|r| r.atr).collect(),
            session_end: rows.iter().map(|r| r.session_end).collect(),
        }
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    let kind = prop_oneof![
        3 => prop::collection::vec(0.01f64..0.99, 1..=3).prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v.dedup();
            PolicyKind::Thr { ladder: v }
        }),
        1 => (0.01f64..0.99).prop_map(|fraction| PolicyKind::TopPct { fraction }),
    ];
    (
        kind,
        prop::option::weighted(0.3, prop::collection::btree_set(0u8..24, 1..=12)),
        prop::option::weighted(0.3, -1.0f64..1.0),
        prop_oneof![Just(0usize), 1usize..=10],
        (prop::option::weighted(0.3, 0.0f64..5.0), prop::option::weighted(0.3, 0.0f64..5.0)),
        (prop::bool::weighted(0.3), any::<bool>()),
        (0.0f64..10.0, 0.0f64..10.0),
    )
        .prop_map(
            |(kind, hours, momentum_min, hold_bars, (atr_stop, atr_target), (flat, allow_short), (com, slip))| Policy {
                kind,
                allowed_hours: hours.map(|h| h.into_iter().collect()),
                momentum_min,
                hold_bars,
                atr_stop,
                atr_target,
                flat_at_session_end: flat,
                commission_bps: com,
                slippage_bps: slip,
                allow_short,
            },
        )
}

/// The signed signal level of row `t` as `engine::policy` documents it: rungs reached long minus
/// (with shorts) rungs reached short, or ±1 against the row's `top_pct` threshold; `NaN` is no
/// signal.
fn level(policy: &Policy, tape: &Tape, t: usize) -> i32 {
    let p = tape.prob[t];
    match &policy.kind {
        PolicyKind::Thr { ladder } => {
            let long = ladder.iter().filter(|&&r| p >= r).count() as i32;
            let short = if policy.allow_short { ladder.iter().filter(|&&r| p <= 1.0 - r).count() as i32 } else { 0 };
            long - short
        }
        PolicyKind::TopPct { .. } => {
            let thr = tape.threshold[t];
            if p >= thr {
                1
            } else if policy.allow_short && p <= 1.0 - thr {
                -1
            } else {
                0
            }
        }
    }
}

fn sign(side: Side) -> i32 {
    match side {
        Side::Long => 1,
        Side::Short => -1,
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Property 5: on arbitrary probabilities and prices, whatever the policy (ladders, top
    /// fraction, shorts, hours, momentum gate, time/ATR/session exits, costs, position size):
    /// equity stays exactly 1 up to the first bar with a signal (and no trade, no pending order
    /// without any); every trade is entered on a bar whose signal is on its side and passes the
    /// filters, filled at that bar's next open (so never on the last bar); it exits on a later
    /// bar, never past the last one (an end-of-data exit is on the last close); trades follow one
    /// another without overlap; a time exit comes after exactly `hold_bars` bars when every
    /// decision could fill.
    #[test]
    fn positions_only_between_first_signal_and_last_bar(
        tape in tape(),
        policy in policy(),
        size in prop_oneof![Just(1.0f64), 0.01f64..1.0],
    ) {
        let n = tape.close.len();
        let risk = RiskParams { position_size: size, ..RiskProfile::Balanced.params() };
        let inputs = BacktestInputs {
            ts: &tape.ts,
            close: &tape.close,
            next_open: &tape.next_open,
            hour: Some(&tape.hour),
            momentum: Some(&tape.momentum),
            prob: &tape.prob,
            threshold: Some(&tape.threshold),
            atr: Some(&tape.atr),
            session_end: Some(&tape.session_end),
        };
        let r = backtest::run(&policy, &inputs, &risk, 252.0);
        prop_assert!(r.is_ok(), "backtest failed: {:?}", r.err());
        let r = r.unwrap();
        prop_assert_eq!(r.equity.len(), n);
        check_metrics(&r.metrics, &r.equity, &r.trades)?;

        let first = (0..n).find(|&t| level(&policy, &tape, t) != 0);
        let quiet_until = first.unwrap_or(n - 1);
        for (t, &e) in r.equity.iter().enumerate().take(quiet_until + 1) {
            prop_assert_eq!(e, 1.0, "equity moved at bar {} before the first signal ({:?})", t, first);
        }
        if first.is_none() {
            prop_assert!(r.trades.is_empty(), "trades without any signal: {:?}", r.trades);
            prop_assert!(r.pending.is_none(), "a pending order without any signal: {:?}", r.pending);
            prop_assert!(r.equity.iter().all(|&e| e == 1.0));
        }
        if let Some(p) = &r.pending {
            prop_assert_eq!(p.row, n - 1, "a pending order is decided on the last bar");
        }

        let mask = policy.hour_mask();
        for (k, tr) in r.trades.iter().enumerate() {
            let (e, x) = (tr.entry_row, tr.exit_row);
            let s = sign(tr.side);
            prop_assert!(first.is_some_and(|f| e >= f), "trade {} entered on bar {} before the first signal {:?}", k, e, first);
            prop_assert!(level(&policy, &tape, e) * s > 0,
                "trade {} ({:?}) entered on bar {} whose signal level is {}", k, tr.side, e, level(&policy, &tape, e));
            prop_assert!(policy.allow_short || tr.side == Side::Long, "a short without allow_short");
            prop_assert!(e + 1 < n, "trade {} entered on the last bar {}", k, e);
            prop_assert!(same(tr.entry_price, tape.next_open[e]) && tr.entry_price > 0.0,
                "trade {} filled at {}, not bar {}'s next open {}", k, tr.entry_price, e, tape.next_open[e]);
            prop_assert_eq!(tr.entry_ts, tape.ts[e]);
            // Filters: no entry outside the allowed hours, against the momentum gate or on a
            // session's last bar when the policy goes flat there.
            if policy.allowed_hours.is_some() {
                prop_assert!((mask >> (tape.hour[e] as u32)) & 1 == 1, "trade {} entered at hour {}", k, tape.hour[e]);
            }
            if let Some(mm) = policy.momentum_min {
                let m = tape.momentum[e];
                prop_assert!(if s > 0 { m >= mm } else { m <= -mm }, "trade {} entered against the momentum gate ({} vs {})", k, m, mm);
            }
            if policy.flat_at_session_end {
                prop_assert!(!tape.session_end[e], "trade {} entered on a session's last bar", k);
            }
            prop_assert!(tr.size > 0.0 && tr.size <= size * (1.0 + 1e-12), "trade {} size {} (position size {})", k, tr.size, size);
            // The exit: later than the entry, never past the data.
            prop_assert!(x > e && x < n, "trade {} exits on bar {} (entry {}, {} bars)", k, x, e, n);
            prop_assert_eq!(tr.bars_held, x - e);
            prop_assert_eq!(tr.exit_ts, tape.ts[x]);
            if tr.exit_reason == ExitReason::EndOfData {
                prop_assert_eq!(k, r.trades.len() - 1, "an end-of-data exit is the last trade");
                prop_assert_eq!(x, n - 1);
                prop_assert!(same(tr.exit_price, tape.close[n - 1]), "end-of-data exit at {}, not the last close", tr.exit_price);
            } else {
                prop_assert!(x + 1 < n, "trade {} exit decided on the last bar without a fill", k);
                prop_assert!(same(tr.exit_price, tape.next_open[x]), "trade {} exit at {}, not bar {}'s next open", k, tr.exit_price, x);
            }
            if policy.hold_bars > 0 && !tape.gaps {
                prop_assert!(tr.bars_held <= policy.hold_bars, "trade {} held {} bars (hold_bars {})", k, tr.bars_held, policy.hold_bars);
                if tr.exit_reason == ExitReason::Time {
                    prop_assert_eq!(tr.bars_held, policy.hold_bars);
                }
            }
            if let Some(next) = r.trades.get(k + 1) {
                prop_assert!(next.entry_row >= x, "trade {} starts on bar {} before trade {} exits on {}", k + 1, next.entry_row, k, x);
                if next.entry_row == x {
                    prop_assert_eq!(tr.exit_reason, ExitReason::Reversal, "same-bar re-entry after a non-reversal exit");
                    prop_assert!(next.side != tr.side);
                }
                // After a stop or a target, the same side re-enters only once its signal has
                // dropped to 0 in between.
                if matches!(tr.exit_reason, ExitReason::Stop | ExitReason::Target) && next.side == tr.side {
                    let reset = (x + 1..next.entry_row).any(|u| level(&policy, &tape, u) * s <= 0);
                    prop_assert!(reset, "trade {} re-entered {:?} on bar {} after a {:?} exit on {} without a reset",
                        k + 1, next.side, next.entry_row, tr.exit_reason, x);
                }
            }
        }
        let exposure_bound = r.trades.iter().map(|t| t.bars_held).sum::<usize>();
        prop_assert!(r.metrics.exposure * (n.saturating_sub(1)) as f64 <= exposure_bound as f64 + 1e-9,
            "exposure {} over {} intervals, but trades held {} bars", r.metrics.exposure, n - 1, exposure_bound);
    }
}
