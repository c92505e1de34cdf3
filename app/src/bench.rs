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

/// Trains the gradient-boosted tree model in wasm on a matrix passed in column-major order
/// (`x[j * rows + i]`, NaN = missing), with the parameters `tests/gbt/compare_lightgbm.py` gives
/// `btb train` (200 trees, 31 leaves, lr 0.1, 255 bins, min 20 rows per leaf, no holdout), and
/// times it and a prediction pass over the same rows. The `model_sha` must equal the CLI's.
#[wasm_bindgen]
pub fn bench_gbt(x: Vec<f64>, n_features: usize, y: Vec<f64>, trees: usize) -> String {
    let rows = y.len();
    if n_features == 0 || x.len() != rows * n_features {
        return serde_json::json!({ "error": "x must hold rows × n_features values" }).to_string();
    }
    let names: Vec<String> = (0..n_features).map(|j| format!("f{j}")).collect();
    let columns: Vec<Vec<f64>> = x.chunks(rows).map(<[f64]>::to_vec).collect();
    let opts = engine::gbt::fit::FitOptions {
        params: engine::gbt::TrainParams {
            num_trees: trees,
            max_leaves: 31,
            learning_rate: 0.1,
            max_bin: 255,
            min_data_in_leaf: 20,
            ..Default::default()
        },
        valid_fraction: 0.0,
        calibration: engine::gbt::fit::CalibrationKind::None,
        calibration_folds: 0,
        purge: 0,
    };
    let t = now_ms();
    let fitted = engine::gbt::fit::fit(&names, &columns, &y, &opts, &mut |_| {});
    let train_ms = now_ms() - t;
    match fitted {
        Ok((booster, report)) => {
            let matrix = engine::gbt::ColumnMatrix::new(&names, &columns);
            let mut predicted = 0;
            let predict_ms = best_of(3, || {
                if let Ok(m) = &matrix {
                    predicted = booster.predict_proba(m).map(|p| p.len()).unwrap_or(0);
                }
            });
            serde_json::json!({
                "rows": rows, "features": n_features, "trees": report.trees,
                "train_ms": train_ms, "predict_ms": predict_ms, "predicted": predicted,
                "model_sha": report.model_sha,
            })
            .to_string()
        }
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}
