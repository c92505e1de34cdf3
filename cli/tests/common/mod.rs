//! What every test of the built `btb` binary on a store needs: the demo bars, a run of `btb`
//! with a fixed clock, and the three outcomes a test checks (success, JSON, a one-line failure).

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/demo/stocks-daily-2000-2013.csv.gz")
}

/// `btb --store STORE ARGS…`, stamping records with a fixed time so the same inputs print the
/// same JSON.
pub fn btb(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btb"))
        .env("SOURCE_DATE_EPOCH", "1764028800")
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run btb")
}

pub fn ok(store: &Path, args: &[&str]) -> String {
    let out = btb(store, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn json(store: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(store, args)).unwrap()
}

/// A failure: nothing on stdout, one line on stderr (returned).
pub fn fails(store: &Path, args: &[&str]) -> String {
    let out = btb(store, args);
    assert!(!out.status.success(), "{args:?} should fail");
    one_line_error(&out)
}

/// A failure with exit status `code`.
pub fn fails_with(code: i32, store: &Path, args: &[&str]) -> String {
    let out = btb(store, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?} should fail with {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    one_line_error(&out)
}

fn one_line_error(out: &Output) -> String {
    assert!(out.stdout.is_empty(), "nothing on stdout when failing");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "one-line error: {err}");
    err
}
