//! The backtest: a [`Policy`] applied bar by bar to a model's probabilities. The rule itself is
//! documented in [`crate::policy`]; this module documents the accounting.
//!
//! # Accounting
//!
//! - Positions are signed fractions of current equity (`+0.05` = long 5% of equity), held as a
//!   constant fraction between changes (returns compound as `1 + position × price return`).
//! - A decision on bar `t`'s close executes at `next_open[t]`. Equity at bar `t + 1`'s close is
//!   `e_t × (1 + p_old × (next_open_t / close_t − 1)) × (1 − c × |p_new − p_old|)
//!   × (1 + p_new × (close_{t+1} / next_open_t − 1))`, with `c = (commission_bps +
//!   slippage_bps) / 10⁴`. Without a change the bar's return is `p × (close_{t+1}/close_t − 1)`.
//! - Nothing executes on a bar without a following row or with a missing/non-positive price;
//!   a position still open after the last bar is closed at the last close (paying the exit
//!   cost, included in the last equity value).
//! - A trade runs from an entry (flat → position, or a reversal) to the exit (→ flat, or the
//!   reversal); scaling in and out along the ladder stays within one trade. `entry_ts`/`exit_ts`
//!   and `entry_row`/`exit_row` are those of the **decision** bars (the fills are at those bars'
//!   `next_open`, recorded as `entry_price`/`exit_price`); `bars_held = exit_row − entry_row`.
//!   `size` is the largest absolute position of the trade; `pnl` is the change of equity over the
//!   trade (equity starts at 1.0, costs included) and `ret = pnl / equity before the entry`.
//!
//! [`run`] allocates the equity vector once and the trade list as it grows; the per-bar loop
//! allocates nothing.

use serde::{Deserialize, Serialize};

use crate::matrix::Matrix;
use crate::metrics::{self, Metrics};
use crate::policy::{Policy, PolicyError, PolicyKind};
use crate::risk::RiskParams;

/// Version of the policy rule and the accounting; part of every `run_id`, so a run stored by an
/// older engine is never mistaken for one this engine would compute. Bump it whenever a
/// backtest's numbers change. 3: `top_pct` thresholds learnt from honest predictions
/// ([`crate::oof`]), where 2 took them from each fold's training rows.
pub const BACKTEST_CODE_VERSION: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Long,
    Short,
}

impl Side {
    /// `long` / `short`, as the side serialises.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }

    fn sign(self) -> i32 {
        match self {
            Side::Long => 1,
            Side::Short => -1,
        }
    }
}

/// Why a trade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The signal level on the trade's side fell to 0 (or a filter stopped a reversal).
    Signal,
    /// A signal on the other side: exited and reversed at the same open.
    Reversal,
    /// `hold_bars` bars in the trade.
    Time,
    Stop,
    Target,
    SessionEnd,
    /// Still open on the last bar: closed at the last close for the accounting. A live
    /// position, as far as signals are concerned.
    EndOfData,
}

impl ExitReason {
    pub const ALL: [ExitReason; 7] = [
        ExitReason::Signal,
        ExitReason::Reversal,
        ExitReason::Time,
        ExitReason::Stop,
        ExitReason::Target,
        ExitReason::SessionEnd,
        ExitReason::EndOfData,
    ];

    /// The serialised name (`signal`, `end_of_data`, …), for text output.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::Reversal => "reversal",
            ExitReason::Time => "time",
            ExitReason::Stop => "stop",
            ExitReason::Target => "target",
            ExitReason::SessionEnd => "session_end",
            ExitReason::EndOfData => "end_of_data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub entry_ts: i64,
    pub exit_ts: i64,
    pub entry_row: usize,
    pub exit_row: usize,
    pub entry_price: f64,
    pub exit_price: f64,
    pub size: f64,
    pub side: Side,
    pub pnl: f64,
    pub ret: f64,
    pub bars_held: usize,
    /// Probability on the entry's decision bar.
    pub prob: f64,
    pub exit_reason: ExitReason,
}

/// Columns for one backtest, one value per row, in time order. Optional columns may be `None`
/// when the policy does not use them.
#[derive(Debug, Clone, Copy)]
pub struct BacktestInputs<'a> {
    /// Bar open time, epoch ms (only reported in trades).
    pub ts: &'a [i64],
    pub close: &'a [f64],
    /// Open of the next bar, where a decision on this row executes; `NaN` when unknown.
    pub next_open: &'a [f64],
    /// Local hour 0..23 (needed for `allowed_hours`).
    pub hour: Option<&'a [f64]>,
    /// Momentum column (needed for `momentum_min`).
    pub momentum: Option<&'a [f64]>,
    /// Model probability per row (out-of-fold); `NaN` = no signal.
    pub prob: &'a [f64],
    /// Per-row threshold for `top_pct` (see [`crate::oof::Oof::top_pct_thresholds`]).
    pub threshold: Option<&'a [f64]>,
    /// ATR per row (needed for `atr_stop` / `atr_target`).
    pub atr: Option<&'a [f64]>,
    /// `true` on the last bar of a session (needed for `flat_at_session_end`).
    pub session_end: Option<&'a [bool]>,
}

impl<'a> BacktestInputs<'a> {
    /// The columns every backtest needs; every optional one unset.
    pub fn new(ts: &'a [i64], close: &'a [f64], next_open: &'a [f64], prob: &'a [f64]) -> Self {
        BacktestInputs {
            ts,
            close,
            next_open,
            hour: None,
            momentum: None,
            prob,
            threshold: None,
            atr: None,
            session_end: None,
        }
    }

    /// The matrix's columns over `rows`, with `prob` (one value per matrix row) over the same
    /// rows; threshold, ATR and session ends unset.
    pub fn from_matrix(m: &'a Matrix, rows: std::ops::Range<usize>, prob: &'a [f64]) -> Self {
        BacktestInputs {
            ts: &m.ts[rows.clone()],
            close: &m.close[rows.clone()],
            next_open: &m.next_open[rows.clone()],
            hour: Some(&m.hour[rows.clone()]),
            momentum: Some(&m.momentum_score_total[rows.clone()]),
            prob: &prob[rows],
            threshold: None,
            atr: None,
            session_end: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    pub equity: Vec<f64>,
    pub trades: Vec<Trade>,
    pub metrics: Metrics,
    /// A change of position decided on the last bar, which has no next open to fill at: the
    /// order a live trader would place now.
    #[serde(default)]
    pub pending: Option<Pending>,
}

/// See [`BacktestResult::pending`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub row: usize,
    pub ts: i64,
    /// Position (signed fraction of equity) held, and the one the policy wants.
    pub from: f64,
    pub to: f64,
    pub prob: f64,
    /// Set when the change closes the position for a reason other than the signal.
    pub exit_reason: Option<ExitReason>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("column `{column}` has {got} values for {expected} rows")]
    LengthMismatch { column: &'static str, got: usize, expected: usize },
    #[error("the policy uses `{needs}` but no `{column}` column was given")]
    MissingColumn { column: &'static str, needs: &'static str },
    #[error("position size must be in (0, 1], got {0}")]
    BadPositionSize(f64),
}

struct Open {
    side: Side,
    row: usize,
    price: f64,
    eq_before: f64,
    size: f64,
    prob: f64,
    stop: f64,
    target: f64,
}

/// Validated, resolved columns and parameters (everything the loop reads).
struct Prepared<'a> {
    inp: BacktestInputs<'a>,
    n: usize,
    ladder: &'a [f64],
    rungs: f64,
    top_pct: bool,
    hour_mask: Option<u32>,
    momentum_min: Option<f64>,
    cost: f64,
    size: f64,
}

fn prepare<'a>(policy: &'a Policy, inp: &BacktestInputs<'a>, risk: &RiskParams) -> Result<Prepared<'a>, BacktestError> {
    policy.validate()?;
    let size = risk.position_size;
    if !(size > 0.0 && size <= 1.0) {
        return Err(BacktestError::BadPositionSize(size));
    }
    let n = inp.close.len();
    let check = |column: &'static str, got: usize| {
        if got == n {
            Ok(())
        } else {
            Err(BacktestError::LengthMismatch { column, got, expected: n })
        }
    };
    check("ts", inp.ts.len())?;
    check("next_open", inp.next_open.len())?;
    check("prob", inp.prob.len())?;
    let need = |col: Option<usize>, column: &'static str, needs: &'static str| match col {
        Some(len) => check(column, len),
        None => Err(BacktestError::MissingColumn { column, needs }),
    };
    if policy.allowed_hours.is_some() {
        need(inp.hour.map(|c| c.len()), "hour", "allowed_hours")?;
    }
    if policy.momentum_min.is_some() {
        need(inp.momentum.map(|c| c.len()), "momentum", "momentum_min")?;
    }
    if policy.uses_atr() {
        need(inp.atr.map(|c| c.len()), "atr", "atr_stop/atr_target")?;
    }
    if policy.flat_at_session_end {
        need(inp.session_end.map(|c| c.len()), "session_end", "flat_at_session_end")?;
    }
    let (ladder, top_pct): (&[f64], bool) = match &policy.kind {
        PolicyKind::Thr { ladder } => (ladder, false),
        PolicyKind::TopPct { .. } => {
            need(inp.threshold.map(|c| c.len()), "threshold", "top_pct")?;
            (&[], true)
        }
    };
    Ok(Prepared {
        inp: *inp,
        n,
        ladder,
        rungs: if top_pct { 1.0 } else { ladder.len() as f64 },
        top_pct,
        hour_mask: policy.allowed_hours.as_ref().map(|_| policy.hour_mask()),
        momentum_min: policy.momentum_min,
        cost: (policy.commission_bps + policy.slippage_bps) / 10_000.0,
        size,
    })
}

#[inline(always)]
fn valid(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Run `policy` over `inputs` with the risk profile's position size; metrics annualised by
/// `bars_per_year` ([`crate::data::cadence::Cadence::bars_per_year`]).
pub fn run(
    policy: &Policy,
    inputs: &BacktestInputs<'_>,
    risk: &RiskParams,
    bars_per_year: f64,
) -> Result<BacktestResult, BacktestError> {
    let p = prepare(policy, inputs, risk)?;
    let mut equity = Vec::with_capacity(p.n);
    let mut trades = Vec::new();
    let mut pending = None;
    let in_pos = simulate(policy, &p, &mut equity, &mut trades, &mut pending);
    let metrics = metrics::compute(&equity, &trades, in_pos, bars_per_year);
    Ok(BacktestResult { equity, trades, metrics, pending })
}

/// Signed signal level on row `t`: long rungs reached minus (with shorts) short rungs reached.
#[inline(always)]
fn level(p: &Prepared<'_>, prob: f64, t: usize, allow_short: bool) -> i32 {
    if p.top_pct {
        let thr = p.inp.threshold.map_or(f64::NAN, |c| c[t]);
        if prob >= thr {
            1
        } else if allow_short && prob <= 1.0 - thr {
            -1
        } else {
            0
        }
    } else {
        let mut l = 0i32;
        for &r in p.ladder {
            l += (prob >= r) as i32;
            if allow_short {
                l -= (prob <= 1.0 - r) as i32;
            }
        }
        l
    }
}

/// The loop. Fills `equity` (one value per row) and `trades`; returns the bar intervals spent
/// in a position.
fn simulate(
    policy: &Policy,
    p: &Prepared<'_>,
    equity: &mut Vec<f64>,
    trades: &mut Vec<Trade>,
    pending: &mut Option<Pending>,
) -> usize {
    let inp = &p.inp;
    let n = p.n;
    let allow_short = policy.allow_short;
    let hold = policy.hold_bars;
    let mut eq = 1.0f64;
    let mut pos = 0.0f64; // signed fraction of equity
    let mut cur = 0i32; // signed level held
    let mut reference = f64::NAN; // price the current position was last valued at
    let mut open: Option<Open> = None;
    let mut lockout = 0i32; // side barred from re-entry until its signal resets
    let mut in_pos = 0usize;
    // slices of the validated length n, so the loop's indexing needs no bounds checks
    let (close, next_open, prob) = (&inp.close[..n], &inp.next_open[..n], &inp.prob[..n]);

    for t in 0..n {
        let c = close[t];
        if valid(c) {
            if pos != 0.0 && valid(reference) {
                eq *= 1.0 + pos * (c / reference - 1.0);
                in_pos += 1;
            }
            reference = c;
        } else {
            if pos != 0.0 {
                in_pos += 1;
            }
            equity.push(eq);
            continue;
        }
        equity.push(eq);

        // --- decision on this close ---
        let raw = level(p, prob[t], t, allow_short);
        if lockout != 0 && raw * lockout <= 0 {
            lockout = 0;
        }
        let mut want = if lockout != 0 { 0 } else { raw };
        let mut forced = None;
        if let Some(o) = &open {
            let s = o.side.sign();
            let sc = s as f64;
            let timed = hold > 0 && t - o.row >= hold;
            let stopped = sc * (c - o.price) <= -o.stop;
            let hit = sc * (c - o.price) >= o.target;
            if timed || stopped || hit {
                want = 0;
                if stopped || hit {
                    lockout = s;
                }
                forced = Some(if stopped {
                    ExitReason::Stop
                } else if hit {
                    ExitReason::Target
                } else {
                    ExitReason::Time
                });
            }
        }
        if policy.flat_at_session_end && inp.session_end.is_some_and(|s| s[t]) {
            want = 0;
            forced = forced.or(Some(ExitReason::SessionEnd));
        }
        // filters: may not open or increase
        if want != 0 {
            let mut ok = true;
            if let Some(mask) = p.hour_mask {
                let h = inp.hour.map_or(f64::NAN, |c| c[t]);
                ok &= (0.0..24.0).contains(&h) && (mask >> (h as u32)) & 1 == 1;
            }
            if let Some(mm) = p.momentum_min {
                let m = inp.momentum.map_or(f64::NAN, |c| c[t]);
                ok &= if want > 0 { m >= mm } else { m <= -mm };
            }
            if !ok {
                want = if want.signum() == cur.signum() {
                    if want.abs() <= cur.abs() {
                        want
                    } else {
                        cur
                    }
                } else {
                    0
                };
            }
        }
        if want == cur {
            continue;
        }
        // --- execution at next_open[t] ---
        let px = next_open[t];
        if !(valid(px) && t + 1 < n) {
            if t + 1 == n {
                *pending = Some(Pending {
                    row: t,
                    ts: inp.ts[t],
                    from: pos,
                    to: p.size * want as f64 / p.rungs,
                    prob: prob[t],
                    exit_reason: if want == 0 || want.signum() != cur.signum() { forced } else { None },
                });
            }
            continue;
        }
        if pos != 0.0 {
            eq *= 1.0 + pos * (px / c - 1.0);
        }
        reference = px;
        let target = p.size * want as f64 / p.rungs;
        if cur != 0 && want.signum() != cur.signum() {
            // exit (possibly to reverse)
            eq *= 1.0 - p.cost * pos.abs();
            if let Some(o) = open.take() {
                let reason = forced.unwrap_or(if want != 0 { ExitReason::Reversal } else { ExitReason::Signal });
                trades.push(close_trade(o, inp, t, px, eq, reason));
            }
            pos = 0.0;
        }
        if want != 0 {
            let eq_before = eq;
            eq *= 1.0 - p.cost * (target - pos).abs();
            if pos == 0.0 {
                let side = if want > 0 { Side::Long } else { Side::Short };
                let a = inp.atr.map_or(f64::NAN, |c| c[t]);
                let dist = |m: Option<f64>| match m {
                    Some(k) if a.is_finite() => k * a,
                    _ => f64::INFINITY,
                };
                open = Some(Open {
                    side,
                    row: t,
                    price: px,
                    eq_before,
                    size: target.abs(),
                    prob: prob[t],
                    stop: dist(policy.atr_stop),
                    target: dist(policy.atr_target),
                });
            } else if let Some(o) = open.as_mut() {
                o.size = o.size.max(target.abs());
            }
        }
        pos = target;
        cur = want;
    }
    if pos != 0.0 {
        eq *= 1.0 - p.cost * pos.abs();
        if let Some(last) = equity.last_mut() {
            *last = eq;
        }
        if let Some(o) = open.take() {
            let t = n - 1;
            let px = inp.close[t];
            trades.push(close_trade(o, inp, t, px, eq, ExitReason::EndOfData));
        }
    }
    in_pos
}

fn close_trade(o: Open, inp: &BacktestInputs<'_>, t: usize, px: f64, eq: f64, exit_reason: ExitReason) -> Trade {
    let pnl = eq - o.eq_before;
    Trade {
        entry_ts: inp.ts[o.row],
        exit_ts: inp.ts[t],
        entry_row: o.row,
        exit_row: t,
        entry_price: o.price,
        exit_price: px,
        size: o.size,
        side: o.side,
        pnl,
        ret: pnl / o.eq_before,
        bars_held: t - o.row,
        prob: o.prob,
        exit_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::RiskProfile;

    struct Cols {
        ts: Vec<i64>,
        close: Vec<f64>,
        next_open: Vec<f64>,
        prob: Vec<f64>,
    }

    fn cols(close: &[f64], prob: &[f64]) -> Cols {
        let n = close.len();
        // no gaps: the next bar opens at this bar's close
        let mut next_open: Vec<f64> = close.to_vec();
        if let Some(l) = next_open.last_mut() {
            *l = f64::NAN;
        }
        Cols { ts: (0..n as i64).collect(), close: close.to_vec(), next_open, prob: prob.to_vec() }
    }

    fn inputs(c: &Cols) -> BacktestInputs<'_> {
        BacktestInputs::new(&c.ts, &c.close, &c.next_open, &c.prob)
    }

    fn full() -> RiskParams {
        RiskParams { position_size: 1.0, ..RiskProfile::Balanced.params() }
    }

    #[test]
    fn single_trade_next_open_execution() {
        // signal on bar 1 -> enter at open of bar 2 (= close 1 here), exit decided bar 3.
        let c = cols(&[100.0, 100.0, 110.0, 121.0, 121.0], &[0.1, 0.7, 0.7, 0.1, 0.1]);
        let r = run(&Policy::thr(vec![0.6]), &inputs(&c), &full(), 252.0).unwrap();
        assert_eq!(r.equity.len(), 5);
        let want = [1.0, 1.0, 1.1, 1.21, 1.21];
        for (a, b) in r.equity.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{:?}", r.equity);
        }
        assert_eq!(r.trades.len(), 1);
        let t = &r.trades[0];
        assert_eq!((t.entry_row, t.exit_row, t.bars_held), (1, 3, 2));
        assert_eq!((t.entry_price, t.exit_price), (100.0, 121.0));
        assert!((t.ret - 0.21).abs() < 1e-12 && (t.pnl - 0.21).abs() < 1e-12);
        assert_eq!(t.side, Side::Long);
        assert!((r.metrics.exposure - 0.5).abs() < 1e-12);
    }

    #[test]
    fn ladder_scales_and_costs() {
        // two rungs, half size per rung, 10 bps total cost
        let c = cols(&[100.0, 100.0, 100.0, 100.0, 100.0], &[0.62, 0.7, 0.62, 0.5, 0.5]);
        let mut pol = Policy::thr(vec![0.6, 0.65]);
        pol.commission_bps = 6.0;
        pol.slippage_bps = 4.0;
        let r = run(&pol, &inputs(&c), &full(), 252.0).unwrap();
        // trades: 0 -> 0.5 -> 1.0 -> 0.5 -> 0 : traded 2.0 of equity in total
        let expect = (1.0 - 0.001 * 0.5) * (1.0 - 0.001 * 0.5) * (1.0 - 0.001 * 0.5) * (1.0 - 0.001 * 0.5);
        assert!((r.equity[4] - expect).abs() < 1e-15, "{:?}", r.equity);
        assert_eq!(r.trades.len(), 1);
        assert_eq!(r.trades[0].size, 1.0);
        assert!(r.trades[0].pnl < 0.0);
        assert!((r.trades[0].ret - (expect - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn shorts_hold_bars_and_lockout() {
        let c = cols(&[100.0, 100.0, 90.0, 81.0, 81.0, 81.0], &[0.3, 0.3, 0.3, 0.3, 0.5, 0.3]);
        let mut pol = Policy::thr(vec![0.6]);
        pol.allow_short = true;
        pol.hold_bars = 2;
        let r = run(&pol, &inputs(&c), &full(), 252.0).unwrap();
        // short decided on 0, filled at 100; time exit decided on 2, filled at 90; the signal
        // still holds on bar 3: a new short, filled at 81; flat on 4 (signal gone), short
        // again decided on 5 -> no next bar: pending.
        assert_eq!(r.trades.len(), 2);
        let t = &r.trades[0];
        assert_eq!((t.side, t.entry_row, t.exit_row), (Side::Short, 0, 2));
        assert_eq!(t.exit_reason, ExitReason::Time);
        assert!((t.ret - 0.1).abs() < 1e-12);
        let t = &r.trades[1];
        assert_eq!((t.entry_row, t.exit_row, t.exit_reason), (3, 4, ExitReason::Signal));
        assert!((r.equity[5] - 1.1).abs() < 1e-12);
        assert_eq!(r.pending.map(|p| p.to), Some(-1.0));
        // a stop locks the side out until the signal resets
        let c = cols(&[100.0, 100.0, 97.0, 97.0, 97.0, 97.0], &[0.7, 0.7, 0.7, 0.7, 0.5, 0.7]);
        let atr = [1.0; 6];
        let mut pol = Policy::thr(vec![0.6]);
        pol.atr_stop = Some(2.0);
        let mut i = inputs(&c);
        i.atr = Some(&atr);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        assert_eq!(r.trades.len(), 1, "no re-entry on bars 3..4 after the stop on 2");
        assert_eq!(r.trades[0].exit_reason, ExitReason::Stop);
        assert_eq!(r.pending.map(|p| p.to), Some(1.0), "the signal reset on 4: re-entry decided on 5");
    }

    #[test]
    fn exit_reason_names_are_the_serialised_ones() {
        for r in ExitReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    #[test]
    fn decision_on_the_last_bar_is_pending() {
        let c = cols(&[100.0, 100.0, 100.0], &[0.2, 0.2, 0.7]);
        let r = run(&Policy::thr(vec![0.6]), &inputs(&c), &full(), 252.0).unwrap();
        assert!(r.trades.is_empty());
        let p = r.pending.unwrap();
        assert_eq!((p.row, p.from, p.to, p.prob), (2, 0.0, 1.0, 0.7));
        let c = cols(&[100.0, 100.0, 100.0], &[0.7, 0.7, 0.7]);
        assert!(run(&Policy::thr(vec![0.6]), &inputs(&c), &full(), 252.0).unwrap().pending.is_none());
    }

    #[test]
    fn reversal_and_end_of_data_close() {
        let c = cols(&[100.0, 100.0, 110.0, 100.0], &[0.7, 0.2, 0.2, 0.2]);
        let mut pol = Policy::thr(vec![0.6]);
        pol.allow_short = true;
        let r = run(&pol, &inputs(&c), &full(), 252.0).unwrap();
        assert_eq!(r.trades.len(), 2);
        assert_eq!((r.trades[0].side, r.trades[1].side), (Side::Long, Side::Short));
        assert_eq!(r.trades[1].exit_row, 3);
        assert_eq!((r.trades[0].exit_reason, r.trades[1].exit_reason), (ExitReason::Reversal, ExitReason::EndOfData));
        assert_eq!((r.trades[0].exit_price, r.trades[1].exit_price), (100.0, 100.0));
        // long 100->100, then short 100->110->100
        assert!((r.equity[3] - 0.9 * (1.0 + 10.0 / 110.0)).abs() < 1e-12);
    }

    #[test]
    fn filters_block_entries_not_exits() {
        let c = cols(&[100.0; 5], &[0.7, 0.7, 0.7, 0.1, 0.1]);
        let hour = [10.0, 13.0, 10.0, 10.0, 10.0];
        let mut pol = Policy::thr(vec![0.6]);
        pol.allowed_hours = Some(vec![13]);
        let mut i = inputs(&c);
        i.hour = Some(&hour);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        assert_eq!(r.trades.len(), 1);
        assert_eq!((r.trades[0].entry_row, r.trades[0].exit_row), (1, 3));
        assert_eq!(r.trades[0].exit_reason, ExitReason::Signal);
        // momentum gate
        pol.allowed_hours = None;
        pol.momentum_min = Some(0.0);
        let mom = [-1.0, -1.0, f64::NAN, 0.5, 1.0];
        i.momentum = Some(&mom);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        assert!(r.trades.is_empty());
    }

    #[test]
    fn atr_stop_and_session_end() {
        let c = cols(&[100.0, 100.0, 97.0, 97.0, 97.0], &[0.7; 5]);
        let atr = [1.0; 5];
        let mut pol = Policy::thr(vec![0.6]);
        pol.atr_stop = Some(2.0);
        let mut i = inputs(&c);
        assert!(matches!(run(&pol, &i, &full(), 252.0), Err(BacktestError::MissingColumn { .. })));
        i.atr = Some(&atr);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        // entered at 100 (decided 0), close 97 on bar 2 is 3 ATR down -> exit at open of 3
        assert_eq!(r.trades.len(), 1);
        assert_eq!(r.trades[0].exit_row, 2);
        assert_eq!(r.trades[0].exit_reason, ExitReason::Stop);
        pol.atr_stop = None;
        pol.flat_at_session_end = true;
        let ends = [false, true, false, false, false];
        i.session_end = Some(&ends);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        assert_eq!(r.trades.len(), 2);
        assert_eq!(r.trades[0].exit_row, 1);
        assert_eq!(r.trades[0].exit_reason, ExitReason::SessionEnd);
        assert_eq!(r.trades[1].entry_row, 2);
    }

    #[test]
    fn top_pct_uses_row_thresholds_and_errors() {
        let c = cols(&[100.0; 5], &[0.5; 5]);
        let thr = [f64::NAN, 0.4, 0.6, 0.4, 0.4];
        let pol = Policy::top_pct(0.1);
        let mut i = inputs(&c);
        assert!(run(&pol, &i, &full(), 252.0).is_err());
        i.threshold = Some(&thr);
        let r = run(&pol, &i, &full(), 252.0).unwrap();
        assert_eq!(r.trades.len(), 2);
        let bad = [0.5; 4];
        i.prob = &bad;
        assert!(matches!(run(&pol, &i, &full(), 252.0), Err(BacktestError::LengthMismatch { column: "prob", .. })));
        let mut risk = full();
        risk.position_size = 0.0;
        i.prob = &c.prob;
        assert!(run(&pol, &i, &risk, 252.0).is_err());
    }

    #[test]
    fn nan_prices_do_not_panic() {
        let c = cols(&[100.0, f64::NAN, 0.0, 105.0, 110.0], &[0.7, 0.7, f64::NAN, 0.7, 0.2]);
        let r = run(&Policy::thr(vec![0.6]), &inputs(&c), &full(), 252.0).unwrap();
        assert_eq!(r.equity.len(), 5);
        assert!(r.equity.iter().all(|e| e.is_finite()));
        let r = run(&Policy::thr(vec![0.6]), &inputs(&cols(&[], &[])), &full(), 252.0).unwrap();
        assert!(r.equity.is_empty() && r.trades.is_empty());
    }
}
