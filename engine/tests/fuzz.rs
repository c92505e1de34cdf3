//! Every input the fuzzers (`scripts/fuzz`) ever crashed, replayed through the same target
//! bodies (`fuzz/targets.rs`): each must now end in an answer, never a panic, and a refusal is one
//! line that names the file. A new crash file in `tests/fixtures/fuzz/<target>/` is a failing
//! test until the engine answers it.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_crash_the_fuzzers_found_is_answered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/fuzz");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&root).expect("tests/fixtures/fuzz") {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let Some((_, run)) = targets::TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("tests/fixtures/fuzz/{name}: no fuzz target of that name in fuzz/targets.rs");
        };
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            match outcome {
                Err(_) => panic!("{shown}: the {name} target panicked"),
                Ok(Ok(())) => {}
                Ok(Err(message)) => {
                    assert!(!message.contains('\n'), "{shown}: a message of several lines: {message}");
                    assert!(
                        message.starts_with(targets::FILE),
                        "{shown}: the message does not name the file: {message}"
                    );
                    assert!(!message.contains("panicked"), "{shown}: {message}");
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression files under {}", root.display());
}

/// The targets are the ones `scripts/fuzz` runs: a target missing from `fuzz/Cargo.toml` would
/// never be fuzzed.
#[test]
fn every_target_is_a_fuzzer_binary() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/Cargo.toml")).unwrap();
    for (name, _) in targets::TARGETS {
        assert!(manifest.contains(&format!("name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"")), "{name}");
        let body = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fuzz/fuzz_targets/{name}.rs")),
        );
        assert!(body.unwrap().contains(&format!("btb_fuzz::{name}(")), "{name}");
    }
}
