//! The page's handle on its engine workers.
//!
//! Each worker is the app's own wasm module started by `worker.js`. Every request gets an id;
//! the worker's messages for it (progress, then one final answer) come back with that id and are
//! routed to the caller waiting on it, so any number of requests may be in flight on one worker:
//! the worker answers them in turn. A worker that dies fails every request it holds, each with
//! what it was doing; its next request starts a fresh instance in its place, as does a request
//! to a worker put to sleep when idle (a wasm instance never returns memory, so an idle one is
//! stopped). No borrow is held across an await.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use js_sys::{Array, ArrayBuffer, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use engine::config::{Config, SweepConfig};
use engine::data::{LoadOptions, SeriesLayout, Summary};
use engine::gbt::fit::{FitOptions, FitReport};
use engine::matrix::{BuildSpec, BuildSummary, Found, Preview};
use engine::model::{Model, ModelRecord};
use engine::oof::OofSpec;
use engine::policy::Policy;
use engine::rebase::Rebased;
use engine::run::{BacktestReport, RunSettings};
use engine::scan::{Scan, ScanSpec};
use engine::strategy::{FinalFit, OwnerRecord, Signal, Strategy};
use engine::sweep::{Plan, SweepBody};
use js_sys::Uint8Array;

use crate::db::Store;
use crate::error::AppError;
use crate::protocol::{self, FoldMeta, ImportWrites, ProtocolError, Request, RequestId, Response, StoreSnapshot};

/// What reaches a waiting request: a message of its own with its buffers, or why none will.
type Message = Result<(Response, Array), AppError>;

/// A worker idle this long is stopped: a wasm instance never gives memory back, so a worker
/// that built a million-row matrix would otherwise keep that memory for the life of the page.
/// The next request starts a fresh one (the module is cached by the browser).
const IDLE_MS: i32 = 15_000;

/// A worker whose instance grew past this (a matrix of a few hundred thousand rows) is stopped
/// by [`EngineWorker::release_if_big`] when a sweep needs the memory.
const BIG_HEAP: f64 = 512.0 * 1024.0 * 1024.0;

/// How many matrices one worker keeps: one, so a worker never holds more than a single copy of
/// a (possibly 1M-row) matrix; a request on another matrix replaces it.
const HELD_PER_WORKER: usize = 1;

/// A request waiting for its answer.
struct Pending {
    /// [`Request::describe`], for the error when the worker dies under it.
    what: String,
    tx: UnboundedSender<Message>,
}

/// A running JS worker and the handlers it calls (they live as long as it does).
struct Instance {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(ErrorEvent)>,
    _onmessageerror: Closure<dyn FnMut(MessageEvent)>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// What the worker's event handlers and the requests share.
#[derive(Default)]
struct Shared {
    /// Set when the instance is gone: it crashed (a panic ends a wasm instance), was stopped, or
    /// was put to sleep when idle. The next request starts a fresh one.
    dead: Cell<bool>,
    instance: RefCell<Option<Instance>>,
    next_id: Cell<RequestId>,
    pending: RefCell<BTreeMap<RequestId, Pending>>,
    /// The matrices the worker holds, oldest first: the page decides, the worker obeys in the
    /// order it receives requests, so this mirror is exact.
    held: RefCell<Vec<String>>,
    /// Bumped whenever the worker is used; an idle timer only stops the worker if it still
    /// reads the value it was set with.
    idle: Cell<u32>,
    /// The bytes the worker's wasm instance holds, as its last message said.
    heap: Cell<f64>,
}

impl Shared {
    /// Ends the instance (terminated with its handlers) and forgets what it held; the next
    /// request starts a fresh one.
    fn sleep(&self) {
        self.dead.set(true);
        drop(self.instance.borrow_mut().take());
        self.held.borrow_mut().clear();
    }

    /// Ends every waiting request with `why(what it was doing)`.
    fn fail_all(&self, why: impl Fn(&str) -> String) {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        for p in pending.into_values() {
            let _ = p.tx.unbounded_send(Err(AppError::Worker(why(&p.what))));
        }
    }

    /// Routes one message to its request; the final one closes it. A crash ends the worker:
    /// the requests queued behind the one that crashed end too.
    fn route(&self, id: RequestId, msg: Message) {
        let crashed = matches!(&msg, Ok((Response::Crashed { .. }, _)));
        let last = !matches!(&msg, Ok((m, _)) if m.is_progress());
        let tx = {
            let mut pending = self.pending.borrow_mut();
            if last {
                pending.remove(&id).map(|p| p.tx)
            } else {
                pending.get(&id).map(|p| p.tx.clone())
            }
        };
        match tx {
            Some(tx) => {
                let _ = tx.unbounded_send(msg);
            }
            // A request the page gave up on (its future dropped): nobody is waiting.
            None => web_sys::console::debug_1(
                &format!("engine worker: a reply to request {id}, which no one awaits").into(),
            ),
        }
        if crashed {
            self.dead.set(true);
            self.fail_all(|what| format!("the engine worker crashed on an earlier request, before {what}"));
        }
    }
}

/// Removes a request's entry when its caller stops waiting (the future is dropped), so a late
/// answer finds no one instead of a stale channel.
struct Waiting<'a> {
    shared: &'a Shared,
    id: RequestId,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.shared.pending.borrow_mut().remove(&self.id);
    }
}

/// One engine worker as the page sees it: requests in flight by id and the matrices it holds.
/// Its JS worker may be replaced underneath (after a crash, a cancel, or idle sleep); a request
/// never finds it gone.
pub struct EngineWorker {
    shared: Rc<Shared>,
}

/// A parsed file as it arrives from a worker: each series' bars in a Blob (`columns`).
pub struct Loaded {
    pub summary: Summary,
    pub sha: String,
    pub layout: Vec<SeriesLayout>,
    pub parse_ms: f64,
    /// Per series, its Blob (`columns`).
    pub arrays: Vec<Vec<JsValue>>,
}

/// A built matrix as it arrives from a worker.
pub struct Built {
    pub summary: BuildSummary,
    pub preview: Preview,
    pub feature_names: Vec<String>,
    pub build_ms: f64,
    /// `Matrix::to_bytes` as a `Blob` the worker made: stored as is, read by workers.
    pub bytes: web_sys::Blob,
}

/// A stored matrix a request works on: its sha, and the store to read it from when the worker
/// does not hold it yet.
#[derive(Clone, Copy)]
pub struct MatrixRef<'a> {
    pub sha: &'a str,
    pub store: &'a Store,
}

impl Drop for EngineWorker {
    fn drop(&mut self) {
        // Also breaks the cycle between the instance's handlers and `shared`.
        drop(self.shared.instance.borrow_mut().take());
        self.shared.fail_all(|what| format!("the engine worker was stopped while {what}"));
    }
}

impl EngineWorker {
    /// Starts a worker and waits until its wasm is ready.
    pub async fn spawn() -> Result<Rc<EngineWorker>, AppError> {
        let shared = Rc::new(Shared::default());
        shared.next_id.set(1);
        start(&shared).await?;
        Ok(Rc::new(EngineWorker { shared }))
    }

    /// A fresh instance in place of one that is gone; the matrices it held are gone with it.
    async fn revive(&self) -> Result<(), AppError> {
        self.shared.sleep();
        start(&self.shared).await?;
        self.shared.dead.set(false);
        Ok(())
    }

    pub fn is_dead(&self) -> bool {
        self.shared.dead.get()
    }

    /// Cancels a pending idle stop: the worker is about to be used.
    pub fn keep_alive(&self) {
        self.shared.idle.set(self.shared.idle.get().wrapping_add(1));
    }

    /// Stops the worker after [`IDLE_MS`] unless it is used again before then.
    fn retire_when_idle(&self) {
        if self.in_flight() > 0 || self.is_dead() {
            return;
        }
        self.keep_alive();
        let (mark, shared) = (self.shared.idle.get(), self.shared.clone());
        let stop = Closure::once_into_js(move || {
            if shared.idle.get() == mark && shared.pending.borrow().is_empty() && !shared.dead.get() {
                shared.sleep();
            }
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(stop.unchecked_ref(), IDLE_MS);
        }
    }

    /// Stops the worker now if it is idle and its instance grew large (a build of a million
    /// rows): a sweep about to start needs that memory more than this worker needs to be warm.
    pub fn release_if_big(&self) {
        if self.in_flight() == 0 && !self.is_dead() && self.shared.heap.get() > BIG_HEAP {
            self.shared.sleep();
        }
    }

    /// Requests sent and not yet answered (the least busy worker takes the next one).
    pub fn in_flight(&self) -> usize {
        self.shared.pending.borrow().len()
    }

    /// Stops the worker mid-request: every request it holds ends with `message`, and the worker
    /// is dead (replaced before its next use).
    pub fn cancel(&self, message: &str) {
        self.shared.sleep();
        self.shared.fail_all(|_| message.to_string());
    }

    /// Sends one request and waits for its answer: `answer` maps the final message to
    /// `Some(result)`, or `None` when it is not the kind this request expects (an error, never
    /// a hang); `progress` sees every progress message. `payload` is what the worker reads,
    /// `transfer` the `ArrayBuffer`s moved rather than copied.
    async fn call<T>(
        &self,
        req: &Request,
        payload: &Array,
        transfer: &Array,
        progress: impl FnMut(&Response),
        answer: impl FnOnce(Response, Array) -> Option<Result<T, AppError>>,
    ) -> Result<T, AppError> {
        self.keep_alive();
        let out = self.exchange(req, payload, transfer, progress, answer).await;
        self.retire_when_idle();
        out
    }

    /// [`EngineWorker::call`] without the idle bookkeeping.
    async fn exchange<T>(
        &self,
        req: &Request,
        payload: &Array,
        transfer: &Array,
        mut progress: impl FnMut(&Response),
        answer: impl FnOnce(Response, Array) -> Option<Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let what = req.describe();
        if self.is_dead() {
            self.revive().await?;
        }
        let id = self.shared.next_id.get();
        self.shared.next_id.set(id.wrapping_add(1).max(1));
        let (tx, mut rx) = unbounded();
        self.shared.pending.borrow_mut().insert(id, Pending { what: what.clone(), tx });
        let _waiting = Waiting { shared: &self.shared, id };
        let obj = protocol::encode(id, req)?;
        let _ = Reflect::set(&obj, &"buffers".into(), payload);
        let posted = match self.shared.instance.borrow().as_ref() {
            Some(i) => i.worker.post_message_with_transfer(&obj, transfer),
            None => Err(JsValue::from_str("it is not running")),
        };
        posted.map_err(|e| AppError::Worker(format!("cannot reach the engine worker for {what}: {e:?}")))?;
        loop {
            match rx.next().await {
                Some(Ok((Response::Failed { error }, _))) => return Err(AppError::Engine(error)),
                Some(Ok((Response::Rejected { message }, _))) => return Err(ProtocolError::Rejected(message).into()),
                // A file a dependency cannot read: the sentence `btb` prints for it.
                Some(Ok((Response::Crashed { error: Some(error), .. }, _))) => return Err(AppError::Engine(error)),
                Some(Ok((Response::Crashed { message, error: None }, _))) => {
                    return Err(AppError::Worker(format!("the engine worker crashed while {what}: {message}")))
                }
                Some(Ok((msg, _))) if msg.is_progress() => progress(&msg),
                Some(Ok((msg, buffers))) => {
                    let reply = msg.name();
                    return answer(msg, buffers)
                        .unwrap_or_else(|| Err(ProtocolError::Unexpected { request: what, reply }.into()));
                }
                Some(Err(e)) => return Err(e),
                None => return Err(AppError::Worker(format!("the engine worker stopped while {what}"))),
            }
        }
    }

    /// Makes sure the worker holds `m`: sent once (read from the store, transferred), named by
    /// every later request. The oldest held matrix beyond [`HELD_PER_WORKER`] is dropped.
    pub async fn hold(&self, m: MatrixRef<'_>) -> Result<(), AppError> {
        self.keep_alive();
        // A fresh instance holds nothing: revive first, so the mirror below is its.
        if self.is_dead() {
            self.revive().await?;
        }
        if self.shared.held.borrow().iter().any(|s| s == m.sha) {
            return Ok(());
        }
        let bytes = m
            .store
            .matrix_bytes(m.sha)
            .await?
            .ok_or_else(|| AppError::missing("this model's matrix is no longer stored: build it again"))?;
        // Another request may have sent it while this one read the store.
        let evict = {
            let mut held = self.shared.held.borrow_mut();
            if held.iter().any(|s| s == m.sha) {
                return Ok(());
            }
            held.push(m.sha.to_string());
            let over = held.len().saturating_sub(HELD_PER_WORKER);
            held.drain(..over).collect::<Vec<_>>()
        };
        let req = Request::HoldMatrix { matrix_sha: m.sha.to_string(), evict };
        // A `Blob` is sent as a handle (the worker reads it); bytes are moved, not copied.
        let transfer = bytes.dyn_ref::<Uint8Array>().map(|a| Array::of1(&a.buffer())).unwrap_or_default();
        let held = self
            .call(
                &req,
                &Array::of1(&bytes),
                &transfer,
                |_| {},
                |msg, _| match msg {
                    Response::Held { .. } => Some(Ok(())),
                    _ => None,
                },
            )
            .await;
        if held.is_err() {
            self.shared.held.borrow_mut().retain(|s| s != m.sha);
        }
        held
    }

    /// Parses a file in the worker; `progress` sees fractions in 0..=1.
    pub async fn load(
        &self,
        name: &str,
        bytes: ArrayBuffer,
        options: LoadOptions,
        progress: impl Fn(f64),
    ) -> Result<Loaded, AppError> {
        let buffers = Array::of1(&bytes);
        let req = Request::Load { name: name.to_string(), options };
        self.call(&req, &buffers, &buffers, fraction(progress), |msg, buffers| match msg {
            Response::Loaded { summary, sha, layout, parse_ms } => {
                let mut all = buffers.iter();
                let arrays = layout.iter().map(|_| all.next().into_iter().collect()).collect();
                Some(Ok(Loaded { summary, sha, layout, parse_ms, arrays }))
            }
            _ => None,
        })
        .await
    }

    /// Builds a model's matrix in the worker from one ticker's stored columns, unless its sha
    /// is among `stored`: then the worker computes no feature and names the stored one.
    #[allow(clippy::too_many_arguments)]
    pub async fn build_matrix(
        &self,
        model: Model,
        spec: BuildSpec,
        tz: String,
        layout: SeriesLayout,
        bars: web_sys::Blob,
        stored: Vec<String>,
        progress: impl Fn(f64),
    ) -> Result<Found<String, Built>, AppError> {
        // A handle: the worker reads the bars itself.
        let payload = Array::of1(&bars);
        let req = Request::BuildMatrix { model, spec, tz, layout, stored };
        self.call(&req, &payload, &Array::new(), fraction(progress), |msg, buffers| match msg {
            Response::Built { summary, preview, feature_names, build_ms } => Some(
                matrix_blob(buffers)
                    .map(|bytes| Found::Built(Built { summary, preview, feature_names, build_ms, bytes })),
            ),
            Response::Sha { matrix_sha } => Some(Ok(Found::Stored(matrix_sha))),
            _ => None,
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    /// Moves a model to another dataset of its ticker (`engine::rebase::onto`): the worker
    /// holds the model's matrix, builds the model on `bars` and checks every row against it.
    pub async fn rebase(
        &self,
        record: ModelRecord,
        to_dataset: String,
        tz: String,
        layout: SeriesLayout,
        old_last: Option<String>,
        bars: web_sys::Blob,
        matrix: MatrixRef<'_>,
        progress: impl Fn(f64),
    ) -> Result<(ModelRecord, Rebased, Built), AppError> {
        self.hold(matrix).await?;
        let req = Request::Rebase { record, to_dataset, tz, layout, old_last };
        self.call(&req, &Array::of1(&bars), &Array::new(), fraction(progress), |msg, buffers| match msg {
            Response::Rebased { record, rebased, summary, preview, feature_names, build_ms } => Some(
                matrix_blob(buffers)
                    .map(|bytes| (record, rebased, Built { summary, preview, feature_names, build_ms, bytes })),
            ),
            _ => None,
        })
        .await
    }

    /// Trains on a stored matrix in the worker; `on_tree(tree, train_loss, valid_loss)` after each tree.
    pub async fn train(
        &self,
        options: FitOptions,
        matrix: MatrixRef<'_>,
        on_tree: impl Fn(usize, f64, Option<f64>),
    ) -> Result<(FitReport, String, f64), AppError> {
        self.hold(matrix).await?;
        let req = Request::Train { matrix_sha: matrix.sha.to_string(), options };
        let progress = |m: &Response| {
            if let Response::TreeDone { tree, train_loss, valid_loss } = m {
                on_tree(*tree, *train_loss, *valid_loss);
            }
        };
        self.call(&req, &Array::new(), &Array::new(), progress, |msg, _| match msg {
            Response::Trained { report, model_json, train_ms } => Some(Ok((report, model_json, train_ms))),
            _ => None,
        })
        .await
    }

    /// Plans a sweep in the worker (variants checked, the profile's budget enforced, the
    /// out-of-fold spec and the shared policy derived from the matrix).
    pub async fn plan(
        &self,
        body: SweepBody,
        model: Model,
        created: String,
        matrix: MatrixRef<'_>,
    ) -> Result<Plan, AppError> {
        self.hold(matrix).await?;
        let req = Request::Plan { matrix_sha: matrix.sha.to_string(), body, model, created };
        self.call(
            &req,
            &Array::new(),
            &Array::new(),
            |_| {},
            |msg, _| match msg {
                Response::Planned { plan } => Some(Ok(plan)),
                _ => None,
            },
        )
        .await
    }

    /// Judges every config on cached out-of-fold probabilities.
    pub async fn sweep_cached(
        &self,
        settings: RunSettings,
        configs: Vec<SweepConfig>,
        matrix: MatrixRef<'_>,
        oof: &Uint8Array,
        progress: impl Fn(f64),
    ) -> Result<Swept, AppError> {
        self.hold(matrix).await?;
        let req = Request::SweepCached { matrix_sha: matrix.sha.to_string(), settings, configs };
        self.call(&req, &Array::of1(oof), &Array::new(), fraction(progress), |msg, _| match msg {
            Response::Swept { judged, oof_key, oof_sha } => {
                Some(Ok(Swept { judged, oof_key, oof_sha, oof_bytes: None }))
            }
            _ => None,
        })
        .await
    }

    /// Trains one fold; `progress(tree, trees)` after each tree.
    pub async fn oof_fold(
        &self,
        matrix: MatrixRef<'_>,
        spec: OofSpec,
        fold: usize,
        progress: impl Fn(usize, usize),
    ) -> Result<TrainedFold, AppError> {
        self.hold(matrix).await?;
        let req = Request::OofFold { matrix_sha: matrix.sha.to_string(), spec, fold };
        let on = |m: &Response| {
            if let Response::FoldProgress { tree, trees, .. } = m {
                progress(*tree, *trees);
            }
        };
        self.call(&req, &Array::new(), &Array::new(), on, |msg, buffers| match msg {
            Response::FoldDone { meta } => Some(TrainedFold::new(meta, buffers.get(0), buffers.get(1))),
            _ => None,
        })
        .await
    }

    /// Assembles trained folds and judges every config; returns the runs and the out-of-fold
    /// file (its key and bytes) for the cache.
    pub async fn sweep(
        &self,
        settings: RunSettings,
        configs: Vec<SweepConfig>,
        matrix: MatrixRef<'_>,
        folds: &[TrainedFold],
        progress: impl Fn(f64),
    ) -> Result<Swept, AppError> {
        self.hold(matrix).await?;
        let payload = Array::new();
        for f in folds {
            payload.push(&f.test);
            payload.push(&f.inner);
        }
        let metas = folds.iter().map(|f| f.meta.clone()).collect();
        let req = Request::Sweep { matrix_sha: matrix.sha.to_string(), settings, configs, folds: metas };
        self.call(&req, &payload, &Array::new(), fraction(progress), |msg, buffers| match msg {
            Response::Swept { judged, oof_key, oof_sha } => Some(
                buffers
                    .get(0)
                    .dyn_into::<Uint8Array>()
                    .map(|b| Swept { judged, oof_key, oof_sha, oof_bytes: Some(b) })
                    .map_err(|_| ProtocolError::Malformed("the worker sent no out-of-fold file".to_string()).into()),
            ),
            _ => None,
        })
        .await
    }

    /// Trains the final model for one config; `on_tree(tree)` after each tree.
    pub async fn train_strategy(
        &self,
        owner: OwnerRecord,
        config: Config,
        base: Policy,
        how: FinalFit,
        matrix: MatrixRef<'_>,
        on_tree: impl Fn(usize),
    ) -> Result<(Strategy, String), AppError> {
        self.hold(matrix).await?;
        let req = Request::TrainStrategy { matrix_sha: matrix.sha.to_string(), owner, config, base, how };
        let progress = |m: &Response| {
            if let Response::TreeDone { tree, .. } = m {
                on_tree(*tree);
            }
        };
        self.call(&req, &Array::new(), &Array::new(), progress, |msg, _| match msg {
            Response::StrategyTrained { strategy, model_json } => Some(Ok((strategy, model_json))),
            _ => None,
        })
        .await
    }

    /// A strategy's signals over its series' newest bars (built as `spec` built its matrix).
    #[allow(clippy::too_many_arguments)]
    pub async fn signals(
        &self,
        model: Model,
        spec: BuildSpec,
        strategy: Strategy,
        model_json: String,
        tz: String,
        layout: SeriesLayout,
        bars: web_sys::Blob,
        progress: impl Fn(f64),
    ) -> Result<Vec<Signal>, AppError> {
        let payload = Array::of1(&bars);
        let req = Request::Signals { model, spec, strategy, model_json, tz, layout };
        self.call(&req, &payload, &Array::new(), fraction(progress), |msg, _| match msg {
            Response::SignalsDone { signals } => Some(Ok(signals)),
            _ => None,
        })
        .await
    }

    /// A scanner over a dataset's tickers; `bars` are the series' Blobs in `layout` order.
    pub async fn scan(
        &self,
        name: String,
        tz: String,
        layout: Vec<SeriesLayout>,
        bars: Vec<web_sys::Blob>,
        spec: ScanSpec,
    ) -> Result<Scan, AppError> {
        let payload = bars.iter().collect::<Array>();
        let req = Request::Scan { name, tz, layout, spec };
        self.call(
            &req,
            &payload,
            &Array::new(),
            |_| {},
            |msg, _| match msg {
                Response::Scanned { scan } => Some(Ok(scan)),
                _ => None,
            },
        )
        .await
    }

    /// One config's backtest on cached out-of-fold probabilities.
    pub async fn backtest(
        &self,
        settings: RunSettings,
        config: SweepConfig,
        matrix: MatrixRef<'_>,
        oof: &Uint8Array,
    ) -> Result<BacktestReport, AppError> {
        self.hold(matrix).await?;
        let req = Request::Backtest { matrix_sha: matrix.sha.to_string(), settings, config };
        self.call(
            &req,
            &Array::of1(oof),
            &Array::new(),
            |_| {},
            |msg, _| match msg {
                Response::BacktestDone { report } => Some(Ok(*report)),
                _ => None,
            },
        )
        .await
    }
}

/// Starts a JS worker for `shared` and waits until its wasm is ready. Its handlers route by
/// request id; an error or an unreadable message marks the instance gone and fails every
/// request it held.
async fn start(shared: &Rc<Shared>) -> Result<(), AppError> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    // Relative to the page, so the app works under any sub-path of a static host.
    let worker = Worker::new_with_options("./worker.js", &options)
        .map_err(|e| AppError::Worker(format!("cannot start a web worker: {e:?}")))?;
    let (ready_tx, mut ready_rx) = unbounded::<Message>();
    let ready_err = ready_tx.clone();
    let on_msg = shared.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let buffers: Array =
            Reflect::get(&data, &"buffers".into()).ok().and_then(|v| v.dyn_into().ok()).unwrap_or_default();
        if let Some(heap) = Reflect::get(&data, &"heap".into()).ok().and_then(|v| v.as_f64()) {
            on_msg.heap.set(heap);
        }
        match protocol::decode::<Response>(data) {
            Ok((0, msg)) => {
                let _ = ready_tx.unbounded_send(msg.map(|m| (m, buffers)).map_err(AppError::from));
            }
            Ok((id, msg)) => on_msg.route(id, msg.map(|m| (m, buffers)).map_err(AppError::from)),
            // Whose it is cannot be told: every request on this worker ends with the error
            // rather than one of them waiting forever.
            Err(e) => {
                on_msg.dead.set(true);
                on_msg.fail_all(|what| format!("the engine worker sent an unreadable message while {what}: {e}"));
            }
        }
    });
    let on_err = Rc::downgrade(shared);
    let onerror = Closure::<dyn FnMut(ErrorEvent)>::new(move |ev: ErrorEvent| {
        let message = ev.message();
        let _ = ready_err.unbounded_send(Err(AppError::Worker(format!("the engine worker failed: {message}"))));
        if let Some(s) = on_err.upgrade() {
            s.dead.set(true);
            s.fail_all(|what| format!("the engine worker failed while {what}: {message}"));
        }
    });
    let on_bad = Rc::downgrade(shared);
    let onmessageerror = Closure::<dyn FnMut(MessageEvent)>::new(move |_ev: MessageEvent| {
        if let Some(s) = on_bad.upgrade() {
            s.dead.set(true);
            s.fail_all(|what| format!("a message from the engine worker could not be received while {what}"));
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    worker.set_onmessageerror(Some(onmessageerror.as_ref().unchecked_ref()));
    *shared.instance.borrow_mut() =
        Some(Instance { worker, _onmessage: onmessage, _onerror: onerror, _onmessageerror: onmessageerror });
    match ready_rx.next().await {
        Some(Ok((Response::Ready, _))) => Ok(()),
        Some(Err(e)) => Err(e),
        other => {
            Err(AppError::Worker(format!("the engine worker did not start ({:?})", other.map(|o| o.map(|m| m.0)))))
        }
    }
}

/// A `Progress { fraction }` handler for `call`.
fn fraction(progress: impl Fn(f64)) -> impl FnMut(&Response) {
    move |m| {
        if let Response::Progress { fraction } = m {
            progress(*fraction);
        }
    }
}

/// A written bundle as it arrives from a worker.
pub struct Exported {
    pub holds: engine::bundle::Holds,
    pub with_data: bool,
    pub bytes: Vec<u8>,
}

/// An accepted import: its report, and what to write (records, and their buffers in the
/// order `ImportWrites` gives).
pub struct ToImport {
    pub report: engine::bundle::ImportReport,
    pub writes: ImportWrites,
    pub buffers: Array,
}

impl EngineWorker {
    /// Writes a bundle in the worker; `payload` holds the buffers `Request::Export` lists.
    pub async fn export(&self, req: Request, payload: &Array) -> Result<Exported, AppError> {
        self.call(
            &req,
            payload,
            &Array::new(),
            |_| {},
            |msg, buffers| match msg {
                Response::Exported { holds, with_data } => {
                    let bytes = buffers.get(0).dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
                    Some(Ok(Exported { holds, with_data, bytes }))
                }
                _ => None,
            },
        )
        .await
    }

    /// Reads, verifies and merges a bundle in the worker against `snapshot`; nothing is stored yet.
    pub async fn import_bundle(
        &self,
        name: &str,
        deep: bool,
        bytes: ArrayBuffer,
        snapshot: StoreSnapshot,
        oof: Vec<Uint8Array>,
        progress: impl Fn(f64),
    ) -> Result<ToImport, AppError> {
        let payload = Array::of1(&bytes);
        for o in &oof {
            payload.push(o);
        }
        let req = Request::ImportBundle { name: name.to_string(), deep, snapshot };
        self.call(&req, &payload, &Array::of1(&bytes), fraction(progress), |msg, buffers| match msg {
            Response::Imported { report, writes } => Some(Ok(ToImport { report, writes, buffers })),
            _ => None,
        })
        .await
    }

    /// A standalone HTML report (`Request::RunReport` or `Request::LeaderboardReport`).
    pub async fn report_html(&self, req: Request) -> Result<String, AppError> {
        self.call(
            &req,
            &Array::new(),
            &Array::new(),
            |_| {},
            |msg, _| match msg {
                Response::Html { html } => Some(Ok(html)),
                _ => None,
            },
        )
        .await
    }
}

/// A judged sweep: its runs, and the out-of-fold file they were judged on (bytes only when
/// freshly assembled, for the cache).
pub struct Swept {
    /// Judged alone; `engine::sweep::Tally` deflates a sweep's variants together.
    pub judged: engine::sweep::Judged,
    pub oof_key: String,
    pub oof_sha: String,
    pub oof_bytes: Option<Uint8Array>,
}

/// A fold trained in some worker: its report and its probabilities as the `Float64Array`s the
/// worker transferred (the page stores and forwards them, it never reads them). Stored as it
/// finishes (`Store::put_fold`, key `oof_key/fold`), so a reload or a crash loses no finished
/// fold: the next sweep on the same key trains only the missing ones.
#[derive(Clone)]
pub struct TrainedFold {
    pub meta: FoldMeta,
    pub test: js_sys::Float64Array,
    /// Its inner holdout's probabilities, where its `top_pct` thresholds start
    /// ([`engine::oof::Oof::inner_prob`]).
    pub inner: js_sys::Float64Array,
}

impl TrainedFold {
    pub fn new(meta: FoldMeta, test: JsValue, inner: JsValue) -> Result<TrainedFold, AppError> {
        let bad = |what: &str| ProtocolError::Malformed(format!("fold {}: no {what} probabilities", meta.fold + 1));
        let test = test.dyn_into().map_err(|_| bad("test"))?;
        let inner = inner.dyn_into().map_err(|_| bad("inner holdout"))?;
        Ok(TrainedFold { meta, test, inner })
    }
}

/// `n` engine workers that share nothing; folds are handed out one at a time to whichever
/// worker is free. The result does not depend on `n`: folds are assembled in fold order by the
/// engine ([`engine::oof::assemble`]).
pub struct Pool {
    pub workers: Vec<Rc<EngineWorker>>,
}

impl Pool {
    pub async fn spawn(n: usize) -> Result<Pool, AppError> {
        let mut workers = Vec::with_capacity(n.max(1));
        for _ in 0..n.max(1) {
            workers.push(EngineWorker::spawn().await?);
        }
        Ok(Pool { workers })
    }

    pub fn size(&self) -> usize {
        self.workers.len()
    }

    /// Stops every worker; whatever they were doing ends with `message`.
    pub fn cancel(&self, message: &str) {
        for w in &self.workers {
            w.cancel(message);
        }
    }

    /// Trains the folds `todo` across the pool, `progress(fold, tree, trees)`; each fold is
    /// handed to `keep` (which stores it) as soon as it is trained, before the next one starts
    /// on that worker. Returns them in fold order. The first failure stops handing out folds.
    pub async fn oof<F>(
        &self,
        matrix: MatrixRef<'_>,
        spec: &OofSpec,
        todo: Vec<usize>,
        keep: impl Fn(TrainedFold) -> F + Clone,
        progress: impl Fn(usize, usize, usize) + Clone,
    ) -> Result<Vec<TrainedFold>, AppError>
    where
        F: std::future::Future<Output = Result<(), AppError>>,
    {
        let n = todo.len();
        let queue = Rc::new(RefCell::new(
            engine::oof::hand_out_order(todo).into_iter().collect::<std::collections::VecDeque<usize>>(),
        ));
        let done = Rc::new(RefCell::new(Vec::with_capacity(n)));
        let jobs = self.workers.iter().map(|w| {
            let (queue, done, progress, spec, keep) =
                (queue.clone(), done.clone(), progress.clone(), spec.clone(), keep.clone());
            async move {
                let r = async {
                    loop {
                        let Some(k) = queue.borrow_mut().pop_front() else { return Ok::<(), AppError>(()) };
                        let p = progress.clone();
                        let f = w.oof_fold(matrix, spec.clone(), k, move |tree, trees| p(k, tree, trees)).await?;
                        keep(f.clone()).await?;
                        done.borrow_mut().push(f);
                    }
                }
                .await;
                if r.is_err() {
                    queue.borrow_mut().clear();
                }
                r
            }
        });
        for r in futures::future::join_all(jobs).await {
            r?;
        }
        let mut all = done.take();
        all.sort_by_key(|f| f.meta.fold);
        Ok(all)
    }
}

/// The matrix a build or a move sends back: the reply's one buffer, a `Blob`.
fn matrix_blob(buffers: Array) -> Result<web_sys::Blob, AppError> {
    buffers
        .get(0)
        .dyn_into::<web_sys::Blob>()
        .map_err(|_| ProtocolError::Malformed("the worker sent no matrix".to_string()).into())
}
