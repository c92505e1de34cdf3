//! The worker side: decode a request, run the engine, stream progress, reply.
//!
//! `public/worker.js` loads this same wasm module in a dedicated worker and calls
//! [`worker_entry`]; the page never runs engine work on its own thread.

use js_sys::{Array, Float64Array, Object, Reflect, Uint8Array};

use engine::config::SweepConfig;
use engine::error::Report;
use engine::oof::FoldResult;
use engine::run::{Run, RunSettings};
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

/// Why a request ended without its answer: an engine step's error (sent whole, as its
/// [`Report`]), or a request the worker could not use (no engine step ran).
enum Failure {
    Engine(Report),
    Rejected(String),
}

/// `?` on any engine step keeps its typed error as a report.
impl<E: Into<engine::error::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Engine(Report::from(e))
    }
}

impl From<columns::ColumnsError> for Failure {
    fn from(e: columns::ColumnsError) -> Self {
        Failure::Rejected(e.to_string())
    }
}

/// A request's final answer with the buffers that go with it.
struct Reply {
    msg: Response,
    payload: Array,
    transfer: Array,
}

impl Reply {
    fn plain(msg: Response) -> Reply {
        Reply { msg, payload: Array::new(), transfer: Array::new() }
    }
}

/// The one place a request's outcome becomes a message.
fn reply(scope: &DedicatedWorkerGlobalScope, outcome: Result<Reply, Failure>) {
    match outcome {
        Ok(r) => post_with(scope, &r.msg, &r.payload, &r.transfer),
        Err(Failure::Engine(error)) => post(scope, &Response::Failed { error }),
        Err(Failure::Rejected(message)) => post(scope, &Response::Rejected { message }),
    }
}

fn matrix_at(buffers: &Array, i: u32) -> Result<engine::matrix::Matrix, Failure> {
    let bytes = buffers
        .get(i)
        .dyn_into::<Uint8Array>()
        .map(|b| b.to_vec())
        .map_err(|_| Failure::Rejected("no matrix was sent".to_string()))?;
    Ok(engine::matrix::Matrix::from_bytes(&bytes)?)
}

fn oof_at(buffers: &Array, i: u32) -> Result<engine::oof::Oof, Failure> {
    let bytes = buffers
        .get(i)
        .dyn_into::<Uint8Array>()
        .map(|b| b.to_vec())
        .map_err(|_| Failure::Rejected("no out-of-fold probabilities were sent".to_string()))?;
    Ok(engine::oof::Oof::from_bytes(&bytes)?)
}

fn f64s_at(buffers: &Array, i: u32) -> Result<Vec<f64>, Failure> {
    buffers
        .get(i)
        .dyn_into::<Float64Array>()
        .map(|a| a.to_vec())
        .map_err(|_| Failure::Rejected(format!("buffer {i} is not a Float64Array")))
}

/// A `Float64Array` holding `v`, and its buffer for the transfer list.
fn f64_array(v: &[f64]) -> (Float64Array, JsValue) {
    let a = Float64Array::from(v);
    let b = a.buffer().into();
    (a, b)
}

fn sweep(
    buffers: &Array,
    settings: &RunSettings,
    configs: &[SweepConfig],
    folds: &[FoldMeta],
) -> Result<(Vec<Run>, engine::oof::Oof), Failure> {
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
    let oof = engine::oof::assemble(&m, &settings.oof_spec, results)?;
    let runs = engine::sweep::run(&settings.context(&m, &oof), configs)?;
    Ok((runs, oof))
}

fn handle(scope: &DedicatedWorkerGlobalScope, req: Request, buffers: Array) -> Result<Reply, Failure> {
    match req {
        Request::Plan { body, model, created } => {
            let m = matrix_at(&buffers, 0)?;
            Ok(Reply::plain(Response::Planned { plan: body.plan(&model, &m, created)? }))
        }
        Request::SweepCached { settings, configs } => {
            let m = matrix_at(&buffers, 0)?;
            let oof = oof_at(&buffers, 1)?;
            let runs = engine::sweep::run(&settings.context(&m, &oof), &configs)?;
            let oof_sha = engine::lineage::sha256_hex(&oof.to_bytes());
            Ok(Reply::plain(Response::Swept { runs, oof_key: oof.key, oof_sha }))
        }
        Request::OofFold { spec, fold } => {
            let m = matrix_at(&buffers, 0)?;
            let mut progress = |p: engine::oof::OofProgress| {
                post(scope, &Response::FoldProgress { fold: p.fold, tree: p.tree, trees: p.trees })
            };
            let r = engine::oof::compute_fold(&m, &spec, fold, &mut progress)?;
            let (test, tb) = f64_array(&r.test_prob);
            let (train, rb) = f64_array(&r.train_prob);
            let meta = FoldMeta { fold: r.fold, auc: r.auc.is_finite().then_some(r.auc), model_sha: r.model_sha };
            Ok(Reply {
                msg: Response::FoldDone { meta },
                payload: Array::of2(&test, &train),
                transfer: Array::of2(&tb, &rb),
            })
        }
        Request::Sweep { settings, configs, folds } => {
            let (runs, oof) = sweep(&buffers, &settings, &configs, &folds)?;
            let raw = oof.to_bytes();
            let oof_sha = engine::lineage::sha256_hex(&raw);
            let bytes = Uint8Array::from(raw.as_slice());
            let transfer = Array::of1(&bytes.buffer());
            Ok(Reply {
                msg: Response::Swept { runs, oof_key: oof.key, oof_sha },
                payload: Array::of1(&bytes),
                transfer,
            })
        }
        Request::TrainStrategy { owner, config, base, how } => {
            let m = matrix_at(&buffers, 0)?;
            let mut progress = |p: engine::gbt::TreeProgress| {
                post(scope, &Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
            };
            let (booster, strategy) = engine::strategy::train(&m, owner.owner(), &config, &base, &how, &mut progress)?;
            let model_json = booster.to_model_json()?;
            Ok(Reply::plain(Response::StrategyTrained { strategy, model_json }))
        }
        Request::Signals { model, spec, strategy, model_json, tz, layout } => {
            let arrays: Vec<JsValue> = buffers.iter().collect();
            let series = columns::from_arrays(&layout, &arrays)?;
            let booster = engine::gbt::Booster::from_model_json(&model_json)?;
            let signals = engine::strategy::latest_signals(&model, &series, &tz, &spec, &booster, &strategy)?;
            Ok(Reply::plain(Response::SignalsDone { signals }))
        }
        Request::Backtest { settings, config } => {
            let m = matrix_at(&buffers, 0)?;
            let oof = oof_at(&buffers, 1)?;
            let e = engine::run::evaluate(&settings.context(&m, &oof), &config)?;
            Ok(Reply::plain(Response::BacktestDone { report: Box::new(e.report(&m, &settings.cadence)) }))
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
            let dataset = engine::data::load(&name, &bytes, &options, &mut progress)?;
            let layout = columns::layouts(&dataset.series);
            let arrays: Vec<_> = dataset.series.iter().flat_map(columns::to_arrays).collect();
            let transfer = columns::transfer_list(&arrays);
            let payload: Array = arrays.iter().collect();
            let parse_ms = js_sys::Date::now() - started;
            let msg = Response::Loaded { summary: dataset.summary(), sha: dataset.sha(), layout, parse_ms };
            Ok(Reply { msg, payload, transfer })
        }
        Request::MatrixSha { model, spec, tz, layout } => {
            let arrays: Vec<JsValue> = buffers.iter().collect();
            let series = columns::from_arrays(&layout, &arrays)?;
            let matrix_sha = engine::matrix::matrix_sha(&model, &series, &tz, &spec)?;
            Ok(Reply::plain(Response::Sha { matrix_sha }))
        }
        Request::Train { mut options } => {
            let bytes = buffers.get(0).dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
            let started = js_sys::Date::now();
            let m = engine::matrix::Matrix::from_bytes(&bytes)?;
            // Out-of-fold folds are purged by the matrix's own label horizon.
            if options.purge == 0 {
                options.purge = m.distance_max;
            }
            let mut progress = |p: engine::gbt::TreeProgress| {
                post(scope, &Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
            };
            let (booster, report) =
                engine::gbt::fit::fit(&m.feature_names, &m.features, &m.label, &options, &mut progress)?;
            let model_json = booster.to_model_json()?;
            let train_ms = js_sys::Date::now() - started;
            Ok(Reply::plain(Response::Trained { report, model_json, train_ms }))
        }
        Request::BuildMatrix { model, spec, tz, layout } => {
            let arrays: Vec<JsValue> = buffers.iter().collect();
            let series = columns::from_arrays(&layout, &arrays)?;
            let started = js_sys::Date::now();
            let mut last = -1.0;
            let mut progress = |f: f64| {
                if f - last >= 0.02 || f >= 1.0 {
                    last = f;
                    post(scope, &Response::Progress { fraction: f });
                }
            };
            let matrix = engine::matrix::build_matrix_with_progress(&model, &series, &tz, &spec, &mut progress)?;
            let build_ms = js_sys::Date::now() - started;
            let bytes = Uint8Array::from(matrix.to_bytes().as_slice());
            let payload = Array::of1(&bytes);
            let transfer = Array::of1(&bytes.buffer());
            let msg = Response::Built {
                summary: matrix.summary(),
                preview: matrix.preview(5),
                feature_names: matrix.feature_names.clone(),
                build_ms,
            };
            Ok(Reply { msg, payload, transfer })
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
        let buffers: Array =
            Reflect::get(&data, &"buffers".into()).ok().and_then(|v| v.dyn_into().ok()).unwrap_or_default();
        let outcome = protocol::decode::<Request>(&text)
            .map_err(|e| Failure::Rejected(e.to_string()))
            .and_then(|req| handle(&inner, req, buffers));
        reply(&inner, outcome);
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&scope, &Response::Ready);
}
