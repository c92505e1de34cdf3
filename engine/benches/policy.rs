//! Policy evaluation throughput: full backtests (equity, trades, metrics) per second on one core,
//! for 12 and 1,000 policy configs on 10k and 1M bars, with fixed synthetic probabilities.
//!
//! ```text
//! cargo bench -p engine --bench policy            # all four cases
//! cargo bench -p engine --bench policy -- 10k     # only cases whose name contains `10k`
//! ```
//!
//! Reference point: vectorbt evaluates ~110 configs/s on 10k bars; the goal is ≥ 100× that.
//! Best of `POLICY_BENCH_RUNS` (default 3) passes over the config set.
//!
//! The `parity` case runs configs vectorbt's `Portfolio.from_signals` can express exactly
//! (one rung, long only, 100% of equity, no costs, no time exit) and writes the bars, the
//! probabilities, the thresholds, every config's final equity and our time to
//! `$BTB_BENCH_OUT` (default `target/bench-data`); `tests/backtest/vectorbt_compare.py`
//! then runs the same entries and exits through vectorbt, checks the final values agree and
//! times it.

use std::hint::black_box;
use std::time::Instant;

use engine::backtest::{run, BacktestInputs};
use engine::policy::Policy;
use engine::risk::RiskParams;
use engine::risk::RiskProfile;
use engine::synth::lcg_bars;

struct Cols {
    ts: Vec<i64>,
    close: Vec<f64>,
    next_open: Vec<f64>,
    hour: Vec<f64>,
    momentum: Vec<f64>,
    prob: Vec<f64>,
    threshold: Vec<f64>,
}

fn cols(n: usize) -> Cols {
    let s = lcg_bars(n);
    let mut next_open: Vec<f64> = s.open[1..].to_vec();
    next_open.push(f64::NAN);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut u = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    // persistent probabilities (an AR(1) around 0.5) so trades last a few bars
    let mut p = 0.5;
    let prob = (0..n)
        .map(|_| {
            p = 0.5 + 0.8 * (p - 0.5) + (u() - 0.5) * 0.12;
            p
        })
        .collect();
    Cols {
        ts: s.ts,
        close: s.close,
        next_open,
        hour: (0..n).map(|i| (9 + i % 7) as f64).collect(),
        momentum: (0..n).map(|_| u() * 2.0 - 1.0).collect(),
        prob,
        threshold: vec![0.6; n],
    }
}

/// `k` distinct configs: ladders of 1–3 rungs from 0.50 upwards, three in four restricted to
/// some hours, every fifth a top_pct, half with shorts, costs and a hold limit.
fn configs(k: usize) -> Vec<Policy> {
    let hours: [Option<Vec<u8>>; 4] = [None, Some(vec![13, 14]), Some(vec![13, 14, 15]), Some(vec![10, 11, 12])];
    (0..k)
        .map(|i| {
            let mut p = if i % 5 == 4 {
                Policy::top_pct(0.05 + (i % 20) as f64 * 0.01)
            } else {
                let lo = 0.50 + (i % 40) as f64 * 0.005;
                let rungs = 1 + i % 3;
                Policy::thr((0..rungs).map(|r| lo + r as f64 * 0.05).collect())
            };
            p.allowed_hours = hours[(i / 5) % 4].clone();
            p.allow_short = i % 2 == 1;
            p.hold_bars = (i / 40) % 10;
            p.commission_bps = 1.0;
            p.slippage_bps = 2.0;
            p
        })
        .collect()
}

fn write_f64(path: &std::path::Path, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write bench data");
}

/// One-rung long-only configs at 100% of equity, their final equities and our time.
fn parity(runs: usize) {
    let out = std::path::PathBuf::from(
        std::env::var("BTB_BENCH_OUT")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-data").into()),
    );
    std::fs::create_dir_all(&out).expect("bench output dir");
    let full = RiskParams { position_size: 1.0, ..RiskProfile::Aggressive.params() };
    let mut cases = Vec::new();
    for (bars, label, k) in [(10_000usize, "10k", 1000usize), (1_000_000, "1M", 12)] {
        // A random walk in log prices (no decay over a million bars, unlike lcg_bars' ±2% steps,
        // which drift to 1e-27 and trip vectorbt's absolute cash tolerances).
        let mut c = cols(bars);
        let mut x: u64 = 77;
        let mut u = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut px = 100.0f64;
        let mut open = Vec::with_capacity(bars);
        for t in 0..bars {
            open.push(px * (1.0 + (u() - 0.5) * 0.004));
            px = open[t] * ((u() - 0.5) * 0.04).exp();
            c.close[t] = px;
        }
        c.next_open = open[1..].to_vec();
        c.next_open.push(f64::NAN);
        write_f64(&out.join(format!("parity_{label}_open.f64")), &open);
        write_f64(&out.join(format!("parity_{label}_close.f64")), &c.close);
        write_f64(&out.join(format!("parity_{label}_prob.f64")), &c.prob);
        let thresholds: Vec<f64> = (0..k).map(|i| 0.50 + 0.1 * i as f64 / k as f64).collect();
        let inp = BacktestInputs::new(&c.ts, &c.close, &c.next_open, &c.prob);
        let policies: Vec<Policy> = thresholds.iter().map(|&t| Policy::thr(vec![t])).collect();
        let mut best = f64::INFINITY;
        let mut finals = Vec::new();
        let mut trades = Vec::new();
        for _ in 0..runs {
            finals.clear();
            trades.clear();
            let t = Instant::now();
            for p in &policies {
                let r = run(black_box(p), black_box(&inp), &full, 252.0).expect("valid parity policy");
                finals.push(*r.equity.last().unwrap_or(&1.0));
                trades.push(r.trades.len());
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{:<22} {:>12.4} {:>14.0}", format!("parity_{k}_{label}"), best, k as f64 / best);
        cases.push(serde_json::json!({
            "label": label, "bars": bars, "configs": k, "thresholds": thresholds,
            "final_equity": finals, "trades": trades, "seconds": best, "configs_per_s": k as f64 / best,
        }));
    }
    let path = out.join("policy_parity.json");
    std::fs::write(&path, serde_json::to_string_pretty(&cases).unwrap_or_default()).expect("write parity json");
    println!("wrote {}", path.display());
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let runs: usize = std::env::var("POLICY_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    if filter.iter().any(|f| f == "parity") {
        parity(runs);
        return;
    }
    let risk = RiskProfile::Balanced.params();
    println!("{:<22} {:>12} {:>14} {:>16} {:>10}", "case", "seconds", "configs/s", "bar-evals/s", "trades/cfg");
    for (bars, label) in [(10_000usize, "10k"), (1_000_000, "1M")] {
        let c = cols(bars);
        let inp = BacktestInputs {
            ts: &c.ts,
            close: &c.close,
            next_open: &c.next_open,
            hour: Some(&c.hour),
            momentum: Some(&c.momentum),
            prob: &c.prob,
            threshold: Some(&c.threshold),
            atr: None,
            session_end: None,
        };
        for k in [12usize, 1000] {
            let name = format!("{k}_configs_{label}_bars");
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            let cfgs = configs(k);
            let mut best = f64::INFINITY;
            let mut trades = 0usize;
            for _ in 0..runs {
                let t = Instant::now();
                trades = 0;
                for p in &cfgs {
                    let r = run(black_box(p), black_box(&inp), &risk, 252.0).expect("valid bench policy");
                    trades += r.trades.len();
                    black_box(&r);
                }
                best = best.min(t.elapsed().as_secs_f64());
            }
            if k == 1000 {
                // the metrics' share: recompute them from one run's equity k times
                let r = run(&cfgs[0], &inp, &risk, 252.0).expect("valid bench policy");
                let t = Instant::now();
                for _ in 0..k {
                    black_box(engine::metrics::from_equity(black_box(&r.equity), 252.0));
                }
                println!("  (metrics alone: {:.4} s for {k} equity series)", t.elapsed().as_secs_f64());
            }
            println!(
                "{:<22} {:>12.4} {:>14.0} {:>16.3e} {:>10.0}",
                name,
                best,
                k as f64 / best,
                (k * bars) as f64 / best,
                trades as f64 / k as f64
            );
        }
    }
}
