//! The fuzz targets' bodies: one function per parser that reads a stranger's bytes, each doing
//! what the product does with such a file, so a crash the fuzzer finds is one a user could meet.
//!
//! `fuzz/fuzz_targets/<name>.rs` hands libFuzzer's input to the function of that name;
//! `engine/tests/fuzz.rs` replays every file of `tests/fixtures/fuzz/<name>/` through the same
//! function (it includes this file), so a crash found once stays fixed. Each returns the
//! message a user would read when the bytes are refused.

use engine::data::{self, LoadOptions};
use engine::gbt::{Booster, ColumnMatrix};
use engine::matrix::Matrix;
use engine::oof::Oof;
use engine::risk::RiskProfile;
use engine::sweep::SweepBody;

/// The page ⇄ worker vocabulary (`app/src/protocol.rs`), built natively here.
#[path = "../app/src/protocol.rs"]
#[allow(dead_code, clippy::large_enum_variant)]
pub mod protocol;

/// A target's body: the message a user would read when the bytes are refused.
pub type Target = fn(&[u8]) -> Result<(), String>;

/// The name each target gives its input in messages.
pub const FILE: &str = "fuzzed.bin";

/// Every target, by name: the folder of `tests/fixtures/fuzz/` its regressions live in.
pub const TARGETS: &[(&str, Target)] = &[
    ("data", data),
    ("model_file", model_file),
    ("sweep_spec", sweep_spec),
    ("sweep_file", sweep_file),
    ("bundle", bundle),
    ("matrix", matrix),
    ("oof", oof),
    ("envelope", envelope),
    ("table", table),
];

/// A file of bars (CSV, gzip, Parquet, sniffed), as the Data page and `btb data add` read it,
/// then summarised as both show it.
pub fn data(bytes: &[u8]) -> Result<(), String> {
    let ds = data::load(FILE, bytes, &LoadOptions::default(), &mut |_| {}).map_err(|e| e.to_string())?;
    let _ = ds.summary();
    let _ = ds.adjusted();
    Ok(())
}

/// A model file (`btb predict --model`, a bundle's strategy), then a prediction with it on rows
/// of ordinary, missing and extreme values: a hostile tree must not index outside itself.
pub fn model_file(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{FILE}: not UTF-8 text ({e})"))?;
    let booster = Booster::from_model_json(text).map_err(|e| format!("{FILE}: {e}"))?;
    let n = booster.feature_names.len();
    if n > 4096 {
        return Ok(());
    }
    let columns: Vec<Vec<f64>> = (0..n).map(|i| vec![0.0, f64::NAN, f64::MAX, -1e300, i as f64]).collect();
    let x = ColumnMatrix::new(&booster.feature_names, &columns).map_err(|e| format!("{FILE}: {e}"))?;
    let p = booster.predict_proba(&x).map_err(|e| format!("{FILE}: {e}"))?;
    assert!(p.iter().all(|p| (0.0..=1.0).contains(p)), "a probability outside [0, 1]: {p:?}");
    Ok(())
}

/// A sweep body (`btb sweep --spec`, the Sweeps page's form), expanded into configs.
pub fn sweep_spec(bytes: &[u8]) -> Result<(), String> {
    let body: SweepBody = serde_json::from_slice(bytes).map_err(|e| format!("{FILE}: {e}"))?;
    for profile in RiskProfile::ALL {
        engine::sweep::expand(&body, &profile.params()).map_err(|e| format!("{FILE}: {e}"))?;
    }
    Ok(())
}

/// A sweep file (`btb sweep --config`, the Sweeps page's Load): read, then expanded into its
/// model variants and their bodies under every risk profile, and written back.
pub fn sweep_file(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{FILE}: not UTF-8 text ({e})"))?;
    let grid = engine::grid::Grid::from_yaml(text).map_err(|e| format!("{FILE}: {e}"))?;
    for profile in RiskProfile::ALL {
        if grid.size(&profile.params()).is_ok() {
            for v in grid.variants() {
                engine::sweep::expand(&grid.body(&v), &profile.params()).map_err(|e| format!("{FILE}: {e}"))?;
            }
        }
    }
    let again = engine::grid::Grid::from_yaml(&grid.to_yaml()).map_err(|e| format!("{FILE}: written back: {e}"))?;
    assert_eq!(again, grid, "a sweep file reads back to the grid it was written from");
    Ok(())
}

/// A matrix file for `btb train --matrix` and `btb predict` (CSV or Parquet, any numbers).
pub fn table(bytes: &[u8]) -> Result<(), String> {
    data::table::read(FILE, bytes).map_err(|e| e.to_string())?;
    Ok(())
}

/// A shared results bundle, read and verified as `btb import` and the page's import do.
pub fn bundle(bytes: &[u8]) -> Result<(), String> {
    let b = engine::bundle::read(FILE, bytes).map_err(|e| e.to_string())?;
    let _ = engine::bundle::verify(&b, engine::bundle::Depth::Standard);
    Ok(())
}

/// A stored or bundled matrix.
pub fn matrix(bytes: &[u8]) -> Result<(), String> {
    let m = Matrix::from_bytes(bytes).map_err(|e| format!("{FILE}: {e}"))?;
    let _ = m.to_bytes();
    Ok(())
}

/// Stored or bundled out-of-fold probabilities.
pub fn oof(bytes: &[u8]) -> Result<(), String> {
    Oof::from_bytes(bytes).map_err(|e| format!("{FILE}: {e}"))?;
    Ok(())
}

/// A message between the page and a worker, either way: the serde data model the worker's
/// `serde_wasm_bindgen` decoder sees, read here from JSON, then described as the pool does.
pub fn envelope(bytes: &[u8]) -> Result<(), String> {
    use protocol::{Envelope, Request, Response};
    match serde_json::from_slice::<Envelope<Request>>(bytes) {
        Ok(e) => {
            let _ = e.msg.describe();
            Ok(())
        }
        Err(request) => match serde_json::from_slice::<Envelope<Response>>(bytes) {
            Ok(e) => {
                let _ = (e.msg.name(), e.msg.is_progress());
                Ok(())
            }
            Err(response) => Err(format!("{FILE}: neither a request ({request}) nor a response ({response})")),
        },
    }
}
