//! The worker side: decode a request, run the engine, stream progress, reply.
//!
//! `public/worker.js` loads this same wasm module in a dedicated worker and calls
//! [`worker_entry`]; the page never runs engine work on its own thread.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::columns;
use crate::protocol::{self, Request, Response};

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

fn handle(scope: &DedicatedWorkerGlobalScope, req: Request, buffers: Array) {
    match req {
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
