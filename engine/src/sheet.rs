//! The CSV files a user takes to a spreadsheet or pandas: the leaderboard, a backtest's trades
//! and its equity curve, a strategy's signals (the `alerts` file).
//!
//! Both shells write them with these functions (`btb leaderboard --csv`, `btb backtest
//! --trades-csv/--equity-csv`, `btb alerts`; the page's download buttons), so the same records
//! give the same bytes. Fields go through the `csv` crate's writer: a model id or ticker with a
//! comma or a quote in it is quoted, not split into two columns. Numbers are Rust's shortest
//! round-trip form (`0.1`, `1e-7`), so a reader gets back the exact f64 the engine computed;
//! an undefined value (a profit factor without a losing trade) is an empty field. Free text a
//! user or a file chose (model ids, tags, tickers) that a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@`, a tab or a carriage return first) is written after a `'`, as OWASP
//! advises for CSV injection: a bundle from someone else can name a model `=HYPERLINK(…)`.

use crate::leaderboard::Row;
use crate::run::BacktestReport;
use crate::strategy::Signal;

/// Writes `header` then each row of fields; the `csv` writer cannot fail on a `Vec<u8>`, and a
/// field that is not UTF-8 cannot occur (every field is a `String`), so the fallback is unused.
fn write(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(&row);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

/// Free text, never read by a spreadsheet as a formula.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, num)
}

/// The leaderboard's rows, in the order given (ranked, or as the user sorted them): every
/// metric, the gate, and the lineage a row can be traced back with.
pub fn leaderboard(rows: &[Row]) -> String {
    const HEADER: &[&str] = &[
        "rank",
        "run_id",
        "model_id",
        "tag",
        "variant",
        "kind",
        "value",
        "allowed_hours",
        "sharpe",
        "dsr",
        "psr",
        "sortino",
        "calmar",
        "return",
        "cagr",
        "volatility",
        "max_dd",
        "max_dd_bars",
        "trades",
        "win_rate",
        "profit_factor",
        "avg_trade",
        "exposure",
        "top_pct_asked",
        "top_pct_realised",
        "trials",
        "pass",
        "reasons",
        "start",
        "end",
        "risk_profile",
        "matrix_sha",
        "config_sha",
        "policy_sha",
        "risk_sha",
        "oof_key",
    ];
    write(
        HEADER,
        rows.iter().map(|r| {
            let m = &r.metrics;
            let l = &r.lineage;
            vec![
                r.rank.to_string(),
                r.run_id.clone(),
                text(&r.model_id),
                text(r.tag.as_deref().unwrap_or_default()),
                r.variant.clone(),
                match r.config.kind {
                    crate::config::ConfigKind::Thr => "thr".into(),
                    crate::config::ConfigKind::TopPct => "top_pct".into(),
                },
                r.config.value.clone(),
                r.config.allowed_hours.clone().unwrap_or_default(),
                num(m.sharpe),
                num(m.dsr),
                num(m.psr),
                num(m.sortino),
                num(m.calmar),
                num(m.total_return),
                num(m.cagr),
                num(m.volatility),
                num(m.max_dd),
                m.max_dd_bars.to_string(),
                m.trades.to_string(),
                num(m.win_rate),
                opt(m.profit_factor),
                num(m.avg_trade),
                num(m.exposure),
                opt(r.top_pct_share.map(|s| s.asked)),
                opt(r.top_pct_share.map(|s| s.realised)),
                r.trials.map_or_else(String::new, |t| t.count.to_string()),
                r.gate.pass().to_string(),
                r.gate.reasons().iter().map(|g| g.as_str()).collect::<Vec<_>>().join(";"),
                r.start.clone(),
                r.end.clone(),
                l.risk_profile.as_str().to_string(),
                l.matrix_sha.clone(),
                l.config_sha.clone(),
                l.policy_sha.clone(),
                l.risk_sha.clone(),
                l.oof_key.clone(),
            ]
        }),
    )
}

/// A backtest's trades in time order.
pub fn trades(report: &BacktestReport) -> String {
    const HEADER: &[&str] = &[
        "entry_time",
        "exit_time",
        "side",
        "entry_price",
        "exit_price",
        "size",
        "pnl",
        "return",
        "bars_held",
        "prob",
        "exit_reason",
    ];
    write(
        HEADER,
        report.trades.iter().map(|t| {
            let x = &t.trade;
            vec![
                t.entry_time.clone(),
                t.exit_time.clone(),
                x.side.as_str().to_string(),
                num(x.entry_price),
                num(x.exit_price),
                num(x.size),
                num(x.pnl),
                num(x.ret),
                x.bars_held.to_string(),
                num(x.prob),
                x.exit_reason.as_str().to_string(),
            ]
        }),
    )
}

/// A backtest's equity and drawdown per tested bar, beside buying and holding the ticker.
pub fn equity(report: &BacktestReport) -> String {
    write(
        &["time", "equity", "drawdown", "buy_and_hold"],
        report.equity.iter().map(|p| vec![p.time.clone(), num(p.equity), num(p.drawdown), num(p.hold)]),
    )
}

/// Signals as CSV (the `alerts` file): a header, then one line per signal.
pub fn signals(signals: &[Signal]) -> String {
    const HEADER: &[&str] = &[
        "timestamp",
        "bar",
        "model_id",
        "ticker",
        "side",
        "confidence",
        "status",
        "close",
        "from",
        "to",
        "exit_reason",
    ];
    write(
        HEADER,
        signals.iter().map(|s| {
            vec![
                s.timestamp.clone(),
                s.bar.clone(),
                text(&s.model_id),
                text(&s.ticker),
                s.side.as_str().to_string(),
                num(s.confidence),
                s.status.as_str().to_string(),
                num(s.close),
                num(s.from),
                num(s.to),
                s.exit_reason.map_or("", |r| r.as_str()).to_string(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaderboard::{rank, Query};
    use crate::run::sample_run;

    fn read(text: &str) -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect()
    }

    #[test]
    fn leaderboard_rows_read_back_exactly_and_hostile_names_stay_one_field() {
        let mut a = sample_run("r1", "m,\"odd\"");
        a.metrics.sharpe = 0.1 + 0.2;
        a.metrics.profit_factor = None;
        a.tag = Some("line\nbreak".into());
        let mut b = sample_run("r2", "plain");
        b.metrics.sharpe = 1.5;
        let rows = rank(&[a, b], &Query::default());
        let text = leaderboard(&rows);
        let got = read(&text);
        assert_eq!(got.len(), 3, "a header and two rows");
        let width = got[0].len();
        assert!(got.iter().all(|r| r.len() == width), "every row as wide as the header");
        let col = |name: &str| got[0].iter().position(|h| h == name).unwrap();
        assert_eq!(got[1][col("run_id")], "r2", "in rank order");
        assert_eq!(got[2][col("model_id")], "m,\"odd\"");
        assert_eq!(got[2][col("tag")], "line\nbreak");
        assert_eq!(got[2][col("sharpe")].parse::<f64>().unwrap(), 0.1 + 0.2, "the exact f64");
        assert_eq!(got[2][col("profit_factor")], "", "no losing trade: empty, not inf");
        assert_eq!(got[1][col("pass")], rows[0].gate.pass().to_string());
    }

    #[test]
    fn a_name_a_spreadsheet_would_run_is_written_as_text() {
        let mut a = sample_run("r1", "=HYPERLINK(\"http://x\")");
        a.tag = Some("@SUM(A1)".into());
        a.metrics.sharpe = -0.5;
        let got = read(&leaderboard(&rank(&[a], &Query::default())));
        let col = |name: &str| got[0].iter().position(|h| h == name).unwrap();
        assert_eq!(got[1][col("model_id")], "'=HYPERLINK(\"http://x\")");
        assert_eq!(got[1][col("tag")], "'@SUM(A1)");
        assert_eq!(got[1][col("sharpe")], "-0.5", "numbers stay numbers");
        assert_eq!(text("aapl_swing"), "aapl_swing");
    }

    #[test]
    fn signals_keep_the_alerts_header() {
        let text = signals(&[]);
        assert_eq!(text, "timestamp,bar,model_id,ticker,side,confidence,status,close,from,to,exit_reason\n");
    }
}
