//! What the commands print, in one place, so the same thing (a config, a return, a leaderboard,
//! a run's metrics, signals) reads the same in every command that shows it.

use std::io::IsTerminal;

use serde_json::json;

use engine::data::Summary;
use engine::leaderboard;
use engine::oof::OofProgress;
use engine::strategy::Signal;

use crate::store::Meta;

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_string());
    s.push('\n');
    s
}

/// Columns padded to their widest cell.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..n).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| if i + 1 == r.len() { c.clone() } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Prints fold progress on a terminal (stderr), nothing otherwise.
pub(crate) fn progress_printer() -> impl FnMut(OofProgress) {
    let tty = std::io::stderr().is_terminal();
    move |p: OofProgress| {
        if tty && p.tree == p.trees {
            eprintln!("fold {}/{} trained", p.fold + 1, p.folds);
        }
    }
}

// Datasets.

pub(crate) fn list_entry(m: &Meta) -> serde_json::Value {
    json!({
        "id": m.id, "name": m.name, "sha": m.sha, "rows": m.rows, "tickers": m.tickers,
        "tz": m.tz, "created": m.created, "source": m.source,
    })
}

const MAX_ISSUE_LINES: usize = 30;

pub(crate) fn human_summary(s: &Summary) -> String {
    let mut out = format!("{}: {} rows, {} tickers, tz {}\n\n", s.name, s.rows, s.tickers.len(), s.tz);
    let mut rows = vec![["ticker", "rows", "start", "end", "cadence", "adj close"].map(String::from).to_vec()];
    for t in &s.tickers {
        rows.push(vec![
            t.ticker.clone(),
            t.rows.to_string(),
            t.start.clone(),
            t.end.clone(),
            t.cadence.to_string(),
            if t.has_adj_close { "yes" } else { "no" }.to_string(),
        ]);
    }
    out.push_str(&table(&rows));
    let total: usize = s.issue_counts.iter().map(|c| c.count).sum();
    if total == 0 {
        out.push_str("\nno quality issues\n");
        return out;
    }
    out.push_str(&format!("\n{total} quality issues:"));
    let counts: Vec<String> = s.issue_counts.iter().map(|c| format!(" {} {} {}", c.ticker, c.kind, c.count)).collect();
    out.push_str(&counts.join(","));
    out.push_str("\n\n");
    let mut rows = vec![["ticker", "row", "kind", "message"].map(String::from).to_vec()];
    for i in s.issues.iter().take(MAX_ISSUE_LINES) {
        rows.push(vec![i.ticker.clone(), i.row.to_string(), i.kind.to_string(), i.message.clone()]);
    }
    out.push_str(&table(&rows));
    if s.issues.len() > MAX_ISSUE_LINES || total > s.issues.len() {
        out.push_str(&format!("… {} more (see --json)\n", total - s.issues.len().min(MAX_ISSUE_LINES)));
    }
    out
}

pub(crate) fn human_list(all: &[Meta]) -> String {
    if all.is_empty() {
        return "no datasets\n".to_string();
    }
    let mut rows = vec![["id", "name", "rows", "tickers", "tz", "created"].map(String::from).to_vec()];
    for m in all {
        let mut tickers = m.tickers.iter().take(6).cloned().collect::<Vec<_>>().join(",");
        if m.tickers.len() > 6 {
            tickers.push_str(&format!(",… ({})", m.tickers.len()));
        }
        rows.push(vec![m.id.clone(), m.name.clone(), m.rows.to_string(), tickers, m.tz.clone(), m.created.clone()]);
    }
    table(&rows)
}

// Runs and signals.

pub(crate) fn pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

pub(crate) fn leaderboard_table(rows: &[leaderboard::Row]) -> String {
    leaderboard_table_marked(rows, &std::collections::BTreeMap::new())
}

/// The leaderboard with a `verification` column when any row is an imported run that could not
/// be verified (`marks`: run id → status and what was missing); without one, the plain table.
pub(crate) fn leaderboard_table_marked(
    rows: &[leaderboard::Row],
    marks: &std::collections::BTreeMap<String, String>,
) -> String {
    let marked = rows.iter().any(|r| marks.contains_key(&r.run_id));
    let shares = rows.iter().any(|r| r.top_pct_share.is_some());
    // Several model variants ranked together: say which each run was judged on.
    let variants = rows.iter().any(|r| r.variant != rows[0].variant);
    let mut header = vec!["rank", "config", "sharpe", "dsr", "return", "max_dd", "trades", "win", "gate", "run"];
    if shares {
        header.insert(8, "top_pct got");
    }
    if variants {
        header.insert(2, "variant");
    }
    if marked {
        header.push("verification");
    }
    let mut t = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for r in rows {
        let gate = if r.gate.pass() { "pass".to_string() } else { format!("fail: {}", r.gate.reasons_text()) };
        let mut row = vec![
            r.rank.to_string(),
            r.config.to_string(),
            format!("{:.2}", r.metrics.sharpe),
            format!("{:.2}", r.metrics.dsr),
            pct(r.metrics.total_return),
            pct(r.metrics.max_dd),
            r.metrics.trades.to_string(),
            format!("{:.0}%", 100.0 * r.metrics.win_rate),
            gate,
            r.run_id.clone(),
        ];
        if shares {
            row.insert(8, r.top_pct_share.map(|s| s.to_string()).unwrap_or_default());
        }
        if variants {
            row.insert(2, r.variant.clone());
        }
        t.push(row);
        if marked {
            if let (Some(row), Some(m)) = (t.last_mut(), marks.get(&r.run_id)) {
                row.push(m.clone());
            }
        }
    }
    table(&t)
}

pub(crate) fn metrics_text(r: &engine::run::Run) -> String {
    let m = &r.metrics;
    let share =
        r.top_pct_share.map_or(String::new(), |s| format!("top_pct: tested bars at or above their threshold {s}\n"));
    let pf = m.profit_factor.map_or("∞".to_string(), |x| format!("{x:.2}"));
    let tries = r.trials.map_or(" (one try)".to_string(), |t| format!(" (deflated by {} configs)", t.count));
    let gate = if r.gate.pass() { "PASS".to_string() } else { format!("FAIL ({})", r.gate.reasons_text()) };
    format!(
        "{} on {} .. {} ({} bars, {} {:?} splits)\n\
         sharpe {:.2}  sortino {:.2}  calmar {:.2}  return {}  cagr {}  volatility {}\n\
         max drawdown {} over {} bars  trades {}  win rate {:.0}%  profit factor {pf}  avg trade {}  exposure {:.0}%\n\
         psr {:.3}  dsr {:.3}{tries}  skew {:.2}  kurtosis {:.2}\n\
         {share}gate {gate}\n\
         lineage: matrix {} config {} policy {} risk {} ({})\n",
        r.config,
        r.start,
        r.end,
        m.bars,
        r.splits,
        r.cv,
        m.sharpe,
        m.sortino,
        m.calmar,
        pct(m.total_return),
        pct(m.cagr),
        pct(m.volatility),
        pct(m.max_dd),
        m.max_dd_bars,
        m.trades,
        100.0 * m.win_rate,
        pct(m.avg_trade),
        100.0 * m.exposure,
        m.psr,
        m.dsr,
        m.skew,
        m.kurtosis,
        engine::lineage::short(&r.lineage.matrix_sha),
        engine::lineage::short(&r.lineage.config_sha),
        engine::lineage::short(&r.lineage.policy_sha),
        engine::lineage::short(&r.lineage.risk_sha),
        r.lineage.risk_profile.as_str(),
    )
}

pub(crate) fn signals_table(v: &[Signal]) -> String {
    let mut t = vec![["bar", "ticker", "side", "confidence", "status", "close", "position", "exit on"]
        .map(String::from)
        .to_vec()];
    for s in v {
        t.push(vec![
            s.bar.clone(),
            s.ticker.clone(),
            s.side.as_str().to_string(),
            format!("{:.3}", s.confidence),
            s.status.as_str().to_string(),
            format!("{:.2}", s.close),
            format!("{} → {}", pct(s.from), pct(s.to)),
            s.exit_reason.map_or("", |r| r.as_str()).to_string(),
        ]);
    }
    table(&t)
}
