//! The model file: versioned JSON carrying everything needed to predict and to audit.
//!
//! ```text
//! {"format":"btb-gbt","version":1,"params":{…},"feature_names":[…],"init_score":…,
//!  "best_iteration":…,"trees":[{"nodes":[…]}],"calibration":null|{"kind":…},
//!  "train_loss":[…],"valid_loss":[…],"model_sha":"<64 hex>"}
//! ```
//!
//! `model_sha` is [`crate::lineage::sha_of`] of the same object without `model_sha` (canonical
//! JSON: sorted keys, shortest round-trip floats). Loading checks format, version and hash.
//!
//! Floats are written by serde_json in their shortest round-trip form and read back with its
//! `float_roundtrip` feature (enabled for the whole workspace), so a reloaded model is
//! bit-identical.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::booster::Booster;
use super::calibration::Calibrator;
use super::tree::Tree;
use super::{GbtError, TrainParams};

pub const FORMAT: &str = "btb-gbt";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    version: u32,
    params: TrainParams,
    feature_names: Vec<String>,
    init_score: f64,
    best_iteration: usize,
    trees: Vec<Tree>,
    calibration: Option<Calibrator>,
    train_loss: Vec<f64>,
    valid_loss: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_sha: Option<String>,
}

fn file_of(b: &Booster) -> ModelFile {
    ModelFile {
        format: FORMAT.into(),
        version: VERSION,
        params: b.params.clone(),
        feature_names: b.feature_names.clone(),
        init_score: b.init_score,
        best_iteration: b.best_iteration,
        trees: b.trees.clone(),
        calibration: b.calibration.clone(),
        train_loss: b.train_loss.clone(),
        valid_loss: b.valid_loss.clone(),
        model_sha: None,
    }
}

fn all_finite(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().all(all_finite),
        Value::Object(o) => o.iter().all(|(k, v)| all_finite(v) || (k == "calibration" && v.is_null())),
        _ => true,
    }
}

impl Booster {
    /// SHA-256 of the model's canonical JSON (without the hash itself).
    pub fn model_sha(&self) -> String {
        crate::lineage::sha_of(&file_of(self))
    }

    /// The model file (compact JSON with `model_sha`).
    pub fn to_model_json(&self) -> Result<String, GbtError> {
        let mut f = file_of(self);
        let v = serde_json::to_value(&f).map_err(|e| GbtError::ModelFile(e.to_string()))?;
        if !all_finite(&v) {
            return Err(GbtError::ModelFile("model holds a non-finite number".into()));
        }
        f.model_sha = Some(crate::lineage::sha_of(&v));
        serde_json::to_string(&f).map_err(|e| GbtError::ModelFile(e.to_string()))
    }

    /// Reads a model file, checking its format, version and `model_sha`.
    pub fn from_model_json(text: &str) -> Result<Booster, GbtError> {
        let err = |m: String| GbtError::ModelFile(m);
        let v = parse_exact(text).map_err(err)?;
        if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(err(format!("not a {FORMAT} model file")));
        }
        match v.get("version").and_then(Value::as_u64) {
            Some(1) => {}
            other => return Err(err(format!("unsupported version {other:?} (this build reads {VERSION})"))),
        }
        let f: ModelFile = serde_json::from_value(v).map_err(|e| err(e.to_string()))?;
        let claimed = f.model_sha.clone().ok_or_else(|| err("model_sha missing".into()))?;
        let b = Booster {
            params: f.params,
            feature_names: f.feature_names,
            init_score: f.init_score,
            trees: f.trees,
            best_iteration: f.best_iteration,
            train_loss: f.train_loss,
            valid_loss: f.valid_loss,
            calibration: f.calibration,
        };
        check_structure(&b).map_err(err)?;
        let actual = b.model_sha();
        if actual != claimed {
            return Err(err(format!("model_sha mismatch: file says {claimed}, content hashes to {actual}")));
        }
        Ok(b)
    }
}

/// Every child index in range and pointing forward (so prediction terminates), every split
/// feature known.
fn check_structure(b: &Booster) -> Result<(), String> {
    let nf = b.feature_names.len();
    for (ti, t) in b.trees.iter().enumerate() {
        if t.nodes.is_empty() {
            return Err(format!("tree {ti} has no nodes"));
        }
        for (i, n) in t.nodes.iter().enumerate() {
            if n.is_leaf() {
                continue;
            }
            let ok = (n.feature as usize) < nf
                && (n.left as usize) > i
                && (n.right as usize) > i
                && (n.left as usize) < t.nodes.len()
                && (n.right as usize) < t.nodes.len();
            if !ok {
                return Err(format!("tree {ti} node {i} is malformed"));
            }
        }
    }
    if let Some(Calibrator::Isotonic { x, y }) = &b.calibration {
        if x.len() != y.len() || x.windows(2).any(|w| w[0] > w[1]) {
            return Err("isotonic calibrator points are malformed".into());
        }
    }
    Ok(())
}

/// Parses JSON into a `Value`, every float correctly rounded: the workspace enables serde_json's
/// `float_roundtrip` feature, without which its fast float path may be one ULP off.
pub fn parse_exact(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbt::Rng;

    /// Shortest-repr floats come back bit-identical, through `parse_exact` and through plain
    /// `serde_json::from_str` (a failure here means the `float_roundtrip` feature went missing).
    #[test]
    fn floats_round_trip_exactly() {
        let mut rng = Rng::new(7);
        let mut serde_off = 0;
        for i in 0..200_000 {
            let x = match i % 3 {
                0 => f64::from_bits(rng.next_u64()),
                1 => rng.next_f64() * 2.0 - 1.0,
                _ => (rng.next_f64() - 0.5) * 1e-3,
            };
            if !x.is_finite() {
                continue;
            }
            let s = serde_json::to_string(&x).unwrap();
            let ours = parse_exact(&s).unwrap().as_f64().unwrap();
            assert_eq!(ours.to_bits(), x.to_bits(), "{s}");
            let theirs: f64 = serde_json::from_str(&s).unwrap();
            if theirs.to_bits() != x.to_bits() {
                serde_off += 1;
            }
        }
        assert_eq!(serde_off, 0, "serde_json misread {serde_off} floats: is float_roundtrip on?");
    }

    #[test]
    fn parses_nested_json() {
        let v =
            parse_exact(r#" {"a": [1, -2, 3.5e-7, "x\"y\u00e9"], "b": {"c": null, "d": true}, "e": false} "#).unwrap();
        assert_eq!(v, serde_json::json!({"a": [1, -2, 3.5e-7, "x\"yé"], "b": {"c": null, "d": true}, "e": false}));
        assert!(parse_exact("[1, 2").is_err());
        assert!(parse_exact("{\"a\" 1}").is_err());
        assert!(parse_exact(&"[".repeat(1000)).is_err());
    }
}
