//! The leaderboard: runs filtered and ranked, each row shaped like the seed's `GET /leaderboard`
//! answer (`rank`, `config`, `metrics`, `gate`, `lineage`, plus the run's id, model, tag and
//! period).
//!
//! Ranking is by one metric, best first: higher is better for every metric, `max_dd` included
//! (it is ≤ 0, so −0.05 ranks above −0.20). Ties are broken by `run_id`, so the order never
//! depends on the order runs were stored in.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::str::FromStr;

use crate::config::Config;
use crate::gate::Gate;
use crate::grid::Variant;
use crate::metrics::Metrics;
use crate::risk::RiskProfile;
use crate::run::{Lineage, Run, TopPctShare};
use crate::significance::Trials;

/// The metric to rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Sharpe,
    Return,
    Sortino,
    Calmar,
    Cagr,
    MaxDd,
    Trades,
    WinRate,
    ProfitFactor,
    Psr,
    Dsr,
}

impl RankBy {
    pub const ALL: [RankBy; 11] = [
        RankBy::Sharpe,
        RankBy::Return,
        RankBy::Sortino,
        RankBy::Calmar,
        RankBy::Cagr,
        RankBy::MaxDd,
        RankBy::Trades,
        RankBy::WinRate,
        RankBy::ProfitFactor,
        RankBy::Psr,
        RankBy::Dsr,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RankBy::Sharpe => "sharpe",
            RankBy::Return => "return",
            RankBy::Sortino => "sortino",
            RankBy::Calmar => "calmar",
            RankBy::Cagr => "cagr",
            RankBy::MaxDd => "max_dd",
            RankBy::Trades => "trades",
            RankBy::WinRate => "win_rate",
            RankBy::ProfitFactor => "profit_factor",
            RankBy::Psr => "psr",
            RankBy::Dsr => "dsr",
        }
    }

    /// The value ranked on; `NaN` ranks last. A profit factor without losing trades (`null`)
    /// ranks above every finite one.
    pub fn value(self, m: &Metrics) -> f64 {
        match self {
            RankBy::Sharpe => m.sharpe,
            RankBy::Return => m.total_return,
            RankBy::Sortino => m.sortino,
            RankBy::Calmar => m.calmar,
            RankBy::Cagr => m.cagr,
            RankBy::MaxDd => m.max_dd,
            RankBy::Trades => m.trades as f64,
            RankBy::WinRate => m.win_rate,
            RankBy::ProfitFactor => m.profit_factor.unwrap_or(if m.trades > 0 { f64::INFINITY } else { f64::NAN }),
            RankBy::Psr => m.psr,
            RankBy::Dsr => m.dsr,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric `{0}` to rank by; expected one of: sharpe, return, sortino, calmar, cagr, max_dd, trades, win_rate, profit_factor, psr, dsr")]
pub struct UnknownMetric(pub String);

impl FromStr for RankBy {
    type Err = UnknownMetric;
    fn from_str(s: &str) -> Result<Self, UnknownMetric> {
        let t = s.trim().to_ascii_lowercase();
        RankBy::ALL
            .into_iter()
            .find(|r| r.as_str() == t || (t == "total_return" && *r == RankBy::Return))
            .ok_or_else(|| UnknownMetric(s.to_string()))
    }
}

/// Filters and ordering (the query of `GET /leaderboard`); `None` = any.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Query {
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub pack_id: Option<String>,
    #[serde(default)]
    pub risk_profile: Option<RiskProfile>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Only runs that pass the gate.
    #[serde(default)]
    pub pass_gate: bool,
    /// Only runs of this model variant (its wording, [`crate::grid::Variant`]'s `Display`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub rank_by: RankBy,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One leaderboard row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub rank: usize,
    pub run_id: String,
    pub model_id: String,
    pub pack_id: String,
    pub tag: Option<String>,
    pub config: Config,
    /// The model variant its out-of-fold probabilities were made with, in words.
    #[serde(default)]
    pub variant: String,
    pub metrics: Metrics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_pct_share: Option<TopPctShare>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<Trials>,
    pub gate: Gate,
    pub lineage: Lineage,
    pub start: String,
    pub end: String,
    pub created: String,
}

fn matches(r: &Run, q: &Query) -> bool {
    q.model_id.as_ref().is_none_or(|m| *m == r.model_id)
        && q.pack_id.as_ref().is_none_or(|p| *p == r.pack_id)
        && q.risk_profile.is_none_or(|p| p == r.lineage.risk_profile)
        && q.tag.as_ref().is_none_or(|t| r.tag.as_ref() == Some(t))
        && (!q.pass_gate || r.gate.pass())
        && q.variant.as_ref().is_none_or(|v| *v == Variant::of_run(r).to_string())
}

/// Best first by `q.rank_by` (NaN last, ties by `run_id`), ranks from 1.
pub fn rank(runs: &[Run], q: &Query) -> Vec<Row> {
    let mut kept: Vec<&Run> = runs.iter().filter(|r| matches(r, q)).collect();
    let key = |r: &Run| q.rank_by.value(&r.metrics);
    kept.sort_by(|a, b| {
        let (x, y) = (key(a), key(b));
        let by_value = match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => y.total_cmp(&x),
        };
        by_value.then_with(|| a.run_id.cmp(&b.run_id))
    });
    kept.into_iter()
        .take(q.limit.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, r)| Row {
            rank: i + 1,
            run_id: r.run_id.clone(),
            model_id: r.model_id.clone(),
            pack_id: r.pack_id.clone(),
            tag: r.tag.clone(),
            config: r.config.clone(),
            variant: Variant::of_run(r).to_string(),
            metrics: r.metrics,
            top_pct_share: r.top_pct_share,
            trials: r.trials,
            gate: r.gate.clone(),
            lineage: r.lineage.clone(),
            start: r.start.clone(),
            end: r.end.clone(),
            created: r.created.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::gate::GateReason;

    fn run(id: &str, model: &str, tag: Option<&str>, sharpe: f64, max_dd: f64, pass: bool) -> Run {
        Run {
            tag: tag.map(Into::into),
            metrics: Metrics { sharpe, max_dd, trades: 40, ..Metrics::default() },
            gate: Gate::from_reasons(if pass { vec![] } else { vec![GateReason::PoorSharpe] }),
            ..crate::run::sample_run(id, model)
        }
    }

    #[test]
    fn ranks_filters_and_limits() {
        let runs = vec![
            run("b", "spy", Some("t1"), 1.2, -0.10, true),
            run("a", "spy", Some("t1"), 1.2, -0.05, true),
            run("c", "spy", Some("t2"), f64::NAN, -0.01, false),
            run("d", "spy", None, 1.9, -0.30, false),
            run("e", "qqq", Some("t1"), 3.0, -0.02, true),
        ];
        let q = Query { model_id: Some("spy".into()), ..Query::default() };
        let ids: Vec<String> = rank(&runs, &q).into_iter().map(|r| r.run_id).collect();
        assert_eq!(ids, ["d", "a", "b", "c"], "sharpe desc, ties by id, NaN last");
        let q = Query {
            pass_gate: true,
            tag: Some("t1".into()),
            rank_by: RankBy::MaxDd,
            limit: Some(2),
            ..Query::default()
        };
        let rows = rank(&runs, &q);
        let ids: Vec<&str> = rows.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["e", "a"]);
        assert_eq!((rows[0].rank, rows[1].rank), (1, 2));
        let q = Query { risk_profile: Some(RiskProfile::Aggressive), ..Query::default() };
        assert!(rank(&runs, &q).is_empty());
        let j = serde_json::to_value(&rank(&runs, &Query::default())[0]).unwrap();
        for k in ["rank", "config", "metrics", "gate", "lineage"] {
            assert!(j.get(k).is_some(), "{k}");
        }
        assert_eq!(j["metrics"]["max_dd"], -0.02);
        assert!(j["metrics"].get("return").is_some());
        assert_eq!(j["lineage"]["risk_profile"], "balanced");
    }

    #[test]
    fn parses_metric_names() {
        assert_eq!("Sharpe".parse::<RankBy>().unwrap(), RankBy::Sharpe);
        assert_eq!("total_return".parse::<RankBy>().unwrap(), RankBy::Return);
        assert_eq!("max_dd".parse::<RankBy>().unwrap(), RankBy::MaxDd);
        assert!("alpha".parse::<RankBy>().is_err());
        let m = Metrics { trades: 3, profit_factor: None, ..Metrics::default() };
        assert_eq!(RankBy::ProfitFactor.value(&m), f64::INFINITY);
    }
}
