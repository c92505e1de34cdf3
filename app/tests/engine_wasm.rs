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
    assert_eq!(engine::lineage::sha_of(&custom), "8e7d568bd56d92484458014b2dfd6f3b8deec75cfc87862916eb74073d099ad4");
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
    assert_eq!(matrix_sha, "e4c04711f36e455fb7d9053c066389463fdfefdb4927c6486120dc037155b3b9");
    // Every feature value and label, bit for bit.
    assert_eq!(bytes_sha, "20b2149bafb1cc7d932aaa957c8279ca0b72c72ea2a33a3c60f3e412d8021d9e");
}

#[wasm_bindgen_test]
fn demo_model_training_matches_native() {
    let (model_sha, predictions_sha) = engine::determinism::demo_model_hashes(DEMO).unwrap();
    assert_eq!(model_sha, "b1202025ba23f7bf3817ec77f511a261c50afa43a02de0439a509f60850f077d");
    assert_eq!(predictions_sha, "b6f21e3ce48067abdbaaaa1e32aa40a8b9f85bd2693bc5f426b2539436012cf1");
}

#[wasm_bindgen_test]
fn demo_sweep_matches_native() {
    let (key, oof_sha, runs_sha) = engine::determinism::demo_sweep_hashes(DEMO).unwrap();
    assert_eq!(key, "d30275635429e28257c01abe5a65402ea82cba9ad6a706a0d32897b91e17d477");
    // every fold's probabilities, bit for bit
    assert_eq!(oof_sha, "bb83c7abfc51803c9de954fbf40f137b490a39b5e90777b2a01467788872be97");
    // every run's metrics, gate and lineage
    assert_eq!(runs_sha, "83ab22c887f926438649ba91c5dbe61a132593a94de0b5c6bbb3dfa9d519862c");
}

#[wasm_bindgen_test]
fn demo_reports_match_native() {
    // The HTML report of the demo's best run and of its leaderboard: every digit printed in wasm
    // is the one printed natively (`engine/tests/sweep.rs` pins the same hashes).
    let (run_sha, board_sha) = engine::determinism::demo_report_hashes(DEMO).unwrap();
    assert_eq!(run_sha, "063a0c762f6cc51c102f5793309375c2a5b723fa0199363dd5649680aba6de9e");
    assert_eq!(board_sha, "06a44dd7536d98d0a5e7f3e774fce0feda00acfc83b9671bbc0749c29e274f3e");
}
