//! Packs and templates: named feature sets, label rules and default sweep grids, so a
//! new model starts from a setup whose parts fit one trading horizon (daily swing, intraday)
//! instead of from a blank form.

use serde::{Deserialize, Serialize};

use crate::features::FeatureSpec;
use crate::grid::Grid;
use crate::label::LabelSpec;

/// A pack's named feature set, label rule and default sweep grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    pub features: Vec<FeatureSpec>,
    pub label: LabelSpec,
    /// The default sweep: what `btb sweep-config` writes and the Sweeps page's form starts from.
    pub sweep: Grid,
}

/// A family of templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Default model horizon (`"swing"`, `"intraday"`).
    pub horizon: String,
    /// Default cadence, a [`crate::data::Cadence`] name (`"daily"`, `"five_minute"`).
    pub cadence: String,
    pub templates: Vec<Template>,
}

impl Pack {
    pub fn template(&self, id: &str) -> Option<&Template> {
        let id = id.trim();
        self.templates.iter().find(|t| t.id.eq_ignore_ascii_case(id))
    }
}

fn specs(list: &[&str]) -> Vec<FeatureSpec> {
    // Static lists, checked by `templates_parse` below.
    list.iter().filter_map(|s| FeatureSpec::parse(s).ok()).collect()
}

/// Feature specs of `swingsigma/swing_default` (compact form).
pub const SWING_DEFAULT_FEATURES: &[&str] = &[
    // Trend: moving averages.
    "sma:10",
    "sma:20",
    "sma:50",
    "ema:10",
    "ema:20",
    "ema:50",
    "wma:20",
    "dema:20",
    "tema:20",
    "kama:10",
    // Momentum oscillators.
    "rsi:7",
    "rsi:14",
    "rsi:21",
    "macd:12:26:9",
    "ppo:12:26",
    "stoch:14:3:3",
    "stochrsi:14:5:3",
    "roc:5",
    "roc:10",
    "roc:20",
    "mom:10",
    "cci:14",
    "cci:20",
    "cmo:14",
    "willr:14",
    "willr:28",
    "ultosc:7:14:28",
    "linearreg_slope:14",
    // Directional movement.
    "adx:14",
    "plus_di:14",
    "minus_di:14",
    "dx:14",
    "aroon:14",
    "aroonosc:14",
    // Volatility.
    "bbands:20:2",
    "atr:14",
    "natr:14",
    "trange",
    "stddev:20:1",
    // Volume.
    "mfi:14",
    "obv",
    "ad",
    "adosc:3:10",
    // ML features.
    "logret:1",
    "logret:5",
    "logret:10",
    "logret:20",
    "logret:60",
    "rvol:10",
    "rvol:20",
    "rvol:60",
    "zscore:10",
    "zscore:20",
    "zscore:50",
    "volume_zscore:5",
    "volume_zscore:20",
    "dist_high:20",
    "dist_low:20",
    "dist_high:60",
    "dist_low:60",
    "gap",
    "day_of_week",
    "momentum_score_total",
];

/// Feature specs of `zerosigma/intraday_default` (compact form).
pub const INTRADAY_DEFAULT_FEATURES: &[&str] = &[
    "ema:9",
    "ema:21",
    "sma:20",
    "rsi:7",
    "rsi:14",
    "macd:12:26:9",
    "stoch:14:3:3",
    "stochrsi:14:5:3",
    "roc:6",
    "mom:6",
    "cci:20",
    "willr:14",
    "linearreg_slope:12",
    "adx:14",
    "bbands:20:2",
    "atr:14",
    "natr:14",
    "mfi:14",
    "obv",
    "adosc:3:10",
    "logret:1",
    "logret:3",
    "logret:6",
    "logret:12",
    "rvol:12",
    "rvol:48",
    "zscore:20",
    "volume_zscore:20",
    "dist_high:12",
    "dist_low:12",
    "vwap",
    "opening_range:6",
    "gap",
    "hour",
    "minute_of_day",
    "day_of_week",
    "momentum_score_total",
];

/// The default grid with these hour sets (intraday models are swept over a few).
fn sweep_grid(hours: &[&str]) -> Grid {
    let mut g = Grid { tag: Some("initial_sweep".into()), ..Grid::default() };
    g.backtest.allowed_hours = hours.iter().map(|h| h.to_string()).collect();
    g
}

/// Every built-in pack: `swingsigma` (daily swing) and `zerosigma` (intraday).
pub fn packs() -> Vec<Pack> {
    let swing_label = LabelSpec::ForwardReturn { distance_max: 7, threshold: 0.0, within_session: false };
    let intraday_label = LabelSpec::ForwardReturn { distance_max: 6, threshold: 0.0, within_session: true };
    vec![
        Pack {
            id: "swingsigma".into(),
            name: "SwingSigma".into(),
            description: "Daily swing trading: multi-day holds on daily bars, a broad TA-Lib set plus return, volatility and momentum features.".into(),
            horizon: "swing".into(),
            cadence: "daily".into(),
            templates: vec![Template {
                id: "swing_default".into(),
                name: "Swing default".into(),
                description: "~70 features (moving averages, oscillators, directional movement, volatility, volume, log returns, z-scores, range distances, momentum); label: close 7 bars ahead above today's close.".into(),
                features: specs(SWING_DEFAULT_FEATURES),
                label: swing_label,
                sweep: sweep_grid(&[]),
            }],
        },
        Pack {
            id: "zerosigma".into(),
            name: "ZeroSigma".into(),
            description: "Intraday: flat by the close, session-aware features (VWAP, opening range, gap, time of day); hour filters matter.".into(),
            horizon: "intraday".into(),
            cadence: "five_minute".into(),
            templates: vec![Template {
                id: "intraday_default".into(),
                name: "Intraday default".into(),
                description: "Session-aware features on 5-minute bars; label: close 6 bars ahead above the current close, never across the session's end.".into(),
                features: specs(INTRADAY_DEFAULT_FEATURES),
                label: intraday_label,
                sweep: sweep_grid(&["13,14", "13,14,15"]),
            }],
        },
    ]
}

/// The built-in pack with this id (case-insensitive).
pub fn pack(id: &str) -> Option<Pack> {
    let id = id.trim();
    packs().into_iter().find(|p| p.id.eq_ignore_ascii_case(id))
}

/// The sweep grid of a model's pack and template (what a sweep of it starts from); the daily
/// template's when none is given or the pair is unknown.
pub fn template_grid(of: Option<(&str, &str)>) -> crate::grid::Grid {
    let daily = || packs().into_iter().next().map(|p| p.templates[0].sweep.clone());
    of.and_then(|(pack_id, template)| pack(pack_id)?.template(template).map(|t| t.sweep.clone()))
        .or_else(daily)
        .unwrap_or_default()
}

/// Ids of the built-in packs.
pub fn pack_ids() -> Vec<String> {
    packs().into_iter().map(|p| p.id).collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        let ps = packs();
        assert_eq!(ps.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["swingsigma", "zerosigma"]);
        let sw = &ps[0].templates[0];
        assert_eq!(sw.features.len(), SWING_DEFAULT_FEATURES.len());
        let zs = &ps[1].templates[0];
        assert_eq!(zs.features.len(), INTRADAY_DEFAULT_FEATURES.len());
        let names: Vec<String> = sw.features.iter().flat_map(|f| f.outputs().unwrap()).collect();
        assert!((65..=80).contains(&names.len()), "{}", names.len());
        let mut uniq = names.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), names.len());
        assert!(pack("SwingSigma").is_some() && pack("nope").is_none());
        assert_eq!(sw.sweep.backtest.thresholds[1], "0.55,0.60,0.65");
        assert_eq!(zs.sweep.backtest.allowed_hours, vec!["13,14", "13,14,15"]);
        assert!(zs.label.within_session());
        assert_eq!(sw.label.distance_max(), 7);
    }
}
