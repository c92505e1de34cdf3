//! The engine is pure Rust shared by the page, its workers and the CLI. It must never depend on
//! browser bindings, directly or through a dependency, so every number it computes can be
//! tested natively and means the same everywhere.

use std::process::Command;

/// Checked per real target: `--target all` would merge platform-specific edges that never meet
/// in one build (chrono's `iana-time-zone` is unix-only, and only on wasm32 would it use js-sys).
fn check(target: Option<&str>) {
    let mut args = vec!["tree", "-p", "engine", "--edges", "normal", "--prefix", "none", "--format", "{p}"];
    if let Some(t) = target {
        args.extend(["--target", t]);
    }
    let out = Command::new(env!("CARGO"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().any(|l| l.starts_with("engine ")), "engine missing from its own tree:\n{tree}");
    let banned = ["wasm-bindgen", "web-sys", "js-sys", "leptos", "gloo", "idb "];
    let found: Vec<&str> = tree.lines().filter(|l| banned.iter().any(|b| l.starts_with(b))).collect();
    assert!(found.is_empty(), "engine depends on browser crates for {target:?}: {found:?}");
}

#[test]
fn engine_has_no_browser_dependencies() {
    check(None);
    check(Some("wasm32-unknown-unknown"));
}
