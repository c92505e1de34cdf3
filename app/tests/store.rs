//! The IndexedDB layer in a real browser (headless Chromium via wasm-bindgen-test-runner):
//! columnar round trip, rename/delete, duplicate refusal, all-or-nothing writes, migration from
//! schema v1, and the in-memory fallback behaving the same.

#![cfg(target_arch = "wasm32")]

use app::db::{open_indexed, DatasetMeta, Store, StoreError, DB_VERSION};
use engine::data::{Cadence, SeriesLayout, Summary, TickerSummary};
use idb::{Factory, KeyPath, ObjectStoreParams, TransactionMode};
use js_sys::Float64Array;
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique(name: &str) -> String {
    format!("btb-test-{name}-{}", js_sys::Math::random())
}

fn meta(id: &str, sha: &str, rows: usize) -> DatasetMeta {
    DatasetMeta {
        id: id.to_string(),
        name: format!("{id}.csv"),
        created: js_sys::Date::now(),
        sha: sha.to_string(),
        summary: Summary {
            name: format!("{id}.csv"),
            rows,
            tz: "UTC".into(),
            tickers: vec![TickerSummary {
                ticker: "AAA".into(),
                rows,
                start: "2020-01-01".into(),
                end: "2020-02-01".into(),
                cadence: Cadence::Daily,
                has_adj_close: false,
            }],
            issues: vec![],
            issue_counts: vec![],
        },
        layout: vec![SeriesLayout { ticker: "AAA".into(), offset: 0, rows, has_adj_close: false }],
        parse_ms: 1.0,
    }
}

fn columns(rows: usize, seed: f64) -> Vec<Vec<JsValue>> {
    let col = |k: f64| -> JsValue {
        let v: Vec<f64> = (0..rows).map(|i| seed + k + i as f64).collect();
        Float64Array::from(v.as_slice()).into()
    };
    vec![vec![col(0.0), col(1.0), col(2.0), col(-1.0), col(0.5), col(100.0)]]
}

async fn round_trip(store: &Store) {
    let m = meta("ds-a", "sha-a", 1000);
    store.put(&m, columns(1000, 10.0)).await.expect("put");
    let list = store.list().await.expect("list");
    assert_eq!(list, vec![m.clone()]);
    let s = store.series(&m, 0).await.expect("series");
    assert_eq!(s.ts.len(), 1000);
    assert_eq!(s.ts[999], 1009);
    assert_eq!(s.close[3], 13.5);
    assert_eq!(s.volume[0], 110.0);

    // The same bars again are refused, naming the stored copy.
    let again = meta("ds-b", "sha-a", 1000);
    assert_eq!(store.put(&again, columns(1000, 10.0)).await, Err(StoreError::Duplicate("ds-a.csv".into())));

    store.rename("ds-a", "Renamed").await.expect("rename");
    assert_eq!(store.list().await.unwrap()[0].name, "Renamed");
    let renamed = store.list().await.unwrap().remove(0);
    store.delete(&renamed).await.expect("delete");
    assert!(store.list().await.unwrap().is_empty());
    assert!(store.series(&m, 0).await.is_err());

    store.set_setting("k", "v").await.unwrap();
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("v"));
    assert_eq!(store.setting("missing").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn indexeddb_round_trip() {
    let (store, warning) = Store::open_named(&unique("rt")).await;
    assert!(warning.is_none(), "{warning:?}");
    assert!(store.is_persistent());
    round_trip(&store).await;
}

#[wasm_bindgen_test]
async fn memory_fallback_behaves_the_same() {
    round_trip(&Store::memory()).await;
}

/// A series stored as one Blob (what a worker's `Load` sends) reads back bit for bit, and a
/// record stored before Blobs (typed arrays) is handed to workers as the same Blob bytes.
#[wasm_bindgen_test]
async fn bars_as_one_blob() {
    let (store, _) = Store::open_named(&unique("blob")).await;
    let m = meta("ds-blob", "sha-blob", 1000);
    let legacy = app::columns::from_arrays(&m.layout[0], &columns(1000, 10.0)[0]).unwrap();
    let blob = app::columns::to_blob(&legacy).unwrap();
    store.put(&m, vec![vec![blob.into()]]).await.expect("put");
    let back = store.series(&m, 0).await.expect("series");
    assert_eq!(back, legacy);
    let bytes = |b: web_sys::Blob| async move {
        let buf = wasm_bindgen_futures::JsFuture::from(b.array_buffer()).await.unwrap();
        js_sys::Uint8Array::new(&buf).to_vec()
    };
    let stored = bytes(store.series_blob(&m, 0).await.unwrap()).await;

    let old = meta("ds-old", "sha-old", 1000);
    store.put(&old, columns(1000, 10.0)).await.expect("put typed arrays");
    assert_eq!(bytes(store.series_blob(&old, 0).await.unwrap()).await, stored);
    let buf = js_sys::Uint8Array::from(stored.as_slice()).buffer();
    assert_eq!(app::columns::from_buffer(&m.layout[0], &buf).unwrap(), legacy);
    assert_eq!(app::columns::read_buffer(&m.layout[0], &buf).await.unwrap(), legacy);
    // Past one piece of the page-thread copy (2^19 values), pieces join in order.
    let rows = (1 << 20) + 3;
    let big = engine::data::Series {
        ticker: "AAA".into(),
        ts: (0..rows as i64).map(|i| 1_600_000_000_000 + 60_000 * i).collect(),
        open: (0..rows).map(|i| i as f64).collect(),
        high: (0..rows).map(|i| i as f64 + 0.5).collect(),
        low: (0..rows).map(|i| i as f64 - 0.5).collect(),
        close: (0..rows).map(|i| (i as f64).sqrt()).collect(),
        volume: (0..rows).map(|i| (i % 7) as f64).collect(),
        adj_close: None,
    };
    let layout = SeriesLayout { ticker: "AAA".into(), offset: 0, rows, has_adj_close: false };
    let buf = wasm_bindgen_futures::JsFuture::from(app::columns::to_blob(&big).unwrap().array_buffer()).await.unwrap();
    assert_eq!(app::columns::read_buffer(&layout, &buf.into()).await.unwrap(), big);
    // A Blob of the wrong size is refused, naming the ticker and what was expected.
    let short = js_sys::Uint8Array::from(&stored[..stored.len() - 8]).buffer();
    let e = app::columns::from_buffer(&m.layout[0], &short).unwrap_err().to_string();
    assert!(e.contains("AAA") && e.contains("expected 48000"), "{e}");
}

#[wasm_bindgen_test]
async fn failed_write_leaves_nothing_behind() {
    let (store, _) = Store::open_named(&unique("atomic")).await;
    let good = meta("ds-good", "sha-good", 10);
    store.put(&good, columns(10, 0.0)).await.unwrap();
    // A column that cannot be stored (a function is not structured-cloneable) fails the write
    // after other records of the same dataset were queued: all of it must roll back.
    let bad = meta("ds-bad", "sha-bad", 10);
    let mut cols = columns(10, 0.0);
    cols.push(vec![js_sys::Function::new_no_args("return 1").into()]);
    let mut bad2 = bad.clone();
    bad2.layout.push(SeriesLayout { ticker: "BBB".into(), offset: 10, rows: 10, has_adj_close: false });
    assert!(store.put(&bad2, cols).await.is_err());
    assert_eq!(store.list().await.unwrap(), vec![good.clone()]);
    assert!(store.series(&bad2, 0).await.is_err(), "no orphan columns");
    assert_eq!(store.series(&good, 0).await.unwrap().ts.len(), 10);
}

#[wasm_bindgen_test]
async fn migrates_a_version_1_database() {
    let name = unique("migrate");
    // Build the v1 schema by hand, with one dataset in it.
    let factory = Factory::new().unwrap();
    let mut req = factory.open(&name, Some(1)).unwrap();
    req.on_upgrade_needed(|event| {
        let db = idb::DatabaseEvent::database(&event).unwrap();
        let mut p = ObjectStoreParams::new();
        p.key_path(Some(KeyPath::new_single("id")));
        db.create_object_store("datasets", p).unwrap();
        db.create_object_store("columns", ObjectStoreParams::new()).unwrap();
    });
    let db = req.await.unwrap();
    let m = meta("ds-old", "sha-old", 5);
    let tx = db.transaction(&["datasets", "columns"], TransactionMode::ReadWrite).unwrap();
    let cols: js_sys::Array = columns(5, 1.0).remove(0).into_iter().collect();
    tx.object_store("columns").unwrap().put(&cols, Some(&JsValue::from("ds-old/0"))).unwrap().await.unwrap();
    tx.object_store("datasets").unwrap().put(&serde_wasm_bindgen::to_value(&m).unwrap(), None).unwrap().await.unwrap();
    tx.commit().unwrap().await.unwrap();
    db.close();

    let upgraded = open_indexed(&name).await.unwrap();
    assert_eq!(upgraded.version().unwrap(), DB_VERSION);
    for name in ["settings", "models", "matrices", "trained", "runs", "oof", "strategies"] {
        assert!(upgraded.store_names().contains(&name.to_string()), "{name} missing after the migration");
    }
    upgraded.close();
    let (store, warning) = Store::open_named(&name).await;
    assert!(warning.is_none());
    assert_eq!(store.list().await.unwrap(), vec![m.clone()]);
    assert_eq!(store.series(&m, 0).await.unwrap().close[0], 1.5);
}

/// Records written before the page used the engine's shared types: a dataset layout without
/// `offset` and a model stamped in f64 milliseconds. Both still read; nothing is skipped.
#[wasm_bindgen_test]
async fn records_of_the_previous_shapes_still_read() {
    use app::db::ModelRecord;
    let (store, _) = Store::open_named(&unique("shapes")).await;
    let m = meta("ds-old", "sha-old", 5);
    let mut old = serde_json::to_value(&m).unwrap();
    let layout = old["layout"][0].as_object_mut().unwrap();
    layout.remove("offset");
    let model = engine::model::ModelSpec::new("swingsigma", "AAA").resolve().unwrap();
    let old_model = serde_json::json!({
        "model_id": model.model_id, "model": model, "dataset_id": "ds-old", "created": 1_704_205_800_123.0_f64,
        "matrix_sha": null,
    });
    let Store::Indexed(db) = &store else { panic!("IndexedDB expected") };
    let to_js = |v: &serde_json::Value| v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap();
    let tx = db.transaction(&["datasets", "columns", "models"], TransactionMode::ReadWrite).unwrap();
    let cols: js_sys::Array = columns(5, 1.0).remove(0).into_iter().collect();
    tx.object_store("columns").unwrap().put(&cols, Some(&JsValue::from("ds-old/0"))).unwrap().await.unwrap();
    tx.object_store("datasets").unwrap().put(&to_js(&old), None).unwrap().await.unwrap();
    tx.object_store("models").unwrap().put(&to_js(&old_model), None).unwrap().await.unwrap();
    tx.commit().unwrap().await.unwrap();

    assert_eq!(store.list().await.unwrap(), vec![m.clone()], "the missing offset is the rows before the series");
    assert_eq!(store.series(&m, 0).await.unwrap().close[0], 1.5);
    let models: Vec<ModelRecord> = store.models().await.unwrap();
    assert_eq!(models.len(), 1, "the old model record is not skipped");
    assert_eq!(models[0].created, "2024-01-02T14:30:00.123Z");
    assert_eq!(models[0].build_spec, None);
}

/// A trained strategy of the synthetic model for ladder `value` (three trees: the store only
/// keeps it), and its model file.
fn trained(value: &str) -> (engine::strategy::Strategy, String) {
    use engine::strategy::{FinalFit, Owner};
    let series = engine::synth::lcg_bars(1200);
    let model = engine::model::ModelSpec::new("swingsigma", "SYN").resolve().unwrap();
    let m = engine::matrix::build_matrix(&model, &series, "UTC", &Default::default()).unwrap();
    let owner = Owner {
        model_id: &model.model_id,
        pack_id: "swingsigma",
        cadence: "daily",
        risk_profile: engine::risk::RiskProfile::Balanced,
        created: "2026-01-01T00:00:00Z",
    };
    let how = FinalFit {
        params: engine::gbt::TrainParams { num_trees: 3, ..Default::default() },
        calibration: engine::gbt::fit::CalibrationKind::Sigmoid,
        calibration_folds: 2,
    };
    let config =
        engine::config::Config { kind: engine::config::ConfigKind::Thr, value: value.into(), allowed_hours: None };
    let (booster, s) =
        engine::strategy::train(&m, owner, &config, &engine::policy::Policy::thr(vec![0.5]), &how, &mut |_| {})
            .unwrap();
    (s, booster.to_model_json().unwrap())
}

/// A model keeps one strategy per config (v9): another config is kept beside, the same config
/// again replaces its own, a v6 record (one per model) still reads until its config is
/// trained again, and deleting the model takes them all.
#[wasm_bindgen_test]
async fn strategies_are_kept_one_per_config() {
    use app::db::StrategyRecord;
    let (a, a_json) = trained("0.50,0.55");
    let (b, b_json) = trained("0.70,0.75");
    let (c, c_json) = trained("0.60");
    // Ordered by when each was trained (the strategy's own stamp), as `btb` orders them.
    let record = |s: &engine::strategy::Strategy, json: &str, created: f64| StrategyRecord {
        model_id: s.model_id.clone(),
        strategy: engine::strategy::Strategy {
            created: format!("2026-01-0{}T00:00:00Z", created as u32 + 1),
            ..s.clone()
        },
        model_json: json.to_string(),
        created: 0.0,
    };
    let configs = |list: Vec<StrategyRecord>| list.into_iter().map(|r| r.strategy.config.value).collect::<Vec<_>>();
    let (indexed, _) = Store::open_named(&unique("strategies")).await;
    for store in [indexed, Store::memory()] {
        store.put_strategy(&record(&a, &a_json, 1.0)).await.unwrap();
        store.put_strategy(&record(&b, &b_json, 2.0)).await.unwrap();
        assert_eq!(configs(store.strategies().await.unwrap()), ["0.70,0.75", "0.50,0.55"], "newest first");
        store.put_strategy(&record(&a, &a_json, 3.0)).await.unwrap();
        assert_eq!(configs(store.strategies().await.unwrap()), ["0.50,0.55", "0.70,0.75"], "replaced, not added");

        if let Store::Indexed(db) = &store {
            // A v6 store's one strategy of the model (keyed by model id), of a third config.
            let old = serde_wasm_bindgen::to_value(&record(&c, &c_json, 0.5)).unwrap();
            let tx = db.transaction(&["strategies"], TransactionMode::ReadWrite).unwrap();
            tx.object_store("strategies").unwrap().put(&old, None).unwrap().await.unwrap();
            tx.commit().unwrap().await.unwrap();
            assert_eq!(configs(store.strategies().await.unwrap()), ["0.50,0.55", "0.70,0.75", "0.60"]);
            store.put_strategy(&record(&c, &c_json, 4.0)).await.unwrap();
            assert_eq!(configs(store.strategies().await.unwrap()), ["0.60", "0.50,0.55", "0.70,0.75"]);
            let tx = db.transaction(&["strategies"], TransactionMode::ReadOnly).unwrap();
            let left = tx.object_store("strategies").unwrap().count(None).unwrap().await.unwrap();
            assert_eq!(left, 0, "the v6 record went when its config was trained again");
        }
        store.delete_model(&a.model_id).await.unwrap();
        assert!(store.strategies().await.unwrap().is_empty());
    }
}
