//! Indicator throughput on 1M synthetic bars: each registered indicator (TA-Lib default
//! parameters) and the whole set. `cargo bench -p engine --bench indicators`.
//!
//! The bars come from a 64-bit LCG that `tests/golden/bench_talib.py` reproduces bit for bit, so
//! that script times TA-Lib on the same arrays. Results are also written to
//! `target/indicator-bench.json`, which the script reads to print ours/TA-Lib ratios.

use std::hint::black_box;
use std::time::Instant;

use engine::indicators::{Indicator, Ohlcv};

const N: usize = 1_000_000;
const RUNS: usize = 7;

/// The benchmark specs (TA-Lib defaults, spelled out so both sides agree).
const SPECS: &[&str] = &[
    "sma:30",
    "ema:30",
    "wma:30",
    "dema:30",
    "tema:30",
    "kama:30",
    "rsi:14",
    "stoch:5:3:3",
    "stochrsi:14:5:3",
    "macd:12:26:9",
    "ppo:12:26",
    "roc:10",
    "mom:10",
    "cci:14",
    "cmo:14",
    "willr:14",
    "mfi:14",
    "adx:14",
    "plus_di:14",
    "minus_di:14",
    "dx:14",
    "aroon:14",
    "aroonosc:14",
    "ultosc:7:14:28",
    "bbands:20:2",
    "atr:14",
    "natr:14",
    "trange",
    "obv",
    "ad",
    "adosc:3:10",
    "stddev:5:1",
    "linearreg_slope:14",
];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / 9007199254740992.0
    }
}

fn bars() -> [Vec<f64>; 5] {
    let mut rng = Lcg(12345);
    let (mut o, mut h, mut l, mut c, mut v) = (
        Vec::with_capacity(N),
        Vec::with_capacity(N),
        Vec::with_capacity(N),
        Vec::with_capacity(N),
        Vec::with_capacity(N),
    );
    let mut px = 100.0f64;
    for _ in 0..N {
        let open = px;
        px *= 1.0 + (rng.next() - 0.5) * 0.04;
        let hi = open.max(px) * (1.0 + rng.next() * 0.01);
        let lo = open.min(px) * (1.0 - rng.next() * 0.01);
        let vol = (rng.next() * 1e6).floor() + 1.0;
        o.push(open);
        h.push(hi);
        l.push(lo);
        c.push(px);
        v.push(vol);
    }
    [o, h, l, c, v]
}

fn best_of<F: FnMut()>(mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let [o, h, l, c, v] = bars();
    let checksum: f64 = c.iter().sum();
    println!("{N} bars, close checksum {checksum:.6}, best of {RUNS} runs");
    let view = Ohlcv::new(&o, &h, &l, &c, &v);
    let inds: Vec<Indicator> = SPECS.iter().map(|s| Indicator::parse(s).unwrap()).collect();
    let mut rows = Vec::new();
    let mut sum = 0.0;
    for ind in &inds {
        let secs = best_of(|| {
            black_box(ind.compute(black_box(&view)).unwrap());
        });
        sum += secs;
        println!(
            "{:<22} {:>9.3} ms  {:>7.2} ns/bar",
            ind.spec(),
            secs * 1e3,
            secs * 1e9 / N as f64
        );
        rows.push(format!("\"{}\": {secs:e}", ind.spec()));
    }
    let all = best_of(|| {
        for ind in &inds {
            black_box(ind.compute(black_box(&view)).unwrap());
        }
    });
    println!(
        "{:<22} {:>9.3} ms  (sum of per-indicator bests {:.3} ms)",
        "whole set",
        all * 1e3,
        sum * 1e3
    );
    rows.push(format!("\"__all__\": {all:e}"));
    let json = format!(
        "{{\"bars\": {N}, \"checksum\": {checksum:.6}, \"seconds\": {{{}}}}}\n",
        rows.join(", ")
    );
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/indicator-bench.json");
    if let Err(e) = std::fs::write(&path, json) {
        eprintln!("could not write {}: {e}", path.display());
    } else {
        println!("wrote {}", path.display());
    }
}
