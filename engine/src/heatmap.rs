//! A sweep at a glance: one metric over two of the sweep's dimensions (threshold ladder ×
//! hours, model variant × top %, trees × leaves…), as backtesting.py's `plot_heatmaps` shows an
//! optimisation, and the distribution of a metric over all of its runs.
//!
//! A cell holds every run with that pair of values; when other dimensions vary too, the cell
//! shows its best run by the metric (what a ranking would put first) and says how many it
//! stands for, so the map never averages away the run a click opens.

use std::collections::BTreeMap;

use crate::config::ConfigKind;
use crate::grid::Variant;
use crate::leaderboard::RankBy;
use crate::run::Run;

/// A dimension a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    /// The policy: a threshold ladder or a top fraction (`thr 0.55,0.60,0.65`, `top_pct 0.10`).
    Policy,
    /// The allowed hours (`any` when unrestricted).
    Hours,
    /// The whole model variant, in its one wording.
    Variant,
    Trees,
    Leaves,
    LearningRate,
    FeatureFraction,
    Horizon,
    Splits,
    Calibration,
    Model,
    Tag,
}

impl Dim {
    pub const ALL: [Dim; 12] = [
        Dim::Policy,
        Dim::Hours,
        Dim::Variant,
        Dim::Trees,
        Dim::Leaves,
        Dim::LearningRate,
        Dim::FeatureFraction,
        Dim::Horizon,
        Dim::Splits,
        Dim::Calibration,
        Dim::Model,
        Dim::Tag,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Policy => "policy",
            Dim::Hours => "hours",
            Dim::Variant => "variant",
            Dim::Trees => "trees",
            Dim::Leaves => "leaves",
            Dim::LearningRate => "learning_rate",
            Dim::FeatureFraction => "feature_fraction",
            Dim::Horizon => "horizon",
            Dim::Splits => "splits",
            Dim::Calibration => "calibration",
            Dim::Model => "model",
            Dim::Tag => "tag",
        }
    }

    pub fn parse(text: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// `run`'s value in this dimension, as the map labels it.
    pub fn value(self, run: &Run) -> String {
        let v = || Variant::of_run(run);
        match self {
            Dim::Policy => match run.config.kind {
                ConfigKind::Thr => format!("thr {}", run.config.value),
                ConfigKind::TopPct => format!("top_pct {}", run.config.value),
            },
            Dim::Hours => run.config.allowed_hours.clone().unwrap_or_else(|| "any".into()),
            Dim::Variant => v().to_string(),
            Dim::Trees => v().trees.to_string(),
            Dim::Leaves => v().leaves.to_string(),
            Dim::LearningRate => v().learning_rate.to_string(),
            Dim::FeatureFraction => v().feature_fraction.to_string(),
            Dim::Horizon => v().distance_max.map_or_else(|| "model's".into(), |d| d.to_string()),
            Dim::Splits => v().splits.to_string(),
            Dim::Calibration => serde_json::to_value(v().calibration)
                .ok()
                .and_then(|x| x.as_str().map(String::from))
                .unwrap_or_default(),
            Dim::Model => run.model_id.clone(),
            Dim::Tag => run.tag.clone().unwrap_or_else(|| "none".into()),
        }
    }

    /// The dimensions in which `runs` take more than one value (what a map of them can show).
    pub fn varying(runs: &[Run]) -> Vec<Dim> {
        Dim::ALL
            .into_iter()
            .filter(|d| {
                let mut values = runs.iter().map(|r| d.value(r));
                let first = values.next();
                values.any(|v| Some(&v) != first.as_ref())
            })
            .collect()
    }
}

/// One cell: the best run with this pair of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: f64,
    pub run_id: String,
    /// Runs with this pair of values (the best of them is shown).
    pub runs: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub x: Dim,
    pub y: Dim,
    pub metric: RankBy,
    /// Column and row labels, numbers in numeric order, words in alphabetical order.
    pub xs: Vec<String>,
    pub ys: Vec<String>,
    /// `cells[row][column]`; `None` where no run has the pair.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// The smallest and largest finite value of the cells (for a colour scale).
    pub range: Option<(f64, f64)>,
}

/// Labels in numeric order when they are all numbers, else in text order.
fn ordered(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.collect();
    v.sort();
    v.dedup();
    if v.iter().all(|s| s.parse::<f64>().is_ok()) {
        v.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    }
    v
}

/// `metric` over `x` × `y` for `runs`. Ties for a cell's best go to the smaller run id, so the
/// map does not depend on the order the runs come in.
pub fn heatmap(runs: &[Run], x: Dim, y: Dim, metric: RankBy) -> Heatmap {
    // Each run's pair once (a variant's wording is not free to make).
    let pairs: Vec<(String, String)> = runs.iter().map(|r| (x.value(r), y.value(r))).collect();
    let xs = ordered(pairs.iter().map(|p| p.0.clone()));
    let ys = ordered(pairs.iter().map(|p| p.1.clone()));
    let mut best: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    for (r, (vx, vy)) in runs.iter().zip(&pairs) {
        let (Some(i), Some(j)) = (xs.iter().position(|v| v == vx), ys.iter().position(|v| v == vy)) else {
            continue;
        };
        let value = metric.value(&r.metrics);
        let cell = best.entry((j, i)).or_insert_with(|| Cell { value, run_id: r.run_id.clone(), runs: 0 });
        cell.runs += 1;
        let better = match (value.is_nan(), cell.value.is_nan()) {
            (false, true) => true,
            (true, _) => false,
            (false, false) => value > cell.value || (value == cell.value && r.run_id < cell.run_id),
        };
        if better {
            cell.value = value;
            cell.run_id = r.run_id.clone();
        }
    }
    let mut cells = vec![vec![None; xs.len()]; ys.len()];
    let mut range: Option<(f64, f64)> = None;
    for ((j, i), c) in best {
        if c.value.is_finite() {
            range = Some(range.map_or((c.value, c.value), |(a, b)| (a.min(c.value), b.max(c.value))));
        }
        cells[j][i] = Some(c);
    }
    Heatmap { x, y, metric, xs, ys, cells, range }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::run::sample_run;

    fn run(id: &str, value: &str, hours: Option<&str>, trees: usize, sharpe: f64) -> Run {
        let mut r = sample_run(id, "m");
        r.config = Config { kind: ConfigKind::Thr, value: value.into(), allowed_hours: hours.map(String::from) };
        r.oof_spec.params.num_trees = trees;
        r.metrics.sharpe = sharpe;
        r
    }

    #[test]
    fn cells_hold_the_best_run_of_their_pair_and_numbers_sort_as_numbers() {
        let runs = vec![
            run("a", "0.6", None, 100, 0.5),
            run("b", "0.6", None, 40, 0.9),
            run("c", "0.6", Some("13,14"), 100, -0.2),
            run("d", "0.5", None, 100, 1.1),
            run("e", "0.6", None, 100, 0.7),
        ];
        assert_eq!(Dim::varying(&runs), vec![Dim::Policy, Dim::Hours, Dim::Variant, Dim::Trees]);
        let h = heatmap(&runs, Dim::Policy, Dim::Hours, RankBy::Sharpe);
        assert_eq!(h.xs, vec!["thr 0.5", "thr 0.6"]);
        assert_eq!(h.ys, vec!["13,14", "any"]);
        let cell = h.cells[1][1].clone().unwrap();
        assert_eq!((cell.run_id.as_str(), cell.runs, cell.value), ("b", 3, 0.9), "best of a, b, e");
        assert_eq!(h.cells[0][0], None, "no run has 0.5 at 13,14");
        assert_eq!(h.range, Some((-0.2, 1.1)));
        let t = heatmap(&runs, Dim::Trees, Dim::Policy, RankBy::Sharpe);
        assert_eq!(t.xs, vec!["40", "100"], "numeric order, not text order");
        // The order runs come in does not matter.
        let mut rev = runs.clone();
        rev.reverse();
        assert_eq!(heatmap(&rev, Dim::Policy, Dim::Hours, RankBy::Sharpe), h);
        assert_eq!(Dim::parse("learning_rate"), Some(Dim::LearningRate));
        // A tie goes to the smaller id whatever the order; a NaN never beats a number.
        let tied = vec![
            run("z", "0.6", None, 100, 0.9),
            run("y", "0.6", None, 100, 0.9),
            run("x", "0.6", None, 100, f64::NAN),
        ];
        for order in [tied.clone(), tied.iter().rev().cloned().collect()] {
            let h = heatmap(&order, Dim::Policy, Dim::Hours, RankBy::Sharpe);
            assert_eq!(h.cells[0][0].as_ref().map(|c| (c.run_id.as_str(), c.runs)), Some(("y", 3)));
        }
        let lone = heatmap(&[run("x", "0.6", None, 100, f64::NAN)], Dim::Policy, Dim::Hours, RankBy::Sharpe);
        assert!(lone.cells[0][0].as_ref().unwrap().value.is_nan());
        assert_eq!(lone.range, None, "no finite value: no colour scale");
    }
}
