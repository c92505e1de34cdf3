//! Tests that keep the app's shape: the worker protocol cannot change under an old version,
//! and a page never imports another page. Both read the sources as text (`include_str!`), so
//! they run with the other wasm-bindgen tests in `scripts/test`.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PROTOCOL: &str = include_str!("../src/protocol.rs");

/// protocol.rs without the two lines that pin it (the version and this hash).
fn protocol_sha(text: &str) -> String {
    let body: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.starts_with("pub const PROTOCOL_VERSION") && !l.starts_with("pub const PROTOCOL_SHA"))
        .collect();
    engine::lineage::sha256_hex(body.join("\n").as_bytes())
}

#[wasm_bindgen_test]
fn protocol_changes_bump_the_version() {
    let actual = protocol_sha(PROTOCOL);
    assert_eq!(
        actual,
        app::protocol::PROTOCOL_SHA,
        "app/src/protocol.rs changed. If a message changed shape, bump PROTOCOL_VERSION (a page and \
         a worker of different builds must refuse each other) and in either case set PROTOCOL_SHA \
         next to it to {actual}"
    );
}

/// Every page's source, by file name. A page missing here fails `every_page_is_checked`.
const PAGES: &[(&str, &str)] = &[
    ("backtest", include_str!("../src/pages/backtest.rs")),
    ("build", include_str!("../src/pages/build.rs")),
    ("data", include_str!("../src/pages/data.rs")),
    ("leaderboard", include_str!("../src/pages/leaderboard.rs")),
    ("models", include_str!("../src/pages/models.rs")),
    ("scanner", include_str!("../src/pages/scanner.rs")),
    ("signals", include_str!("../src/pages/signals.rs")),
    ("sweeps", include_str!("../src/pages/sweeps.rs")),
    ("train", include_str!("../src/pages/train.rs")),
];
const PAGES_MOD: &str = include_str!("../src/pages/mod.rs");

/// Lines of `source` (comments left out) that reach another page.
fn page_imports(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter(|l| l.contains("crate::pages") || l.contains("super::") || l.contains("pages::"))
        .map(String::from)
        .collect()
}

#[wasm_bindgen_test]
fn every_page_is_checked() {
    let declared: Vec<&str> =
        PAGES_MOD.lines().filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let checked: Vec<&str> = PAGES.iter().map(|(name, _)| *name).collect();
    assert_eq!(declared, checked, "app/tests/shape.rs: list every module of app/src/pages/ in PAGES");
}

#[wasm_bindgen_test]
fn pages_never_import_pages() {
    let found: Vec<String> = PAGES
        .iter()
        .flat_map(|(name, source)| page_imports(source).into_iter().map(move |l| format!("pages/{name}.rs: {l}")))
        .collect();
    assert!(
        found.is_empty(),
        "a page imports another page; move what they share to state.rs, components/ or format.rs:\n{}",
        found.join("\n")
    );
}

#[wasm_bindgen_test]
fn the_import_check_sees_each_form() {
    for line in
        ["use crate::pages::leaderboard::pct;", "use super::picker;", "let p = crate::pages::sweeps::pool(ctx, 1);"]
    {
        assert_eq!(page_imports(line).len(), 1, "{line}");
    }
    assert!(page_imports("use crate::components::picker;\n// crate::pages::x in a comment").is_empty());
}
