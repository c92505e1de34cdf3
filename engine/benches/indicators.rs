//! Indicator throughput on 1M synthetic bars: each registered indicator (TA-Lib default
//! parameters) and the whole set, side by side with TA-Lib.
//!
//! ```text
//! python tests/golden/bench_talib.py --json target/talib_bench.json   # TA-Lib, once
//! cargo bench -p engine --bench indicators                            # ours, TA-Lib, ratio
//! cargo bench -p engine --bench indicators -- willr macd              # only specs containing these
//! ```
//!
//! The bars come from a 64-bit LCG that `tests/golden/bench_talib.py` reproduces bit for bit, so
//! that script times TA-Lib (the `ta-lib` wheel, one call on numpy arrays) on the same arrays. When
//! `target/talib_bench.json` exists its times are printed next to ours with the ratio
//! ours/TA-Lib (below 1 is faster). Best of `INDICATOR_BENCH_RUNS` (default 15) runs each; the
//! machine's noise matters, so run both sides in the same session (e.g. both under
//! `taskset -c 1`). A full run also writes `target/indicator-bench.json`, which the script reads
//! to print the same ratios from its side.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use engine::indicators::{Indicator, Ohlcv};

const N: usize = 1_000_000;
const RUNS: usize = 15;

use engine::synth::{lcg_bars, BENCH_SPECS as SPECS};

fn bars() -> [Vec<f64>; 5] {
    let s = lcg_bars(N);
    [s.open, s.high, s.low, s.close, s.volume]
}

fn best_of<F: FnMut()>(runs: usize, mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// TA-Lib seconds per spec (and `__all__`) from `target/talib_bench.json`, if present and made
/// from the same bars.
fn talib_times(root: &Path, checksum: f64) -> HashMap<String, f64> {
    let path = root.join("target/talib_bench.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return HashMap::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        eprintln!("could not parse {}", path.display());
        return HashMap::new();
    };
    if let Some(c) = json.get("checksum").and_then(|c| c.as_f64()) {
        if (c - checksum).abs() > 1e-3 {
            eprintln!("WARNING: {} was made from other bars (checksum {c})", path.display());
        }
    }
    let mut out = HashMap::new();
    if let Some(secs) = json.get("seconds").and_then(|s| s.as_object()) {
        for (k, v) in secs {
            if let Some(v) = v.as_f64() {
                out.insert(k.clone(), v);
            }
        }
    }
    println!("TA-Lib times from {}", path.display());
    out
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters the specs by substring.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let runs = std::env::var("INDICATOR_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(RUNS).max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let [o, h, l, c, v] = bars();
    let checksum: f64 = c.iter().sum();
    println!("{N} bars, close checksum {checksum:.6}, best of {runs} runs");
    let talib = talib_times(&root, checksum);
    let view = Ohlcv::new(&o, &h, &l, &c, &v);
    let inds: Vec<Indicator> = SPECS
        .iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.contains(f.as_str())))
        .map(|s| Indicator::parse(s).unwrap())
        .collect();
    let ratio = |ours: f64, key: &str| match talib.get(key) {
        Some(&t) if t > 0.0 => (format!("{:10.3}", t * 1e3), format!("{:8.2}", ours / t)),
        _ => (format!("{:>10}", "-"), format!("{:>8}", "-")),
    };
    println!("{:<20} {:>10} {:>8} {:>10} {:>8}", "indicator", "ours ms", "ns/bar", "talib ms", "ratio");
    let mut rows = Vec::new();
    let (mut sum, mut talib_sum) = (0.0, 0.0);
    for ind in &inds {
        let secs = best_of(runs, || {
            black_box(ind.compute(black_box(&view)).unwrap());
        });
        let spec = ind.spec();
        sum += secs;
        talib_sum += talib.get(&spec).copied().unwrap_or(f64::NAN);
        let (t, r) = ratio(secs, &spec);
        println!("{spec:<20} {:>10.3} {:>8.2} {t} {r}", secs * 1e3, secs * 1e9 / N as f64);
        rows.push(format!("\"{spec}\": {secs:e}"));
    }
    if talib_sum.is_finite() && talib_sum > 0.0 {
        println!(
            "{:<20} {:>10.3} {:>8} {:10.3} {:8.2}",
            "sum of bests",
            sum * 1e3,
            "",
            talib_sum * 1e3,
            sum / talib_sum
        );
    }
    if inds.len() == SPECS.len() {
        let all = best_of(runs, || {
            for ind in &inds {
                black_box(ind.compute(black_box(&view)).unwrap());
            }
        });
        let (t, r) = ratio(all, "__all__");
        println!("{:<20} {:>10.3} {:>8} {t} {r}", "whole set", all * 1e3, "");
        rows.push(format!("\"__all__\": {all:e}"));
        let json = format!(
            "{{\"bars\": {N}, \"checksum\": {checksum:.6}, \"runs\": {runs}, \"seconds\": {{{}}}}}\n",
            rows.join(", ")
        );
        let path = root.join("target/indicator-bench.json");
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("could not write {}: {e}", path.display());
        } else {
            println!("wrote {}", path.display());
        }
    }
    // The full swingsigma matrix (every feature of the default template, label and policy
    // columns) on the same bars: the Build phase's cost beyond the indicators alone.
    if filters.is_empty() {
        let series = lcg_bars(N);
        let model = engine::model::ModelSpec::new("swingsigma", "SYN").resolve().expect("swingsigma resolves");
        let spec = engine::matrix::BuildSpec::default();
        let mut rows = 0;
        let secs = best_of(3, || {
            let m = engine::matrix::build_matrix(&model, &series, "UTC", &spec).expect("matrix builds");
            rows = m.rows();
            black_box(&m);
        });
        println!(
            "{:<20} {:>10.3} ms  ({} rows × {} feature specs, best of 3)",
            "swingsigma matrix",
            secs * 1e3,
            rows,
            model.features.len()
        );
    }
}
