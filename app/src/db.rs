//! Browser storage for datasets: IndexedDB when the browser gives it, memory when it does not.
//!
//! Bars are stored columnar — one `Float64Array` per column — so a million-row dataset is a
//! handful of structured-clone copies, not a million JSON rows. A dataset's metadata and its
//! columns are written in one read-write transaction over both stores: if anything fails (quota,
//! a closed tab), IndexedDB rolls the whole transaction back and no half-written dataset remains.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use idb::{Database, Factory, KeyPath, ObjectStoreParams, Query, TransactionMode, TransactionResult};
use js_sys::Array;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use engine::bundle::{Kind, VerificationRecord};
use engine::data::{Series, SeriesLayout, Summary};
use engine::gbt::fit::{FitOptions, FitReport};
use engine::matrix::{BuildSummary, Preview};
pub use engine::model::ModelRecord;
use engine::run::Run;

use crate::columns;
use crate::pool::TrainedFold;
use crate::protocol::{ImportWrites, StoreSnapshot};

pub const DB_NAME: &str = "btb-workbench";
/// Current schema. Each version's step lives in [`migrate`]; never edit a released step.
pub const DB_VERSION: u32 = 9;
/// A dataset's id is this and the first 16 hex digits of its sha (an import files bars the same way).
pub const DATASET_ID_PREFIX: &str = "ds-";

const DATASETS: &str = "datasets";
const COLUMNS: &str = "columns";
const SETTINGS: &str = "settings";
const MODELS: &str = "models";
const MATRICES: &str = "matrices";
const TRAINED: &str = "trained";
const RUNS: &str = "runs";
const OOF: &str = "oof";
/// v6–v8's strategies, one per model (keyed by model_id): still read, never written.
const STRATEGIES: &str = "strategies";
/// Trained strategies, one per config of a model, keyed `model_id/config_sha` (`strategy_key`).
const STRATEGY_CONFIGS: &str = "strategy_configs";
const VERIFICATION: &str = "verification";
const FOLDS: &str = "folds";

/// One stored dataset's description; its bars live in the `columns` store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub id: String,
    pub name: String,
    /// Milliseconds since the epoch when it was stored.
    pub created: f64,
    pub sha: String,
    pub summary: Summary,
    #[serde(deserialize_with = "layouts_with_offsets")]
    pub layout: Vec<SeriesLayout>,
    /// How long parsing took in the worker, in milliseconds (0 for records stored before v2).
    #[serde(default)]
    pub parse_ms: f64,
}

/// Datasets stored before the page used the engine's `SeriesLayout` have no `offset`; it is
/// where the series starts in the dataset's rows, so it is the rows of the series before it.
fn layouts_with_offsets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SeriesLayout>, D::Error> {
    #[derive(Deserialize)]
    struct Stored {
        ticker: String,
        #[serde(default)]
        offset: Option<usize>,
        rows: usize,
        has_adj_close: bool,
    }
    let mut next = 0;
    Ok(Vec::<Stored>::deserialize(d)?
        .into_iter()
        .map(|s| {
            let offset = s.offset.unwrap_or(next);
            next = offset + s.rows;
            SeriesLayout { ticker: s.ticker, offset, rows: s.rows, has_adj_close: s.has_adj_close }
        })
        .collect())
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("browser storage is full (quota exceeded): \"{0}\" was not saved. Delete a dataset or free disk space and try again; nothing stored before was changed")]
    QuotaExceeded(String),
    #[error("no stored dataset with id {0}")]
    NotFound(String),
    #[error("the bars of this file are already stored as \"{0}\"")]
    Duplicate(String),
    #[error("browser storage failed: {0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    let text = e.to_string();
    StoreError::Failed(text)
}

fn classify(e: impl std::fmt::Display, name: &str) -> StoreError {
    let text = e.to_string();
    if text.contains("QuotaExceeded") || text.contains("quota") {
        StoreError::QuotaExceeded(name.to_string())
    } else {
        StoreError::Failed(text)
    }
}

/// What the app keeps its data in; `Memory` is the fallback for private windows and browsers
/// without IndexedDB, and says so in the page's banner.
#[derive(Clone)]
pub enum Store {
    Indexed(Rc<Database>),
    Memory(Rc<RefCell<MemoryStore>>),
}

#[derive(Default)]
pub struct MemoryStore {
    datasets: BTreeMap<String, DatasetMeta>,
    columns: BTreeMap<String, Vec<JsValue>>,
    settings: BTreeMap<String, String>,
    models: BTreeMap<String, ModelRecord>,
    /// The bytes as stored: a `Blob` (a build) or a `Uint8Array` (an import).
    matrices: BTreeMap<String, (MatrixMeta, JsValue)>,
    trained: BTreeMap<String, TrainedRecord>,
    runs: BTreeMap<String, Run>,
    oof: BTreeMap<String, Vec<u8>>,
    strategies: BTreeMap<String, StrategyRecord>,
    verification: BTreeMap<String, VerificationRecord>,
    /// A sweep's folds as they finish (`Store::put_fold`).
    folds: BTreeMap<String, TrainedFold>,
}

/// A model's trained strategy (`POST /train` for one config): the engine's record and the
/// model file. One per config of a model: training the same config again replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRecord {
    pub model_id: String,
    pub strategy: engine::strategy::Strategy,
    pub model_json: String,
    pub created: f64,
}

/// A trained model: the engine's report, the versioned model file, and what it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedRecord {
    pub model_sha: String,
    pub model_id: String,
    pub matrix_sha: String,
    pub created: f64,
    pub train_ms: f64,
    pub options: FitOptions,
    pub report: FitReport,
    /// The model file (`Booster::to_model_json`), reloadable bit-identically.
    pub model_json: String,
}

/// What the Build page shows of a stored matrix; its columns are in the record's `bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixMeta {
    pub model_id: String,
    pub summary: BuildSummary,
    pub preview: Preview,
    pub feature_names: Vec<String>,
    pub created: f64,
    /// Wall time of the build in the worker, milliseconds.
    #[serde(default)]
    pub build_ms: f64,
    /// What it was built with (signals rebuild the newest rows the same way).
    #[serde(default)]
    pub spec: Option<engine::matrix::BuildSpec>,
}

/// Schema steps, applied in order from the stored version to [`DB_VERSION`].
fn migrate(db: &Database, old_version: u32) -> Result<(), idb::Error> {
    if old_version < 1 {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("id")));
        db.create_object_store(DATASETS, params)?;
        db.create_object_store(COLUMNS, ObjectStoreParams::new())?;
    }
    if old_version < 2 {
        // v2: small key/value settings (e.g. whether the demo was already offered once, so a
        // user who deletes it does not get it back on every reload).
        db.create_object_store(SETTINGS, ObjectStoreParams::new())?;
    }
    if old_version < 3 {
        // v3: models (keyed by model_id) and built matrices (keyed by matrix_sha, so a build
        // whose inputs are unchanged is found instead of recomputed).
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("model_id")));
        db.create_object_store(MODELS, params)?;
        db.create_object_store(MATRICES, ObjectStoreParams::new())?;
    }
    if old_version < 4 {
        // v4: trained models, keyed by model_sha (the model file is part of the record).
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("model_sha")));
        db.create_object_store(TRAINED, params)?;
    }
    if old_version < 5 {
        // v5: sweep runs (keyed by run_id: the same run again replaces itself) and out-of-fold
        // probabilities (keyed by their engine key, bytes as stored by `Oof::to_bytes`).
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("run_id")));
        db.create_object_store(RUNS, params)?;
        db.create_object_store(OOF, ObjectStoreParams::new())?;
    }
    if old_version < 6 {
        // v6: trained strategies, one per model (keyed by model_id).
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("model_id")));
        db.create_object_store(STRATEGIES, params)?;
    }
    if old_version < 7 {
        // v7: what an import stored without verifying it, keyed `kind/id` (`verification_key`).
        db.create_object_store(VERIFICATION, ObjectStoreParams::new())?;
    }
    if old_version < 8 {
        // v8: a sweep's folds as they finish, keyed `oof_key/fold` (`fold_key`).
        db.create_object_store(FOLDS, ObjectStoreParams::new())?;
    }
    if old_version < 9 {
        // v9: strategies one per config ("train the top 3–5"), keyed `model_id/config_sha`
        // (`strategy_key`). v6's store stays and is still read: an upgrade cannot copy records
        // (its callback is synchronous), and a strategy kept there is shadowed by its config's
        // record here, and deleted when that config is trained again.
        db.create_object_store(STRATEGY_CONFIGS, ObjectStoreParams::new())?;
    }
    Ok(())
}

/// Puts `records` (in-line keys) into `store_name` in one transaction: all of them or none.
async fn put_records<T: Serialize>(
    db: &Database,
    store_name: &str,
    records: &[T],
    name: &str,
) -> Result<(), StoreError> {
    let tx = db.transaction(&[store_name], TransactionMode::ReadWrite).map_err(failed)?;
    let queued = (|| {
        let store = tx.object_store(store_name).map_err(failed)?;
        for r in records {
            let value = serde_wasm_bindgen::to_value(r).map_err(failed)?;
            let _ = store.put(&value, None).map_err(|e| classify(e, name))?;
        }
        Ok::<_, StoreError>(())
    })();
    settle(tx, queued, name).await
}

/// Every record of `store_name` that reads as a `T` (others are skipped).
async fn all_records<T: for<'de> Deserialize<'de>>(db: &Database, store_name: &str) -> Result<Vec<T>, StoreError> {
    let tx = db.transaction(&[store_name], TransactionMode::ReadOnly).map_err(failed)?;
    let store = tx.object_store(store_name).map_err(failed)?;
    let values = store.get_all(None, None).map_err(failed)?.await.map_err(failed)?;
    Ok(values.into_iter().filter_map(|v| serde_wasm_bindgen::from_value(v).ok()).collect())
}

/// The record of `store_name` under `key`, if there is one that reads as a `T`.
async fn one_record<T: for<'de> Deserialize<'de>>(
    db: &Database,
    store_name: &str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let tx = db.transaction(&[store_name], TransactionMode::ReadOnly).map_err(failed)?;
    let store = tx.object_store(store_name).map_err(failed)?;
    let value = store.get(Query::from(JsValue::from(key))).map_err(failed)?.await.map_err(failed)?;
    Ok(value.and_then(|v| serde_wasm_bindgen::from_value(v).ok()))
}

/// The key of an artifact's verification mark: `run/<run_id>`, `model/<model_id>` …
fn verification_key(kind: Kind, id: &str) -> String {
    format!("{}/{id}", kind.as_str())
}

/// Fold `fold` of the sweep whose out-of-fold key is `oof_key`; zero-padded so keys sort by fold.
fn fold_key(oof_key: &str, fold: usize) -> String {
    format!("{oof_key}/{fold:04}")
}

/// A strategy's key: one per config of a model.
fn strategy_key(model_id: &str, config_sha: &str) -> String {
    format!("{model_id}/{config_sha}")
}

/// Every strategy key of `model_id` (a model id has no `/`, so `/` … `0` bounds them).
fn strategy_range(model_id: &str) -> Result<idb::KeyRange, StoreError> {
    idb::KeyRange::bound(&format!("{model_id}/").into(), &format!("{model_id}0").into(), None, Some(true))
        .map_err(failed)
}

/// Every fold key of `oof_key` (a key is hex, so `/` … `0` bounds them).
fn fold_range(oof_key: &str) -> Result<idb::KeyRange, StoreError> {
    idb::KeyRange::bound(&format!("{oof_key}/").into(), &format!("{oof_key}0").into(), None, Some(true)).map_err(failed)
}

fn column_key(id: &str, index: usize) -> JsValue {
    JsValue::from(format!("{id}/{index}"))
}

impl Store {
    /// Opens IndexedDB, migrating it; falls back to memory with the reason when it cannot.
    pub async fn open() -> (Store, Option<String>) {
        Store::open_named(DB_NAME).await
    }

    /// [`Store::open`] on a database of another name (tests use throwaway ones).
    pub async fn open_named(name: &str) -> (Store, Option<String>) {
        match open_indexed(name).await {
            Ok(db) => (Store::Indexed(Rc::new(db)), None),
            Err(why) => (
                Store::memory(),
                Some(format!(
                    "IndexedDB is unavailable ({why}); datasets are kept in memory only and will be gone when this tab closes. A private window often causes this."
                )),
            ),
        }
    }

    pub fn memory() -> Store {
        Store::Memory(Rc::new(RefCell::new(MemoryStore::default())))
    }

    pub fn is_persistent(&self) -> bool {
        matches!(self, Store::Indexed(_))
    }

    pub async fn list(&self) -> Result<Vec<DatasetMeta>, StoreError> {
        let mut out = match self {
            Store::Memory(m) => m.borrow().datasets.values().cloned().collect(),
            Store::Indexed(db) => {
                let tx = db.transaction(&[DATASETS], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(DATASETS).map_err(failed)?;
                let values = store.get_all(None, None).map_err(failed)?.await.map_err(failed)?;
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    // A record this version cannot read is skipped, not fatal: the rest of the
                    // user's data stays usable.
                    if let Ok(meta) = serde_wasm_bindgen::from_value::<DatasetMeta>(v) {
                        out.push(meta);
                    }
                }
                out
            }
        };
        out.sort_by(|a: &DatasetMeta, b: &DatasetMeta| a.created.total_cmp(&b.created));
        Ok(out)
    }

    /// Stores a dataset atomically. `arrays` holds each series' typed arrays in layout order.
    pub async fn put(&self, meta: &DatasetMeta, arrays: Vec<Vec<JsValue>>) -> Result<(), StoreError> {
        if let Some(existing) = self.list().await?.into_iter().find(|m| m.sha == meta.sha) {
            return Err(StoreError::Duplicate(existing.name));
        }
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                for (i, cols) in arrays.into_iter().enumerate() {
                    m.columns.insert(format!("{}/{i}", meta.id), cols);
                }
                m.datasets.insert(meta.id.clone(), meta.clone());
                Ok(())
            }
            Store::Indexed(db) => {
                let name = meta.name.as_str();
                let tx =
                    db.transaction(&[DATASETS, COLUMNS], TransactionMode::ReadWrite).map_err(|e| classify(e, name))?;
                let queued = queue_dataset(&tx, meta, arrays);
                settle(tx, queued, name).await
            }
        }
    }

    pub async fn rename(&self, id: &str, name: &str) -> Result<(), StoreError> {
        let mut meta =
            self.list().await?.into_iter().find(|m| m.id == id).ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        meta.name = name.to_string();
        match self {
            Store::Memory(m) => {
                m.borrow_mut().datasets.insert(id.to_string(), meta);
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[DATASETS], TransactionMode::ReadWrite).map_err(failed)?;
                let store = tx.object_store(DATASETS).map_err(failed)?;
                let value = serde_wasm_bindgen::to_value(&meta).map_err(failed)?;
                let _ = store.put(&value, None).map_err(|e| classify(e, name))?;
                finish(tx, name).await
            }
        }
    }

    pub async fn delete(&self, meta: &DatasetMeta) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                m.datasets.remove(&meta.id);
                for i in 0..meta.layout.len() {
                    m.columns.remove(&format!("{}/{i}", meta.id));
                }
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[DATASETS, COLUMNS], TransactionMode::ReadWrite).map_err(failed)?;
                let cols = tx.object_store(COLUMNS).map_err(failed)?;
                for i in 0..meta.layout.len() {
                    let _ = cols.delete(Query::from(column_key(&meta.id, i))).map_err(failed)?;
                }
                let datasets = tx.object_store(DATASETS).map_err(failed)?;
                let _ = datasets.delete(Query::from(JsValue::from(meta.id.as_str()))).map_err(failed)?;
                finish(tx, &meta.name).await
            }
        }
    }

    /// One ticker's bars, read back into engine types for charting. The Blob is read off the
    /// page thread; only the copy into wasm memory runs on it.
    pub async fn series(&self, meta: &DatasetMeta, index: usize) -> Result<Series, StoreError> {
        let layout =
            meta.layout.get(index).ok_or_else(|| StoreError::NotFound(format!("{} series {index}", meta.id)))?;
        let stored = self.stored_series(meta, index).await?;
        if stored.len() != 1 {
            // Stored before Blobs: typed arrays as they are.
            return columns::from_arrays(layout, &stored).map_err(failed);
        }
        let blob = columns::blob_of(layout, &stored).map_err(failed)?;
        let bytes = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
            .await
            .map_err(|e| failed(format!("the bars of {} could not be read: {e:?}", meta.name)))?;
        columns::read_buffer(layout, &bytes.unchecked_into()).await.map_err(failed)
    }

    /// One ticker's bars as one Blob (`columns`), to hand to a worker.
    pub async fn series_blob(&self, meta: &DatasetMeta, index: usize) -> Result<web_sys::Blob, StoreError> {
        let layout =
            meta.layout.get(index).ok_or_else(|| StoreError::NotFound(format!("{} series {index}", meta.id)))?;
        let stored = self.stored_series(meta, index).await?;
        columns::blob_of(layout, &stored).map_err(failed)
    }

    /// One ticker's record as stored: its Blob, or (stored before Blobs) its typed arrays.
    async fn stored_series(&self, meta: &DatasetMeta, index: usize) -> Result<Vec<JsValue>, StoreError> {
        match self {
            Store::Memory(m) => m
                .borrow()
                .columns
                .get(&format!("{}/{index}", meta.id))
                .cloned()
                .ok_or_else(|| StoreError::NotFound(meta.id.clone())),
            Store::Indexed(db) => {
                let tx = db.transaction(&[COLUMNS], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(COLUMNS).map_err(failed)?;
                let value = store
                    .get(Query::from(column_key(&meta.id, index)))
                    .map_err(failed)?
                    .await
                    .map_err(failed)?
                    .ok_or_else(|| StoreError::NotFound(meta.id.clone()))?;
                Ok(Array::from(&value).iter().collect())
            }
        }
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().settings.get(key).cloned()),
            Store::Indexed(db) => {
                let tx = db.transaction(&[SETTINGS], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(SETTINGS).map_err(failed)?;
                let value = store.get(Query::from(JsValue::from(key))).map_err(failed)?.await.map_err(failed)?;
                Ok(value.and_then(|v| v.as_string()))
            }
        }
    }

    pub async fn models(&self) -> Result<Vec<ModelRecord>, StoreError> {
        let mut out: Vec<ModelRecord> = match self {
            Store::Memory(m) => m.borrow().models.values().cloned().collect(),
            Store::Indexed(db) => all_records(db, MODELS).await?,
        };
        // Old records were stamped in milliseconds and new ones are too (`created_stamp`), but a
        // record from the CLI has seconds: order by the instant, not the text.
        out.sort_by_key(|m| (m.created_ms(), m.model_id.clone()));
        Ok(out)
    }

    pub async fn put_model(&self, record: &ModelRecord) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                m.borrow_mut().models.insert(record.model_id.clone(), record.clone());
                Ok(())
            }
            Store::Indexed(db) => put_records(db, MODELS, std::slice::from_ref(record), &record.model_id).await,
        }
    }

    /// Deletes a model with its sweep runs and its trained strategies, in one transaction.
    /// Matrices and out-of-fold probabilities stay: they are caches keyed by content.
    pub async fn delete_model(&self, model_id: &str) -> Result<(), StoreError> {
        let run_ids: Vec<String> =
            self.runs().await?.into_iter().filter(|r| r.model_id == model_id).map(|r| r.run_id).collect();
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                m.models.remove(model_id);
                m.strategies.retain(|_, s| s.model_id != model_id);
                for id in &run_ids {
                    m.runs.remove(id);
                }
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db
                    .transaction(&[MODELS, RUNS, STRATEGIES, STRATEGY_CONFIGS], TransactionMode::ReadWrite)
                    .map_err(failed)?;
                let queued = (|| {
                    let key = Query::from(JsValue::from(model_id));
                    let _ = tx.object_store(MODELS).map_err(failed)?.delete(key).map_err(failed)?;
                    let _ = tx
                        .object_store(STRATEGIES)
                        .map_err(failed)?
                        .delete(Query::from(JsValue::from(model_id)))
                        .map_err(failed)?;
                    let _ = tx
                        .object_store(STRATEGY_CONFIGS)
                        .map_err(failed)?
                        .delete(strategy_range(model_id)?)
                        .map_err(failed)?;
                    let runs = tx.object_store(RUNS).map_err(failed)?;
                    for id in &run_ids {
                        let _ = runs.delete(Query::from(JsValue::from(id.as_str()))).map_err(failed)?;
                    }
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, model_id).await
            }
        }
    }

    /// Stores a built matrix under its sha and points its model at it, in one transaction.
    /// `bytes` is a `Blob` (what a build sends: the browser keeps it outside the page's heap and
    /// IndexedDB stores it without cloning its bytes on the page thread) or a `Uint8Array`.
    /// A matrix, and with `model` that model's record pointing at it (its build); without, a
    /// matrix only a sweep's model variant uses (another label horizon), the model unchanged.
    pub async fn put_matrix(
        &self,
        meta: &MatrixMeta,
        bytes: &JsValue,
        model: Option<&ModelRecord>,
    ) -> Result<(), StoreError> {
        let sha = meta.summary.matrix_sha.clone();
        let model =
            model.map(|m| ModelRecord { matrix_sha: Some(sha.clone()), build_spec: meta.spec.clone(), ..m.clone() });
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                m.matrices.insert(sha, (meta.clone(), bytes.clone()));
                if let Some(model) = model {
                    m.models.insert(model.model_id.clone(), model);
                }
                Ok(())
            }
            Store::Indexed(db) => {
                let name = meta.model_id.as_str();
                let tx = db.transaction(&[MATRICES, MODELS], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = (|| {
                    let record = js_sys::Object::new();
                    let meta_js = serde_wasm_bindgen::to_value(meta).map_err(failed)?;
                    js_sys::Reflect::set(&record, &"meta".into(), &meta_js).map_err(|e| failed(format!("{e:?}")))?;
                    js_sys::Reflect::set(&record, &"bytes".into(), bytes).map_err(|e| failed(format!("{e:?}")))?;
                    let matrices = tx.object_store(MATRICES).map_err(failed)?;
                    let _ = matrices.put(&record, Some(&JsValue::from(sha.as_str()))).map_err(|e| classify(e, name))?;
                    if let Some(model) = &model {
                        let models = tx.object_store(MODELS).map_err(failed)?;
                        let value = serde_wasm_bindgen::to_value(model).map_err(failed)?;
                        let _ = models.put(&value, None).map_err(|e| classify(e, name))?;
                    }
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, name).await
            }
        }
    }

    /// The shas of every stored matrix (keys only: no matrix is read).
    pub async fn matrix_shas(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().matrices.keys().cloned().collect()),
            Store::Indexed(db) => {
                let tx = db.transaction(&[MATRICES], TransactionMode::ReadOnly).map_err(failed)?;
                let keys = tx.object_store(MATRICES).map_err(failed)?.get_all_keys(None, None).map_err(failed)?;
                Ok(keys.await.map_err(failed)?.into_iter().filter_map(|k| k.as_string()).collect())
            }
        }
    }

    /// A stored matrix's description, if one with this sha exists.
    pub async fn matrix_meta(&self, sha: &str) -> Result<Option<MatrixMeta>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().matrices.get(sha).map(|(meta, _)| meta.clone())),
            Store::Indexed(db) => {
                let tx = db.transaction(&[MATRICES], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(MATRICES).map_err(failed)?;
                let value = store.get(Query::from(JsValue::from(sha))).map_err(failed)?.await.map_err(failed)?;
                let Some(value) = value else { return Ok(None) };
                let meta = js_sys::Reflect::get(&value, &"meta".into()).map_err(|e| failed(format!("{e:?}")))?;
                Ok(serde_wasm_bindgen::from_value(meta).ok())
            }
        }
    }

    /// A stored matrix's bytes (`Matrix::to_bytes`) as stored, to hand to a worker: a `Blob`
    /// (the worker reads it; its bytes never enter the page's heap) or a `Uint8Array`.
    pub async fn matrix_bytes(&self, sha: &str) -> Result<Option<JsValue>, StoreError> {
        match self {
            Store::Memory(m) => {
                Ok(m.borrow().matrices.get(sha).map(|(_, b)| match b.dyn_ref::<js_sys::Uint8Array>() {
                    // A copy: the caller may transfer it.
                    Some(a) => js_sys::Uint8Array::new(a).into(),
                    None => b.clone(),
                }))
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[MATRICES], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(MATRICES).map_err(failed)?;
                let value = store.get(Query::from(JsValue::from(sha))).map_err(failed)?.await.map_err(failed)?;
                let Some(value) = value else { return Ok(None) };
                let bytes = js_sys::Reflect::get(&value, &"bytes".into()).map_err(|e| failed(format!("{e:?}")))?;
                Ok((bytes.is_instance_of::<web_sys::Blob>() || bytes.is_instance_of::<js_sys::Uint8Array>())
                    .then_some(bytes))
            }
        }
    }

    pub async fn put_trained(&self, record: &TrainedRecord) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                m.borrow_mut().trained.insert(record.model_sha.clone(), record.clone());
                Ok(())
            }
            Store::Indexed(db) => put_records(db, TRAINED, std::slice::from_ref(record), &record.model_id).await,
        }
    }

    /// Trained models, newest first.
    pub async fn trained(&self) -> Result<Vec<TrainedRecord>, StoreError> {
        let mut out: Vec<TrainedRecord> = match self {
            Store::Memory(m) => m.borrow().trained.values().cloned().collect(),
            Store::Indexed(db) => all_records(db, TRAINED).await?,
        };
        out.sort_by(|a, b| b.created.total_cmp(&a.created));
        Ok(out)
    }

    /// Stores a sweep's runs in one transaction: all of them or none. A run computed here is
    /// no longer "as imported": its verification mark goes in the same transaction.
    pub async fn put_runs(&self, runs: &[Run]) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                for r in runs {
                    m.runs.insert(r.run_id.clone(), r.clone());
                    m.verification.remove(&verification_key(Kind::Run, &r.run_id));
                }
                Ok(())
            }
            Store::Indexed(db) => {
                let name = runs.first().map(|r| r.model_id.as_str()).unwrap_or("runs");
                let tx = db.transaction(&[RUNS, VERIFICATION], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = (|| {
                    let store = tx.object_store(RUNS).map_err(failed)?;
                    let marks = tx.object_store(VERIFICATION).map_err(failed)?;
                    for r in runs {
                        let value = serde_wasm_bindgen::to_value(r).map_err(failed)?;
                        let _ = store.put(&value, None).map_err(|e| classify(e, name))?;
                        let key = JsValue::from(verification_key(Kind::Run, &r.run_id));
                        let _ = marks.delete(Query::from(key)).map_err(failed)?;
                    }
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, name).await
            }
        }
    }

    /// What imports stored without verifying it.
    pub async fn verifications(&self) -> Result<Vec<VerificationRecord>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().verification.values().cloned().collect()),
            Store::Indexed(db) => all_records(db, VERIFICATION).await,
        }
    }

    /// What the store holds, as a bundle's merge compares it (`engine::bundle::merge`), and
    /// the stored out-of-fold bytes in `oof_keys` order.
    pub async fn snapshot(&self) -> Result<(StoreSnapshot, Vec<js_sys::Uint8Array>), StoreError> {
        let mut snap = StoreSnapshot {
            datasets: self.list().await?.into_iter().map(|d| (d.id, d.sha)).collect(),
            strategies: self.strategies().await?.into_iter().map(|s| s.strategy).collect(),
            models: self.models().await?,
            runs: self.runs().await?,
            ..StoreSnapshot::default()
        };
        snap.marks = self.verifications().await?.into_iter().map(|v| (v.kind, v.id)).collect();
        snap.matrices = self.matrix_shas().await?;
        let mut oof = Vec::new();
        match self {
            Store::Memory(m) => {
                let m = m.borrow();
                for (k, bytes) in &m.oof {
                    snap.oof_keys.push(k.clone());
                    oof.push(js_sys::Uint8Array::from(bytes.as_slice()));
                }
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[OOF], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(OOF).map_err(failed)?;
                let keys = store.get_all_keys(None, None).map_err(failed)?.await.map_err(failed)?;
                let values = store.get_all(None, None).map_err(failed)?.await.map_err(failed)?;
                // Both in key order, so they pair up.
                for (k, v) in keys.into_iter().zip(values) {
                    if let (Some(k), Ok(bytes)) = (k.as_string(), v.dyn_into::<js_sys::Uint8Array>()) {
                        snap.oof_keys.push(k);
                        oof.push(bytes);
                    }
                }
            }
        }
        Ok((snap, oof))
    }

    /// Writes an accepted import in one transaction over every store it touches: all of it or,
    /// if anything fails, none of it. `buffers` are the worker's, as `ImportWrites` orders them.
    pub async fn import(&self, w: &ImportWrites, buffers: &Array, file: &str) -> Result<(), StoreError> {
        let now = js_sys::Date::now();
        let mut at = 0u32;
        let mut next = || {
            at += 1;
            buffers.get(at - 1)
        };
        let mut datasets = Vec::new();
        for d in &w.datasets {
            let arrays: Vec<Vec<JsValue>> = d.layout.iter().map(|_| vec![next()]).collect();
            let meta = DatasetMeta {
                id: d.id.clone(),
                name: d.name.clone(),
                created: now,
                sha: d.sha.clone(),
                summary: d.summary.clone(),
                layout: d.layout.clone(),
                parse_ms: 0.0,
            };
            datasets.push((meta, arrays));
        }
        let matrices: Vec<(MatrixMeta, JsValue)> = w
            .matrices
            .iter()
            .map(|m| {
                let meta = MatrixMeta {
                    model_id: m.model_id.clone(),
                    summary: m.summary.clone(),
                    preview: m.preview.clone(),
                    feature_names: m.feature_names.clone(),
                    created: now,
                    build_ms: 0.0,
                    spec: m.spec.clone(),
                };
                (meta, next())
            })
            .collect();
        let oof: Vec<(&String, JsValue)> = w.oof_keys.iter().map(|k| (k, next())).collect();
        let strategies: Vec<StrategyRecord> = w
            .strategies
            .iter()
            .map(|(strategy, model_json)| StrategyRecord {
                model_id: strategy.model_id.clone(),
                strategy: strategy.clone(),
                model_json: model_json.clone(),
                created: now,
            })
            .collect();
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                for (meta, arrays) in datasets {
                    for (i, cols) in arrays.into_iter().enumerate() {
                        m.columns.insert(format!("{}/{i}", meta.id), cols);
                    }
                    m.datasets.insert(meta.id.clone(), meta);
                }
                for (meta, bytes) in matrices {
                    m.matrices.insert(meta.summary.matrix_sha.clone(), (meta, bytes));
                }
                for (k, bytes) in oof {
                    let bytes = bytes.dyn_into::<js_sys::Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
                    m.oof.insert(k.clone(), bytes);
                }
                for s in strategies {
                    m.strategies.insert(strategy_key(&s.model_id, &s.strategy.config_sha), s);
                }
                for r in &w.models {
                    m.models.insert(r.model_id.clone(), r.clone());
                }
                for r in &w.runs {
                    m.runs.insert(r.run_id.clone(), r.clone());
                }
                for v in &w.mark {
                    m.verification.insert(verification_key(v.kind, &v.id), v.clone());
                }
                for (kind, id) in &w.unmark {
                    m.verification.remove(&verification_key(*kind, id));
                }
                Ok(())
            }
            Store::Indexed(db) => {
                let names = [DATASETS, COLUMNS, MATRICES, OOF, STRATEGY_CONFIGS, MODELS, RUNS, VERIFICATION];
                let tx = db.transaction(&names, TransactionMode::ReadWrite).map_err(|e| classify(e, file))?;
                let queued = (|| {
                    let put = |store: &str, value: &JsValue, key: Option<JsValue>| -> Result<(), StoreError> {
                        let s = tx.object_store(store).map_err(failed)?;
                        let _ = s.put(value, key.as_ref()).map_err(|e| classify(e, file))?;
                        Ok(())
                    };
                    for (meta, arrays) in datasets {
                        queue_dataset(&tx, &meta, arrays)?;
                    }
                    for (meta, bytes) in matrices {
                        let record = js_sys::Object::new();
                        let meta_js = serde_wasm_bindgen::to_value(&meta).map_err(failed)?;
                        js_sys::Reflect::set(&record, &"meta".into(), &meta_js)
                            .map_err(|e| failed(format!("{e:?}")))?;
                        js_sys::Reflect::set(&record, &"bytes".into(), &bytes).map_err(|e| failed(format!("{e:?}")))?;
                        put(MATRICES, &record, Some(JsValue::from(meta.summary.matrix_sha.as_str())))?;
                    }
                    for (k, bytes) in oof {
                        put(OOF, &bytes, Some(JsValue::from(k.as_str())))?;
                    }
                    for s in &strategies {
                        let key = JsValue::from(strategy_key(&s.model_id, &s.strategy.config_sha));
                        put(STRATEGY_CONFIGS, &serde_wasm_bindgen::to_value(s).map_err(failed)?, Some(key))?;
                    }
                    for r in &w.models {
                        put(MODELS, &serde_wasm_bindgen::to_value(r).map_err(failed)?, None)?;
                    }
                    for r in &w.runs {
                        put(RUNS, &serde_wasm_bindgen::to_value(r).map_err(failed)?, None)?;
                    }
                    for v in &w.mark {
                        let key = JsValue::from(verification_key(v.kind, &v.id));
                        put(VERIFICATION, &serde_wasm_bindgen::to_value(v).map_err(failed)?, Some(key))?;
                    }
                    let marks = tx.object_store(VERIFICATION).map_err(failed)?;
                    for (kind, id) in &w.unmark {
                        let _ =
                            marks.delete(Query::from(JsValue::from(verification_key(*kind, id)))).map_err(failed)?;
                    }
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, file).await
            }
        }
    }

    /// Every stored run (the leaderboard orders them).
    pub async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().runs.values().cloned().collect()),
            Store::Indexed(db) => all_records(db, RUNS).await,
        }
    }

    /// Stores a trained strategy beside its model's others; the same config again replaces its
    /// own (and a v6 record of that config, in the same transaction).
    pub async fn put_strategy(&self, record: &StrategyRecord) -> Result<(), StoreError> {
        let key = strategy_key(&record.model_id, &record.strategy.config_sha);
        match self {
            Store::Memory(m) => {
                m.borrow_mut().strategies.insert(key, record.clone());
                Ok(())
            }
            Store::Indexed(db) => {
                // v6 kept one strategy per model, keyed by the model id.
                let legacy = one_record::<StrategyRecord>(db, STRATEGIES, &record.model_id)
                    .await?
                    .is_some_and(|s| s.strategy.config_sha == record.strategy.config_sha);
                let name = record.model_id.as_str();
                let tx = db.transaction(&[STRATEGIES, STRATEGY_CONFIGS], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = (|| {
                    let value = serde_wasm_bindgen::to_value(record).map_err(failed)?;
                    let store = tx.object_store(STRATEGY_CONFIGS).map_err(failed)?;
                    let _ = store.put(&value, Some(&JsValue::from(key.as_str()))).map_err(|e| classify(e, name))?;
                    if legacy {
                        let old = tx.object_store(STRATEGIES).map_err(failed)?;
                        let _ = old.delete(Query::from(JsValue::from(name))).map_err(failed)?;
                    }
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, name).await
            }
        }
    }

    /// Every trained strategy, newest first (by when it was trained, then config_sha).
    pub async fn strategies(&self) -> Result<Vec<StrategyRecord>, StoreError> {
        let mut out: Vec<StrategyRecord> = match self {
            Store::Memory(m) => m.borrow().strategies.values().cloned().collect(),
            Store::Indexed(db) => {
                let mut all: Vec<StrategyRecord> = all_records(db, STRATEGY_CONFIGS).await?;
                // A v6 record whose config was not trained since.
                for s in all_records::<StrategyRecord>(db, STRATEGIES).await? {
                    if !all.iter().any(|x| x.model_id == s.model_id && x.strategy.config_sha == s.strategy.config_sha) {
                        all.push(s);
                    }
                }
                all
            }
        };
        // As `engine::strategy::pick` orders them (when trained, then config_sha), so the page and
        // `btb` call the same strategy the newest, an imported one included.
        out.sort_by(|a, b| {
            b.strategy.created.cmp(&a.strategy.created).then_with(|| b.strategy.config_sha.cmp(&a.strategy.config_sha))
        });
        Ok(out)
    }

    /// Stores an out-of-fold file and, in the same transaction, drops the folds it was
    /// assembled from.
    pub async fn put_oof(&self, key: &str, bytes: &js_sys::Uint8Array) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                m.oof.insert(key.to_string(), bytes.to_vec());
                let prefix = format!("{key}/");
                m.folds.retain(|k, _| !k.starts_with(&prefix));
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[OOF, FOLDS], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = (|| {
                    let store = tx.object_store(OOF).map_err(failed)?;
                    let _ = store
                        .put(bytes, Some(&JsValue::from(key)))
                        .map_err(|e| classify(e, "out-of-fold probabilities"))?;
                    let _ = tx.object_store(FOLDS).map_err(failed)?.delete(fold_range(key)?).map_err(failed)?;
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, key).await
            }
        }
    }

    /// Stores one trained fold of the sweep `oof_key`, in its own transaction.
    pub async fn put_fold(&self, oof_key: &str, fold: &TrainedFold) -> Result<(), StoreError> {
        let key = fold_key(oof_key, fold.meta.fold);
        match self {
            Store::Memory(m) => {
                m.borrow_mut().folds.insert(key, fold.clone());
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[FOLDS], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = (|| {
                    let record = js_sys::Object::new();
                    let meta = serde_wasm_bindgen::to_value(&fold.meta).map_err(failed)?;
                    let set = |k: &str, v: &JsValue| {
                        js_sys::Reflect::set(&record, &k.into(), v).map(|_| ()).map_err(|e| failed(format!("{e:?}")))
                    };
                    set("meta", &meta)?;
                    set("test", &fold.test)?;
                    set("inner", &fold.inner)?;
                    let _ = tx
                        .object_store(FOLDS)
                        .map_err(failed)?
                        .put(&record, Some(&JsValue::from(key.as_str())))
                        .map_err(|e| classify(e, "a trained fold"))?;
                    Ok::<_, StoreError>(())
                })();
                settle(tx, queued, &key).await
            }
        }
    }

    /// The stored folds of the sweep `oof_key`, in fold order (unreadable records skipped:
    /// those folds are trained again).
    pub async fn folds(&self, oof_key: &str) -> Result<Vec<TrainedFold>, StoreError> {
        match self {
            Store::Memory(m) => {
                let prefix = format!("{oof_key}/");
                Ok(m.borrow().folds.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, f)| f.clone()).collect())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[FOLDS], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(FOLDS).map_err(failed)?;
                let values =
                    store.get_all(Some(fold_range(oof_key)?.into()), None).map_err(failed)?.await.map_err(failed)?;
                let read = |v: &JsValue| -> Option<TrainedFold> {
                    let get = |k: &str| js_sys::Reflect::get(v, &k.into()).ok();
                    Some(TrainedFold {
                        meta: serde_wasm_bindgen::from_value(get("meta")?).ok()?,
                        test: get("test")?.dyn_into().ok()?,
                        inner: get("inner")?.dyn_into().ok()?,
                    })
                };
                Ok(values.iter().filter_map(read).collect())
            }
        }
    }

    /// Drops the stored folds of `oof_key` (a sweep asked to train its folds again).
    pub async fn delete_folds(&self, oof_key: &str) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                let prefix = format!("{oof_key}/");
                m.borrow_mut().folds.retain(|k, _| !k.starts_with(&prefix));
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[FOLDS], TransactionMode::ReadWrite).map_err(failed)?;
                let queued = tx
                    .object_store(FOLDS)
                    .map_err(failed)
                    .and_then(|s| s.delete(fold_range(oof_key)?).map(|_| ()).map_err(failed));
                settle(tx, queued, oof_key).await
            }
        }
    }

    /// Cached out-of-fold probabilities under their engine key.
    pub async fn oof(&self, key: &str) -> Result<Option<js_sys::Uint8Array>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.borrow().oof.get(key).map(|b| js_sys::Uint8Array::from(b.as_slice()))),
            Store::Indexed(db) => {
                let tx = db.transaction(&[OOF], TransactionMode::ReadOnly).map_err(failed)?;
                let store = tx.object_store(OOF).map_err(failed)?;
                let value = store.get(Query::from(JsValue::from(key))).map_err(failed)?.await.map_err(failed)?;
                Ok(value.and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()))
            }
        }
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                m.borrow_mut().settings.insert(key.to_string(), value.to_string());
                Ok(())
            }
            Store::Indexed(db) => {
                let tx = db.transaction(&[SETTINGS], TransactionMode::ReadWrite).map_err(failed)?;
                let store = tx.object_store(SETTINGS).map_err(failed)?;
                let _ = store.put(&JsValue::from(value), Some(&JsValue::from(key))).map_err(failed)?;
                finish(tx, key).await
            }
        }
    }
}

/// Queues every record of one dataset inside `tx`; the commit reports asynchronous failures.
fn queue_dataset(tx: &idb::Transaction, meta: &DatasetMeta, arrays: Vec<Vec<JsValue>>) -> Result<(), StoreError> {
    let name = meta.name.as_str();
    let cols = tx.object_store(COLUMNS).map_err(failed)?;
    for (i, series) in arrays.into_iter().enumerate() {
        let value: Array = series.into_iter().collect();
        // Not awaited one by one: the requests queue inside the transaction and the commit
        // reports the first failure for all of them.
        let _ = cols.put(&value, Some(&column_key(&meta.id, i))).map_err(|e| classify(e, name))?;
    }
    let datasets = tx.object_store(DATASETS).map_err(failed)?;
    let value = serde_wasm_bindgen::to_value(meta).map_err(failed)?;
    let _ = datasets.put(&value, None).map_err(|e| classify(e, name))?;
    Ok(())
}

/// Commits `tx` when everything was `queued`; otherwise aborts it. A request that throws
/// synchronously (a value that cannot be cloned) does not abort the transaction by itself: the
/// records queued before it would commit, so abort explicitly and nothing of the write stays.
async fn settle(tx: idb::Transaction, queued: Result<(), StoreError>, name: &str) -> Result<(), StoreError> {
    match queued {
        Ok(()) => finish(tx, name).await,
        Err(e) => {
            let _ = tx.abort();
            Err(e)
        }
    }
}

async fn finish(tx: idb::Transaction, name: &str) -> Result<(), StoreError> {
    let committed = tx.commit().map_err(|e| classify(e, name))?.await.map_err(|e| classify(e, name))?;
    match committed {
        TransactionResult::Committed => Ok(()),
        TransactionResult::Aborted => Err(StoreError::Failed(format!(
            "the write of \"{name}\" was rolled back; nothing stored before was changed"
        ))),
    }
}

/// Opens (and migrates) the named database; public so tests can use a throwaway name.
pub async fn open_indexed(name: &str) -> Result<Database, String> {
    let factory = Factory::new().map_err(|e| e.to_string())?;
    let mut request = factory.open(name, Some(DB_VERSION)).map_err(|e| e.to_string())?;
    request.on_upgrade_needed(|event| {
        let old = event.old_version().unwrap_or(0);
        if let Ok(db) = idb::DatabaseEvent::database(&event) {
            if let Err(e) = migrate(&db, old) {
                web_sys::console::error_1(&format!("IndexedDB migration from v{old} failed: {e}").into());
            }
        }
    });
    request.await.map_err(|e| e.to_string())
}

/// Asks the browser not to evict our data under storage pressure; returns whether it agreed.
pub async fn request_persistence() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let storage = window.navigator().storage();
    let Ok(promise) = storage.persist() else { return false };
    wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
}
