//! The feature-spec language: how a model names what it computes, so a request, a stored model
//! and a matrix agree on one spelling and one hash.
//!
//! A [`FeatureSpec`] names one feature and its parameters the way the seed's custom indicators
//! do (`{"name": "custom_rsi", "params": {"period": 21}}`) or in the compact string form
//! (`"rsi:14"`, `"macd:12:26:9"`, positional parameters in the order listed by
//! [`feature_catalog`]). Names cover every TA-Lib indicator of the registry
//! ([`crate::indicators::KNOWN_INDICATORS`]), the ML features of [`crate::features`] and the
//! seed's custom aliases `custom_rsi` and `volatility_filter`.
//!
//! Every spec has a canonical form ([`FeatureSpec::canonical`]): the registry name in lower
//! case, every parameter spelled out under its canonical name (defaults filled in). Models keep
//! canonical specs, so hashes do not depend on how a user wrote them.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::data::time::parse_tz;
use crate::data::Series;
use crate::features::{self, Clock};
use crate::indicators::{Indicator, IndicatorError, Ohlcv, KNOWN_INDICATORS, MAX_PERIOD};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a feature or label could not be parsed, resolved or computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    #[error("unknown feature `{name}`; known features: {known}")]
    UnknownFeature { name: String, known: String },
    #[error("{feature}: unknown parameter `{param}`; it takes {valid}")]
    UnknownParam { feature: String, param: String, valid: String },
    #[error("{feature}: `{param}` must be {expected}, got {value}")]
    BadParam { feature: String, param: String, value: f64, expected: String },
    #[error("`{spec}`: {detail}")]
    BadSpec { spec: String, detail: String },
    #[error("{feature}: {source}")]
    Indicator { feature: String, source: IndicatorError },
    #[error("unknown time zone `{0}`; expected an IANA name such as \"UTC\" or \"America/New_York\"")]
    UnknownTimeZone(String),
    #[error("series {ticker}: columns have different lengths (ts, open, high, low, close, volume: {lengths:?})")]
    LengthMismatch { ticker: String, lengths: Vec<usize> },
    #[error("label: {0}")]
    BadLabel(String),
}

// ---------------------------------------------------------------------------------------------
// Feature specs
// ---------------------------------------------------------------------------------------------

/// One feature and its parameters. Deserialises from `{"name": …, "params": {…}}` or from the
/// compact string `"name:p1:p2"`; serialises as the object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSpec {
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

impl<'de> Deserialize<'de> for FeatureSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        const SHAPE: &str =
            r#"a feature is a string like "rsi:14" or an object like {"name": "rsi", "params": {"period": 14}}"#;
        match Value::deserialize(d)? {
            Value::String(s) => FeatureSpec::parse(&s).map_err(D::Error::custom),
            Value::Object(m) => {
                let name = match m.get("name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => return Err(D::Error::custom(format!("feature without a string `name`; {SHAPE}"))),
                };
                if let Some(k) = m.keys().find(|k| *k != "name" && *k != "params") {
                    return Err(D::Error::custom(format!(
                        "feature {name}: unexpected key `{k}` (only `name` and `params`)"
                    )));
                }
                let mut params = BTreeMap::new();
                match m.get("params") {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(p)) => {
                        for (k, v) in p {
                            let Some(x) = v.as_f64() else {
                                return Err(D::Error::custom(format!(
                                    "feature {name}: parameter `{k}` must be a number, got {v}"
                                )));
                            };
                            params.insert(k.clone(), x);
                        }
                    }
                    Some(other) => {
                        return Err(D::Error::custom(format!(
                            "feature {name}: `params` must be an object, got {other}"
                        )))
                    }
                }
                Ok(FeatureSpec { name, params })
            }
            other => Err(D::Error::custom(format!("{SHAPE}; got {other}"))),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum PKind {
    /// Integer with this minimum (≤ 100000).
    Int(usize),
    /// Any finite real.
    Real,
}

/// One parameter of a feature: canonical name, kind, default.
struct PDef {
    name: &'static str,
    kind: PKind,
    default: f64,
}

/// Ids of the features the engine computes itself (not TA-Lib).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ml {
    LogRet,
    RVol,
    ZScore,
    VolumeZ,
    DistHigh,
    DistLow,
    Vwap,
    OpeningRange,
    Gap,
    Hour,
    MinuteOfDay,
    DayOfWeek,
    Momentum,
    CustomRsi,
    VolFilter,
}

struct MlDef {
    name: &'static str,
    aliases: &'static [&'static str],
    id: Ml,
    params: &'static [PDef],
    doc: &'static str,
}

const fn int(name: &'static str, min: usize, default: f64) -> PDef {
    PDef { name, kind: PKind::Int(min), default }
}

const ML_DEFS: &[MlDef] = &[
    MlDef { name: "logret", aliases: &["log_return", "logreturn"], id: Ml::LogRet, params: &[int("period", 1, 1.0)],
        doc: "ln(close[t] / close[t-period]) → logret_<period>" },
    MlDef { name: "rvol", aliases: &["realized_vol", "realised_vol", "realized_volatility", "realised_volatility"], id: Ml::RVol,
        params: &[int("period", 2, 20.0)], doc: "population std of the last <period> 1-bar log returns → rvol_<period>" },
    MlDef { name: "zscore", aliases: &["close_zscore"], id: Ml::ZScore, params: &[int("period", 2, 20.0)],
        doc: "(close − SMA) / std over <period> bars → zscore_<period>" },
    MlDef { name: "volume_zscore", aliases: &["vol_zscore"], id: Ml::VolumeZ, params: &[int("period", 2, 20.0)],
        doc: "(volume − mean) / std over <period> bars → volume_zscore_<period>" },
    MlDef { name: "dist_high", aliases: &[], id: Ml::DistHigh, params: &[int("period", 1, 20.0)],
        doc: "close / highest high of <period> bars − 1 → dist_high_<period>" },
    MlDef { name: "dist_low", aliases: &[], id: Ml::DistLow, params: &[int("period", 1, 20.0)],
        doc: "close / lowest low of <period> bars − 1 → dist_low_<period>" },
    MlDef { name: "vwap", aliases: &["session_vwap"], id: Ml::Vwap, params: &[],
        doc: "session VWAP of the typical price, and close / vwap − 1 → vwap, vwap_dist" },
    MlDef { name: "opening_range", aliases: &["or", "orb"], id: Ml::OpeningRange, params: &[int("bars", 1, 6.0)],
        doc: "high / low of the session's first <bars> bars and the close's position in them → or_high_<bars>, or_low_<bars>, or_pos_<bars>" },
    MlDef { name: "gap", aliases: &["gap_pct"], id: Ml::Gap, params: &[],
        doc: "session open / previous session's last close − 1 → gap_pct" },
    MlDef { name: "hour", aliases: &["hour_of_day"], id: Ml::Hour, params: &[], doc: "local hour 0..23 → hour" },
    MlDef { name: "minute_of_day", aliases: &["minute"], id: Ml::MinuteOfDay, params: &[],
        doc: "local minutes since midnight → minute_of_day" },
    MlDef { name: "day_of_week", aliases: &["dow", "weekday"], id: Ml::DayOfWeek, params: &[],
        doc: "local day of week, 0 = Monday → day_of_week" },
    MlDef { name: "momentum_score_total", aliases: &["momentum_score", "momentum"], id: Ml::Momentum, params: &[],
        doc: "sum over h in 5,10,20,60 of tanh(ln(close[t]/close[t-h]) / (rvol60·√h)) → momentum_score_total" },
    MlDef { name: "custom_rsi", aliases: &[], id: Ml::CustomRsi, params: &[int("period", 2, 14.0)],
        doc: "TA-Lib RSI under the seed's custom name → custom_rsi_<period>" },
    MlDef { name: "volatility_filter", aliases: &[], id: Ml::VolFilter,
        params: &[PDef { name: "threshold", kind: PKind::Real, default: 0.02 }, int("period", 2, 20.0)],
        doc: "1 when rvol(<period>) > <threshold> else 0 → volatility_filter_<period>_<threshold>" },
];

/// Canonical parameter names of a TA-Lib indicator, in the registry's positional order.
fn talib_param_names(name: &str) -> &'static [&'static str] {
    match name {
        "stoch" => &["fastk", "slowk", "slowd"],
        "stochrsi" => &["period", "fastk", "fastd"],
        "macd" => &["fast", "slow", "signal"],
        "ppo" | "adosc" => &["fast", "slow"],
        "ultosc" => &["period1", "period2", "period3"],
        "bbands" => &["period", "nbdevup", "nbdevdn"],
        "stddev" => &["period", "nbdev"],
        "trange" | "obv" | "ad" => &[],
        _ => &["period"],
    }
}

fn talib_real_param(p: &str) -> bool {
    matches!(p, "nbdevup" | "nbdevdn" | "nbdev")
}

/// One parameter of a catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    pub default: f64,
    /// Whether the value must be a whole number (periods, bar counts).
    pub integer: bool,
}

/// A catalogue entry, for pickers and help text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureInfo {
    pub name: String,
    /// `"talib"` or `"ml"`.
    pub family: String,
    /// Canonical parameter names with defaults, in positional order.
    pub params: Vec<ParamInfo>,
    /// Output columns with default parameters.
    pub outputs: Vec<String>,
    pub doc: String,
}

/// Every feature name with its parameters and default outputs: the TA-Lib registry first, then
/// the engine's own features.
pub fn feature_catalog() -> Vec<FeatureInfo> {
    let mut out = Vec::new();
    for &name in KNOWN_INDICATORS {
        let spec = FeatureSpec { name: name.to_string(), params: BTreeMap::new() };
        if let Ok(c) = spec.canonical() {
            let params = talib_param_names(name)
                .iter()
                .map(|p| ParamInfo {
                    name: p.to_string(),
                    default: c.params.get(*p).copied().unwrap_or(f64::NAN),
                    integer: !talib_real_param(p),
                })
                .collect();
            out.push(FeatureInfo {
                name: name.to_string(),
                family: "talib".into(),
                params,
                outputs: c.outputs().unwrap_or_default(),
                doc: format!("TA-Lib {}", name.to_uppercase()),
            });
        }
    }
    for d in ML_DEFS {
        let spec = FeatureSpec { name: d.name.to_string(), params: BTreeMap::new() };
        out.push(FeatureInfo {
            name: d.name.to_string(),
            family: "ml".into(),
            params: d
                .params
                .iter()
                .map(|p| ParamInfo {
                    name: p.name.to_string(),
                    default: p.default,
                    integer: matches!(p.kind, PKind::Int(_)),
                })
                .collect(),
            outputs: spec.outputs().unwrap_or_default(),
            doc: d.doc.to_string(),
        });
    }
    out
}

fn known_features() -> String {
    let mut v: Vec<&str> = KNOWN_INDICATORS.to_vec();
    v.extend(ML_DEFS.iter().map(|d| d.name));
    v.join(", ")
}

/// Parameter-name spellings accepted for the canonical one: `fast_period`, `fastperiod`,
/// `timeperiod`, `time_period`, `length`, `window`, `n` …
fn canon_param(p: &str) -> String {
    let p = p.trim().to_ascii_lowercase();
    match p.as_str() {
        "timeperiod" | "time_period" | "length" | "window" | "n" | "lookback" => return "period".into(),
        "k" | "n_bars" | "num_bars" => return "bars".into(),
        _ => {}
    }
    for suf in ["_period", "period"] {
        if let Some(stem) = p.strip_suffix(suf) {
            if !stem.is_empty() && stem != "time" {
                return stem.to_string();
            }
        }
    }
    p
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A spec resolved to what is computed.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Talib(Indicator),
    Ml(Ml, Vec<f64>),
}

/// Shared per-series inputs (the local clock is computed once, on first use).
struct Ctx<'a> {
    s: &'a Series,
    tz: Tz,
    clock: OnceCell<Clock>,
}

impl<'a> Ctx<'a> {
    fn new(s: &'a Series, tz: Tz) -> Result<Self, FeatureError> {
        check_series(s)?;
        Ok(Ctx { s, tz, clock: OnceCell::new() })
    }
    fn clock(&self) -> &Clock {
        self.clock.get_or_init(|| Clock::new(&self.s.ts, self.tz))
    }
}

pub(crate) fn check_series(s: &Series) -> Result<(), FeatureError> {
    let lengths = vec![s.ts.len(), s.open.len(), s.high.len(), s.low.len(), s.close.len(), s.volume.len()];
    if lengths.iter().any(|&l| l != s.ts.len()) {
        return Err(FeatureError::LengthMismatch { ticker: s.ticker.clone(), lengths });
    }
    Ok(())
}

pub(crate) fn tz_of(tz: &str) -> Result<Tz, FeatureError> {
    parse_tz(tz).ok_or_else(|| FeatureError::UnknownTimeZone(tz.to_string()))
}

impl FeatureSpec {
    /// A spec from a name and `(param, value)` pairs (not validated; see [`FeatureSpec::canonical`]).
    pub fn new(name: &str, params: &[(&str, f64)]) -> FeatureSpec {
        FeatureSpec { name: name.to_string(), params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect() }
    }

    /// Parse the compact form: `"rsi:14"`, `"macd:12:26:9"`, `"bbands:20:2"`, `"vwap"`,
    /// `"custom_rsi:21"`, `"volatility_filter:0.02"`. Parameters are positional (order of
    /// [`feature_catalog`]); missing ones take their defaults. Returns the canonical spec.
    pub fn parse(s: &str) -> Result<FeatureSpec, FeatureError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(FeatureError::BadSpec { spec: s.to_string(), detail: "empty feature spec".into() });
        }
        let mut toks = text.split(':').map(str::trim);
        let name = toks.next().unwrap_or_default().to_ascii_lowercase();
        let names = param_names(&name)?;
        let mut params = BTreeMap::new();
        for (i, tok) in toks.enumerate() {
            let Some(p) = names.get(i) else {
                return Err(FeatureError::BadSpec {
                    spec: text.to_string(),
                    detail: format!("too many parameters (`{tok}` is extra); {name} takes {}", usage(&names)),
                });
            };
            let v: f64 = tok.parse().map_err(|_| FeatureError::BadSpec {
                spec: text.to_string(),
                detail: format!("`{tok}` is not a number (parameter `{p}`)"),
            })?;
            params.insert(p.clone(), v);
        }
        FeatureSpec { name, params }.canonical()
    }

    /// The canonical form: lower-case registry name, aliases resolved, every parameter present
    /// under its canonical name. Validates every parameter.
    pub fn canonical(&self) -> Result<FeatureSpec, FeatureError> {
        let (name, resolved) = self.resolve()?;
        let params = match &resolved {
            Resolved::Talib(ind) => {
                let toks: Vec<f64> = ind.spec().split(':').skip(1).filter_map(|t| t.parse().ok()).collect();
                let names = talib_param_names(&name);
                let mut m = BTreeMap::new();
                for (i, p) in names.iter().enumerate() {
                    // bbands writes one deviation when both are equal.
                    let v = toks.get(i).or_else(|| toks.last()).copied().unwrap_or(f64::NAN);
                    m.insert(p.to_string(), v);
                }
                m
            }
            Resolved::Ml(id, vals) => {
                let d = ml_def_by_id(*id);
                d.params.iter().zip(vals).map(|(p, v)| (p.name.to_string(), *v)).collect()
            }
        };
        Ok(FeatureSpec { name, params })
    }

    /// Compact string of the canonical form (`"rsi:14"`, `"bbands:20:2:2"`).
    pub fn spec_string(&self) -> Result<String, FeatureError> {
        let c = self.canonical()?;
        let mut s = c.name.clone();
        for p in param_names(&c.name)? {
            s.push(':');
            s.push_str(&fmt_num(c.params.get(&p).copied().unwrap_or(f64::NAN)));
        }
        Ok(s)
    }

    fn resolve(&self) -> Result<(String, Resolved), FeatureError> {
        let raw = self.name.trim().to_ascii_lowercase();
        let given: Vec<(String, String, f64)> =
            self.params.iter().map(|(k, v)| (k.clone(), canon_param(k), *v)).collect();
        if KNOWN_INDICATORS.contains(&raw.as_str()) {
            let names = talib_param_names(&raw);
            let mut vals: Vec<Option<f64>> = vec![None; names.len()];
            for (orig, p, v) in &given {
                let Some(i) = names.iter().position(|n| n == p) else {
                    return Err(FeatureError::UnknownParam {
                        feature: raw.clone(),
                        param: orig.clone(),
                        valid: usage(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                    });
                };
                vals[i] = Some(*v);
            }
            let defaults: Vec<String> = Indicator::parse(&raw)
                .map(|d| d.spec().split(':').skip(1).map(str::to_string).collect())
                .unwrap_or_default();
            let mut spec = raw.clone();
            for (i, p) in names.iter().enumerate() {
                // The registry checks each period's own minimum below.
                let kind = if talib_real_param(p) { PKind::Real } else { PKind::Int(1) };
                let tok = match vals[i] {
                    Some(v) => fmt_num(check_value(&raw, p, v, kind)?),
                    // bbands: the lower deviation defaults to the upper one.
                    None => match vals.get(1).copied().flatten() {
                        Some(up) if *p == "nbdevdn" => fmt_num(check_value(&raw, "nbdevup", up, PKind::Real)?),
                        _ => defaults.get(i).or(defaults.last()).cloned().unwrap_or_else(|| "0".into()),
                    },
                };
                spec.push(':');
                spec.push_str(&tok);
            }
            let ind =
                Indicator::parse(&spec).map_err(|e| FeatureError::Indicator { feature: raw.clone(), source: e })?;
            return Ok((raw, Resolved::Talib(ind)));
        }
        let Some(d) = ml_def(&raw) else {
            return Err(FeatureError::UnknownFeature { name: self.name.clone(), known: known_features() });
        };
        let mut vals: Vec<f64> = d.params.iter().map(|p| p.default).collect();
        for (orig, p, v) in &given {
            let Some(i) = d.params.iter().position(|q| q.name == p) else {
                return Err(FeatureError::UnknownParam {
                    feature: d.name.to_string(),
                    param: orig.clone(),
                    valid: usage(&d.params.iter().map(|q| q.name.to_string()).collect::<Vec<_>>()),
                });
            };
            vals[i] = check_value(d.name, d.params[i].name, *v, d.params[i].kind)?;
        }
        Ok((d.name.to_string(), Resolved::Ml(d.id, vals)))
    }

    /// Output column names (stable): TA-Lib ones as the registry names them (`rsi_14`,
    /// `macd_hist_12_26_9`, `bbands_upper_20_2`), the engine's as in [`feature_catalog`]
    /// (`logret_5`, `vwap_dist`, `custom_rsi_21`, `volatility_filter_20_0.02`).
    pub fn outputs(&self) -> Result<Vec<String>, FeatureError> {
        let (_, r) = self.resolve()?;
        Ok(outputs_of(&r))
    }

    /// Compute every output column (in [`FeatureSpec::outputs`] order) over the whole series;
    /// `tz` is the dataset's IANA zone (sessions, hours). Each column is as long as the series,
    /// `NaN` during warm-up.
    pub fn compute(&self, series: &Series, tz: &str) -> Result<Vec<Vec<f64>>, FeatureError> {
        let (_, r) = self.resolve()?;
        let ctx = Ctx::new(series, tz_of(tz)?)?;
        compute_resolved(&r, &ctx)
    }
}

fn check_value(feature: &str, param: &str, v: f64, kind: PKind) -> Result<f64, FeatureError> {
    let bad = |expected: String| FeatureError::BadParam {
        feature: feature.to_string(),
        param: param.to_string(),
        value: v,
        expected,
    };
    match kind {
        PKind::Real => {
            if v.is_finite() && v.abs() <= 3e37 {
                Ok(v)
            } else {
                Err(bad("a finite number".into()))
            }
        }
        PKind::Int(min) => {
            if v.is_finite() && v.fract() == 0.0 && v >= min as f64 && v <= MAX_PERIOD as f64 {
                Ok(v)
            } else {
                Err(bad(format!("an integer from {min} to {MAX_PERIOD}")))
            }
        }
    }
}

fn usage(names: &[String]) -> String {
    if names.is_empty() {
        "no parameters".to_string()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

fn ml_def(name: &str) -> Option<&'static MlDef> {
    ML_DEFS.iter().find(|d| d.name == name || d.aliases.contains(&name))
}

fn ml_def_by_id(id: Ml) -> &'static MlDef {
    // Every id has exactly one entry (checked by a test); fall back to the first to stay total.
    ML_DEFS.iter().find(|d| d.id == id).unwrap_or(&ML_DEFS[0])
}

/// Canonical positional parameter names of a feature name (or alias).
fn param_names(name: &str) -> Result<Vec<String>, FeatureError> {
    if KNOWN_INDICATORS.contains(&name) {
        return Ok(talib_param_names(name).iter().map(|s| s.to_string()).collect());
    }
    match ml_def(name) {
        Some(d) => Ok(d.params.iter().map(|p| p.name.to_string()).collect()),
        None => Err(FeatureError::UnknownFeature { name: name.to_string(), known: known_features() }),
    }
}

fn outputs_of(r: &Resolved) -> Vec<String> {
    match r {
        Resolved::Talib(ind) => ind.outputs(),
        Resolved::Ml(id, vals) => {
            let p = |i: usize| vals.get(i).copied().map(fmt_num).unwrap_or_default();
            match id {
                Ml::LogRet => vec![format!("logret_{}", p(0))],
                Ml::RVol => vec![format!("rvol_{}", p(0))],
                Ml::ZScore => vec![format!("zscore_{}", p(0))],
                Ml::VolumeZ => vec![format!("volume_zscore_{}", p(0))],
                Ml::DistHigh => vec![format!("dist_high_{}", p(0))],
                Ml::DistLow => vec![format!("dist_low_{}", p(0))],
                Ml::Vwap => vec!["vwap".into(), "vwap_dist".into()],
                Ml::OpeningRange => {
                    vec![format!("or_high_{}", p(0)), format!("or_low_{}", p(0)), format!("or_pos_{}", p(0))]
                }
                Ml::Gap => vec!["gap_pct".into()],
                Ml::Hour => vec!["hour".into()],
                Ml::MinuteOfDay => vec!["minute_of_day".into()],
                Ml::DayOfWeek => vec!["day_of_week".into()],
                Ml::Momentum => vec!["momentum_score_total".into()],
                Ml::CustomRsi => vec![format!("custom_rsi_{}", p(0))],
                Ml::VolFilter => vec![format!("volatility_filter_{}_{}", p(1), p(0))],
            }
        }
    }
}

fn compute_resolved(r: &Resolved, ctx: &Ctx<'_>) -> Result<Vec<Vec<f64>>, FeatureError> {
    let s = ctx.s;
    let bars = Ohlcv::from(s);
    match r {
        Resolved::Talib(ind) => {
            ind.compute(&bars).map_err(|e| FeatureError::Indicator { feature: ind.spec(), source: e })
        }
        Resolved::Ml(id, vals) => {
            let u = |i: usize| vals.get(i).copied().unwrap_or(1.0) as usize;
            let (h, l, c, v) = (&s.high, &s.low, &s.close, &s.volume);
            Ok(match id {
                Ml::LogRet => vec![features::log_return(c, u(0))],
                Ml::RVol => vec![features::realized_vol(c, u(0))],
                Ml::ZScore => vec![features::zscore(c, u(0))],
                Ml::VolumeZ => vec![features::zscore(v, u(0))],
                Ml::DistHigh => vec![features::dist_high(h, c, u(0))],
                Ml::DistLow => vec![features::dist_low(l, c, u(0))],
                Ml::Vwap => {
                    let w = features::vwap(ctx.clock(), h, l, c, v);
                    vec![w.vwap, w.dist]
                }
                Ml::OpeningRange => {
                    let o = features::opening_range(ctx.clock(), h, l, c, u(0));
                    vec![o.high, o.low, o.pos]
                }
                Ml::Gap => vec![features::gap_pct(ctx.clock(), &s.open, c)],
                Ml::Hour => vec![features::hour(ctx.clock())],
                Ml::MinuteOfDay => vec![features::minute_of_day(ctx.clock())],
                Ml::DayOfWeek => vec![features::day_of_week(ctx.clock())],
                Ml::Momentum => vec![features::momentum_score_total(c)],
                Ml::CustomRsi => {
                    vec![crate::indicators::rsi(c, u(0))
                        .map_err(|e| FeatureError::Indicator { feature: "custom_rsi".into(), source: e })?]
                }
                Ml::VolFilter => vec![features::volatility_filter(c, u(1), vals.first().copied().unwrap_or(0.02))],
            })
        }
    }
}

/// Feature columns computed for a list of specs.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFrame {
    pub names: Vec<String>,
    /// One column per name, each as long as the series.
    pub columns: Vec<Vec<f64>>,
}

/// Compute every spec's outputs over `series` (sharing the local clock), in order.
pub fn compute_features(specs: &[FeatureSpec], series: &Series, tz: &str) -> Result<FeatureFrame, FeatureError> {
    compute_features_with_progress(specs, series, tz, &mut |_, _| {})
}

/// [`compute_features`], calling `progress(done, total)` after each spec so a worker can show
/// how far a long build has come.
pub fn compute_features_with_progress(
    specs: &[FeatureSpec],
    series: &Series,
    tz: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<FeatureFrame, FeatureError> {
    let ctx = Ctx::new(series, tz_of(tz)?)?;
    let mut frame = FeatureFrame { names: Vec::new(), columns: Vec::new() };
    for (i, spec) in specs.iter().enumerate() {
        let (_, r) = spec.resolve()?;
        frame.names.extend(outputs_of(&r));
        frame.columns.extend(compute_resolved(&r, &ctx)?);
        progress(i + 1, specs.len());
    }
    Ok(frame)
}

impl FromStr for FeatureSpec {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeatureSpec::parse(s)
    }
}

impl fmt::Display for FeatureSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.spec_string() {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Daily bars on a rising sine, shared with the label tests.
    pub(crate) fn series(n: usize) -> Series {
        let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0 + i as f64 * 0.1).collect();
        Series {
            ticker: "T".into(),
            ts: (0..n as i64).map(|i| i * 86_400_000).collect(),
            open: close.iter().map(|c| c - 0.5).collect(),
            high: close.iter().map(|c| c + 1.0).collect(),
            low: close.iter().map(|c| c - 1.0).collect(),
            close,
            volume: (0..n).map(|i| 1000.0 + (i % 7) as f64 * 100.0).collect(),
            adj_close: None,
        }
    }

    #[test]
    fn parse_and_canonical() {
        let s = FeatureSpec::parse("RSI:21").unwrap();
        assert_eq!(s, FeatureSpec::new("rsi", &[("period", 21.0)]));
        assert_eq!(s.outputs().unwrap(), vec!["rsi_21"]);
        assert_eq!(FeatureSpec::parse("rsi").unwrap().params["period"], 14.0);
        let m = FeatureSpec::parse("macd").unwrap();
        assert_eq!(m.outputs().unwrap(), vec!["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]);
        let m2 = FeatureSpec::new("macd", &[("fast_period", 5.0), ("slow", 35.0), ("signalperiod", 5.0)])
            .canonical()
            .unwrap();
        assert_eq!(m2.spec_string().unwrap(), "macd:5:35:5");
        let b = FeatureSpec::parse("bbands:20:2").unwrap();
        assert_eq!(b.params.len(), 3);
        assert_eq!(b.params["nbdevdn"], 2.0);
        assert_eq!(b.outputs().unwrap()[0], "bbands_upper_20_2");
        let b2 = FeatureSpec::new("bbands", &[("nbdevup", 2.5)]).canonical().unwrap();
        assert_eq!(b2.spec_string().unwrap(), "bbands:20:2.5:2.5");
        let b3 = FeatureSpec::new("bbands", &[("nbdevdn", 1.5)]).canonical().unwrap();
        assert_eq!(b3.spec_string().unwrap(), "bbands:20:2:1.5");
        assert_eq!(FeatureSpec::parse("obv").unwrap().outputs().unwrap(), vec!["obv"]);
        assert_eq!(FeatureSpec::parse("logret:5").unwrap().outputs().unwrap(), vec!["logret_5"]);
        assert_eq!(FeatureSpec::parse("vwap").unwrap().outputs().unwrap(), vec!["vwap", "vwap_dist"]);
        assert_eq!(FeatureSpec::parse("realized_vol:10").unwrap().name, "rvol");
        let j: FeatureSpec = serde_json::from_str(r#"{"name": "custom_rsi", "params": {"period": 21}}"#).unwrap();
        assert_eq!(j.outputs().unwrap(), vec!["custom_rsi_21"]);
        let j: FeatureSpec =
            serde_json::from_str(r#"{"name": "volatility_filter", "params": {"threshold": 0.02}}"#).unwrap();
        assert_eq!(j.outputs().unwrap(), vec!["volatility_filter_20_0.02"]);
        let j: Vec<FeatureSpec> = serde_json::from_str(r#"["rsi:14", {"name":"vwap"}]"#).unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!(
            serde_json::to_string(&FeatureSpec::parse("custom_rsi:21").unwrap()).unwrap(),
            r#"{"name":"custom_rsi","params":{"period":21.0}}"#
        );
    }

    #[test]
    fn errors_are_clear() {
        let e = FeatureSpec::parse("rsx:14").unwrap_err().to_string();
        assert!(e.contains("unknown feature `rsx`") && e.contains("rsi") && e.contains("vwap"), "{e}");
        let e = FeatureSpec::new("rsi", &[("length", 1.0)]).canonical().unwrap_err().to_string();
        assert!(e.contains("rsi") && e.contains("period"), "{e}");
        let e = FeatureSpec::new("rsi", &[("speed", 3.0)]).canonical().unwrap_err().to_string();
        assert!(e.contains("unknown parameter `speed`") && e.contains("`period`"), "{e}");
        let e = FeatureSpec::new("logret", &[("period", 2.5)]).canonical().unwrap_err().to_string();
        assert!(e.contains("an integer from 1"), "{e}");
        let e = FeatureSpec::parse("rsi:14:3").unwrap_err().to_string();
        assert!(e.contains("too many parameters"), "{e}");
        let e = FeatureSpec::parse("rsi:abc").unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        assert!(FeatureSpec::new("volatility_filter", &[("threshold", f64::NAN)]).canonical().is_err());
        assert!(serde_json::from_str::<FeatureSpec>(r#""nope:1""#).is_err());
        let e =
            serde_json::from_str::<FeatureSpec>(r#"{"name":"rsi","params":{"period":"x"}}"#).unwrap_err().to_string();
        assert!(e.contains("parameter `period` must be a number"), "{e}");
        let e = serde_json::from_str::<FeatureSpec>(r#"{"nam":"rsi"}"#).unwrap_err().to_string();
        assert!(e.contains("without a string `name`"), "{e}");
        let e = serde_json::from_str::<FeatureSpec>("14").unwrap_err().to_string();
        assert!(e.contains("rsi:14"), "{e}");
        assert!(FeatureSpec::parse("rsi").unwrap().compute(&series(50), "Mars/Base").is_err());
    }

    #[test]
    fn every_catalog_entry_computes() {
        let s = series(120);
        let cat = feature_catalog();
        assert_eq!(cat.len(), KNOWN_INDICATORS.len() + ML_DEFS.len());
        for info in cat {
            let spec = FeatureSpec { name: info.name.clone(), params: BTreeMap::new() };
            let cols = spec.compute(&s, "UTC").unwrap();
            assert_eq!(cols.len(), info.outputs.len(), "{}", info.name);
            assert!(cols.iter().all(|c| c.len() == 120), "{}", info.name);
            // Daily bars: every session is one bar, so an opening range of 6 bars never completes.
            if info.name != "opening_range" {
                assert!(cols.iter().all(|c| c[119].is_finite()), "{} has no value at the end", info.name);
            }
        }
        for d in ML_DEFS {
            assert_eq!(ml_def_by_id(d.id).name, d.name);
        }
        let r = FeatureSpec::parse("custom_rsi:21").unwrap().compute(&s, "UTC").unwrap();
        let want = crate::indicators::rsi(&s.close, 21).unwrap();
        assert_eq!(
            r[0].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
