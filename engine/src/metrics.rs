//! Performance metrics from an equity series (one value per bar, starting at 1.0) and a trade
//! list. Definitions follow quantstats (checked against it in `tests/backtest/cross_check.py`):
//!
//! Let `e_0 … e_{N−1}` be the equity, `r_i = e_i / e_{i−1} − 1` the `n = N − 1` per-bar returns
//! (flat bars included, as 0), `B` the bars per year of the data's cadence. Risk-free rate 0.
//!
//! | field | definition | degenerate case |
//! |---|---|---|
//! | `return` | `e_{N−1} / e_0 − 1` | 0 when `N < 2` |
//! | `cagr` | `(e_{N−1} / e_0)^(1 / years) − 1`, `years = n / B` (quantstats ≥ 0.0.6x: count / periods) | 0 when `n = 0` or the equity ends below 0 |
//! | `volatility` | `std(r) · √B`, **sample** std (ddof = 1), as quantstats/pandas | 0 when `n < 2` |
//! | `sharpe` | `mean(r) / std(r) · √B`, sample std (ddof = 1), as quantstats | 0 when std is 0 |
//! | `sortino` | `mean(r) / √(Σ_{r_i<0} r_i² / n) · √B` (quantstats' downside deviation) | 0 when no losing bar |
//! | `max_dd` | `min_t (e_t / max_{s≤t} e_s − 1)`, a fraction ≤ 0 (`-0.08`) | 0 |
//! | `max_dd_bars` | longest run of consecutive bars with `e_t` below its running maximum | 0 |
//! | `calmar` | `cagr / |max_dd|` | 0 when `max_dd = 0` |
//! | `trades` | closed trades | |
//! | `win_rate` | fraction of trades with `pnl > 0` | 0 without trades |
//! | `profit_factor` | `Σ pnl⁺ / |Σ pnl⁻|` | `null` when no losing trade |
//! | `avg_trade`, `best_trade`, `worst_trade` | mean, max, min of the trades' `ret` | 0 without trades |
//! | `avg_bars_held` | mean of the trades' `bars_held` | 0 without trades |
//! | `exposure` | fraction of the `n` bar intervals spent holding a position | 0 when `n = 0` |
//! | `skew`, `kurtosis` | `m₃ / m₂^1.5`, `m₄ / m₂²` of the returns (central moments, biased; Pearson's kurtosis, 3 if normal) | 0 when the returns do not vary |
//! | `psr` | `PSR(0)`: the probability the true Sharpe exceeds 0, given `n`, skew and kurtosis ([`crate::significance`]) | 0 when not defined |
//! | `dsr` | `PSR(SR₀)`: the same against the best of the sweep's tries by luck ([`crate::significance::Trials`]); `psr` for one try | as `psr` |
//!
//! Degenerate values are 0 rather than infinities or `NaN`, so a metric always serialises as a
//! number and compares sanely on the leaderboard; the gate fails such runs on other grounds
//! (no trades, no return).
//!
//! Sums over the returns run in four interleaved lanes in a fixed order (fast and deterministic;
//! they agree with numpy/quantstats to ~1e-15), and a bar whose equity did not change has a return
//! of exactly 0 ([`bar_return`]).

use serde::{Deserialize, Serialize};

use crate::backtest::Trade;

/// Each field's definition, as the table above gives it, for output that shows a metric beside
/// what it means (the HTML report). Kept here, next to the table, so the two change together.
pub const DEFINITIONS: &[(&str, &str)] = &[
    ("sharpe", "mean(r) / std(r) · √B, sample std (ddof = 1), risk-free rate 0; 0 when std is 0"),
    ("sortino", "mean(r) / √(Σ_{r<0} r² / n) · √B (downside deviation over all n bars); 0 without a losing bar"),
    ("calmar", "cagr / |max_dd|; 0 without a drawdown"),
    ("return", "e_last / e_first − 1"),
    ("cagr", "(e_last / e_first)^(1 / years) − 1, years = n / B"),
    ("volatility", "std(r) · √B, sample std (ddof = 1)"),
    ("max_dd", "min over t of e_t / max_{s≤t} e_s − 1 (a fraction ≤ 0)"),
    ("max_dd_bars", "longest run of consecutive bars below the running maximum"),
    ("trades", "closed trades"),
    ("win_rate", "fraction of trades with pnl > 0"),
    ("profit_factor", "Σ pnl⁺ / |Σ pnl⁻|; none (∞) without a losing trade"),
    ("avg_trade", "mean of the trades' returns"),
    ("best_trade", "largest trade return"),
    ("worst_trade", "smallest trade return"),
    ("avg_bars_held", "mean bars a trade was held"),
    ("exposure", "fraction of the n bar intervals spent holding a position"),
    ("skew", "m₃ / m₂^1.5 of the returns (central moments)"),
    ("kurtosis", "m₄ / m₂² of the returns (Pearson's; 3 for a normal distribution)"),
    ("psr", "probabilistic Sharpe ratio: Φ(SR √(n − 1) / √(1 − skew·SR + (kurtosis − 1)/4·SR²)), SR per bar; P(true Sharpe > 0)"),
    ("dsr", "deflated Sharpe ratio: the psr against SR₀, the per-bar Sharpe the best of the sweep's N configs reaches by luck (Bailey & López de Prado 2014)"),
    ("bars", "bars in the equity series (N); r_i = e_i / e_{i−1} − 1 over n = N − 1 intervals, B = bars per year"),
];

/// How `B` (bars per year) follows the cadence ([`crate::run::bars_per_year`]), for output that
/// explains an annualised metric.
pub const ANNUALISATION: &str =
    "B = bars per year of the model's cadence: 252 for daily bars, 52 weekly, 12 monthly; intraday 252 × the bars of a session";

/// `name`'s definition from [`DEFINITIONS`], with [`ANNUALISATION`] when it is annualised.
pub fn definition(name: &str) -> Option<String> {
    let (_, d) = DEFINITIONS.iter().find(|(n, _)| *n == name)?;
    Some(if d.contains("√B") || d.contains("/ B") { format!("{d}; {ANNUALISATION}") } else { (*d).to_string() })
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub sharpe: f64,
    #[serde(rename = "return")]
    pub total_return: f64,
    pub trades: usize,
    pub max_dd: f64,
    pub max_dd_bars: usize,
    pub cagr: f64,
    pub volatility: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub win_rate: f64,
    pub profit_factor: Option<f64>,
    pub avg_trade: f64,
    pub best_trade: f64,
    pub worst_trade: f64,
    pub avg_bars_held: f64,
    pub exposure: f64,
    /// Bars in the equity series (`N`).
    pub bars: usize,
    #[serde(default)]
    pub skew: f64,
    #[serde(default)]
    pub kurtosis: f64,
    #[serde(default)]
    pub psr: f64,
    #[serde(default)]
    pub dsr: f64,
}

impl Metrics {
    /// The Sharpe per bar (`sharpe / √B`), what [`crate::significance`] weighs.
    pub fn sharpe_per_bar(&self, bars_per_year: f64) -> f64 {
        if bars_per_year.is_finite() && bars_per_year > 0.0 {
            self.sharpe / bars_per_year.sqrt()
        } else {
            0.0
        }
    }

    /// `PSR(sr_star)` of these returns ([`crate::significance::psr`]): `psr` is against 0,
    /// `dsr` against the best of the tries by luck.
    fn psr_against(&self, bars_per_year: f64, sr_star: f64) -> f64 {
        let n = self.bars.saturating_sub(1);
        crate::significance::psr(self.sharpe_per_bar(bars_per_year), n, self.skew, self.kurtosis, sr_star)
    }

    /// Sets `dsr` for a run picked among `trials` (until then it is `psr`: one try).
    pub fn deflate(&mut self, trials: crate::significance::Trials, bars_per_year: f64) {
        self.dsr = self.psr_against(bars_per_year, trials.expected_max_sharpe());
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// `cur / prev − 1`, exactly 0 when the equity did not change (the same value the division
/// gives for any finite non-zero equity, without dividing).
#[inline(always)]
pub fn bar_return(prev: f64, cur: f64) -> f64 {
    if cur == prev && prev != 0.0 {
        0.0
    } else {
        cur / prev - 1.0
    }
}

/// `Σ f(x)` accumulated in four lanes (`x[0], x[4], …` in lane 0, and so on), then
/// `(l0 + l1) + (l2 + l3)`, then the tail in order.
#[inline(always)]
fn lane_sum(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut l = [0.0f64; 4];
    let chunks = x.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        l[0] += f(c[0]);
        l[1] += f(c[1]);
        l[2] += f(c[2]);
        l[3] += f(c[3]);
    }
    let mut s = (l[0] + l[1]) + (l[2] + l[3]);
    for &v in tail {
        s += f(v);
    }
    s
}

/// The return-based fields only (everything but the trade statistics and exposure).
pub fn from_equity(equity: &[f64], bars_per_year: f64) -> Metrics {
    let mut m = Metrics { bars: equity.len(), ..Metrics::default() };
    let n = equity.len().saturating_sub(1);
    if n == 0 {
        return m;
    }
    let bpy = if bars_per_year.is_finite() && bars_per_year > 0.0 { bars_per_year } else { 0.0 };
    let first = equity[0];
    let last = equity[n];
    let growth = last / first;
    m.total_return = finite_or_zero(growth - 1.0);

    // Per-bar returns (kept for the second pass) and their sum; then squared deviations and
    // downside squares. Sums run in four interleaved lanes (fixed order, so deterministic).
    let mut rets = Vec::with_capacity(n);
    rets.extend(equity.windows(2).map(|w| bar_return(w[0], w[1])));
    let mean = lane_sum(&rets, |r| r) / n as f64;
    let ss = lane_sum(&rets, |r| (r - mean) * (r - mean));
    let down = lane_sum(&rets, |r| if r < 0.0 { r * r } else { 0.0 });
    let root_b = bpy.sqrt();
    if n >= 2 {
        let std = (ss / (n - 1) as f64).sqrt();
        m.volatility = finite_or_zero(std * root_b);
        if std > 0.0 {
            m.sharpe = finite_or_zero(mean / std * root_b);
        }
    }
    let m2 = ss / n as f64;
    if m2 > 0.0 {
        let m3 = lane_sum(&rets, |r| (r - mean) * (r - mean) * (r - mean)) / n as f64;
        let m4 = lane_sum(&rets, |r| {
            let d2 = (r - mean) * (r - mean);
            d2 * d2
        }) / n as f64;
        m.skew = finite_or_zero(m3 / (m2 * m2.sqrt()));
        m.kurtosis = finite_or_zero(m4 / (m2 * m2));
    }
    m.psr = m.psr_against(bpy, 0.0);
    m.dsr = m.psr;
    let dd = (down / n as f64).sqrt();
    if dd > 0.0 {
        m.sortino = finite_or_zero(mean / dd * root_b);
    }
    if bpy > 0.0 {
        let years = n as f64 / bpy;
        if growth >= 0.0 {
            m.cagr = finite_or_zero(growth.powf(1.0 / years) - 1.0);
        }
    }

    let mut peak = f64::NAN;
    let mut trough = f64::INFINITY;
    let mut max_dd: f64 = 0.0;
    let (mut run, mut longest) = (0usize, 0usize);
    for &e in equity {
        if e >= peak || peak.is_nan() {
            if trough < peak {
                max_dd = max_dd.min(trough / peak - 1.0);
            }
            peak = e;
            trough = f64::INFINITY;
            run = 0;
        } else {
            run += 1;
            longest = longest.max(run);
            trough = trough.min(e);
        }
    }
    if trough < peak {
        max_dd = max_dd.min(trough / peak - 1.0);
    }
    m.max_dd = finite_or_zero(max_dd);
    m.max_dd_bars = longest;
    if m.max_dd < 0.0 {
        m.calmar = finite_or_zero(m.cagr / m.max_dd.abs());
    }
    m
}

/// `e_t / max_{s≤t} e_s − 1` per bar (≤ 0): the drawdown curve whose minimum is `max_dd`.
pub fn drawdown_series(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            if peak > 0.0 {
                e / peak - 1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// All metrics: [`from_equity`] plus trade statistics and `exposure`, where `bars_in_position`
/// counts the bar intervals (of `equity.len() − 1`) during which a position was held.
pub fn compute(equity: &[f64], trades: &[Trade], bars_in_position: usize, bars_per_year: f64) -> Metrics {
    let mut m = from_equity(equity, bars_per_year);
    let n = equity.len().saturating_sub(1);
    if n > 0 {
        m.exposure = (bars_in_position.min(n)) as f64 / n as f64;
    }
    m.trades = trades.len();
    if trades.is_empty() {
        return m;
    }
    let (mut wins, mut gp, mut gl, mut sr, mut held) = (0usize, 0.0, 0.0, 0.0, 0usize);
    let (mut best, mut worst) = (f64::NEG_INFINITY, f64::INFINITY);
    for t in trades {
        if t.pnl > 0.0 {
            wins += 1;
            gp += t.pnl;
        } else if t.pnl < 0.0 {
            gl -= t.pnl;
        }
        sr += t.ret;
        best = best.max(t.ret);
        worst = worst.min(t.ret);
        held += t.bars_held;
    }
    let k = trades.len() as f64;
    m.win_rate = wins as f64 / k;
    m.profit_factor = if gl > 0.0 { Some(gp / gl) } else { None };
    m.avg_trade = finite_or_zero(sr / k);
    m.best_trade = finite_or_zero(best);
    m.worst_trade = finite_or_zero(worst);
    m.avg_bars_held = held as f64 / k;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annualised_definitions_say_how() {
        assert!(definition("sharpe").unwrap().contains("252 for daily bars"));
        assert!(definition("cagr").unwrap().contains("252 for daily bars"));
        assert!(!definition("max_dd").unwrap().contains("252"), "a drawdown is not annualised");
        assert!(!definition("dsr").unwrap().contains("252"));
        assert_eq!(definition("nope"), None);
    }
    use crate::backtest::Side;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn hand_computed_equity_metrics() {
        // returns: +10%, -10%, +20%  -> equity 1, 1.1, 0.99, 1.188
        let e = [1.0, 1.1, 0.99, 1.188];
        let m = from_equity(&e, 3.0);
        assert!(close(m.total_return, 0.188));
        let r = [0.1, -0.1, 0.2];
        let mean = 0.2 / 3.0;
        let var = r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 2.0;
        assert!(close(m.sharpe, mean / var.sqrt() * 3f64.sqrt()));
        assert!(close(m.volatility, var.sqrt() * 3f64.sqrt()));
        assert!(close(m.sortino, mean / (0.01f64 / 3.0).sqrt() * 3f64.sqrt()));
        // years = 3 / 3 = 1
        assert!(close(m.cagr, 0.188));
        assert!(close(m.max_dd, -0.1));
        assert_eq!(m.max_dd_bars, 1);
        assert!(close(m.calmar, 1.88));
        assert_eq!(m.bars, 4);
    }

    #[test]
    fn drawdown_duration_and_unrecovered() {
        let e = [1.0, 1.2, 1.0, 0.9, 1.1, 1.3, 1.2];
        let m = from_equity(&e, 252.0);
        assert!(close(m.max_dd, 0.9 / 1.2 - 1.0));
        assert_eq!(m.max_dd_bars, 3);
    }

    #[test]
    fn drawdown_curve_matches_max_dd() {
        let e = [1.0, 1.1, 0.99, 1.05, 1.2, 1.08];
        let d = drawdown_series(&e);
        assert_eq!(d[0], 0.0);
        assert!(close(d[2], 0.99 / 1.1 - 1.0));
        assert_eq!(d[4], 0.0);
        let m = from_equity(&e, 252.0);
        assert_eq!(d.iter().cloned().fold(0.0, f64::min), m.max_dd);
    }

    #[test]
    fn degenerate_series() {
        let m = from_equity(&[], 252.0);
        assert_eq!(m, Metrics::default());
        let m = from_equity(&[1.0; 10], 252.0);
        assert_eq!((m.sharpe, m.sortino, m.calmar, m.max_dd, m.total_return), (0.0, 0.0, 0.0, 0.0, 0.0));
        let m = from_equity(&[1.0, 1.1], 0.0);
        assert_eq!(m.cagr, 0.0);
        assert!(close(m.total_return, 0.1));
        let j = serde_json::to_value(from_equity(&[1.0, 1.1], 252.0)).unwrap();
        assert!(j.get("return").is_some() && j.get("max_dd").is_some() && j.get("sharpe").is_some());
    }

    #[test]
    fn trade_statistics() {
        let t = |pnl: f64, ret: f64, bars: usize| Trade {
            entry_ts: 0,
            exit_ts: 0,
            entry_row: 0,
            exit_row: 0,
            entry_price: 1.0,
            exit_price: 1.0,
            size: 0.05,
            side: Side::Long,
            pnl,
            ret,
            bars_held: bars,
            prob: 0.6,
            exit_reason: crate::backtest::ExitReason::Signal,
        };
        let trades = [t(0.02, 0.02, 2), t(-0.01, -0.01, 4), t(0.03, 0.03, 3)];
        let m = compute(&[1.0, 1.0, 1.0, 1.0, 1.0], &trades, 3, 252.0);
        assert_eq!(m.trades, 3);
        assert!(close(m.win_rate, 2.0 / 3.0));
        assert!(close(m.profit_factor.unwrap(), 5.0));
        assert!(close(m.avg_trade, 0.04 / 3.0));
        assert_eq!((m.best_trade, m.worst_trade), (0.03, -0.01));
        assert!(close(m.avg_bars_held, 3.0));
        assert!(close(m.exposure, 0.75));
        let m = compute(&[1.0, 1.0], &trades[..1], 1, 252.0);
        assert_eq!(m.profit_factor, None);
    }
}
