//! `btb report`: a swept run and its model's leaderboard as standalone HTML files, through the
//! built binary on the demo data.

use serde_json::Value;
mod common;
use common::*;

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// No markup that could fetch anything or run anything: escaped data never holds a raw `<`, so
/// the spans from `<` to `>` are the markup.
fn assert_offline(html: &str) {
    let lower = html.to_ascii_lowercase();
    for tag in lower.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        assert!(!tag.contains("src=") && !tag.contains("href="), "<{tag}>");
        assert!(!tag.split(' ').any(|a| a.starts_with("on")), "a handler in <{tag}>");
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        assert!(!["script", "link", "img", "iframe", "object", "embed"].contains(&name), "<{name}>");
    }
    assert!(!lower.contains("@import") && !lower.contains("url("));
    assert_eq!(lower.matches("http").count(), 1, "only the Content-Security-Policy's http-equiv");
}

#[test]
fn run_and_leaderboard_reports() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ok(&store, &["data", "add", demo().to_str().unwrap()]);
    ok(&store, &["init", "--ticker", "AAPL"]);
    ok(&store, &["build", "--model-id", "aapl_swing_daily", "--start", "2003-01-01", "--end", "2012-12-31"]);
    let sweep = ok(
        &store,
        &[
            "sweep",
            "--model-id",
            "aapl_swing_daily",
            "--thresholds-variants",
            "0.50,0.55,0.60",
            "0.60,0.65,0.70",
            "--top-pct-variants",
            "0.15",
            "--splits",
            "5",
            "--tag",
            HOSTILE,
            "--trees",
            "40",
            "--leaves",
            "15",
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&sweep).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let best = runs[0]["run_id"].as_str().unwrap().to_string();
    let trades = runs[0]["metrics"]["trades"].as_u64().unwrap();
    assert!(trades > 0);

    // One run, named by a prefix of its id.
    let out = dir.path().join("run.html");
    let said = ok(&store, &["report", "--run", &best[..8], "--out", out.to_str().unwrap(), "--json"]);
    let said: Value = serde_json::from_str(&said).unwrap();
    assert_eq!((said["kind"].as_str(), said["id"].as_str()), (Some("run"), Some(best.as_str())));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(said["bytes"].as_u64(), Some(html.len() as u64));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_offline(&html);
    assert!(html.contains(&best) && html.contains("aapl_swing_daily") && html.contains("AAPL"));
    assert!(html.contains(&format!("Trades ({trades})")), "every trade listed");
    assert!(html.contains("verification: <b>computed here</b>"), "judged again, the stored run bit for bit");
    assert!(html.contains(&format!("btb {}", env!("CARGO_PKG_VERSION"))) && html.contains("2025-11-25T00:00:00Z"));
    for sha in ["matrix_sha", "config_sha", "policy_sha", "risk_sha", "oof_key"] {
        assert!(html.contains(runs[0]["lineage"][sha].as_str().unwrap()), "{sha}");
    }
    assert!(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;"), "the tag is text");
    for id in ["equity", "monthly", "distribution", "metrics", "gate", "trades", "lineage", "model"] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "{id}");
    }

    // Without the cached out-of-fold probabilities the folds are trained again: same bytes.
    std::fs::remove_dir_all(store.join("oof")).unwrap();
    let again = dir.path().join("again.html");
    ok(&store, &["report", "--run", &best, "--out", again.to_str().unwrap()]);
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes(), "same records, same file");

    // The model's leaderboard.
    let board = dir.path().join("board.html");
    let said = ok(&store, &["report", "--model-id", "aapl_swing_daily", "--out", board.to_str().unwrap()]);
    assert!(said.contains("leaderboard report of aapl_swing_daily"), "{said}");
    let html = std::fs::read_to_string(&board).unwrap();
    assert_offline(&html);
    for r in runs {
        assert!(html.contains(r["run_id"].as_str().unwrap()));
    }
    assert!(html.contains("Runs (3)") && !html.contains("<img"));
    let limited = dir.path().join("top1.html");
    ok(&store, &["report", "--model-id", "aapl_swing_daily", "--limit", "1", "--out", limited.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&limited).unwrap().contains("Runs (1)"));

    // Errors: nothing to name is a usage error (2); a run or model the store lacks, 1.
    let none = btb(&store, &["report", "--out", "x.html"]);
    assert_eq!(none.status.code(), Some(2));
    let missing = btb(&store, &["report", "--run", "ffffffffffff", "--out", "x.html"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run `ffffffffffff`"));
    let missing = btb(&store, &["report", "--model-id", "nope", "--out", "x.html"]);
    assert_eq!(missing.status.code(), Some(1));
    let both = btb(&store, &["report", "--run", &best, "--model-id", "aapl_swing_daily", "--out", "x.html"]);
    assert_eq!(both.status.code(), Some(2), "one report at a time");
}
