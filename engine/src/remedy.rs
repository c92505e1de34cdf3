//! What to try when a run fails its gate, worked out so the page can offer it in one click.
//!
//! The seed's table of "common failures and solutions" says *lower threshold or extend period*
//! for too few trades, *tighten risk controls* for a deep drawdown, *extend date range* for too
//! little data. [`remedies`] turns each failed reason of a run into those steps, concretely for
//! that run: the sweep to run next (the run's own settings, changed in the one way the remedy
//! says, so its out-of-fold probabilities are reused from the cache and only the policies are
//! judged again) or the wider build range its data allows. A reason whose remedy is a matter of
//! judgement ("review strategy logic") gets advice and no step.

use crate::config::ConfigKind;
use crate::gate::GateReason;
use crate::grid::{Costs, Exits, GateGrid, Grid, TrainGrid};
use crate::policy::{fmt_level, parse_ladder};
use crate::run::Run;

/// How far each lowered ladder steps down: two sweeps' worth of alternatives below the run's.
const LOWER_BY: [f64; 2] = [0.05, 0.10];
/// The ATR stop a run without one gets; a run with one gets three quarters of its own.
const FIRST_ATR_STOP: f64 = 2.0;
/// The largest fraction a raised `top_pct` asks for.
const MAX_TOP_PCT: f64 = 0.5;

/// One thing to do about a failed reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Sweep the run's model with `grid` (the Sweeps form filled in with it).
    Sweep { label: String, grid: Box<Grid> },
    /// Build the run's model again from `start` to `end` (local dates, inclusive), with the
    /// run's label horizon.
    Build { label: String, start: String, end: String, horizon: usize },
    /// The data holds no more bars than the model was built on: a longer history is needed.
    Import { label: String },
}

/// A failed reason, the seed's remedy for it and the steps that carry it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Remedy {
    pub reason: GateReason,
    pub advice: &'static str,
    pub steps: Vec<Step>,
}

/// Where the run's model stands in its data: the range its matrix was built over and the
/// range of its ticker's bars (both `YYYY-MM-DD`, inclusive).
#[derive(Debug, Clone, Copy)]
pub struct Span<'a> {
    pub built: (&'a str, &'a str),
    pub data: (&'a str, &'a str),
}

/// What the remedies of a run are worked out from besides the run.
#[derive(Debug, Clone, Copy)]
pub struct Setting<'a> {
    /// The model's template grid (what a sweep of it starts from).
    pub base: &'a Grid,
    /// Where its matrix stands in its data, when known.
    pub span: Option<Span<'a>>,
    /// Whether its features include an ATR (a stop needs one).
    pub has_atr: bool,
}

/// The remedies for each reason `run` failed, in the gate's order.
pub fn remedies(run: &Run, at: Setting<'_>) -> Vec<Remedy> {
    let Setting { base, span, has_atr } = at;
    let horizon = run.oof_spec.purge;
    run.gate
        .reasons()
        .iter()
        .map(|&reason| {
            let steps = match reason {
                GateReason::MinTradesNotMet => {
                    lower_threshold(run, base).into_iter().chain(extend(span, horizon)).collect()
                }
                GateReason::ExcessiveDrawdown if has_atr => tighten_risk(run, base).into_iter().collect(),
                // A stop needs an ATR feature: the advice stands, without a click that would fail.
                GateReason::ExcessiveDrawdown => Vec::new(),
                GateReason::InsufficientData | GateReason::PoorDsr => extend(span, horizon).into_iter().collect(),
                GateReason::PoorSharpe | GateReason::NegativeReturn => Vec::new(),
            };
            Remedy { reason, advice: reason.remedy(), steps }
        })
        .collect()
}

/// The run's own sweep: its config alone, on its model variant, with its exits, costs and gate.
fn same_as(run: &Run, base: &Grid) -> Grid {
    let p = &run.policy;
    let s = &run.oof_spec;
    let mut g = base.clone();
    g.model_id = Some(run.model_id.clone());
    g.pack_id = None;
    g.tag = None;
    // The run's label horizon (its matrix's): the model's own matrix when it is the model's.
    g.build.distance_max = vec![s.purge];
    g.train = TrainGrid {
        calibration: vec![s.calibration],
        trees: vec![s.params.num_trees],
        leaves: vec![s.params.max_leaves],
        learning_rate: vec![s.params.learning_rate],
        feature_fraction: vec![s.params.feature_fraction],
    };
    let b = &mut g.backtest;
    b.thresholds = Vec::new();
    b.top_pct = Vec::new();
    match run.config.kind {
        ConfigKind::Thr => b.thresholds = vec![run.config.value.clone()],
        ConfigKind::TopPct => b.top_pct = run.config.value.parse().into_iter().collect(),
    }
    b.allowed_hours = run.config.allowed_hours.clone().into_iter().collect();
    b.splits = vec![s.splits];
    b.cv = s.cv;
    b.embargo = s.embargo;
    b.momentum_min = p.momentum_min;
    b.allow_short = p.allow_short;
    b.exits = Exits {
        hold_bars: Some(p.hold_bars),
        atr_stop: p.atr_stop,
        atr_target: p.atr_target,
        flat_at_session_end: Some(p.flat_at_session_end),
    };
    b.costs = Costs { commission_bps: p.commission_bps, slippage_bps: p.slippage_bps };
    g.gate = GateGrid {
        min_trades: run.overrides.min_trades,
        min_sharpe: run.overrides.min_sharpe,
        min_dsr: run.overrides.min_dsr,
    };
    g
}

/// Lower ladders (each rung down by 0.05 and 0.10, while every rung stays above 0), or larger
/// top fractions (× 1.5 and × 2, at most one half).
fn lower_threshold(run: &Run, base: &Grid) -> Option<Step> {
    let mut g = same_as(run, base);
    let value = &run.config.value;
    let label = match run.config.kind {
        ConfigKind::Thr => {
            let rungs = parse_ladder(value).ok()?;
            let ladders: Vec<String> = LOWER_BY
                .iter()
                .map(|d| rungs.iter().map(|r| ((r - d) * 1e6).round() / 1e6).collect::<Vec<f64>>())
                .filter(|l| l.iter().all(|r| *r > 0.0))
                .map(|l| l.iter().map(|r| fmt_level(*r)).collect::<Vec<_>>().join(","))
                .collect();
            if ladders.is_empty() {
                return None;
            }
            let label = format!("Sweep lower thresholds: {}", ladders.join(" · "));
            g.backtest.thresholds = ladders;
            label
        }
        ConfigKind::TopPct => {
            let asked: f64 = value.parse().ok()?;
            let mut tops: Vec<f64> = [1.5, 2.0]
                .iter()
                .map(|k| ((asked * k).min(MAX_TOP_PCT) * 1e6).round() / 1e6)
                .filter(|t| *t > asked)
                .collect();
            tops.dedup();
            if tops.is_empty() {
                return None;
            }
            let label = format!(
                "Sweep larger top fractions: {}",
                tops.iter().map(|t| fmt_level(*t)).collect::<Vec<_>>().join(" · ")
            );
            g.backtest.top_pct = tops;
            label
        }
    };
    Some(Step::Sweep { label, grid: Box::new(g) })
}

/// Three significant digits, so a tightened stop stays a readable number.
fn significant(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powi(2 - x.log10().floor() as i32);
    (x * scale).round() / scale
}

/// The same config with an ATR stop (or a tighter one, while one can be).
fn tighten_risk(run: &Run, base: &Grid) -> Option<Step> {
    let mut g = same_as(run, base);
    let stop = run.policy.atr_stop.map_or(FIRST_ATR_STOP, |s| significant(s * 0.75));
    if !(stop > 0.0 && run.policy.atr_stop.is_none_or(|old| stop < old)) {
        return None;
    }
    g.backtest.exits.atr_stop = Some(stop);
    let label = match run.policy.atr_stop {
        Some(old) => format!("Sweep it with a tighter stop: {stop} × ATR (was {old})"),
        None => format!("Sweep it with a stop at {stop} × ATR"),
    };
    Some(Step::Sweep { label, grid: Box::new(g) })
}

/// Build over the data's whole range when the matrix covers less of it, else ask for more data.
fn extend(span: Option<Span<'_>>, horizon: usize) -> Option<Step> {
    let Span { built, data } = span?;
    if data.0 < built.0 || data.1 > built.1 {
        Some(Step::Build {
            label: format!("Build over all the data: {} .. {} (now {} .. {})", data.0, data.1, built.0, built.1),
            start: data.0.to_string(),
            end: data.1.to_string(),
            horizon,
        })
    } else {
        Some(Step::Import {
            label: format!("The model already uses every bar ({} .. {}): import a longer history", data.0, data.1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::gate::Gate;
    use crate::run::sample_run;

    fn failing(reasons: Vec<GateReason>, kind: ConfigKind, value: &str) -> Run {
        let mut r = sample_run("r", "m");
        r.gate = Gate::from_reasons(reasons);
        r.config = Config { kind, value: value.into(), allowed_hours: Some("13,14".into()) };
        r
    }

    fn sweep_grid(s: &Step) -> &Grid {
        match s {
            Step::Sweep { grid, .. } => grid,
            other => panic!("not a sweep: {other:?}"),
        }
    }

    #[test]
    fn too_few_trades_lowers_the_ladder_and_widens_the_build() {
        let run = failing(vec![GateReason::MinTradesNotMet], ConfigKind::Thr, "0.60,0.65,0.70");
        let span = Span { built: ("2010-01-04", "2012-12-31"), data: ("2000-01-03", "2013-02-20") };
        let mut base = Grid::default();
        base.build.distance_max = vec![5, 7];
        let r = remedies(&run, Setting { base: &base, span: Some(span), has_atr: true });
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].advice, "Lower threshold or extend period");
        let g = sweep_grid(&r[0].steps[0]);
        assert_eq!(g.backtest.thresholds, vec!["0.55,0.60,0.65", "0.50,0.55,0.60"]);
        assert!(g.backtest.top_pct.is_empty(), "only the ladders the remedy asks for");
        assert_eq!(g.backtest.allowed_hours, vec!["13,14"], "the run's hours kept");
        assert_eq!(g.model_id.as_deref(), Some("m"));
        assert_eq!(g.train.trees, vec![run.oof_spec.params.num_trees], "the run's variant: cached folds");
        assert_eq!(g.build.distance_max, vec![run.oof_spec.purge], "the run's horizon, not the template's two");
        assert_eq!(
            r[0].steps[1],
            Step::Build {
                label: "Build over all the data: 2000-01-03 .. 2013-02-20 (now 2010-01-04 .. 2012-12-31)".into(),
                start: "2000-01-03".into(),
                end: "2013-02-20".into(),
                horizon: run.oof_spec.purge,
            }
        );
        // The grid is one a sweep file could hold: it round-trips through the file's checks.
        assert_eq!(&Grid::from_yaml(&g.to_yaml()).unwrap(), g);
    }

    #[test]
    fn a_ladder_near_zero_and_top_fractions_near_half_stop_where_they_must() {
        let run = failing(vec![GateReason::MinTradesNotMet], ConfigKind::Thr, "0.08,0.12");
        let r = remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: true });
        assert_eq!(sweep_grid(&r[0].steps[0]).backtest.thresholds, vec!["0.03,0.07"], "0.10 lower would cross 0");
        let run = failing(vec![GateReason::MinTradesNotMet], ConfigKind::TopPct, "0.3");
        let r = remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: true });
        assert_eq!(sweep_grid(&r[0].steps[0]).backtest.top_pct, vec![0.45, 0.5]);
        let run = failing(vec![GateReason::MinTradesNotMet], ConfigKind::TopPct, "0.5");
        assert!(
            remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: true })[0].steps.is_empty(),
            "nothing larger to ask"
        );
    }

    #[test]
    fn drawdown_adds_a_stop_then_tightens_it_and_judgement_calls_get_no_step() {
        let mut run = failing(
            vec![GateReason::ExcessiveDrawdown, GateReason::PoorSharpe, GateReason::InsufficientData],
            ConfigKind::Thr,
            "0.6",
        );
        let span = Span { built: ("2000-01-03", "2013-02-20"), data: ("2000-01-03", "2013-02-20") };
        let r = remedies(&run, Setting { base: &Grid::default(), span: Some(span), has_atr: true });
        let reasons: Vec<GateReason> = r.iter().map(|x| x.reason).collect();
        assert_eq!(reasons, vec![GateReason::PoorSharpe, GateReason::ExcessiveDrawdown, GateReason::InsufficientData]);
        assert!(r[0].steps.is_empty());
        assert_eq!(sweep_grid(&r[1].steps[0]).backtest.exits.atr_stop, Some(2.0));
        assert_eq!(sweep_grid(&r[1].steps[0]).backtest.thresholds, vec!["0.6"], "the same config");
        assert!(matches!(&r[2].steps[0], Step::Import { .. }), "every bar is used: more data");
        run.policy.atr_stop = Some(2.0);
        let r = remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: true });
        assert_eq!(sweep_grid(&r[1].steps[0]).backtest.exits.atr_stop, Some(1.5));
        run.policy.atr_stop = Some(0.013);
        let r = remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: true });
        assert_eq!(sweep_grid(&r[1].steps[0]).backtest.exits.atr_stop, Some(0.00975), "three digits, still tighter");
        // Without an ATR feature a stop cannot run: the advice, and no step that would fail.
        let r = remedies(&run, Setting { base: &Grid::default(), span: None, has_atr: false });
        assert_eq!(r[1].advice, "Tighten risk controls");
        assert!(r[1].steps.is_empty());
    }
}
