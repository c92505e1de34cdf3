//! Backtest, metrics, CV and policy: no look-ahead, hand-computed examples, and the quantstats
//! cross-check (`tests/backtest/golden_metrics.json`, made by `tests/backtest/cross_check.py`).

use engine::backtest::{run, BacktestInputs, Side};
use engine::cv::{oof, splits, CvKind};
use engine::gate::{gate, GateOverrides, GateReason};
use engine::metrics;
use engine::oof::Oof;
use engine::policy::Policy;
use engine::risk::{RiskParams, RiskProfile};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone)]
struct Data {
    ts: Vec<i64>,
    close: Vec<f64>,
    next_open: Vec<f64>,
    hour: Vec<f64>,
    momentum: Vec<f64>,
    prob: Vec<f64>,
    atr: Vec<f64>,
    session_end: Vec<bool>,
    threshold: Vec<f64>,
}

fn data(n: usize, seed: u64) -> Data {
    let mut g = Lcg(seed);
    let mut close = Vec::with_capacity(n);
    let mut next_open = Vec::with_capacity(n);
    let mut px = 100.0;
    for _ in 0..n {
        px *= 1.0 + (g.next() - 0.5) * 0.02;
        close.push(px);
        next_open.push(px * (1.0 + (g.next() - 0.5) * 0.004));
    }
    if let Some(l) = next_open.last_mut() {
        *l = f64::NAN;
    }
    Data {
        ts: (0..n as i64).map(|i| 1_700_000_000_000 + i * 3_600_000).collect(),
        close,
        next_open,
        hour: (0..n).map(|i| (9 + i % 7) as f64).collect(),
        momentum: (0..n).map(|_| g.next() * 2.0 - 0.8).collect(),
        prob: (0..n).map(|_| g.next()).collect(),
        atr: (0..n).map(|_| 0.5 + g.next()).collect(),
        session_end: (0..n).map(|i| i % 7 == 6).collect(),
        threshold: (0..n).map(|_| 0.7 + 0.1 * g.next()).collect(),
    }
}

fn inputs(d: &Data) -> BacktestInputs<'_> {
    BacktestInputs {
        ts: &d.ts,
        close: &d.close,
        next_open: &d.next_open,
        hour: Some(&d.hour),
        momentum: Some(&d.momentum),
        prob: &d.prob,
        threshold: Some(&d.threshold),
        atr: Some(&d.atr),
        session_end: Some(&d.session_end),
    }
}

fn policies() -> Vec<Policy> {
    let mut out = Vec::new();
    let mut a = Policy::thr(vec![0.55, 0.6, 0.65]);
    out.push(a.clone());
    a.allow_short = true;
    a.hold_bars = 5;
    a.commission_bps = 1.0;
    a.slippage_bps = 2.0;
    out.push(a.clone());
    a.allowed_hours = Some(vec![10, 11, 12, 13]);
    a.momentum_min = Some(0.0);
    a.atr_stop = Some(1.5);
    a.atr_target = Some(2.0);
    a.flat_at_session_end = true;
    out.push(a);
    let mut t = Policy::top_pct(0.2);
    t.allow_short = true;
    t.hold_bars = 3;
    out.push(t);
    out
}

fn risk() -> RiskParams {
    RiskProfile::Aggressive.params()
}

/// Decisions visible at or before `t`: entries (row, side, probability, fill price when it is
/// known by `t`) and exits decided by `t`.
fn decisions(r: &engine::backtest::BacktestResult, t: usize) -> Vec<(usize, Side, u64, u64, Option<usize>)> {
    r.trades
        .iter()
        .filter(|x| x.entry_row <= t)
        .map(|x| {
            let price = if x.entry_row < t { x.entry_price.to_bits() } else { 0 };
            let exit = (x.exit_row <= t).then_some(x.exit_row);
            (x.entry_row, x.side, x.prob.to_bits(), price, exit)
        })
        .collect()
}

#[test]
fn perturbing_after_t_changes_nothing_at_or_before_t() {
    let n = 400;
    let base = data(n, 7);
    for (pi, pol) in policies().iter().enumerate() {
        let r0 = run(pol, &inputs(&base), &risk(), 1764.0).unwrap();
        assert!(r0.trades.len() > 5, "policy {pi} trades too little: {}", r0.trades.len());
        for t in [0usize, 1, 17, 100, 233, 398] {
            let mut d = base.clone();
            let mut g = Lcg(1000 + t as u64);
            // next_open[t] is the next bar's open: after t as well
            d.next_open[t] *= 1.3;
            for s in t + 1..n {
                d.close[s] *= 0.5 + g.next();
                if s + 1 < n {
                    d.next_open[s] *= 0.5 + g.next();
                }
                d.prob[s] = g.next();
                d.atr[s] = g.next() * 3.0;
                d.momentum[s] = -d.momentum[s];
                d.hour[s] = ((d.hour[s] as usize + 3) % 24) as f64;
                d.session_end[s] = !d.session_end[s];
                d.threshold[s] = g.next();
            }
            let r1 = run(pol, &inputs(&d), &risk(), 1764.0).unwrap();
            assert_eq!(decisions(&r0, t), decisions(&r1, t), "policy {pi}, t {t}");
            let bits =
                |r: &engine::backtest::BacktestResult| r.equity[..=t].iter().map(|e| e.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&r0), bits(&r1), "equity up to {t}, policy {pi}");
        }
    }
}

#[test]
fn equity_one_value_per_bar_from_one() {
    let d = data(300, 3);
    for pol in policies() {
        let r = run(&pol, &inputs(&d), &risk(), 1764.0).unwrap();
        assert_eq!(r.equity.len(), 300);
        assert_eq!(r.equity[0], 1.0);
        assert!(r.equity.iter().all(|e| e.is_finite() && *e > 0.0));
        assert_eq!(r.metrics.trades, r.trades.len());
        for t in &r.trades {
            assert!(t.exit_row > t.entry_row);
            assert!(t.size > 0.0 && t.size <= risk().position_size + 1e-15);
        }
        // deterministic
        let again = run(&pol, &inputs(&d), &risk(), 1764.0).unwrap();
        assert_eq!(r, again);
    }
}

#[test]
fn hand_computed_backtest_metrics() {
    // no gaps (the next bar opens at this close), full size, one long trade 100 -> 121
    let close = [100.0, 100.0, 110.0, 121.0, 121.0];
    let next_open = [100.0, 100.0, 110.0, 121.0, f64::NAN];
    let prob = [0.1, 0.7, 0.7, 0.1, 0.1];
    let ts = [0, 1, 2, 3, 4];
    let inp = BacktestInputs {
        ts: &ts,
        close: &close,
        next_open: &next_open,
        hour: None,
        momentum: None,
        prob: &prob,
        threshold: None,
        atr: None,
        session_end: None,
    };
    let risk = RiskParams { position_size: 1.0, ..RiskProfile::Balanced.params() };
    let r = run(&Policy::thr(vec![0.6]), &inp, &risk, 4.0).unwrap();
    let m = r.metrics;
    // returns 0, 0.1, 0.1, 0 ; mean 0.05 ; sample var = (4 * 0.0025) / 3
    let sd = (0.01f64 / 3.0).sqrt();
    let close_to = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close_to(m.total_return, 0.21));
    assert!(close_to(m.sharpe, 0.05 / sd * 2.0));
    assert!(close_to(m.volatility, sd * 2.0));
    assert_eq!(m.sortino, 0.0); // no losing bar
    assert!(close_to(m.cagr, 0.21)); // 4 returns at 4 bars/year = 1 year
    assert_eq!((m.max_dd, m.max_dd_bars, m.calmar), (0.0, 0, 0.0));
    assert_eq!(m.trades, 1);
    assert_eq!(m.win_rate, 1.0);
    assert_eq!(m.profit_factor, None);
    assert!(close_to(m.avg_trade, 0.21) && close_to(m.best_trade, 0.21) && close_to(m.worst_trade, 0.21));
    assert_eq!(m.avg_bars_held, 2.0);
    assert!(close_to(m.exposure, 0.5));
    let g = gate(&m, &risk, GateOverrides::default(), true);
    assert_eq!(g.reasons(), &[GateReason::MinTradesNotMet]);
    let g = gate(&m, &risk, GateOverrides { min_trades: Some(1), ..GateOverrides::default() }, true);
    assert!(g.pass());
    let j = serde_json::to_value(m).unwrap();
    for k in ["sharpe", "return", "trades", "max_dd"] {
        assert!(j.get(k).is_some(), "{k}");
    }
}

#[test]
fn quantstats_golden_metrics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/backtest/golden_metrics.json");
    let text = std::fs::read_to_string(path).expect("golden file");
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let bpy = case["bars_per_year"].as_f64().unwrap();
        let mut equity = vec![1.0];
        for r in case["returns"].as_array().unwrap() {
            let last = *equity.last().unwrap();
            equity.push(last * (1.0 + r.as_f64().unwrap()));
        }
        let m = metrics::from_equity(&equity, bpy);
        let got = serde_json::to_value(m).unwrap();
        for (k, want) in case["metrics"].as_object().unwrap() {
            let want = want.as_f64().unwrap();
            let have = got[k].as_f64().unwrap();
            assert!((have - want).abs() <= 1e-9, "{name} {k}: engine {have} vs quantstats {want}");
        }
    }
}

#[test]
fn cv_never_leaks_on_many_shapes() {
    for n in [10usize, 57, 200, 1009] {
        for s in 1..=6 {
            for purge in [0usize, 1, 5] {
                for kind in [CvKind::WalkForward, CvKind::KFold] {
                    let Ok(folds) = splits(n, s, kind, purge, 2) else {
                        continue;
                    };
                    for f in &folds {
                        let mut prev_end = 0;
                        for r in &f.train {
                            assert!(r.start >= prev_end && r.end <= n && !r.is_empty());
                            prev_end = r.end;
                            for i in r.clone() {
                                if kind == CvKind::WalkForward {
                                    assert!(i + purge < f.test.start, "{n} {s} {purge}: {i} vs {:?}", f.test);
                                } else {
                                    assert!(i + purge < f.test.start || i >= f.test.end + purge + 2);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn top_pct_end_to_end_with_folds() {
    let n = 600;
    let mut d = data(n, 11);
    let folds = splits(n, 5, CvKind::WalkForward, 3, 0).unwrap();
    // pretend each fold's model predicts `prob` on its test rows and its inner holdout
    let test_preds: Vec<Vec<f64>> = folds.iter().map(|f| f.test.clone().map(|i| d.prob[i]).collect()).collect();
    let p0 = d.prob.clone();
    let inner = |f: &engine::cv::Fold| -> Vec<f64> { p0[f.test.start - 30..f.test.start - 3].to_vec() };
    let o = Oof {
        key: String::new(),
        matrix_sha: String::new(),
        prob: oof(n, &folds, &test_preds),
        inner_prob: folds.iter().map(inner).collect(),
        fold_auc: vec![f64::NAN; folds.len()],
        fold_model_sha: vec![String::new(); folds.len()],
        folds: folds.clone(),
    };
    let window = 50;
    d.threshold = o.top_pct_thresholds(0.1, window);
    d.prob = o.prob.clone();
    assert!(d.prob[..100].iter().all(|p| p.is_nan()));
    // each threshold is the 90% quantile of the same fold's `window` probabilities before it
    for f in &folds {
        let seq: Vec<f64> = inner(f).into_iter().chain(f.test.clone().map(|i| d.prob[i])).collect();
        for (j, t) in f.test.clone().enumerate() {
            let at = 27 + j;
            let mut before = seq[at.saturating_sub(window)..at].to_vec();
            assert_eq!(d.threshold[t], engine::policy::quantile(&mut before, 0.9));
        }
    }
    let r = run(&Policy::top_pct(0.1), &inputs(&d), &risk(), 252.0).unwrap();
    assert!(!r.trades.is_empty());
    assert!(r.trades.iter().all(|t| t.entry_row >= 100 && t.prob >= d.threshold[t.entry_row]));
    assert!(r.equity[..=100].iter().all(|&e| e == 1.0));
}
