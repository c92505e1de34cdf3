//! The engine's speed inside the browser, on the same synthetic bars as the native benches
//! (`engine::synth`). Called by `tests/bench/engine.mjs` through `window.wasmBindings`; it is a
//! measurement, not a feature, and runs only when asked.

use engine::indicators::{Indicator, Ohlcv};
use engine::synth::{lcg_bars, BENCH_SPECS};
use wasm_bindgen::prelude::*;

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = now_ms();
        f();
        best = best.min(now_ms() - t);
    }
    best
}

/// Milliseconds per indicator spec, for the whole set, and for the full swingsigma matrix on
/// `n` bars, as JSON: `{"n", "indicators": {spec: ms}, "whole_set_ms", "matrix_ms", "rows"}`.
#[wasm_bindgen]
pub fn bench_engine(n: usize, runs: usize) -> String {
    let runs = runs.max(1);
    let series = lcg_bars(n);
    let bars = Ohlcv::from(&series);
    let specs: Vec<Indicator> = BENCH_SPECS.iter().filter_map(|s| Indicator::parse(s).ok()).collect();
    let mut per = serde_json::Map::new();
    for ind in &specs {
        let ms = best_of(runs, || {
            let _ = std::hint::black_box(ind.compute(&bars));
        });
        per.insert(ind.spec(), ms.into());
    }
    let whole = best_of(runs, || {
        for ind in &specs {
            let _ = std::hint::black_box(ind.compute(&bars));
        }
    });
    let mut rows = 0;
    let matrix_ms = match engine::model::ModelSpec::new("swingsigma", "SYN").resolve() {
        Ok(model) => best_of(1, || {
            if let Ok(m) = engine::matrix::build_matrix(&model, &series, "UTC", &Default::default()) {
                rows = m.rows();
            }
        }),
        Err(_) => f64::NAN,
    };
    serde_json::json!({
        "n": n,
        "indicators": per,
        "whole_set_ms": whole,
        "matrix_ms": matrix_ms,
        "rows": rows,
    })
    .to_string()
}
