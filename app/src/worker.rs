//! The worker side: decode a request, run the engine, stream progress, reply.
//!
//! `public/worker.js` loads this same wasm module in a dedicated worker and calls
//! [`worker_entry`]; the page never runs engine work on its own thread.

use js_sys::{Array, Float64Array, Object, Reflect, Uint8Array};

use engine::oof::FoldResult;
use engine::run::{Run, RunSettings};
use engine::config::SweepConfig;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::columns;
use crate::protocol::{self, FoldMeta, Request, Response};

/// `payload` holds the typed arrays the page reads; `transfer` their buffers, moved not copied.
fn post_with(scope: &DedicatedWorkerGlobalScope, msg: &Response, payload: &Array, transfer: &Array) {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"msg".into(), &protocol::encode(msg).into());
    let _ = Reflect::set(&obj, &"buffers".into(), payload);
    let _ = scope.post_message_with_transfer(&obj, transfer);
}

fn post(scope: &DedicatedWorkerGlobalScope, msg: &Response) {
    post_with(scope, msg, &Array::new(), &Array::new());
}

fn matrix_at(buffers: &Array, i: u32) -> Result<engine::matrix::Matrix, String> {
    let bytes = buffers.get(i).dyn_into::<Uint8Array>().map(|b| b.to_vec()).map_err(|_| "no matrix was sent".to_string())?;
    engine::matrix::Matrix::from_bytes(&bytes).map_err(|e| e.to_string())
}

fn oof_at(buffers: &Array, i: u32) -> Result<engine::oof::Oof, String> {
    let bytes = buffers
        .get(i)
        .dyn_into::<Uint8Array>()
        .map(|b| b.to_vec())
        .map_err(|_| "no out-of-fold probabilities were sent".to_string())?;
    engine::oof::Oof::from_bytes(&bytes).map_err(|e| e.to_string())
}

fn f64s_at(buffers: &Array, i: u32) -> Result<Vec<f64>, String> {
    buffers.get(i).dyn_into::<Float64Array>().map(|a| a.to_vec()).map_err(|_| format!("buffer {i} is not a Float64Array"))
}

/// A `Float64Array` holding `v`, and its buffer for the transfer list.
fn f64_array(v: &[f64]) -> (Float64Array, JsValue) {
    let a = Float64Array::from(v);
    let b = a.buffer().into();
    (a, b)
}

fn sweep(buffers: &Array, settings: &RunSettings, configs: &[SweepConfig], folds: &[FoldMeta]) -> Result<(Vec<Run>, engine::oof::Oof), String> {
    let m = matrix_at(buffers, 0)?;
    let mut results = Vec::with_capacity(folds.len());
    for (i, f) in folds.iter().enumerate() {
        let at = 1 + 2 * i as u32;
        results.push(FoldResult {
            fold: f.fold,
            test_prob: f64s_at(buffers, at)?,
            train_prob: f64s_at(buffers, at + 1)?,
            auc: f.auc.unwrap_or(f64::NAN),
            model_sha: f.model_sha.clone(),
        });
    }
    let oof = engine::oof::assemble(&m, &settings.oof_spec, results).map_err(|e| e.to_string())?;
    let runs = engine::sweep::run(&settings.context(&m, &oof), configs).map_err(|e| e.to_string())?;
    Ok((runs, oof))
}

fn handle(scope: &DedicatedWorkerGlobalScope, req: Request, buffers: Array) {
    match req {
        Request::Plan { body, risk_profile, cadence } => {
            let planned = matrix_at(&buffers, 0).and_then(|m| {
                let configs = engine::sweep::expand(&body, &risk_profile.params()).map_err(|e| e.to_string())?;
                let oof_spec = body.research.oof_spec(&m);
                let base = body.research.base_policy(&m, &cadence);
                base.validate().map_err(|e| e.to_string())?;
                let warnings = engine::sweep::warnings(&configs, &m);
                Ok(Response::Planned { configs, oof_key: oof_spec.key(&m.matrix_sha), oof_spec, base, warnings })
            });
            match planned {
                Ok(resp) => post(scope, &resp),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::SweepCached { settings, configs } => {
            let result = matrix_at(&buffers, 0).and_then(|m| {
                let oof = oof_at(&buffers, 1)?;
                let runs = engine::sweep::run(&settings.context(&m, &oof), &configs).map_err(|e| e.to_string())?;
                let sha = engine::lineage::sha256_hex(&oof.to_bytes());
                Ok((runs, oof.key, sha))
            });
            match result {
                Ok((runs, oof_key, oof_sha)) => post(scope, &Response::Swept { runs, oof_key, oof_sha }),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::OofFold { spec, fold } => {
            let result = matrix_at(&buffers, 0).and_then(|m| {
                let mut progress = |p: engine::oof::OofProgress| {
                    post(scope, &Response::FoldProgress { fold: p.fold, tree: p.tree, trees: p.trees })
                };
                engine::oof::compute_fold(&m, &spec, fold, &mut progress).map_err(|e| e.to_string())
            });
            match result {
                Ok(r) => {
                    let (test, tb) = f64_array(&r.test_prob);
                    let (train, rb) = f64_array(&r.train_prob);
                    let meta = FoldMeta { fold: r.fold, auc: r.auc.is_finite().then_some(r.auc), model_sha: r.model_sha };
                    post_with(scope, &Response::FoldDone { meta }, &Array::of2(&test, &train), &Array::of2(&tb, &rb));
                }
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::Sweep { settings, configs, folds } => match sweep(&buffers, &settings, &configs, &folds) {
            Ok((runs, oof)) => {
                let raw = oof.to_bytes();
                let oof_sha = engine::lineage::sha256_hex(&raw);
                let bytes = Uint8Array::from(raw.as_slice());
                let transfer = Array::of1(&bytes.buffer());
                post_with(scope, &Response::Swept { runs, oof_key: oof.key, oof_sha }, &Array::of1(&bytes), &transfer);
            }
            Err(message) => post(scope, &Response::Failed { message }),
        },
        Request::TrainStrategy { owner, config, base, how } => {
            let result = matrix_at(&buffers, 0).and_then(|m| {
                let mut progress = |p: engine::gbt::TreeProgress| {
                    post(scope, &Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
                };
                let (booster, strategy) = engine::strategy::train(&m, owner.owner(), &config, &base, &how, &mut progress)
                    .map_err(|e| e.to_string())?;
                Ok((strategy, booster.to_model_json().map_err(|e| e.to_string())?))
            });
            match result {
                Ok((strategy, model_json)) => post(scope, &Response::StrategyTrained { strategy, model_json }),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::Signals { model, mut spec, strategy, model_json, tz, layout } => {
            let result = (|| {
                let arrays: Vec<JsValue> = buffers.iter().collect();
                let series = columns::from_arrays(&layout, &arrays).map_err(|e| e.to_string())?;
                let booster = engine::gbt::Booster::from_model_json(&model_json).map_err(|e| e.to_string())?;
                // The training matrix's build, up to the newest bar.
                spec.end = None;
                let scoring = engine::matrix::build_scoring(&model, &series, &tz, &spec).map_err(|e| e.to_string())?;
                engine::strategy::signals(&booster, &strategy, &scoring).map_err(|e| e.to_string())
            })();
            match result {
                Ok(signals) => post(scope, &Response::SignalsDone { signals }),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::Backtest { settings, config } => {
            let result = matrix_at(&buffers, 0).and_then(|m| {
                let oof = oof_at(&buffers, 1)?;
                let e = engine::run::evaluate(&settings.context(&m, &oof), &config).map_err(|e| e.to_string())?;
                Ok(e.report(&m, &settings.cadence))
            });
            match result {
                Ok(report) => post(scope, &Response::BacktestDone { report }),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::Load { name, options } => {
            let bytes = buffers
                .get(0)
                .dyn_into::<js_sys::ArrayBuffer>()
                .map(|b| Uint8Array::new(&b).to_vec())
                .unwrap_or_default();
            let mut last = -1.0;
            let mut progress = |f: f64| {
                if f - last >= 0.01 || f >= 1.0 {
                    last = f;
                    post(scope, &Response::Progress { fraction: f });
                }
            };
            let started = js_sys::Date::now();
            match engine::data::load(&name, &bytes, &options, &mut progress) {
                Ok(dataset) => {
                    let layout: Vec<_> = dataset.series.iter().map(columns::layout).collect();
                    let arrays: Vec<_> = dataset.series.iter().flat_map(columns::to_arrays).collect();
                    let transfer = columns::transfer_list(&arrays);
                    let payload: Array = arrays.iter().collect();
                    let parse_ms = js_sys::Date::now() - started;
                    let resp = Response::Loaded { summary: dataset.summary(), sha: dataset.sha(), layout, parse_ms };
                    post_with(scope, &resp, &payload, &transfer);
                }
                Err(e) => post(scope, &Response::Failed { message: e.to_string() }),
            }
        }
        Request::MatrixSha { model, spec, tz, layout } => {
            let arrays: Vec<JsValue> = buffers.iter().collect();
            let resp = columns::from_arrays(&layout, &arrays)
                .map_err(|e| e.to_string())
                .and_then(|series| engine::matrix::matrix_sha(&model, &series, &tz, &spec).map_err(|e| e.to_string()));
            match resp {
                Ok(matrix_sha) => post(scope, &Response::Sha { matrix_sha }),
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::Train { mut options } => {
            let bytes = buffers.get(0).dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
            let started = js_sys::Date::now();
            let result = engine::matrix::Matrix::from_bytes(&bytes).map_err(|e| e.to_string()).and_then(|m| {
                // Out-of-fold folds are purged by the matrix's own label horizon.
                if options.purge == 0 {
                    options.purge = m.distance_max;
                }
                let mut progress = |p: engine::gbt::TreeProgress| {
                    post(scope, &Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
                };
                let (booster, report) = engine::gbt::fit::fit(&m.feature_names, &m.features, &m.label, &options, &mut progress)
                    .map_err(|e| e.to_string())?;
                let model_json = booster.to_model_json().map_err(|e| e.to_string())?;
                Ok((report, model_json))
            });
            match result {
                Ok((report, model_json)) => {
                    let train_ms = js_sys::Date::now() - started;
                    post(scope, &Response::Trained { report, model_json, train_ms })
                }
                Err(message) => post(scope, &Response::Failed { message }),
            }
        }
        Request::BuildMatrix { model, spec, tz, layout } => {
            let arrays: Vec<JsValue> = buffers.iter().collect();
            let series = match columns::from_arrays(&layout, &arrays) {
                Ok(s) => s,
                Err(e) => return post(scope, &Response::Failed { message: e.to_string() }),
            };
            let started = js_sys::Date::now();
            let mut last = -1.0;
            let mut progress = |f: f64| {
                if f - last >= 0.02 || f >= 1.0 {
                    last = f;
                    post(scope, &Response::Progress { fraction: f });
                }
            };
            match engine::matrix::build_matrix_with_progress(&model, &series, &tz, &spec, &mut progress) {
                Ok(matrix) => {
                    let build_ms = js_sys::Date::now() - started;
                    let bytes = Uint8Array::from(matrix.to_bytes().as_slice());
                    let payload = Array::of1(&bytes);
                    let transfer = Array::of1(&bytes.buffer());
                    let resp = Response::Built {
                        summary: matrix.summary(),
                        preview: matrix.preview(5),
                        feature_names: matrix.feature_names.clone(),
                        build_ms,
                    };
                    post_with(scope, &resp, &payload, &transfer);
                }
                Err(e) => post(scope, &Response::Failed { message: e.to_string() }),
            }
        }
    }
}

#[wasm_bindgen]
pub fn worker_entry() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let inner = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let text = Reflect::get(&data, &"msg".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let buffers: Array = Reflect::get(&data, &"buffers".into())
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .unwrap_or_default();
        match protocol::decode::<Request>(&text) {
            Ok(req) => handle(&inner, req, buffers),
            Err(e) => post(&inner, &Response::Failed { message: e.to_string() }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&scope, &Response::Ready);
}
