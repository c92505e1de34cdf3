//! The page's handle on its engine workers.
//!
//! Each worker is the app's own wasm module started by `worker.js`; it answers one request at a
//! time, so a request owns the worker until its final response. More workers (for sweeps) are
//! added by spawning more of these; they share nothing.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::lock::Mutex;
use futures::StreamExt;
use js_sys::{Array, ArrayBuffer, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use engine::config::{Config, SweepConfig};
use engine::data::{LoadOptions, SeriesLayout, Summary};
use engine::gbt::fit::{FitOptions, FitReport};
use engine::matrix::{BuildSpec, BuildSummary, Preview};
use engine::model::Model;
use engine::oof::OofSpec;
use engine::policy::Policy;
use engine::run::{BacktestReport, Run, RunSettings};
use engine::strategy::{FinalFit, OwnerRecord, Signal, Strategy};
use engine::sweep::{Plan, SweepBody};
use js_sys::Uint8Array;

use crate::columns;
use crate::error::AppError;
use crate::protocol::{self, FoldMeta, ImportWrites, ProtocolError, Request, Response, StoreSnapshot};

/// What arrives in a worker's inbox: a decoded message with its buffers, or why there is none
/// (an undecodable message, the worker dying or being stopped).
type Message = Result<(Response, Array), AppError>;

pub struct EngineWorker {
    worker: Worker,
    /// Set when the worker raised an uncaught error (a panic ends a wasm instance): it must be
    /// replaced, not reused.
    dead: Rc<std::cell::Cell<bool>>,
    /// Locked by a request from its send to its answer: a worker answers in order, so two
    /// requests from the page (a build started during a training) take turns instead of
    /// reading each other's replies.
    inbox: Mutex<UnboundedReceiver<Message>>,
    /// The inbox's sending side, to end a request the page gives up on.
    outbox: futures::channel::mpsc::UnboundedSender<Message>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(ErrorEvent)>,
}

/// A parsed file as it arrives from a worker: bars still in the transferred typed arrays.
pub struct Loaded {
    pub summary: Summary,
    pub sha: String,
    pub layout: Vec<SeriesLayout>,
    pub parse_ms: f64,
    /// Per series, its columns in `columns::names` order.
    pub arrays: Vec<Vec<JsValue>>,
}

/// A built matrix as it arrives from a worker.
pub struct Built {
    pub summary: BuildSummary,
    pub preview: Preview,
    pub feature_names: Vec<String>,
    pub build_ms: f64,
    pub bytes: Vec<u8>,
}

impl Drop for EngineWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl EngineWorker {
    /// Starts a worker and waits until its wasm is ready.
    pub async fn spawn() -> Result<Rc<EngineWorker>, AppError> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        // Relative to the page, so the app works under any sub-path of a static host.
        let worker = Worker::new_with_options("./worker.js", &options)
            .map_err(|e| AppError::Worker(format!("cannot start a web worker: {e:?}")))?;
        let (tx, rx) = unbounded();
        let tx_err = tx.clone();
        let outbox = tx.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let text = Reflect::get(&data, &"msg".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
            let buffers: Array =
                Reflect::get(&data, &"buffers".into()).ok().and_then(|v| v.dyn_into().ok()).unwrap_or_default();
            let msg = protocol::decode::<Response>(&text).map(|m| (m, buffers)).map_err(AppError::from);
            let _ = tx.unbounded_send(msg);
        });
        let dead = Rc::new(std::cell::Cell::new(false));
        let dead_flag = dead.clone();
        let onerror = Closure::<dyn FnMut(ErrorEvent)>::new(move |ev: ErrorEvent| {
            dead_flag.set(true);
            let message = format!("the engine worker failed: {}", ev.message());
            let _ = tx_err.unbounded_send(Err(AppError::Worker(message)));
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        let this =
            EngineWorker { worker, dead, inbox: Mutex::new(rx), outbox, _onmessage: onmessage, _onerror: onerror };
        let ready = this.inbox.lock().await.next().await;
        match ready {
            Some(Ok((Response::Ready, _))) => Ok(Rc::new(this)),
            Some(Err(e)) => Err(e),
            other => {
                Err(AppError::Worker(format!("the engine worker did not start ({:?})", other.map(|o| o.map(|m| m.0)))))
            }
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead.get()
    }

    /// Stops the worker mid-request: the request in flight ends with `message`, and the worker
    /// is dead (replaced before its next use).
    pub fn cancel(&self, message: &str) {
        self.worker.terminate();
        self.dead.set(true);
        let _ = self.outbox.unbounded_send(Err(AppError::Worker(message.to_string())));
    }

    /// `payload` is what the worker reads; `transfer` the `ArrayBuffer`s moved rather than copied.
    fn send(&self, req: &Request, payload: &Array, transfer: &Array) -> Result<(), AppError> {
        let obj = Object::new();
        let _ = Reflect::set(&obj, &"msg".into(), &protocol::encode(req).into());
        let _ = Reflect::set(&obj, &"buffers".into(), payload);
        self.worker
            .post_message_with_transfer(&obj, transfer)
            .map_err(|e| AppError::Worker(format!("cannot reach the engine worker: {e:?}")))
    }

    /// Sends one request and waits for its answer: `answer` maps each message to `Some(result)`
    /// when it ends the request; progress and stray messages map to `None`. A `Failed` message
    /// or a stopped worker ends it with that error.
    async fn call<T>(
        &self,
        req: &Request,
        payload: &Array,
        transfer: &Array,
        mut answer: impl FnMut(Response, Array) -> Option<Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let mut inbox = self.inbox.lock().await;
        // Cancelled while this request waited its turn: the worker is gone.
        if self.is_dead() {
            return Err(AppError::Worker("the engine worker stopped".to_string()));
        }
        self.send(req, payload, transfer)?;
        loop {
            match inbox.next().await {
                Some(Ok((Response::Failed { error }, _))) => return Err(AppError::Engine(error)),
                Some(Ok((Response::Rejected { message }, _))) => return Err(ProtocolError::Rejected(message).into()),
                Some(Ok((msg, buffers))) => {
                    if let Some(result) = answer(msg, buffers) {
                        return result;
                    }
                }
                Some(Err(e)) => return Err(e),
                None => return Err(AppError::Worker("the engine worker stopped".to_string())),
            }
        }
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
        self.call(&req, &buffers, &buffers, |msg, buffers| match msg {
            Response::Progress { fraction } => {
                progress(fraction);
                None
            }
            Response::Loaded { summary, sha, layout, parse_ms } => {
                let mut all = buffers.iter();
                let arrays = layout.iter().map(|l| all.by_ref().take(columns::names(l).len()).collect()).collect();
                Some(Ok(Loaded { summary, sha, layout, parse_ms, arrays }))
            }
            _ => None,
        })
        .await
    }

    /// The sha a build with these inputs would give (the cache key), computed in the worker.
    pub async fn matrix_sha(
        &self,
        model: Model,
        spec: BuildSpec,
        tz: String,
        layout: SeriesLayout,
        columns: Vec<JsValue>,
    ) -> Result<String, AppError> {
        let payload: Array = columns.into_iter().collect();
        let req = Request::MatrixSha { model, spec, tz, layout };
        self.call(&req, &payload, &Array::new(), |msg, _| match msg {
            Response::Sha { matrix_sha } => Some(Ok(matrix_sha)),
            _ => None,
        })
        .await
    }

    /// Builds a model's matrix in the worker from one ticker's stored columns.
    pub async fn build_matrix(
        &self,
        model: Model,
        spec: BuildSpec,
        tz: String,
        layout: SeriesLayout,
        columns: Vec<JsValue>,
        progress: impl Fn(f64),
    ) -> Result<Built, AppError> {
        // Copied, not transferred: the page keeps its columns (e.g. for the chart).
        let payload: Array = columns.into_iter().collect();
        let req = Request::BuildMatrix { model, spec, tz, layout };
        self.call(&req, &payload, &Array::new(), |msg, buffers| match msg {
            Response::Progress { fraction } => {
                progress(fraction);
                None
            }
            Response::Built { summary, preview, feature_names, build_ms } => Some(
                buffers
                    .get(0)
                    .dyn_into::<js_sys::Uint8Array>()
                    .map(|b| Built { summary, preview, feature_names, build_ms, bytes: b.to_vec() })
                    .map_err(|_| ProtocolError::Malformed("the worker sent no matrix".to_string()).into()),
            ),
            _ => None,
        })
        .await
    }

    /// Trains on a stored matrix in the worker; `on_tree(tree, train_loss, valid_loss)` after each tree.
    pub async fn train(
        &self,
        options: FitOptions,
        matrix_bytes: js_sys::Uint8Array,
        on_tree: impl Fn(usize, f64, Option<f64>),
    ) -> Result<(FitReport, String, f64), AppError> {
        let payload = Array::of1(&matrix_bytes);
        self.call(&Request::Train { options }, &payload, &Array::new(), |msg, _| match msg {
            Response::TreeDone { tree, train_loss, valid_loss } => {
                on_tree(tree, train_loss, valid_loss);
                None
            }
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
        matrix: &Uint8Array,
    ) -> Result<Plan, AppError> {
        let payload = Array::of1(matrix);
        self.call(&Request::Plan { body, model, created }, &payload, &Array::new(), |msg, _| match msg {
            Response::Planned { plan } => Some(Ok(plan)),
            _ => None,
        })
        .await
    }

    /// Judges every config on cached out-of-fold probabilities.
    pub async fn sweep_cached(
        &self,
        settings: RunSettings,
        configs: Vec<SweepConfig>,
        matrix: &Uint8Array,
        oof: &Uint8Array,
    ) -> Result<Swept, AppError> {
        let payload = Array::of2(matrix, oof);
        self.call(&Request::SweepCached { settings, configs }, &payload, &Array::new(), |msg, _| match msg {
            Response::Swept { runs, oof_key, oof_sha } => {
                Some(Ok(Swept { runs, oof_key, oof_sha, oof_bytes: Vec::new() }))
            }
            _ => None,
        })
        .await
    }

    /// Trains one fold; `progress(tree, trees)` after each tree.
    pub async fn oof_fold(
        &self,
        matrix: &Uint8Array,
        spec: OofSpec,
        fold: usize,
        progress: impl Fn(usize, usize),
    ) -> Result<TrainedFold, AppError> {
        let payload = Array::of1(matrix);
        self.call(&Request::OofFold { spec, fold }, &payload, &Array::new(), |msg, buffers| match msg {
            Response::FoldProgress { tree, trees, .. } => {
                progress(tree, trees);
                None
            }
            Response::FoldDone { meta } => Some(Ok(TrainedFold { meta, test: buffers.get(0), train: buffers.get(1) })),
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
        matrix: &Uint8Array,
        folds: &[TrainedFold],
    ) -> Result<Swept, AppError> {
        let payload = Array::of1(matrix);
        for f in folds {
            payload.push(&f.test);
            payload.push(&f.train);
        }
        let metas = folds.iter().map(|f| f.meta.clone()).collect();
        let req = Request::Sweep { settings, configs, folds: metas };
        self.call(&req, &payload, &Array::new(), |msg, buffers| match msg {
            Response::Swept { runs, oof_key, oof_sha } => Some(
                buffers
                    .get(0)
                    .dyn_into::<Uint8Array>()
                    .map(|b| Swept { runs, oof_key, oof_sha, oof_bytes: b.to_vec() })
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
        matrix: &Uint8Array,
        on_tree: impl Fn(usize),
    ) -> Result<(Strategy, String), AppError> {
        let payload = Array::of1(matrix);
        self.call(&Request::TrainStrategy { owner, config, base, how }, &payload, &Array::new(), |msg, _| match msg {
            Response::TreeDone { tree, .. } => {
                on_tree(tree);
                None
            }
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
        columns: Vec<JsValue>,
    ) -> Result<Vec<Signal>, AppError> {
        let payload: Array = columns.into_iter().collect();
        let req = Request::Signals { model, spec, strategy, model_json, tz, layout };
        self.call(&req, &payload, &Array::new(), |msg, _| match msg {
            Response::SignalsDone { signals } => Some(Ok(signals)),
            _ => None,
        })
        .await
    }

    /// One config's backtest on cached out-of-fold probabilities.
    pub async fn backtest(
        &self,
        settings: RunSettings,
        config: SweepConfig,
        matrix: &Uint8Array,
        oof: &Uint8Array,
    ) -> Result<BacktestReport, AppError> {
        let payload = Array::of2(matrix, oof);
        self.call(&Request::Backtest { settings, config }, &payload, &Array::new(), |msg, _| match msg {
            Response::BacktestDone { report } => Some(Ok(*report)),
            _ => None,
        })
        .await
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
        self.call(&req, payload, &Array::new(), |msg, buffers| match msg {
            Response::Exported { holds, with_data } => {
                let bytes = buffers.get(0).dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
                Some(Ok(Exported { holds, with_data, bytes }))
            }
            _ => None,
        })
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
        self.call(&req, &payload, &Array::of1(&bytes), |msg, buffers| match msg {
            Response::Progress { fraction } => {
                progress(fraction);
                None
            }
            Response::Imported { report, writes } => Some(Ok(ToImport { report, writes, buffers })),
            _ => None,
        })
        .await
    }

    /// A standalone HTML report (`Request::RunReport` or `Request::LeaderboardReport`).
    pub async fn report_html(&self, req: Request) -> Result<String, AppError> {
        self.call(&req, &Array::new(), &Array::new(), |msg, _| match msg {
            Response::Html { html } => Some(Ok(html)),
            _ => None,
        })
        .await
    }
}

/// A judged sweep: its runs, and the out-of-fold file they were judged on (bytes only when
/// freshly trained, for the cache).
pub struct Swept {
    pub runs: Vec<Run>,
    pub oof_key: String,
    pub oof_sha: String,
    pub oof_bytes: Vec<u8>,
}

/// A fold trained in some worker: its report and its probabilities, still in the transferred
/// `Float64Array`s (the page forwards them, it never reads them).
#[derive(Clone)]
pub struct TrainedFold {
    pub meta: FoldMeta,
    pub test: JsValue,
    pub train: JsValue,
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

    /// Stops every worker; whatever they were doing ends with "cancelled".
    pub fn cancel(&self) {
        for w in &self.workers {
            w.cancel("the sweep was cancelled; nothing was stored");
        }
    }

    /// Trains folds `0..folds` across the pool; `progress(fold, tree, trees)`. Returns them in
    /// fold order.
    pub async fn oof(
        &self,
        matrix: &Uint8Array,
        spec: &OofSpec,
        folds: usize,
        progress: impl Fn(usize, usize, usize) + Clone,
    ) -> Result<Vec<TrainedFold>, AppError> {
        let queue = Rc::new(RefCell::new((0..folds).collect::<std::collections::VecDeque<usize>>()));
        let done = Rc::new(RefCell::new(Vec::with_capacity(folds)));
        let jobs = self.workers.iter().map(|w| {
            let (queue, done, progress, spec) = (queue.clone(), done.clone(), progress.clone(), spec.clone());
            async move {
                loop {
                    let Some(k) = queue.borrow_mut().pop_front() else { return Ok::<(), AppError>(()) };
                    let p = progress.clone();
                    let f = w.oof_fold(matrix, spec.clone(), k, move |tree, trees| p(k, tree, trees)).await?;
                    done.borrow_mut().push(f);
                }
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
