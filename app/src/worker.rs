//! The worker side: decode a request, run the engine, stream progress, reply.
//!
//! `public/worker.js` loads this same wasm module in a dedicated worker and calls
//! [`worker_entry`]; the page never runs engine work on its own thread.

use js_sys::{Array, Float64Array, Reflect, Uint8Array};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use engine::bundle::{
    self, Bars, BundleError, Depth, Holds, Limits, MergeError, OofFile, Snapshot, Source, TrainedStrategy,
};
use engine::config::SweepConfig;
use engine::error::Report;
use engine::lineage::sha256_hex;
use engine::matrix::{Found, Matrix};
use engine::oof::FoldResult;
use engine::report::{LeaderboardReportInput, RunReportInput};
use engine::run::RunSettings;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::columns;
use crate::db::DATASET_ID_PREFIX;
use crate::protocol::{self, DatasetWrite, FoldMeta, ImportWrites, MatrixWrite, Request, RequestId, Response};

/// Where a request's messages go: the worker's scope and the request's id.
#[derive(Clone)]
struct To {
    scope: DedicatedWorkerGlobalScope,
    id: RequestId,
}

impl To {
    /// `payload` holds the typed arrays the page reads; `transfer` their buffers, moved not copied.
    fn post_with(&self, msg: &Response, payload: &Array, transfer: &Array) {
        let obj = match protocol::encode(self.id, msg) {
            Ok(v) => v,
            // Unreachable for our own types; still answered, so the page never waits on it.
            Err(e) => match protocol::encode(self.id, &Response::Rejected { message: e.to_string() }) {
                Ok(v) => v,
                Err(_) => return,
            },
        };
        let _ = Reflect::set(&obj, &"buffers".into(), payload);
        let heap = wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .map(|m| m.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64)
            .unwrap_or(0.0);
        let _ = Reflect::set(&obj, &"heap".into(), &heap.into());
        let _ = self.scope.post_message_with_transfer(&obj, transfer);
    }

    fn post(&self, msg: &Response) {
        self.post_with(msg, &Array::new(), &Array::new());
    }
}

thread_local! {
    /// Where the request being handled answers: a panic (wasm32 aborts on one, ending this
    /// worker) is reported to that request as `Crashed` before the instance dies.
    static CURRENT: RefCell<Option<To>> = const { RefCell::new(None) };
    /// The matrices this worker holds, by `matrix_sha`: sent once by `HoldMatrix`, named by every
    /// later request. The page decides what stays (`evict`).
    static HELD: RefCell<Vec<(String, Rc<Matrix>)>> = const { RefCell::new(Vec::new()) };
}

fn hold(matrix_sha: &str, evict: &[String], buffers: &Array) -> Result<Reply, Failure> {
    HELD.with(|h| h.borrow_mut().retain(|(sha, _)| sha != matrix_sha && !evict.contains(sha)));
    let m = matrix_at(buffers, 0)?;
    if m.matrix_sha != matrix_sha {
        return Err(Failure::Rejected(format!("the matrix sent as {matrix_sha} is {}", m.matrix_sha)));
    }
    HELD.with(|h| h.borrow_mut().push((matrix_sha.to_string(), Rc::new(m))));
    Ok(Reply::plain(Response::Held { matrix_sha: matrix_sha.to_string() }))
}

/// A `Blob` read synchronously (`FileReaderSync`, workers only) in windows of [`BlobSource::WINDOW`]
/// bytes, for [`Matrix::from_source`], which reads in order. A read that fails is remembered
/// (the source's callback cannot return it) and the bytes it should have filled stay zero; the
/// caller checks `failed` before using what was decoded.
struct BlobSource {
    blob: web_sys::Blob,
    reader: web_sys::FileReaderSync,
    len: usize,
    start: usize,
    window: Uint8Array,
    failed: Option<Failure>,
}

impl BlobSource {
    const WINDOW: usize = 8 << 20;

    fn new(blob: web_sys::Blob) -> Result<BlobSource, Failure> {
        let reader = web_sys::FileReaderSync::new()
            .map_err(|e| Failure::Rejected(format!("a stored matrix cannot be read here: {e:?}")))?;
        let len = blob.size() as usize;
        Ok(BlobSource { blob, reader, len, start: 0, window: Uint8Array::new_with_length(0), failed: None })
    }

    fn read(&mut self, at: usize, buf: &mut [u8]) {
        if self.failed.is_some() {
            return;
        }
        let end = at + buf.len();
        if at < self.start || end > self.start + self.window.length() as usize {
            let to = (at + buf.len().max(Self::WINDOW)).min(self.len);
            let window = self
                .blob
                .slice_with_f64_and_f64(at as f64, to as f64)
                .and_then(|part| self.reader.read_as_array_buffer(&part));
            match window {
                Ok(bytes) => {
                    self.start = at;
                    self.window = Uint8Array::new(&bytes);
                }
                Err(e) => {
                    self.failed = Some(Failure::Rejected(format!("a stored matrix could not be read: {e:?}")));
                    return;
                }
            }
        }
        let from = (at - self.start) as u32;
        self.window.subarray(from, from + buf.len() as u32).copy_to(buf);
    }
}

/// A held matrix; the page sends `HoldMatrix` before any request naming it.
fn held(matrix_sha: &str) -> Result<Rc<Matrix>, Failure> {
    HELD.with(|h| h.borrow().iter().find(|(sha, _)| sha == matrix_sha).map(|(_, m)| m.clone())).ok_or_else(|| {
        Failure::Rejected(format!(
            "matrix {} is not held by this engine worker",
            matrix_sha.chars().take(7).collect::<String>()
        ))
    })
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
fn reply(to: &To, outcome: Result<Reply, Failure>) {
    match outcome {
        Ok(r) => to.post_with(&r.msg, &r.payload, &r.transfer),
        Err(Failure::Engine(error)) => to.post(&Response::Failed { error }),
        Err(Failure::Rejected(message)) => to.post(&Response::Rejected { message }),
    }
}

/// Buffer `i` as a matrix, read in pieces so neither this worker's JS heap nor its wasm memory
/// ever holds a second full copy (a million rows are 357 MB): a stored build's `Blob` a window
/// at a time, bytes from an import or an older record straight out of their buffer.
fn matrix_at(buffers: &Array, i: u32) -> Result<Matrix, Failure> {
    if let Ok(blob) = buffers.get(i).dyn_into::<web_sys::Blob>() {
        let mut source = BlobSource::new(blob)?;
        let len = source.len;
        let m = Matrix::from_source(len, &mut |at, buf| source.read(at, buf));
        source.failed.map_or(Ok(()), Err)?;
        return Ok(m?);
    }
    let bytes = buffer_at(buffers, i, "no matrix was sent")?;
    let len = bytes.length() as usize;
    Ok(Matrix::from_source(len, &mut |at, buf| {
        bytes.subarray(at as u32, (at + buf.len()) as u32).copy_to(buf);
    })?)
}

fn oof_at(buffers: &Array, i: u32) -> Result<engine::oof::Oof, Failure> {
    Ok(engine::oof::Oof::from_bytes(&bytes_at(buffers, i, "no out-of-fold probabilities were sent")?)?)
}

/// Buffer `i` as bytes copied into wasm memory; `missing` says what was not sent.
fn bytes_at(buffers: &Array, i: u32, missing: &str) -> Result<Vec<u8>, Failure> {
    Ok(buffer_at(buffers, i, missing)?.to_vec())
}

/// Buffer `i` as a view of its bytes, still in JS memory (a `Uint8Array` or an `ArrayBuffer`;
/// Blobs are read by [`matrix_at`] and `columns::from_blob`); `missing` says what was not sent.
fn buffer_at(buffers: &Array, i: u32, missing: &str) -> Result<Uint8Array, Failure> {
    let v = buffers.get(i);
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(a.clone());
    }
    v.dyn_into::<js_sys::ArrayBuffer>()
        .map(|b| Uint8Array::new(&b))
        .map_err(|_| Failure::Rejected(format!("{missing} (buffer {i})")))
}

/// A `Uint8Array` of `bytes` in the payload, its buffer in the transfer list.
fn push_bytes(payload: &Array, transfer: &Array, bytes: &[u8]) {
    let a = Uint8Array::from(bytes);
    transfer.push(&a.buffer());
    payload.push(&a);
}

/// `Export`: the records as the request lists them, then `engine::bundle::assemble` and `write`.
fn export(
    buffers: &Array,
    created_by: &str,
    sources: Vec<protocol::ExportSource>,
    selection: bundle::Selection,
    oof_keys: Vec<String>,
    with_data: bool,
) -> Result<Reply, Failure> {
    let mut at = 0u32;
    let mut next = || {
        at += 1;
        at - 1
    };
    let mut srcs = Vec::with_capacity(sources.len());
    for s in sources {
        let matrix = if s.has_matrix { Some(matrix_at(buffers, next())?) } else { None };
        let bars = match s.bars {
            Some(b) => {
                let series = columns::from_blob(&b.layout, &buffers.get(next()))?;
                Some(Bars { series, tz: b.tz, name: b.name, dataset_id: b.dataset_id })
            }
            None => None,
        };
        let strategies =
            s.strategies.into_iter().map(|(strategy, model_json)| TrainedStrategy { strategy, model_json }).collect();
        srcs.push(Source { record: s.record, matrix, strategies, bars });
    }
    let mut oof = Vec::with_capacity(oof_keys.len());
    for key in oof_keys {
        oof.push(OofFile { key, bytes: bytes_at(buffers, next(), "no out-of-fold file was sent")? });
    }
    let b = bundle::assemble(created_by, srcs, selection, oof, with_data)?;
    let bytes = bundle::write(&b)?;
    let (payload, transfer) = (Array::new(), Array::new());
    push_bytes(&payload, &transfer, &bytes);
    Ok(Reply { msg: Response::Exported { holds: Holds::of(&b), with_data: b.with_data() }, payload, transfer })
}

/// `ImportBundle`: read, verify and merge (the engine's), then what to write, as messages and buffers.
fn import(
    to: &To,
    buffers: &Array,
    name: &str,
    deep: bool,
    snapshot: protocol::StoreSnapshot,
) -> Result<Reply, Failure> {
    let started = js_sys::Date::now();
    let limits = Limits::default();
    let bytes = bytes_at(buffers, 0, "no bundle was sent")?;
    if bytes.len() as u64 > limits.max_bundle_bytes {
        let e = BundleError::TooLarge {
            file: name.to_string(),
            entry: "the archive".into(),
            limit: limits.max_bundle_bytes,
        };
        return Err(e.into());
    }
    let b = bundle::read_with(name, &bytes, &limits)?;
    to.post(&Response::Progress { fraction: 0.1 });
    let v = bundle::verify(&b, if deep { Depth::Deep } else { Depth::Standard });
    to.post(&Response::Progress { fraction: 0.9 });
    let mut oof = BTreeMap::new();
    for (i, key) in snapshot.oof_keys.iter().enumerate() {
        oof.insert(key.clone(), bytes_at(buffers, 1 + i as u32, "no stored out-of-fold file was sent")?);
    }
    let stored = Snapshot {
        datasets: snapshot.datasets,
        dataset_prefix: DATASET_ID_PREFIX.to_string(),
        matrices: snapshot.matrices,
        oof,
        strategies: snapshot.strategies,
        models: snapshot.models.into_iter().map(|m| (m.model_id.clone(), m)).collect(),
        runs: snapshot.runs.into_iter().map(|r| (r.run_id.clone(), r)).collect(),
        marks: snapshot.marks,
    };
    let merge = bundle::merge(name, &sha256_hex(&bytes), &b, &v, &stored).map_err(|e| match e {
        MergeError::Bundle(e) => Failure::from(e),
        MergeError::Store(never) => match never {},
    })?;
    let report = merge.report(deep, (js_sys::Date::now() - started) / 1000.0);
    let w = merge.writes;
    let (payload, transfer) = (Array::new(), Array::new());
    let mut out = ImportWrites::default();
    for (id, meta, ds) in &w.datasets {
        for series in &ds.series {
            payload.push(&columns::to_blob(series)?.into());
        }
        out.datasets.push(DatasetWrite {
            id: id.clone(),
            name: format!("{} · {} from {name}", meta.name, meta.ticker),
            sha: meta.sha.clone(),
            summary: ds.summary(),
            layout: columns::layouts(&ds.series),
        });
    }
    for m in &w.matrices {
        let build = b.builds.iter().find(|x| x.matrix_sha == m.matrix_sha);
        push_bytes(&payload, &transfer, &m.to_bytes());
        out.matrices.push(MatrixWrite {
            model_id: build.map(|x| x.model_id.clone()).unwrap_or_default(),
            summary: m.summary(),
            preview: m.preview(5),
            feature_names: m.feature_names.clone(),
            spec: build.map(|x| x.spec.clone()),
        });
    }
    for o in &w.oof {
        push_bytes(&payload, &transfer, &o.bytes);
        out.oof_keys.push(o.key.clone());
    }
    out.strategies = w.strategies.into_iter().map(|t| (t.strategy, t.model_json)).collect();
    out.models = w.models;
    out.runs = w.runs;
    out.mark = w.mark;
    out.unmark = w.unmark;
    Ok(Reply { msg: Response::Imported { report, writes: out }, payload, transfer })
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

/// Judges `configs`, posting how many are done as `Progress`.
fn judge(
    to: &To,
    ctx: &engine::run::RunContext<'_>,
    configs: &[SweepConfig],
) -> Result<engine::sweep::Judged, Failure> {
    let mut post = progress_every(to, 0.01);
    Ok(engine::sweep::judge_with_progress(ctx, configs, &mut |done, total| post(done as f64 / total.max(1) as f64))?)
}

fn sweep(
    to: &To,
    m: &Matrix,
    buffers: &Array,
    settings: &RunSettings,
    configs: &[SweepConfig],
    folds: &[FoldMeta],
) -> Result<(engine::sweep::Judged, engine::oof::Oof), Failure> {
    let mut results = Vec::with_capacity(folds.len());
    for (i, f) in folds.iter().enumerate() {
        let at = 2 * i as u32;
        results.push(FoldResult {
            fold: f.fold,
            test_prob: f64s_at(buffers, at)?,
            inner_prob: f64s_at(buffers, at + 1)?,
            auc: f.auc.unwrap_or(f64::NAN),
            model_sha: f.model_sha.clone(),
        });
    }
    let oof = engine::oof::assemble(m, &settings.oof_spec, results)?;
    let judged = judge(to, &settings.context(m, &oof), configs)?;
    Ok((judged, oof))
}

fn handle(to: &To, req: Request, buffers: Array) -> Result<Reply, Failure> {
    match req {
        Request::HoldMatrix { matrix_sha, evict } => hold(&matrix_sha, &evict, &buffers),
        Request::Plan { matrix_sha, body, model, created } => {
            let m = held(&matrix_sha)?;
            Ok(Reply::plain(Response::Planned { plan: body.plan(&model, &m, created)? }))
        }
        Request::SweepCached { matrix_sha, settings, configs } => {
            let m = held(&matrix_sha)?;
            let oof = oof_at(&buffers, 0)?;
            let judged = judge(to, &settings.context(&m, &oof), &configs)?;
            let oof_sha = engine::lineage::sha256_hex(&oof.to_bytes());
            Ok(Reply::plain(Response::Swept { judged, oof_key: oof.key, oof_sha }))
        }
        Request::OofFold { matrix_sha, spec, fold } => {
            let m = held(&matrix_sha)?;
            let mut progress = |p: engine::oof::OofProgress| {
                to.post(&Response::FoldProgress { fold: p.fold, tree: p.tree, trees: p.trees })
            };
            let r = engine::oof::compute_fold(&m, &spec, fold, &mut progress)?;
            let (test, tb) = f64_array(&r.test_prob);
            let (inner, rb) = f64_array(&r.inner_prob);
            let meta = FoldMeta { fold: r.fold, auc: r.auc.is_finite().then_some(r.auc), model_sha: r.model_sha };
            Ok(Reply {
                msg: Response::FoldDone { meta },
                payload: Array::of2(&test, &inner),
                transfer: Array::of2(&tb, &rb),
            })
        }
        Request::Sweep { matrix_sha, settings, configs, folds } => {
            let m = held(&matrix_sha)?;
            let (judged, oof) = sweep(to, &m, &buffers, &settings, &configs, &folds)?;
            let raw = oof.to_bytes();
            let oof_sha = engine::lineage::sha256_hex(&raw);
            let bytes = Uint8Array::from(raw.as_slice());
            let transfer = Array::of1(&bytes.buffer());
            Ok(Reply {
                msg: Response::Swept { judged, oof_key: oof.key, oof_sha },
                payload: Array::of1(&bytes),
                transfer,
            })
        }
        Request::TrainStrategy { matrix_sha, owner, config, base, how } => {
            let m = held(&matrix_sha)?;
            let mut progress = |p: engine::gbt::TreeProgress| {
                to.post(&Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
            };
            let (booster, strategy) = engine::strategy::train(&m, owner.owner(), &config, &base, &how, &mut progress)?;
            let model_json = booster.to_model_json()?;
            Ok(Reply::plain(Response::StrategyTrained { strategy, model_json }))
        }
        Request::Signals { model, spec, strategy, model_json, tz, layout } => {
            let series = columns::from_blob(&layout, &buffers.get(0))?;
            let booster = engine::gbt::Booster::from_model_json(&model_json)?;
            let mut post = progress_every(to, 0.02);
            let signals = engine::strategy::latest_signals_with_progress(
                &model, &series, &tz, &spec, &booster, &strategy, &mut post,
            )?;
            Ok(Reply::plain(Response::SignalsDone { signals }))
        }
        Request::Scan { name, tz, layout, spec } => {
            let series = layout
                .iter()
                .enumerate()
                .map(|(i, l)| columns::from_blob(l, &buffers.get(i as u32)))
                .collect::<Result<Vec<_>, _>>()?;
            let dataset = engine::data::Dataset { name, tz, series, issues: Vec::new(), issue_counts: Vec::new() };
            Ok(Reply::plain(Response::Scanned { scan: engine::scan::scan(&dataset, &spec)? }))
        }
        Request::Export { created_by, sources, selection, oof_keys, with_data } => {
            export(&buffers, &created_by, sources, selection, oof_keys, with_data)
        }
        Request::ImportBundle { name, deep, snapshot } => import(to, &buffers, &name, deep, snapshot),
        Request::RunReport { report, model, status, provenance } => {
            let html = engine::report::run_html(&RunReportInput {
                report: &report,
                model: model.as_ref(),
                status: &status,
                provenance: &provenance,
            });
            Ok(Reply::plain(Response::Html { html }))
        }
        Request::LeaderboardReport { model_id, model, query, rows, statuses, provenance } => {
            let html = engine::report::leaderboard_html(&LeaderboardReportInput {
                model_id: &model_id,
                model: model.as_ref(),
                query: &query,
                rows: &rows,
                statuses: &statuses,
                provenance: &provenance,
            });
            Ok(Reply::plain(Response::Html { html }))
        }
        Request::Backtest { matrix_sha, settings, config } => {
            let m = held(&matrix_sha)?;
            let oof = oof_at(&buffers, 0)?;
            let e = engine::run::evaluate(&settings.context(&m, &oof), &config)?;
            Ok(Reply::plain(Response::BacktestDone { report: Box::new(e.report(&m, &settings.cadence)) }))
        }
        Request::Load { name, options } => {
            let bytes = buffers
                .get(0)
                .dyn_into::<js_sys::ArrayBuffer>()
                .map(|b| Uint8Array::new(&b).to_vec())
                .unwrap_or_default();
            let mut progress = progress_every(to, 0.01);
            let started = js_sys::Date::now();
            let dataset = engine::data::load(&name, &bytes, &options, &mut progress)?;
            let layout = columns::layouts(&dataset.series);
            let payload = Array::new();
            for series in &dataset.series {
                payload.push(&columns::to_blob(series)?.into());
            }
            let transfer = Array::new();
            let parse_ms = js_sys::Date::now() - started;
            let msg = Response::Loaded { summary: dataset.summary(), sha: dataset.sha(), layout, parse_ms };
            Ok(Reply { msg, payload, transfer })
        }
        Request::Train { matrix_sha, mut options } => {
            let started = js_sys::Date::now();
            let m = held(&matrix_sha)?;
            // Out-of-fold folds are purged by the matrix's own label horizon.
            if options.purge == 0 {
                options.purge = m.distance_max;
            }
            let mut progress = |p: engine::gbt::TreeProgress| {
                to.post(&Response::TreeDone { tree: p.tree, train_loss: p.train_loss, valid_loss: p.valid_loss })
            };
            let (booster, report) =
                engine::gbt::fit::fit(&m.feature_names, &m.features, &m.label, &options, &mut progress)?;
            let model_json = booster.to_model_json()?;
            let train_ms = js_sys::Date::now() - started;
            Ok(Reply::plain(Response::Trained { report, model_json, train_ms }))
        }
        Request::BuildMatrix { model, spec, tz, layout, stored } => {
            let series = columns::from_blob(&layout, &buffers.get(0))?;
            let started = js_sys::Date::now();
            let mut progress = progress_every(to, 0.02);
            let find = |sha: &str| stored.iter().any(|s| s == sha).then(|| sha.to_string());
            let matrix = match engine::matrix::find_or_build(&model, &series, &tz, &spec, find, &mut progress)? {
                Found::Stored(matrix_sha) => return Ok(Reply::plain(Response::Sha { matrix_sha })),
                Found::Built(m) => m,
            };
            let build_ms = js_sys::Date::now() - started;
            let msg = Response::Built {
                summary: matrix.summary(),
                preview: matrix.preview(5),
                feature_names: matrix.feature_names.clone(),
                build_ms,
            };
            let blob = matrix_blob(matrix)?;
            Ok(Reply { msg, payload: Array::of1(&blob), transfer: Array::new() })
        }
        Request::Rebase { record, to_dataset, tz, layout, old_last } => {
            let sha = record.matrix_sha.clone().unwrap_or_default();
            let stored = held(&sha)?;
            let series = columns::from_blob(&layout, &buffers.get(0))?;
            let started = js_sys::Date::now();
            let mut progress = progress_every(to, 0.02);
            let moved = engine::rebase::onto(
                &record,
                &stored,
                &to_dataset,
                &series,
                &tz,
                old_last.as_deref(),
                |_| None,
                &mut progress,
            )?;
            let matrix = match moved.matrix {
                Found::Built(m) | Found::Stored(m) => m,
            };
            let msg = Response::Rebased {
                record: moved.record,
                rebased: moved.rebased,
                summary: matrix.summary(),
                preview: matrix.preview(5),
                feature_names: matrix.feature_names.clone(),
                build_ms: js_sys::Date::now() - started,
            };
            let blob = matrix_blob(matrix)?;
            Ok(Reply { msg, payload: Array::of1(&blob), transfer: Array::new() })
        }
    }
}

/// The matrix's bytes as one Blob, written column by column into Blobs the browser keeps
/// outside every heap (composed into one without a copy): neither wasm memory nor this worker's
/// JS heap ever holds a second copy of the matrix (a million rows are 357 MB, and an instance
/// never gives memory back). The page stores the Blob in IndexedDB as a handle and later
/// workers read it, so the page thread never copies the bytes.
fn matrix_blob(matrix: Matrix) -> Result<web_sys::Blob, Failure> {
    let parts = Array::new();
    let mut failed = None;
    matrix.write_to(&mut |b| {
        if failed.is_none() {
            match web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(b))) {
                Ok(part) => {
                    parts.push(&part);
                }
                Err(e) => failed = Some(e),
            }
        }
    });
    drop(matrix);
    match failed {
        None => web_sys::Blob::new_with_blob_sequence(&parts),
        Some(e) => Err(e),
    }
    .map_err(|e| Failure::Rejected(format!("cannot keep the matrix in a Blob: {e:?}")))
}

/// Posts `Progress` when the fraction moved by `step` (and at the end), not on every call.
fn progress_every(to: &To, step: f64) -> impl FnMut(f64) + '_ {
    let mut last = -1.0;
    move |f: f64| {
        if f - last >= step || f >= 1.0 {
            last = f;
            to.post(&Response::Progress { fraction: f });
        }
    }
}

/// Reports a panic to the request that caused it (see [`CURRENT`]), then logs it as usual.
fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info.to_string();
    // `try_with`/`try_borrow`: a panic while the slot is borrowed or torn down must not panic again.
    let to = CURRENT.try_with(|c| c.try_borrow().ok().and_then(|c| c.clone())).ok().flatten();
    if let Some(to) = to {
        let error = engine::data::panicked(&engine::data::panic_message(info.payload())).map(Report::from);
        to.post(&Response::Crashed { message: message.clone(), error });
    }
    web_sys::console::error_1(&message.into());
}

/// One request, start to end: the engine run, the answer sent. Synchronous (a stored
/// matrix's Blob is read with `FileReaderSync`), so requests are served in arrival order and a
/// request never starts before the one sent before it ended (a `HoldMatrix` is held before the
/// fold that names its matrix runs).
fn serve(scope: DedicatedWorkerGlobalScope, data: JsValue) {
    let buffers: Array =
        Reflect::get(&data, &"buffers".into()).ok().and_then(|v| v.dyn_into().ok()).unwrap_or_default();
    // An envelope without even an id cannot be answered; the page never sends one.
    let Ok((id, req)) = protocol::decode::<Request>(data) else { return };
    let to = To { scope, id };
    CURRENT.with(|c| *c.borrow_mut() = Some(to.clone()));
    let outcome = req.map_err(|e| Failure::Rejected(e.to_string())).and_then(|req| handle(&to, req, buffers));
    CURRENT.with(|c| *c.borrow_mut() = None);
    reply(&to, outcome);
}

#[wasm_bindgen]
pub fn worker_entry() {
    std::panic::set_hook(Box::new(on_panic));
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let inner = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| serve(inner.clone(), ev.data()));
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    To { scope, id: 0 }.post(&Response::Ready);
}
