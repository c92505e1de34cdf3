//! `btb train` and `btb predict` on a small synthetic CSV (LCG-generated in the test).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn btb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btb")).args(args).output().expect("run btb")
}

fn ok(args: &[&str]) -> String {
    let out = btb(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// timestamp, a, b (with empty cells), c (noise), note (text), label = a + b > 1 with noise.
fn write_csv(path: &Path, n: usize) {
    let mut s: u64 = 12345;
    let mut next = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::from("timestamp,a,b,c,note,label\n");
    for i in 0..n {
        let (a, b, c) = (next(), next(), next());
        let label = ((a + b > 1.0) != (next() < 0.1)) as u8;
        let b_cell = if i % 10 == 0 { String::new() } else { format!("{b}") };
        out.push_str(&format!("2020-01-01T{:02}:00:00Z,{a},{b_cell},{c},x{},{label}\n", i % 24, i % 3));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn train_then_predict() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    write_csv(&csv, 3000);
    let model = dir.path().join("model.json");
    let (csv_s, model_s) = (csv.to_str().unwrap(), model.to_str().unwrap());
    let args = [
        "train",
        "--matrix",
        csv_s,
        "--label",
        "label",
        "--trees",
        "40",
        "--valid-fraction",
        "0.25",
        "--calibration",
        "isotonic",
        "--out",
        model_s,
        "--json",
    ];
    let v: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(v["rows_train"], 2250);
    assert_eq!(v["rows_valid"], 750);
    assert_eq!(v["features"], 3);
    assert_eq!(v["skipped_columns"], serde_json::json!(["timestamp", "note"]));
    assert_eq!(v["trees_built"], 40);
    assert!(v["valid_auc"].as_f64().unwrap() > 0.85, "{v}");
    let sha = v["model_sha"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    // Same inputs → same model.
    let again: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(again["model_sha"], sha.as_str());
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(file["model_sha"], sha.as_str());
    assert_eq!(file["calibration"]["kind"], "isotonic");

    let human = ok(&["train", "--matrix", csv_s, "--label", "label", "--trees", "10", "--out", model_s]);
    assert!(
        human.contains("trained 10 trees") && human.contains("skipped non-feature columns: timestamp, note"),
        "{human}"
    );

    let preds = dir.path().join("p.csv");
    ok(&["predict", "--model", model_s, "--matrix", csv_s, "--out", preds.to_str().unwrap()]);
    let text = std::fs::read_to_string(&preds).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3001);
    assert_eq!(lines[0], "timestamp,a,b,c,note,label,probability");
    let src = std::fs::read_to_string(&csv).unwrap();
    for (l, s) in lines.iter().zip(src.lines()).skip(1) {
        let (head, p) = l.rsplit_once(',').unwrap();
        assert_eq!(head, s);
        let p: f64 = p.parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }

    // Errors: one line on stderr, nothing on stdout.
    for bad in [
        vec!["train", "--matrix", csv_s, "--label", "nope", "--out", model_s],
        vec!["train", "--matrix", csv_s, "--label", "label", "--max-bin", "999", "--out", model_s],
        vec!["predict", "--model", csv_s, "--matrix", csv_s, "--out", preds.to_str().unwrap()],
    ] {
        let out = btb(&bad);
        assert!(!out.status.success(), "{bad:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end().lines().count(), 1);
    }
}
