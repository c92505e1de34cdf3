//! The engine compiled to wasm gives the very bytes it gives natively: the same pinned strings
//! as the native tests (`engine/src/lineage.rs`, `engine/src/risk.rs`,
//! `engine/tests/matrix.rs`), here computed inside the browser.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEMO: &[u8] = include_bytes!("../../public/demo/stocks-daily-2000-2013.csv.gz");

#[wasm_bindgen_test]
fn lineage_and_risk_hashes_match_native() {
    let custom = serde_json::json!({"name": "custom_rsi", "params": {"period": 21.0}});
    assert_eq!(
        engine::lineage::sha_of(&custom),
        "8e7d568bd56d92484458014b2dfd6f3b8deec75cfc87862916eb74073d099ad4"
    );
    assert_eq!(
        engine::risk::RiskProfile::Balanced.risk_sha(),
        "85425bb79eab4a3f3fdbc6b6d0413ab46237852b37827c6e43eae6578645b84e"
    );
}

#[wasm_bindgen_test]
fn demo_dataset_and_matrix_match_native() {
    let ds = engine::data::load("stocks-daily-2000-2013.csv.gz", DEMO, &Default::default(), &mut |_| {}).unwrap();
    assert_eq!(ds.rows(), 12_154);
    let (matrix_sha, bytes_sha) = engine::determinism::demo_matrix_hashes(DEMO).unwrap();
    assert_eq!(matrix_sha, "29a353d29409cca21afb389f85670a233e4e5e0c387bbb5db6462e5d9c1a3c43");
    // Every feature value and label, bit for bit.
    assert_eq!(bytes_sha, "bc60b9372ca956ed4d728dc8475f3ad278801fb7b61384352bcc5e870b0b9405");
}

#[wasm_bindgen_test]
fn demo_model_training_matches_native() {
    let (model_sha, predictions_sha) = engine::determinism::demo_model_hashes(DEMO).unwrap();
    assert_eq!(model_sha, "5ceb46148cd4ce12c06906df4c1ac6f2ec5309b2fa4d35ffcfbb3e307c4a8e45");
    assert_eq!(predictions_sha, "95bfce653846e02bdcbcf24a6ddbf23ab71040b50515de2576ffcba50fb078c4");
}
