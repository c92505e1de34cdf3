//! The standalone HTML report: one run (its backtest, metrics, gate, trades, lineage) or one
//! model's leaderboard, as a single file a manager opens in any browser, offline, without the app.
//!
//! Both shells call these functions on the records they already hold (a [`BacktestReport`] from
//! [`crate::run::Evaluation::report`], rows from [`crate::leaderboard::rank`], the
//! [`ModelRecord`]), so the page's "Download report" and `btb report` give the same bytes for
//! the same records.
//!
//! Rules the output keeps, and tests check:
//!
//! - **Self-contained**: inline CSS and inline SVG only; no `src`, no external `href`, no
//!   `@import`, no script, no web font. Opening it makes no request.
//! - **Deterministic**: no clock or randomness inside (the caller passes `created` and the
//!   producing version in [`Provenance`]); coordinates use only `+ − × ÷` and rounding, which are
//!   exact IEEE operations, so native and wasm write the same digits.
//! - **Escaped**: every string that comes from data (ticker, model id, tag, config, times) goes
//!   through [`escape`], so a name of `<img src=x onerror=alert(1)>` is shown as text.
//! - **Honest charts**: the equity and drawdown curves are decimated to a minimum and a maximum
//!   per pixel column ([`decimate`]), so the deepest drawdown is always drawn.
//! - **Printable**: a light page, `@media print` rules that keep rows and charts whole.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::backtest::Side;

use crate::gate::{Gate, GateReason};
use crate::leaderboard::{Query, Row};
use crate::metrics::{Metrics, DEFINITIONS};
use crate::model::ModelRecord;
use crate::run::{BacktestReport, EquityPoint, Lineage};

/// The verification status of an artifact made on this machine (not imported from a bundle).
pub const DEFAULT_STATUS: &str = "computed here";

/// Who made the report and from what: shown in its header and footer, so a reader knows which
/// version computed the numbers and whether they came from an imported bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The producing program and version, e.g. `btb 0.1.0` or `BTB Workbench 0.1.0 (page)`.
    pub producer: String,
    /// When the report was made (RFC 3339 UTC), supplied by the caller.
    pub created: String,
    /// The bundle the records were imported from, if any (its file name or manifest id).
    #[serde(default)]
    pub bundle: Option<String>,
}

/// What [`run_html`] reports on.
#[derive(Debug, Clone, Copy)]
pub struct RunReportInput<'a> {
    pub report: &'a BacktestReport,
    /// The run's model, when the caller has it (its features, label, cadence).
    pub model: Option<&'a ModelRecord>,
    /// The run's verification status ([`DEFAULT_STATUS`], or what a bundle import found).
    pub status: &'a str,
    pub provenance: &'a Provenance,
}

/// What [`leaderboard_html`] reports on.
#[derive(Debug, Clone, Copy)]
pub struct LeaderboardReportInput<'a> {
    pub model_id: &'a str,
    pub model: Option<&'a ModelRecord>,
    /// The filters and ordering the rows were ranked with (shown in the header).
    pub query: &'a Query,
    pub rows: &'a [Row],
    /// Verification status by `run_id`; a run not listed is [`DEFAULT_STATUS`].
    pub statuses: &'a BTreeMap<String, String>,
    pub provenance: &'a Provenance,
}

/// `s` with `& < > " '` replaced by entities: safe as element text and as a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The indices of `values` to draw in `columns` pixel columns: every index when there are at
/// most two per column, else the first and last index and, per column, the indices of its
/// minimum and maximum (in index order). A chart drawn through them reaches every column's
/// extremes, so no peak and no drawdown is lost to thinning. `NaN`s are never chosen as
/// extremes.
pub fn decimate(values: &[f64], columns: usize) -> Vec<usize> {
    let n = values.len();
    if columns == 0 || n <= 2 * columns {
        return (0..n).collect();
    }
    let mut keep = Vec::with_capacity(2 * columns + 2);
    keep.push(0);
    for c in 0..columns {
        let (a, b) = (c * n / columns, (c + 1) * n / columns);
        let (mut lo, mut hi): (Option<usize>, Option<usize>) = (None, None);
        for (i, &v) in values.iter().enumerate().take(b).skip(a) {
            if v.is_nan() {
                continue;
            }
            if lo.is_none_or(|j| v < values[j]) {
                lo = Some(i);
            }
            if hi.is_none_or(|j| v > values[j]) {
                hi = Some(i);
            }
        }
        let mut pair: Vec<usize> = lo.into_iter().chain(hi).collect();
        pair.sort_unstable();
        keep.extend(pair);
    }
    keep.push(n - 1);
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// One calendar year of monthly returns.
#[derive(Debug, Clone, PartialEq)]
pub struct YearReturns {
    pub year: String,
    /// January … December; `None` for a month without bars in the backtest.
    pub months: [Option<f64>; 12],
    /// The months compounded: `Π (1 + r) − 1`.
    pub total: f64,
}

/// The backtest's returns per calendar month (of the bars' local times): a month's return is
/// its last equity over the previous month's last equity (the first month: over the first
/// equity) − 1, so the months compound exactly to the total return. Bars whose time does not
/// start with `YYYY-MM` are skipped.
pub fn monthly_returns(equity: &[EquityPoint]) -> Vec<YearReturns> {
    let mut years: Vec<YearReturns> = Vec::new();
    let Some(first) = equity.first() else { return years };
    let mut base = first.equity;
    let mut i = 0;
    while i < equity.len() {
        let Some((y, m)) = year_month(&equity[i].time) else {
            i += 1;
            continue;
        };
        let mut end = equity[i].equity;
        while i < equity.len() && year_month(&equity[i].time) == Some((y, m)) {
            end = equity[i].equity;
            i += 1;
        }
        let r = if base != 0.0 { end / base - 1.0 } else { 0.0 };
        base = end;
        if years.last().is_none_or(|last| last.year != y) {
            years.push(YearReturns { year: y.to_string(), months: [None; 12], total: 0.0 });
        }
        if let Some(row) = years.last_mut() {
            row.months[m - 1] = Some(r);
        }
    }
    for row in &mut years {
        row.total = row.months.iter().flatten().fold(1.0, |acc, r| acc * (1.0 + r)) - 1.0;
    }
    years
}

fn year_month(t: &str) -> Option<(&str, usize)> {
    let b = t.as_bytes();
    if b.len() < 7 || b[4] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let m: usize = t.get(5..7)?.parse().ok()?;
    (1..=12).contains(&m).then(|| (&t[..4], m))
}

/// A histogram of trade returns: `counts[k]` trades in `[lo + k·step, lo + (k+1)·step)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub lo: f64,
    pub step: f64,
    pub counts: Vec<usize>,
}

/// Bins of a "nice" width (1, 2 or 5 × a power of ten) aligned on multiples of it, about
/// `target` of them over the finite values; `None` without any.
pub fn histogram(values: &[f64], target: usize) -> Option<Histogram> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if finite.is_empty() {
        return None;
    }
    let span = if max > min { max - min } else { min.abs().max(0.01) };
    let step = nice_step(span / target.max(1) as f64);
    let lo = (min / step).floor() * step;
    let bins = (((max - lo) / step).floor() as usize + 1).max(1);
    let mut counts = vec![0usize; bins];
    for v in finite {
        let k = (((v - lo) / step).floor() as usize).min(bins - 1);
        counts[k] += 1;
    }
    Some(Histogram { lo, step, counts })
}

/// The smallest of 1, 2, 5 × 10^k at least `raw` (by multiplying and dividing by ten, exact
/// operations, rather than logarithms, whose last bit may differ between targets).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mut mag = 1.0;
    while mag > raw {
        mag /= 10.0;
    }
    while mag * 10.0 <= raw {
        mag *= 10.0;
    }
    for f in [1.0, 2.0, 5.0, 10.0] {
        if f * mag >= raw {
            return f * mag;
        }
    }
    10.0 * mag
}

/// Tick values at multiples of a nice step covering `[lo, hi]`, about `n` of them.
/// About `n` round tick values from `lo` to `hi` (1, 2 or 5 × a power of ten apart, by exact
/// operations), for every chart of the report and the page.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// Ticks for a log axis from `lo` to `hi` (the page's equity and price charts): 1, 2 and 5 ×
/// powers of ten inside the range, or linear ticks when fewer than two of those fall in it.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    if lo > 0.0 && hi > lo {
        let mut mag = 10f64.powf(lo.log10().floor());
        while mag <= hi && out.len() < 30 {
            for k in [1.0, 2.0, 5.0] {
                let t = k * mag;
                if t >= lo && t <= hi {
                    out.push(t);
                }
            }
            mag *= 10.0;
        }
    }
    if out.len() < 2 {
        ticks(lo, hi, 5)
    } else {
        out
    }
}

/// Decimals a tick label needs to tell ticks `step` apart (0.001 → 3, 0.5 → 1, 20 → 0).
pub fn tick_decimals(step: f64) -> usize {
    let mut d = 0;
    let mut s = step.abs();
    while d < 8 && s.is_finite() && s > 0.0 && (s - s.round()).abs() > s * 1e-9 {
        s *= 10.0;
        d += 1;
    }
    d
}

// Formatting.

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:+.2}%", 100.0 * x)
    } else {
        "—".into()
    }
}

/// A fraction that has no sign to speak of (win rate, exposure, volatility).
fn pct_u(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", 100.0 * x)
    } else {
        "—".into()
    }
}

/// A per-cent tick label with as many decimals as the tick step needs (0.5% steps: one).
fn pct_tick(x: f64, step: f64) -> String {
    let digits = if step >= 0.01 - 1e-12 {
        0
    } else if step >= 0.001 - 1e-12 {
        1
    } else {
        2
    };
    let v = 100.0 * x;
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    format!("{v:.digits$}%")
}

fn pct0(x: f64) -> String {
    if x.is_finite() {
        format!("{:.0}%", 100.0 * x)
    } else {
        "—".into()
    }
}

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "—".into()
    }
}

/// An enum's serialised name (`walk_forward`, `balanced`), as every other output writes it.
fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Compact JSON with a space after each comma, so long records wrap at field boundaries.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default().replace("\",\"", "\", \"")
}

/// A signed return's class: colours numbers green or red.
fn sign_class(x: f64) -> &'static str {
    if x > 0.0 {
        "pos"
    } else if x < 0.0 {
        "neg"
    } else {
        ""
    }
}

// The page around the sections.

const CSS: &str = r#"
:root{--ink:#1d2330;--muted:#5d6675;--line:#dfe3ea;--panel:#fff;--bg:#f4f6f9;--pos:#137a3d;--neg:#b3261e;--accent:#2456a6}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:24px 20px 40px}
header.top{display:flex;justify-content:space-between;align-items:flex-start;gap:16px;border-bottom:2px solid var(--ink);padding-bottom:12px;margin-bottom:18px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 10px;break-after:avoid;page-break-after:avoid}
h3{font-size:13px;margin:12px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.sub{color:var(--muted);margin:0}
.badge{display:inline-block;padding:3px 10px;border-radius:999px;font-weight:700;font-size:13px;letter-spacing:.03em}
.badge.pass{background:#dff3e6;color:var(--pos);border:1px solid #9fd4b2}
.badge.fail{background:#fbe3e1;color:var(--neg);border:1px solid #efaaa4}
.status{font-size:12px;color:var(--muted);text-align:right;white-space:nowrap}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin:0 0 16px}
.tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:0 0 16px}
.tile{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px;break-inside:avoid}
.tile .k{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.tile .v{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600}
td.n,th.n{text-align:right}
tr{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
.pos{color:var(--pos)}.neg{color:var(--neg)}.muted{color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.nw,.board td{white-space:nowrap}
pre{background:#f7f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 10px;font-size:11.5px;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
figure{margin:0;break-inside:avoid;page-break-inside:avoid}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
svg{display:block;width:100%;height:auto}
svg text{font:12px -apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--muted)}
svg.half text{font-size:15px}
.heat td{text-align:right;font-size:12px;padding:4px 6px;border:1px solid #fff}
.heat td.y{text-align:left;font-weight:600;background:none}
.heat td.t{font-weight:700;border-left:2px solid var(--line)}
.heat td.z{color:#9aa3b2}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.kv td:first-child{color:var(--muted);width:28%;white-space:nowrap}
.defs td:nth-child(3){color:var(--muted);font-size:12px}
.defs td:first-child{white-space:nowrap}
.reason{font-weight:600}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:20px}
.trades{font-size:12px}
@media (max-width:800px){.tiles{grid-template-columns:repeat(3,1fr)}.grid2{grid-template-columns:1fr}}
@media print{
@page{size:A4;margin:12mm}
body{background:#fff;color:#000;font-size:11px}
main{max-width:none;padding:0}
section,.tile{border-color:#bbb;box-shadow:none;background:#fff}
section{padding:8px 0;border:none;border-top:1px solid #bbb;border-radius:0}
.tiles{grid-template-columns:repeat(6,1fr)}
.grid2{grid-template-columns:1fr 1fr}
pre{background:#fff}
a{color:inherit;text-decoration:none}
}
"#;

const CSP: &str =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";

fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + CSS.len() + 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Belt and braces: were a URL or a handler ever to slip past escaping, the browser would
    // neither fetch it nor run it.
    out.push_str(CSP);
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    out.push_str("<style>");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
    out.push_str(body);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn made_by(p: &Provenance) -> String {
    let from = match &p.bundle {
        Some(b) => format!("records imported from bundle <span class=\"mono\">{}</span>", escape(b)),
        None => "records computed by this producer (no bundle)".to_string(),
    };
    format!("Made by {} on {}; {from}.", escape(&p.producer), escape(&p.created))
}

fn footer(p: &Provenance) -> String {
    format!(
        "<footer>{} Self-contained file: no scripts, no network requests. Metric definitions follow quantstats.</footer>\n",
        made_by(p)
    )
}

fn gate_badge(g: &Gate) -> String {
    if g.pass() {
        "<span class=\"badge pass\">GATE PASS</span>".into()
    } else {
        "<span class=\"badge fail\">GATE FAIL</span>".into()
    }
}

fn kv_table(rows: &[(&str, String)]) -> String {
    let mut t = String::from("<table class=\"kv\"><tbody>\n");
    for (k, v) in rows {
        let _ = writeln!(t, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    t.push_str("</tbody></table>\n");
    t
}

fn mono(s: &str) -> String {
    format!("<span class=\"mono\">{}</span>", escape(s))
}

// The run report.

/// The report of one run: header with the gate verdict and verification status, headline
/// metrics, equity with drawdown, monthly returns, the distribution of trade returns, every
/// metric with its definition, the gate's checks with remedies, the trades, the settings,
/// the model and the lineage.
pub fn run_html(input: &RunReportInput<'_>) -> String {
    let rep = input.report;
    let run = &rep.run;
    let m = &run.metrics;
    let mut b = String::new();

    let _ = writeln!(
        b,
        "<header class=\"top\"><div><h1>Run <span class=\"mono\" style=\"font-size:18px\">{}</span> · {}</h1>\
         <p class=\"sub\">{} · {} · config <b>{}</b>{} · {} … {} · {} bars · {} {} splits</p></div>\
         <div class=\"status\">{}<br>verification: <b>{}</b></div></header>",
        escape(&run.run_id),
        escape(&run.model_id),
        escape(&run.ticker),
        escape(&run.pack_id),
        escape(&run.config.to_string()),
        run.tag.as_deref().map(|t| format!(" · tag {}", escape(t))).unwrap_or_default(),
        escape(&run.start),
        escape(&run.end),
        m.bars,
        run.splits,
        name(&run.cv),
        gate_badge(&run.gate),
        escape(input.status),
    );

    let pf = m.profit_factor.map_or("∞".to_string(), |x| num(x, 2));
    let tiles = [
        ("Sharpe", num(m.sharpe, 2), sign_class(m.sharpe)),
        ("Return", pct(m.total_return), sign_class(m.total_return)),
        ("CAGR", pct(m.cagr), sign_class(m.cagr)),
        ("Max drawdown", pct(m.max_dd), sign_class(m.max_dd)),
        ("Trades", m.trades.to_string(), ""),
        ("Win rate", pct0(m.win_rate), ""),
    ];
    b.push_str("<div class=\"tiles\">");
    for (k, v, c) in tiles {
        let _ = write!(b, "<div class=\"tile\"><div class=\"k\">{k}</div><div class=\"v {c}\">{v}</div></div>");
    }
    b.push_str("</div>\n");

    b.push_str("<section id=\"equity\"><h2>Equity and drawdown</h2>");
    b.push_str(&equity_svg(&rep.equity));
    let _ = writeln!(
        b,
        "<figcaption>Equity per tested bar (starting at 1.00), out-of-fold decisions filled at the next open; \
         drawdown below (deepest {} over {} bars). Curves keep each pixel column's minimum and maximum.</figcaption></section>",
        pct(m.max_dd),
        m.max_dd_bars
    );

    b.push_str("<section id=\"monthly\"><h2>Monthly returns</h2>");
    b.push_str(&monthly_table(&monthly_returns(&rep.equity)));
    b.push_str("</section>\n");

    b.push_str("<div class=\"grid2\">");
    b.push_str("<section id=\"distribution\"><h2>Distribution of trade returns</h2>");
    let rets: Vec<f64> = rep.trades.iter().map(|t| t.trade.ret).collect();
    b.push_str(&histogram_svg(&rets, m.avg_trade));
    let _ = write!(
        b,
        "<figcaption>{} trades; average {}, best {}, worst {}, profit factor {pf}.</figcaption></section>",
        m.trades,
        pct(m.avg_trade),
        pct(m.best_trade),
        pct(m.worst_trade)
    );
    b.push_str("<section id=\"gate\"><h2>Gate</h2>");
    b.push_str(&gate_table(run.lineage.risk_profile, &run.overrides, m, &run.gate));
    b.push_str("</section></div>\n");

    b.push_str("<section id=\"metrics\"><h2>Metrics</h2>");
    b.push_str(&metrics_table(m, run.top_pct_share));
    b.push_str("</section>\n");

    b.push_str("<div class=\"grid2\">");
    b.push_str("<section id=\"lineage\"><h2>Lineage</h2>");
    b.push_str(&lineage_table(&run.run_id, &run.lineage, input.status));
    b.push_str("</section>");
    b.push_str("<section id=\"model\"><h2>Model</h2>");
    b.push_str(&model_table(input.model, &run.model_id));
    b.push_str("</section></div>\n");

    b.push_str("<section id=\"settings\"><h2>Settings</h2><div class=\"grid2\"><div><h3>Policy</h3><pre>");
    b.push_str(&escape(&json(&run.policy)));
    b.push_str("</pre></div><div><h3>Out-of-fold probabilities</h3><pre>");
    b.push_str(&escape(&json(&run.oof_spec)));
    b.push_str("</pre><h3>Gate overrides</h3><pre>");
    b.push_str(&escape(&json(&run.overrides)));
    b.push_str("</pre></div></div></section>\n");

    // Last: the longest section, so the summary pages print first.
    let _ = write!(b, "<section id=\"trades\"><h2>Trades ({})</h2>", rep.trades.len());
    b.push_str(&trades_table(rep));
    b.push_str("</section>\n");

    b.push_str(&footer(input.provenance));
    page(&format!("BTB report · run {} · {}", run.run_id, run.model_id), &b)
}

fn gate_table(
    profile: crate::risk::RiskProfile,
    overrides: &crate::gate::GateOverrides,
    m: &Metrics,
    g: &Gate,
) -> String {
    let risk = profile.params();
    let min_trades = overrides.min_trades.unwrap_or(risk.min_trades);
    let min_sharpe = overrides.min_sharpe.unwrap_or(risk.min_sharpe);
    let mut checks = vec![
        (GateReason::MinTradesNotMet, format!("trades ≥ {min_trades}"), m.trades.to_string()),
        (GateReason::PoorSharpe, format!("sharpe &gt; {}", num(min_sharpe, 2)), num(m.sharpe, 2)),
        (GateReason::ExcessiveDrawdown, format!("|max_dd| &lt; {}", pct0(risk.max_drawdown)), pct(m.max_dd)),
        (GateReason::NegativeReturn, "return &gt; 0".to_string(), pct(m.total_return)),
        (GateReason::InsufficientData, "≥ ½ year of bars".to_string(), format!("{} bars", m.bars)),
    ];
    if let Some(min_dsr) = overrides.min_dsr.or(risk.min_dsr) {
        checks.push((GateReason::PoorDsr, format!("dsr ≥ {}", num(min_dsr, 2)), num(m.dsr, 3)));
    }
    let mut t = format!(
        "<p>{} under the <b>{}</b> risk profile{}.</p>",
        gate_badge(g),
        profile.as_str(),
        if overrides.min_trades.is_some() || overrides.min_sharpe.is_some() { " with overrides" } else { "" }
    );
    t.push_str("<table><thead><tr><th>check</th><th>needs</th><th class=\"n\">actual</th><th>result</th></tr></thead><tbody>\n");
    for (reason, needs, actual) in checks {
        let failed = g.reasons().contains(&reason);
        let result = if failed {
            format!(
                "<span class=\"neg reason\">{}</span><br><span class=\"muted\">remedy: {}</span>",
                reason.as_str(),
                reason.remedy()
            )
        } else {
            "<span class=\"pos\">ok</span>".to_string()
        };
        let _ = writeln!(
            t,
            "<tr><td>{}</td><td class=\"nw\">{needs}</td><td class=\"n nw\">{actual}</td><td>{result}</td></tr>",
            reason.as_str()
        );
    }
    t.push_str("</tbody></table>\n");
    t
}

fn metric_value(m: &Metrics, key: &str) -> String {
    match key {
        "sharpe" => num(m.sharpe, 3),
        "sortino" => num(m.sortino, 3),
        "calmar" => num(m.calmar, 3),
        "return" => pct(m.total_return),
        "cagr" => pct(m.cagr),
        "volatility" => pct_u(m.volatility),
        "max_dd" => pct(m.max_dd),
        "max_dd_bars" => m.max_dd_bars.to_string(),
        "trades" => m.trades.to_string(),
        "win_rate" => pct_u(m.win_rate),
        "profit_factor" => m.profit_factor.map_or("∞".to_string(), |x| num(x, 3)),
        "avg_trade" => pct(m.avg_trade),
        "best_trade" => pct(m.best_trade),
        "worst_trade" => pct(m.worst_trade),
        "avg_bars_held" => num(m.avg_bars_held, 1),
        "exposure" => pct_u(m.exposure),
        "bars" => m.bars.to_string(),
        "skew" => num(m.skew, 3),
        "kurtosis" => num(m.kurtosis, 3),
        "psr" => num(m.psr, 3),
        "dsr" => num(m.dsr, 3),
        _ => String::new(),
    }
}

fn metrics_table(m: &Metrics, share: Option<crate::run::TopPctShare>) -> String {
    let mut t = String::from(
        "<table class=\"defs\"><thead><tr><th>metric</th><th class=\"n\">value</th><th>definition</th></tr></thead><tbody>\n",
    );
    for (key, def) in DEFINITIONS {
        let _ = writeln!(
            t,
            "<tr><td><code>{key}</code></td><td class=\"n\">{}</td><td>{}</td></tr>",
            metric_value(m, key),
            escape(def)
        );
    }
    if let Some(s) = share {
        let _ = writeln!(
            t,
            "<tr><td><code>top_pct share</code></td><td class=\"n{}\">{}</td><td>Tested bars whose probability reached \
             their threshold (the {} quantile of the model's probabilities on the year of bars before), asked {}{}.</td></tr>",
            if s.met() { "" } else { " neg" },
            pct_u(s.realised),
            num(1.0 - s.asked, 2),
            pct_u(s.asked),
            if s.met() { "" } else { "; not within a factor of 1.5 of it" }
        );
    }
    t.push_str("</tbody></table>\n");
    t
}

fn trades_table(rep: &BacktestReport) -> String {
    if rep.trades.is_empty() {
        return "<p class=\"muted\">No trades.</p>".into();
    }
    let mut t = String::from(
        "<table class=\"trades\"><thead><tr><th class=\"n\">#</th><th>side</th><th>entry</th><th>exit</th>\
         <th class=\"n\">entry px</th><th class=\"n\">exit px</th><th class=\"n\">size</th><th class=\"n\">bars</th>\
         <th class=\"n\">prob</th><th class=\"n\">return</th><th class=\"n\">pnl</th><th>exit on</th></tr></thead><tbody>\n",
    );
    for (i, tr) in rep.trades.iter().enumerate() {
        let x = &tr.trade;
        let side = match x.side {
            Side::Long => "long",
            Side::Short => "short",
        };
        let _ = writeln!(
            t,
            "<tr><td class=\"n\">{}</td><td>{side}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td class=\"n {}\">{}</td><td>{}</td></tr>",
            i + 1,
            escape(&tr.entry_time),
            escape(&tr.exit_time),
            num(x.entry_price, 2),
            num(x.exit_price, 2),
            num(x.size, 3),
            x.bars_held,
            num(x.prob, 3),
            sign_class(x.ret),
            pct(x.ret),
            sign_class(x.pnl),
            num(x.pnl, 5),
            x.exit_reason.as_str(),
        );
    }
    t.push_str("</tbody></table>\n");
    t
}

fn lineage_table(run_id: &str, l: &Lineage, status: &str) -> String {
    kv_table(&[
        ("run_id", mono(run_id)),
        ("matrix_sha", mono(&l.matrix_sha)),
        ("config_sha", mono(&l.config_sha)),
        ("policy_sha", mono(&l.policy_sha)),
        ("risk_sha", format!("{} ({})", mono(&l.risk_sha), l.risk_profile.as_str())),
        ("oof key", mono(&l.oof_key)),
        ("backtest code", format!("v{}", crate::backtest::BACKTEST_CODE_VERSION)),
        ("verification", format!("<b>{}</b>", escape(status))),
    ])
}

fn model_table(model: Option<&ModelRecord>, model_id: &str) -> String {
    let Some(r) = model else {
        return format!(
            "<p class=\"muted\">Model {} is not in the records this report was made from.</p>",
            mono(model_id)
        );
    };
    let md = &r.model;
    let features: Vec<String> = md.features.iter().map(|f| f.to_string()).collect();
    kv_table(&[
        ("model_id", mono(&r.model_id)),
        ("pack / template", format!("{} / {}", escape(&md.pack_id), escape(&md.template))),
        ("ticker / asset", format!("{} / {}", escape(&md.ticker), escape(&md.asset))),
        ("cadence / horizon", format!("{} / {}", escape(&md.cadence), escape(&md.horizon))),
        ("risk profile", md.risk_profile.as_str().to_string()),
        ("features", format!("<code>{}</code>", escape(&features.join(", ")))),
        ("label", format!("<code>{}</code>", escape(&serde_json::to_string(&md.label).unwrap_or_default()))),
        ("dataset", mono(&r.dataset_id)),
        ("created", escape(&r.created)),
    ])
}

// Charts.

const CHART_W: f64 = 960.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 12.0;

fn polyline_points(idx: &[usize], n: usize, y: impl Fn(usize) -> f64) -> String {
    let plot_w = CHART_W - LEFT - RIGHT;
    let mut s = String::with_capacity(idx.len() * 14);
    for &i in idx {
        let x = if n > 1 { LEFT + plot_w * i as f64 / (n - 1) as f64 } else { LEFT };
        let _ = write!(s, "{:.1},{:.1} ", x, y(i));
    }
    s.pop();
    s
}

/// Year labels on the x axis: the first bar of each year, at least `gap` pixels apart (a
/// partial first year gives way to the next year's label rather than overlapping it).
fn year_marks(equity: &[EquityPoint], plot_w: f64, gap: f64) -> Vec<(usize, String)> {
    let n = equity.len();
    let px = |i: usize| if n > 1 { plot_w * i as f64 / (n - 1) as f64 } else { 0.0 };
    let mut marks: Vec<(usize, String)> = Vec::new();
    let mut last: Option<&str> = None;
    for (i, p) in equity.iter().enumerate() {
        let y = p.time.get(..4);
        if y.is_some() && y != last {
            if let Some(y) = y {
                marks.push((i, y.to_string()));
            }
            last = y;
        }
    }
    if marks.len() > 1 && px(marks[1].0) - px(marks[0].0) < gap {
        marks.remove(0);
    }
    let mut kept: Vec<(usize, String)> = Vec::new();
    for m in marks {
        if kept.last().is_none_or(|k| px(m.0) - px(k.0) >= gap) {
            kept.push(m);
        }
    }
    kept
}

fn equity_svg(equity: &[EquityPoint]) -> String {
    let n = equity.len();
    if n < 2 {
        return "<p class=\"muted\">Fewer than two tested bars: no curve to draw.</p>".into();
    }
    let (eq_top, eq_bot, dd_top, dd_bot, h) = (12.0, 262.0, 290.0, 390.0, 414.0);
    let plot_w = CHART_W - LEFT - RIGHT;
    let columns = plot_w as usize;
    let eq: Vec<f64> = equity.iter().map(|p| p.equity).collect();
    let dd: Vec<f64> = equity.iter().map(|p| p.drawdown).collect();
    let hold: Vec<f64> = equity.iter().map(|p| p.hold).collect();
    let finite = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)))
    };
    let ((elo, ehi), (hlo, hhi)) = (finite(&eq), finite(&hold));
    let (mut lo, mut hi) = (elo.min(hlo), ehi.max(hhi));
    if !(lo.is_finite() && hi.is_finite()) {
        lo = 1.0;
        hi = 1.0;
    }
    if hi - lo < 1e-9 {
        lo -= 0.01;
        hi += 0.01;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let ey = |v: f64| eq_bot - (eq_bot - eq_top) * (v - lo) / (hi - lo);
    let dmin = finite(&dd).0.min(0.0);
    let dlo = if dmin < -1e-12 { dmin * 1.08 } else { -0.01 };
    let dy = |v: f64| dd_top + (dd_bot - dd_top) * (v / dlo);

    let mut s = format!("<figure><svg viewBox=\"0 0 {CHART_W} {h}\" role=\"img\" aria-label=\"Equity and drawdown\">");
    // grid and y labels, equity panel
    for t in ticks(lo, hi, 5) {
        let y = ey(t);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ef\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            CHART_W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            num(t, 2)
        );
    }
    if lo < 1.0 && hi > 1.0 {
        let y = ey(1.0);
        let _ = write!(s, "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#9aa3b2\" stroke-dasharray=\"4 3\"/>", CHART_W - RIGHT);
    }
    for t in ticks(dlo, 0.0, 3) {
        let y = dy(t);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ef\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            CHART_W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            pct0(t)
        );
    }
    // x labels: years
    for (i, label) in year_marks(equity, plot_w, 44.0) {
        let x = LEFT + plot_w * i as f64 / (n - 1) as f64;
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{eq_top}\" y2=\"{dd_bot}\" stroke=\"#f0f2f6\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            h - 6.0,
            escape(&label)
        );
    }
    let _ = write!(s, "<text x=\"{LEFT}\" y=\"{:.1}\" font-weight=\"600\">drawdown</text>", dd_top - 6.0);
    // drawdown area
    let di = decimate(&dd, columns);
    let pts = polyline_points(&di, n, |i| dy(if dd[i].is_finite() { dd[i] } else { 0.0 }));
    let _ = write!(
        s,
        "<polygon points=\"{LEFT:.1},{dd_top:.1} {pts} {:.1},{dd_top:.1}\" fill=\"#f3c4c0\" stroke=\"#b3261e\" stroke-width=\"1\"/>",
        CHART_W - RIGHT
    );
    // buy and hold, under the equity line
    let hi_idx = decimate(&hold, columns);
    let pts = polyline_points(&hi_idx, n, |i| ey(if hold[i].is_finite() { hold[i] } else { 1.0 }));
    let _ = write!(
        s,
        "<polyline points=\"{pts}\" fill=\"none\" stroke=\"#9aa3b2\" stroke-width=\"1.2\" stroke-dasharray=\"5 3\"/>"
    );
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\"><tspan fill=\"#2456a6\">— strategy</tspan>  <tspan fill=\"#7a8394\">- - buy and hold</tspan></text>",
        LEFT + 8.0,
        eq_top + 16.0
    );
    // equity line
    let ei = decimate(&eq, columns);
    let pts = polyline_points(&ei, n, |i| ey(if eq[i].is_finite() { eq[i] } else { 1.0 }));
    let _ = write!(s, "<polyline points=\"{pts}\" fill=\"none\" stroke=\"#2456a6\" stroke-width=\"1.6\"/>");
    // frames
    let _ = write!(
        s,
        "<rect x=\"{LEFT}\" y=\"{eq_top}\" width=\"{plot_w}\" height=\"{:.1}\" fill=\"none\" stroke=\"#c9ced8\"/>\
         <rect x=\"{LEFT}\" y=\"{dd_top}\" width=\"{plot_w}\" height=\"{:.1}\" fill=\"none\" stroke=\"#c9ced8\"/>",
        eq_bot - eq_top,
        dd_bot - dd_top
    );
    s.push_str("</svg></figure>");
    s
}

fn heat_colour(r: f64, cap: f64) -> String {
    let s = (r.abs() / cap).min(1.0);
    let (tr, tg, tb) = if r >= 0.0 { (26.0, 152.0, 80.0) } else { (215.0, 48.0, 39.0) };
    let mix = |t: f64| (255.0 + (t - 255.0) * s).round() as u8;
    let text = if s > 0.6 { ";color:#fff" } else { "" };
    format!("background:rgb({},{},{}){text}", mix(tr), mix(tg), mix(tb))
}

fn monthly_table(years: &[YearReturns]) -> String {
    if years.is_empty() {
        return "<p class=\"muted\">No dated bars.</p>".into();
    }
    let cap = years
        .iter()
        .flat_map(|y| y.months.iter().flatten())
        .fold(0.0f64, |a, r| if r.is_finite() { a.max(r.abs()) } else { a })
        .max(0.01);
    let mut t = String::from("<table class=\"heat\"><thead><tr><th>year</th>");
    for m in ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] {
        let _ = write!(t, "<th class=\"n\">{m}</th>");
    }
    t.push_str("<th class=\"n\">total</th></tr></thead><tbody>\n");
    for y in years {
        let _ = write!(t, "<tr><td class=\"y\">{}</td>", escape(&y.year));
        for m in &y.months {
            match m {
                Some(r) if *r == 0.0 => t.push_str("<td class=\"z\">0.00</td>"),
                Some(r) if r.is_finite() => {
                    let _ = write!(t, "<td style=\"{}\">{}</td>", heat_colour(*r, cap), num(100.0 * r, 2));
                }
                _ => t.push_str("<td class=\"muted\"></td>"),
            }
        }
        let _ = writeln!(t, "<td class=\"t {}\">{}</td></tr>", sign_class(y.total), num(100.0 * y.total, 2));
    }
    let _ = write!(
        t,
        "</tbody></table><figcaption>Per cent per calendar month of the bars' local time (0.00: no position that month); \
         colour scaled to ±{:.2}%. The months compound to the year's total and to the run's return.</figcaption>",
        100.0 * cap
    );
    t
}

fn histogram_svg(rets: &[f64], mean: f64) -> String {
    let Some(h) = histogram(rets, 20) else {
        return "<p class=\"muted\">No trades.</p>".into();
    };
    let (w, ht, left, right, top, bot) = (480.0, 266.0, 40.0, 10.0, 10.0, 222.0);
    let plot_w = w - left - right;
    let bins = h.counts.len();
    let peak = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let hi = h.lo + h.step * bins as f64;
    let x = |v: f64| left + plot_w * (v - h.lo) / (hi - h.lo);
    let y = |c: f64| bot - (bot - top) * c / peak;
    let mut s =
        format!("<figure><svg class=\"half\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"Distribution of trade returns\">");
    for t in ticks(0.0, peak, 4) {
        let yy = y(t);
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e6e9ef\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 5.0,
            yy + 4.0,
            num(t, 0)
        );
    }
    let bw = plot_w / bins as f64;
    for (k, &c) in h.counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let a = h.lo + h.step * k as f64;
        let centre = a + h.step / 2.0;
        let fill = if centre >= 0.0 { "#3d9a62" } else { "#cf5a50" };
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>{} … {}: {c}</title></rect>",
            x(a) + 0.5,
            y(c as f64),
            (bw - 1.0).max(0.5),
            bot - y(c as f64),
            pct(a),
            pct(a + h.step)
        );
    }
    let every = bins.div_ceil(6).max(1);
    for k in (0..=bins).step_by(every) {
        let v = h.lo + h.step * k as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(v),
            bot + 16.0,
            pct_tick(v, h.step * every as f64)
        );
    }
    if h.lo < 0.0 && hi > 0.0 {
        let _ = write!(s, "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{bot}\" stroke=\"#5d6675\"/>", x(0.0));
    }
    if mean.is_finite() && mean >= h.lo && mean <= hi {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{bot}\" stroke=\"#2456a6\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{1:.1}\" y=\"{2:.1}\" fill=\"#2456a6\">mean {3}</text>",
            x(mean),
            x(mean) + 4.0,
            top + 12.0,
            pct(mean)
        );
    }
    let _ = write!(s, "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{bot}\" y2=\"{bot}\" stroke=\"#9aa3b2\"/>", w - right);
    let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">trade return →</text>", w - right, ht - 2.0);
    s.push_str("</svg></figure>");
    s
}

// The leaderboard report.

/// The report of a model's leaderboard: the model, how the rows were filtered and ranked, a
/// Sharpe-against-drawdown chart of every run, the ranked rows with gate and verification
/// status, the remedies of the gate failures that occur, and each run's lineage.
pub fn leaderboard_html(input: &LeaderboardReportInput<'_>) -> String {
    let rows = input.rows;
    let q = input.query;
    let passing = rows.iter().filter(|r| r.gate.pass()).count();
    let status = |id: &str| input.statuses.get(id).map(String::as_str).unwrap_or(DEFAULT_STATUS);
    let mut b = String::new();

    let mut filters = vec![format!("ranked by <b>{}</b>", name(&q.rank_by))];
    if let Some(p) = &q.pack_id {
        filters.push(format!("pack {}", escape(p)));
    }
    if let Some(p) = q.risk_profile {
        filters.push(format!("risk profile {}", p.as_str()));
    }
    if let Some(t) = &q.tag {
        filters.push(format!("tag {}", escape(t)));
    }
    if q.pass_gate {
        filters.push("gate passes only".into());
    }
    if let Some(l) = q.limit {
        filters.push(format!("top {l}"));
    }
    let ticker = input.model.map(|r| escape(&r.model.ticker)).or_else(|| rows.first().map(|_| String::new()));
    let _ = writeln!(
        b,
        "<header class=\"top\"><div><h1>Leaderboard · {}</h1><p class=\"sub\">{}{} runs · {} pass the gate · {}</p></div>\
         <div class=\"status\">{}</div></header>",
        escape(input.model_id),
        ticker.filter(|t| !t.is_empty()).map(|t| format!("{t} · ")).unwrap_or_default(),
        rows.len(),
        passing,
        filters.join(" · "),
        made_by(input.provenance),
    );

    if let Some(best) = rows.first() {
        let m = &best.metrics;
        let tiles = [
            ("Runs", rows.len().to_string(), ""),
            ("Pass gate", passing.to_string(), ""),
            ("Best Sharpe", num(m.sharpe, 2), sign_class(m.sharpe)),
            ("Top run return", pct(m.total_return), sign_class(m.total_return)),
            ("Top run max DD", pct(m.max_dd), sign_class(m.max_dd)),
            ("Top run trades", m.trades.to_string(), ""),
        ];
        b.push_str("<div class=\"tiles\">");
        for (k, v, c) in tiles {
            let _ = write!(b, "<div class=\"tile\"><div class=\"k\">{k}</div><div class=\"v {c}\">{v}</div></div>");
        }
        b.push_str("</div>\n");
        b.push_str("<section id=\"scatter\"><h2>Sharpe against maximum drawdown</h2>");
        b.push_str(&scatter_svg(rows));
        b.push_str("<figcaption>Each run: Sharpe (up is better) against its maximum drawdown (right is shallower); green passes the gate. Labels are ranks.</figcaption></section>\n");
    }

    let _ = write!(b, "<section id=\"rows\"><h2>Runs ({})</h2>", rows.len());
    if rows.is_empty() {
        b.push_str("<p class=\"muted\">No runs match.</p>");
    } else {
        // A period or tag every row shares is said once, above the table, so the rows fit a page.
        let period = |r: &Row| format!("{} … {}", r.start, r.end);
        let tag = |r: &Row| r.tag.clone().unwrap_or_default();
        let one_period = rows.iter().all(|r| period(r) == period(&rows[0]));
        let one_tag = rows.iter().all(|r| tag(r) == tag(&rows[0]));
        let mut shared = Vec::new();
        if one_period {
            shared.push(format!("period {}", escape(&period(&rows[0]))));
        }
        if one_tag && !tag(&rows[0]).is_empty() {
            shared.push(format!("tag {}", escape(&tag(&rows[0]))));
        }
        if !shared.is_empty() {
            let _ = write!(b, "<p class=\"sub\">Every run: {}.</p>", shared.join(" · "));
        }
        b.push_str("<table class=\"trades board\"><thead><tr><th class=\"n\">rank</th><th>config</th>");
        if !one_tag {
            b.push_str("<th>tag</th>");
        }
        b.push_str(
            "<th class=\"n\">sharpe</th><th class=\"n\">return</th><th class=\"n\">cagr</th><th class=\"n\">max dd</th>\
             <th class=\"n\">trades</th><th class=\"n\">win</th><th class=\"n\">pf</th>\
             <th class=\"n\" title=\"deflated Sharpe ratio: the probability the Sharpe beats the best of the sweep's tries by luck\">dsr</th><th>gate</th>",
        );
        let shares = rows.iter().any(|r| r.top_pct_share.is_some());
        if shares {
            b.push_str("<th title=\"tested bars at or above their top_pct threshold\">top_pct got</th>");
        }
        if !one_period {
            b.push_str("<th>period</th>");
        }
        b.push_str("<th>run</th><th>verification</th></tr></thead><tbody>\n");
        for r in rows {
            let m = &r.metrics;
            let gate = if r.gate.pass() {
                "<span class=\"pos reason\">pass</span>".to_string()
            } else {
                format!("<span class=\"neg\">{}</span>", escape(&r.gate.reasons_text()))
            };
            let _ = write!(b, "<tr><td class=\"n\">{}</td><td>{}</td>", r.rank, escape(&r.config.to_string()));
            if !one_tag {
                let _ = write!(b, "<td>{}</td>", escape(&tag(r)));
            }
            let _ = write!(
                b,
                "<td class=\"n {}\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{gate}</td>",
                sign_class(m.sharpe),
                num(m.sharpe, 2),
                sign_class(m.total_return),
                pct(m.total_return),
                pct(m.cagr),
                pct(m.max_dd),
                m.trades,
                pct0(m.win_rate),
                m.profit_factor.map_or("∞".to_string(), |x| num(x, 2)),
                num(m.dsr, 2),
            );
            if shares {
                let _ = match r.top_pct_share {
                    Some(s) => write!(b, "<td class=\"nw{}\">{s}</td>", if s.met() { "" } else { " neg" }),
                    None => write!(b, "<td></td>"),
                };
            }
            if !one_period {
                let _ = write!(b, "<td>{}</td>", escape(&period(r)));
            }
            let _ =
                writeln!(b, "<td class=\"mono\">{}</td><td>{}</td></tr>", escape(&r.run_id), escape(status(&r.run_id)));
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>\n");

    let mut reasons: Vec<GateReason> = rows.iter().flat_map(|r| r.gate.reasons().iter().copied()).collect();
    reasons.sort_unstable();
    reasons.dedup();
    if !reasons.is_empty() {
        b.push_str("<section id=\"gate\"><h2>Gate failures and remedies</h2><table><thead><tr><th>reason</th><th class=\"n\">runs</th><th>remedy</th></tr></thead><tbody>\n");
        for reason in reasons {
            let count = rows.iter().filter(|r| r.gate.reasons().contains(&reason)).count();
            let _ = writeln!(
                b,
                "<tr><td class=\"reason\">{}</td><td class=\"n\">{count}</td><td>{}</td></tr>",
                reason.as_str(),
                reason.remedy()
            );
        }
        b.push_str("</tbody></table></section>\n");
    }

    b.push_str("<section id=\"model\"><h2>Model</h2>");
    b.push_str(&model_table(input.model, input.model_id));
    b.push_str("</section>\n");

    if !rows.is_empty() {
        b.push_str(
            "<section id=\"lineage\"><h2>Lineage</h2><table class=\"trades\"><thead><tr><th>run</th><th>matrix_sha</th><th>config_sha</th>\
             <th>policy_sha</th><th>risk_sha</th><th>oof key</th></tr></thead><tbody>\n",
        );
        for r in rows {
            let l = &r.lineage;
            let _ = writeln!(
                b,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{} ({})</td><td class=\"mono\">{}</td></tr>",
                escape(&r.run_id),
                escape(&l.matrix_sha),
                escape(&l.config_sha),
                escape(&l.policy_sha),
                escape(&l.risk_sha),
                l.risk_profile.as_str(),
                escape(&l.oof_key),
            );
        }
        b.push_str("</tbody></table></section>\n");
    }

    b.push_str("<section id=\"definitions\"><h2>Definitions</h2><table class=\"defs\"><tbody>\n");
    for (key, def) in DEFINITIONS {
        let _ = writeln!(b, "<tr><td><code>{key}</code></td><td>{}</td></tr>", escape(def));
    }
    b.push_str("</tbody></table></section>\n");

    b.push_str(&footer(input.provenance));
    page(&format!("BTB report · leaderboard · {}", input.model_id), &b)
}

fn scatter_svg(rows: &[Row]) -> String {
    let (w, h, left, right, top, bot) = (960.0, 300.0, 48.0, 14.0, 24.0, 260.0);
    let xs: Vec<f64> = rows.iter().map(|r| r.metrics.max_dd).filter(|v| v.is_finite()).collect();
    let ys: Vec<f64> = rows.iter().map(|r| r.metrics.sharpe).filter(|v| v.is_finite()).collect();
    let range = |v: &[f64], zero: bool| {
        let mut lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let mut hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (-1.0, 1.0);
        }
        if zero {
            (lo, hi) = (lo.min(0.0), hi.max(0.0));
        }
        if hi - lo < 1e-9 {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        let pad = (hi - lo) * 0.06;
        (lo - pad, hi + pad)
    };
    let (xlo, xhi) = range(&xs, true);
    let (ylo, yhi) = range(&ys, true);
    let px = |v: f64| left + (w - left - right) * (v - xlo) / (xhi - xlo);
    let py = |v: f64| bot - (bot - top) * (v - ylo) / (yhi - ylo);
    let mut s = format!("<figure><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Sharpe against drawdown\">");
    for t in ticks(ylo, yhi, 5) {
        let y = py(t);
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            if t == 0.0 { "#9aa3b2" } else { "#e6e9ef" },
            left - 6.0,
            y + 4.0,
            num(t, 1)
        );
    }
    for t in ticks(xlo, xhi, 8) {
        let x = px(t);
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{bot}\" stroke=\"#f0f2f6\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bot + 16.0,
            pct0(t)
        );
    }
    let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">max drawdown →</text>", w - right, h - 2.0);
    let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\">↑ sharpe</text>", 4.0, top - 10.0);
    // Worst first, so the best ranks are drawn on top.
    for r in rows.iter().rev() {
        let (x, y) = (r.metrics.max_dd, r.metrics.sharpe);
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let fill = if r.gate.pass() { "#3d9a62" } else { "#cf5a50" };
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{fill}\" fill-opacity=\"0.85\" stroke=\"#fff\"><title>#{} {}: sharpe {}, max dd {}</title></circle>",
            px(x),
            py(y),
            r.rank,
            escape(&r.config.to_string()),
            num(y, 2),
            pct(x)
        );
        if r.rank <= 10 {
            let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>", px(x) + 7.0, py(y) - 5.0, r.rank);
        }
    }
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#c9ced8\"/></svg></figure>",
        w - left - right,
        bot - top
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::{ExitReason, Trade};

    use crate::leaderboard::rank;

    use crate::risk::RiskProfile;
    use crate::run::{Run, TradeRow};

    const HOSTILE: &str = "<img src=x onerror=alert(1)>";

    fn run(id: &str, model: &str, tag: Option<&str>, sharpe: f64, pass: bool) -> Run {
        Run {
            ticker: HOSTILE.into(),
            tag: tag.map(Into::into),
            start: "2020-01-02".into(),
            end: "2021-12-31".into(),
            metrics: Metrics { sharpe, max_dd: -0.12, trades: 40, ..Metrics::default() },
            gate: Gate::from_reasons(if pass { vec![] } else { vec![GateReason::MinTradesNotMet] }),
            lineage: Lineage {
                matrix_sha: "m".repeat(64),
                config_sha: "c".repeat(64),
                policy_sha: "p".repeat(64),
                risk_sha: "r".repeat(64),
                risk_profile: RiskProfile::Balanced,
                oof_key: "o".repeat(64),
            },
            ..crate::run::sample_run(id, model)
        }
    }

    /// Two years of daily-ish bars with a deep dip in the middle, and a few trades.
    fn report(model: &str, tag: Option<&str>) -> BacktestReport {
        let mut equity = Vec::new();
        let mut e = 1.0f64;
        let mut peak = 1.0f64;
        for i in 0..600usize {
            let month = 1 + (i / 25) % 12;
            let year = 2020 + i / 300;
            let day = 1 + i % 25;
            let step = if (280..300).contains(&i) { -0.01 } else { 0.001 * (((i * 7) % 5) as f64 - 1.5) };
            e *= 1.0 + step;
            peak = peak.max(e);
            equity.push(EquityPoint {
                time: format!("{year}-{month:02}-{day:02}"),
                equity: e,
                drawdown: e / peak - 1.0,
                hold: 1.0 + 0.0005 * i as f64,
            });
        }
        let trades = (0..12)
            .map(|k| TradeRow {
                entry_time: format!("2020-{:02}-03", 1 + k % 12),
                exit_time: format!("2020-{:02}-09", 1 + k % 12),
                trade: Trade {
                    entry_ts: 0,
                    exit_ts: 0,
                    entry_row: k,
                    exit_row: k + 3,
                    entry_price: 100.0,
                    exit_price: 101.0,
                    size: 0.05,
                    side: Side::Long,
                    pnl: 0.001 * (k as f64 - 5.0),
                    ret: 0.01 * (k as f64 - 5.0),
                    bars_held: 3,
                    prob: 0.61,
                    exit_reason: ExitReason::Signal,
                },
            })
            .collect();
        let mut r = run("abcdef0123456789", model, tag, 1.1, false);
        // as metrics::from_equity defines it: last over first equity
        r.metrics.total_return = e / equity[0].equity - 1.0;
        r.metrics.bars = equity.len();
        BacktestReport { run: r, equity, trades, buy_and_hold: Metrics::default() }
    }

    fn prov() -> Provenance {
        Provenance { producer: "btb 0.1.0".into(), created: "2026-12-01T00:00:00Z".into(), bundle: None }
    }

    fn run_page(model: &str, tag: Option<&str>) -> String {
        let rep = report(model, tag);
        run_html(&RunReportInput { report: &rep, model: None, status: DEFAULT_STATUS, provenance: &prov() })
    }

    fn board_page(model: &str, tag: Option<&str>) -> String {
        let runs = vec![run("a1", model, tag, 1.4, true), run("b2", model, tag, 0.3, false)];
        let q = Query { model_id: Some(model.into()), ..Query::default() };
        let rows = rank(&runs, &q);
        let mut statuses = BTreeMap::new();
        statuses.insert("b2".to_string(), "unverifiable: no data".to_string());
        leaderboard_html(&LeaderboardReportInput {
            model_id: model,
            model: None,
            query: &q,
            rows: &rows,
            statuses: &statuses,
            provenance: &prov(),
        })
    }

    /// No tag, attribute or rule that could make a browser fetch anything. Escaped data never
    /// holds a raw `<`, so the spans from `<` to `>` are exactly the markup.
    fn assert_offline(html: &str) {
        let lower = html.to_ascii_lowercase();
        for tag in lower.split('<').skip(1).filter_map(|t| t.split('>').next()) {
            for bad in ["src=", "href=", "srcset=", "action=", "poster=", "data="] {
                assert!(!tag.contains(bad), "`{bad}` in <{tag}>");
            }
            let name = tag.split([' ', '/']).next().unwrap_or_default();
            assert!(
                !["script", "link", "iframe", "object", "embed", "img", "image", "use", "base"].contains(&name),
                "<{name}>"
            );
            assert!(!tag.split(' ').any(|a| a.starts_with("on")), "an event handler in <{tag}>");
        }
        for bad in ["@import", "url(", "@font-face", "fetch("] {
            assert!(!lower.contains(bad), "`{bad}` in the report");
        }
        // Inline SVG in HTML needs no namespace, so no URL appears; the one `http` is the
        // Content-Security-Policy's `http-equiv`, which forbids every request.
        assert_eq!(lower.matches("http").count(), 1, "a URL in the report");
        assert!(lower.contains(
            "<meta http-equiv=\"content-security-policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        ));
    }

    #[test]
    fn tick_labels_tell_ticks_apart() {
        assert_eq!(tick_decimals(0.001), 3);
        assert_eq!(tick_decimals(0.5), 1);
        assert_eq!(tick_decimals(20.0), 0);
        assert_eq!(tick_decimals(0.25), 2);
    }

    #[test]
    fn same_records_same_bytes_and_offline() {
        let a = run_page("spy_swing_daily", Some("t"));
        assert_eq!(a, run_page("spy_swing_daily", Some("t")));
        assert_offline(&a);
        for id in ["equity", "monthly", "distribution", "metrics", "gate", "trades", "lineage", "model"] {
            assert!(a.contains(&format!("id=\"{id}\"")), "section {id}");
        }
        assert!(a.contains("computed here") && a.contains("btb 0.1.0") && a.contains("2026-12-01T00:00:00Z"));
        assert!(a.contains("Lower threshold or extend period"), "the failed reason's remedy");
        assert!(a.contains("@media print"));
        let b = board_page("spy_swing_daily", None);
        assert_eq!(b, board_page("spy_swing_daily", None));
        assert_offline(&b);
        assert!(b.contains("unverifiable: no data") && b.contains("computed here"));
    }

    #[test]
    fn hostile_names_are_text() {
        for page in [run_page(HOSTILE, Some(HOSTILE)), board_page(HOSTILE, Some(HOSTILE))] {
            assert!(!page.contains("<img"), "markup from data must not survive");
            assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
            assert_offline(&page);
        }
        assert_eq!(escape("a&b\"'"), "a&amp;b&quot;&#39;");
    }

    #[test]
    fn decimation_keeps_the_extremes() {
        let n = 100_000;
        let mut v: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 1000.0 - 0.05).collect();
        v[54_321] = -0.73; // a one-bar crash, the deepest point
        v[77_777] = 0.9;
        let keep = decimate(&v, 900);
        assert!(keep.len() <= 2 * 900 + 2);
        assert!(keep.windows(2).all(|w| w[0] < w[1]), "in order, no repeats");
        assert!(keep.contains(&54_321) && keep.contains(&77_777));
        assert_eq!((keep[0], *keep.last().unwrap()), (0, n - 1));
        let kept_min = keep.iter().map(|&i| v[i]).fold(f64::INFINITY, f64::min);
        assert_eq!(kept_min, -0.73);
        // few points: all of them
        assert_eq!(decimate(&[1.0, 2.0, 3.0], 900), vec![0, 1, 2]);
        assert!(decimate(&[], 10).is_empty());
    }

    #[test]
    fn months_compound_to_the_total() {
        let rep = report("m", None);
        let years = monthly_returns(&rep.equity);
        assert_eq!(years.iter().map(|y| y.year.as_str()).collect::<Vec<_>>(), ["2020", "2021"]);
        let months = years.iter().flat_map(|y| y.months.iter().flatten()).count();
        assert_eq!(months, 24);
        let compounded = years.iter().fold(1.0, |a, y| a * (1.0 + y.total)) - 1.0;
        assert!(
            (compounded - rep.run.metrics.total_return).abs() < 1e-9,
            "{compounded} vs {}",
            rep.run.metrics.total_return
        );
        let by_month = years.iter().flat_map(|y| y.months.iter().flatten()).fold(1.0, |a, r| a * (1.0 + r)) - 1.0;
        assert!((by_month - rep.run.metrics.total_return).abs() < 1e-9);
        assert!(monthly_returns(&[]).is_empty());
    }

    #[test]
    fn histogram_counts_every_trade() {
        let v = [-0.05, -0.01, 0.0, 0.02, 0.02, 0.07, f64::NAN];
        let h = histogram(&v, 10).unwrap();
        assert_eq!(h.counts.iter().sum::<usize>(), 6);
        assert!(h.lo <= -0.05 && h.lo + h.step * h.counts.len() as f64 > 0.07);
        assert!(histogram(&[], 10).is_none());
        let one = histogram(&[0.03], 10).unwrap();
        assert_eq!(one.counts.iter().sum::<usize>(), 1);
        assert_eq!(nice_step(0.013), 0.02);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(10.0), 10.0);
    }
}
