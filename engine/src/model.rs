//! Models: the research unit (`spy_swing_daily`), created from a pack template.
//!
//! [`ModelSpec`] is the body of the seed's `POST /models`; [`ModelSpec::resolve`] fills every
//! default from the pack and template and validates names, giving a [`Model`] whose features are
//! canonical [`FeatureSpec`]s (so its hashes do not depend on how the request was written).

use serde::{Deserialize, Serialize};

use crate::data::Cadence;
use crate::features::{FeatureError, FeatureSpec};
use crate::label::LabelSpec;
use crate::lineage::sha_of;
use crate::pack;
use crate::risk::RiskProfile;

fn default_asset() -> String {
    "eq".to_string()
}

/// Body of `POST /models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub pack_id: String,
    /// `[a-z0-9_]+`; default `{ticker}_{horizon}_{cadence}` in lower case (`aapl_swing_daily`).
    #[serde(default)]
    pub model_id: Option<String>,
    pub ticker: String,
    #[serde(default = "default_asset")]
    pub asset: String,
    /// Default: the pack's (`swing`, `intraday`).
    #[serde(default)]
    pub horizon: Option<String>,
    /// A cadence name (`daily`, `five_minute`, …); default: the pack's.
    #[serde(default)]
    pub cadence: Option<String>,
    #[serde(default)]
    pub risk_profile: RiskProfile,
    /// Template id; default: the pack's first.
    #[serde(default)]
    pub template: Option<String>,
    /// Replaces the template's features when given.
    #[serde(default)]
    pub indicators: Option<Vec<FeatureSpec>>,
    /// Added after the (template's or given) indicators.
    #[serde(default)]
    pub custom_indicators: Vec<FeatureSpec>,
}

impl ModelSpec {
    /// A spec with only the required fields; everything else defaults.
    pub fn new(pack_id: &str, ticker: &str) -> ModelSpec {
        ModelSpec {
            pack_id: pack_id.to_string(),
            model_id: None,
            ticker: ticker.to_string(),
            asset: default_asset(),
            horizon: None,
            cadence: None,
            risk_profile: RiskProfile::default(),
            template: None,
            indicators: None,
            custom_indicators: Vec::new(),
        }
    }
}

/// A resolved model: every default filled in, features canonical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub pack_id: String,
    pub model_id: String,
    pub ticker: String,
    pub asset: String,
    pub horizon: String,
    pub cadence: String,
    pub risk_profile: RiskProfile,
    /// Template id.
    pub template: String,
    pub features: Vec<FeatureSpec>,
    pub label: LabelSpec,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("unknown pack `{pack}`; known packs: {known}")]
    UnknownPack { pack: String, known: String },
    #[error("pack {pack} has no template `{template}`; its templates: {known}")]
    UnknownTemplate { pack: String, template: String, known: String },
    #[error("invalid model_id `{id}`: use lower-case letters, digits and `_` only (e.g. `spy_swing_daily`)")]
    BadModelId { id: String },
    #[error("invalid {field} `{value}`: use letters, digits and `_` only")]
    BadName { field: &'static str, value: String },
    #[error("unknown cadence `{cadence}`; expected one of: {known}")]
    UnknownCadence { cadence: String, known: String },
    #[error("ticker is empty")]
    EmptyTicker,
    #[error("the model has no features")]
    NoFeatures,
    #[error("feature column `{column}` is produced twice (by `{first}` and `{second}`)")]
    DuplicateColumn { column: String, first: String, second: String },
    #[error("feature {index} (`{name}`): {source}")]
    Feature { index: usize, name: String, source: Box<FeatureError> },
}

const CADENCES: [Cadence; 9] = Cadence::ALL;

/// Whether `id` is a valid model id: non-empty, `[a-z0-9_]+`, at most 128 characters.
pub fn valid_model_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn slug(s: &str) -> String {
    s.trim().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

impl ModelSpec {
    /// Fill defaults from the pack and template, canonicalise and validate the features.
    pub fn resolve(self) -> Result<Model, ModelError> {
        let Some(p) = pack::pack(&self.pack_id) else {
            return Err(ModelError::UnknownPack { pack: self.pack_id.clone(), known: pack::pack_ids().join(", ") });
        };
        let template = match self.template.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => p.template(t).ok_or_else(|| ModelError::UnknownTemplate {
                pack: p.id.clone(),
                template: t.to_string(),
                known: p.templates.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", "),
            })?,
            None => p.templates.first().ok_or_else(|| ModelError::UnknownTemplate {
                pack: p.id.clone(),
                template: String::new(),
                known: String::new(),
            })?,
        };
        let ticker = self.ticker.trim().to_string();
        if ticker.is_empty() {
            return Err(ModelError::EmptyTicker);
        }
        let horizon = match self.horizon.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) => h.to_ascii_lowercase(),
            None => p.horizon.clone(),
        };
        if !horizon.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ModelError::BadName { field: "horizon", value: horizon });
        }
        let cadence = match self.cadence.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                let c = c.to_ascii_lowercase();
                // Accept a few everyday spellings.
                let c = match c.as_str() {
                    "1d" | "day" | "d" => "daily".to_string(),
                    "5m" | "5min" | "5_minute" | "5minute" => "five_minute".to_string(),
                    "1m" | "1min" => "minute".to_string(),
                    "15m" | "15min" => "fifteen_minute".to_string(),
                    "30m" | "30min" => "thirty_minute".to_string(),
                    "1h" | "60m" | "hour" => "hourly".to_string(),
                    _ => c,
                };
                if !CADENCES.iter().any(|k| k.as_str() == c) {
                    return Err(ModelError::UnknownCadence {
                        cadence: c,
                        known: CADENCES.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    });
                }
                c
            }
            None => p.cadence.clone(),
        };
        let asset = {
            let a = self.asset.trim().to_ascii_lowercase();
            if a.is_empty() {
                default_asset()
            } else {
                a
            }
        };
        if !asset.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ModelError::BadName { field: "asset", value: asset });
        }
        let model_id = match self.model_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => {
                if !valid_model_id(m) {
                    return Err(ModelError::BadModelId { id: m.to_string() });
                }
                m.to_string()
            }
            None => format!("{}_{}_{}", slug(&ticker), slug(&horizon), slug(&cadence)),
        };
        let given = self.indicators.unwrap_or_else(|| template.features.clone());
        let mut features: Vec<FeatureSpec> = Vec::new();
        let mut columns: Vec<(String, String)> = Vec::new(); // (column, spec string)
        for (index, f) in given.iter().chain(self.custom_indicators.iter()).enumerate() {
            let c = f.canonical().map_err(|source| ModelError::Feature {
                index,
                name: f.name.clone(),
                source: Box::new(source),
            })?;
            if features.contains(&c) {
                continue; // the same feature twice: keep one
            }
            let outs = c.outputs().map_err(|source| ModelError::Feature {
                index,
                name: f.name.clone(),
                source: Box::new(source),
            })?;
            let me = c.to_string();
            for o in outs {
                if let Some((_, first)) = columns.iter().find(|(col, _)| *col == o) {
                    return Err(ModelError::DuplicateColumn { column: o, first: first.clone(), second: me });
                }
                columns.push((o, me.clone()));
            }
            features.push(c);
        }
        if features.is_empty() {
            return Err(ModelError::NoFeatures);
        }
        Ok(Model {
            pack_id: p.id.clone(),
            model_id,
            ticker,
            asset,
            horizon,
            cadence,
            risk_profile: self.risk_profile,
            template: template.id.clone(),
            features,
            label: template.label.clone(),
        })
    }
}

impl Model {
    /// Feature column names, in matrix order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().flat_map(|f| f.outputs().unwrap_or_default()).collect()
    }

    /// `sha_of(self)`: the model hash of the lineage.
    pub fn model_sha(&self) -> String {
        sha_of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_pack() {
        let m = ModelSpec::new("swingsigma", "AAPL").resolve().unwrap();
        assert_eq!(m.model_id, "aapl_swing_daily");
        assert_eq!((m.horizon.as_str(), m.cadence.as_str(), m.asset.as_str()), ("swing", "daily", "eq"));
        assert_eq!(m.template, "swing_default");
        assert_eq!(m.risk_profile, RiskProfile::Balanced);
        assert_eq!(m.label.distance_max(), 7);
        assert!((65..=80).contains(&m.feature_names().len()));
        let z = ModelSpec::new("ZeroSigma", "spy").resolve().unwrap();
        assert_eq!(z.model_id, "spy_intraday_five_minute");
        assert!(z.feature_names().contains(&"vwap_dist".to_string()));
    }

    #[test]
    fn seed_body() {
        let body = r#"{"pack_id":"swingsigma","model_id":"spy_swing_daily","ticker":"SPY","asset":"eq",
            "horizon":"swing","cadence":"daily","risk_profile":"balanced",
            "custom_indicators":[{"name":"custom_rsi","params":{"period":21}},{"name":"volatility_filter","params":{"threshold":0.02}}]}"#;
        let spec: ModelSpec = serde_json::from_str(body).unwrap();
        let m = spec.resolve().unwrap();
        assert_eq!(m.model_id, "spy_swing_daily");
        let names = m.feature_names();
        assert!(names.contains(&"custom_rsi_21".to_string()));
        assert!(names.contains(&"volatility_filter_20_0.02".to_string()));
        let minimal: ModelSpec =
            serde_json::from_str(r#"{"pack_id":"swingsigma","ticker":"BRK.B","risk_profile":"Aggressive"}"#).unwrap();
        assert_eq!(minimal.risk_profile, RiskProfile::Aggressive);
        let m = minimal.resolve().unwrap();
        assert_eq!(m.model_id, "brk_b_swing_daily");
    }

    #[test]
    fn overrides_and_errors() {
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.indicators =
            Some(vec![FeatureSpec::parse("rsi:14").unwrap(), FeatureSpec::new("RSI", &[("timeperiod", 14.0)])]);
        s.custom_indicators = vec![FeatureSpec::new("custom_rsi", &[("period", 21.0)])];
        let m = s.resolve().unwrap();
        assert_eq!(m.feature_names(), vec!["rsi_14", "custom_rsi_21"]);

        let e = ModelSpec::new("nopack", "AAPL").resolve().unwrap_err().to_string();
        assert!(e.contains("swingsigma, zerosigma"), "{e}");
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.template = Some("fancy".into());
        let e = s.resolve().unwrap_err().to_string();
        assert!(e.contains("swing_default"), "{e}");
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.model_id = Some("AAPL-Swing".into());
        assert!(matches!(s.resolve(), Err(ModelError::BadModelId { .. })));
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.custom_indicators = vec![FeatureSpec::new("nope", &[])];
        let e = s.resolve().unwrap_err().to_string();
        assert!(e.contains("unknown feature `nope`") && e.contains("custom_rsi"), "{e}");
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.cadence = Some("fortnightly".into());
        assert!(s.resolve().unwrap_err().to_string().contains("five_minute"));
        assert_eq!(ModelSpec::new("swingsigma", "  ").resolve(), Err(ModelError::EmptyTicker));
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.indicators = Some(vec![]);
        assert_eq!(s.resolve(), Err(ModelError::NoFeatures));
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.indicators = Some(vec![FeatureSpec::parse("hour").unwrap(), FeatureSpec::parse("hour_of_day").unwrap()]);
        assert_eq!(s.resolve().unwrap().features.len(), 1);
    }

    #[test]
    fn model_sha_is_canonical() {
        let a = ModelSpec::new("swingsigma", "AAPL").resolve().unwrap();
        let mut s = ModelSpec::new("swingsigma", "AAPL");
        s.indicators = Some(pack::pack("swingsigma").unwrap().templates[0].features.clone());
        let b = s.resolve().unwrap();
        assert_eq!(a.model_sha(), b.model_sha());
        assert_eq!(a.model_sha().len(), 64);
    }
}

/// A model as both shells store it (the page in IndexedDB, `btb` in `<store>/models/`), so a
/// record written by one reads in the other and a bundle file carries one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub model_id: String,
    pub model: Model,
    pub dataset_id: String,
    /// RFC 3339 UTC. Records the page stored before this type existed hold epoch milliseconds
    /// instead; they still read (as the same instant, written out), so none is lost.
    #[serde(deserialize_with = "created_from_string_or_ms")]
    pub created: String,
    /// The last matrix built for this model.
    #[serde(default)]
    pub matrix_sha: Option<String>,
    /// The build that made it (signals rebuild the newest rows with the same settings).
    #[serde(default)]
    pub build_spec: Option<crate::matrix::BuildSpec>,
}

impl ModelRecord {
    /// `created` as epoch milliseconds, to order records whatever precision wrote them
    /// (`None` if it is not RFC 3339).
    pub fn created_ms(&self) -> Option<i64> {
        chrono::DateTime::parse_from_rfc3339(&self.created).ok().map(|t| t.timestamp_millis())
    }
}

/// A `created` stamp from epoch milliseconds, to the millisecond: the page creates records
/// faster than once a second and orders them by this stamp.
pub fn created_stamp(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => crate::data::time::format_utc(ms),
    }
}

fn created_from_string_or_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stamp {
        Text(String),
        Millis(f64),
    }
    match Stamp::deserialize(d)? {
        Stamp::Text(s) => Ok(s),
        Stamp::Millis(ms) if ms.is_finite() => Ok(created_stamp(ms.round() as i64)),
        Stamp::Millis(ms) => Err(serde::de::Error::custom(format!("created: {ms} is not a time"))),
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;

    fn record_json(created: serde_json::Value) -> serde_json::Value {
        let model = ModelSpec::new("swingsigma", "AAPL").resolve().unwrap();
        serde_json::json!({"model_id": model.model_id, "model": model, "dataset_id": "ds-1", "created": created})
    }

    #[test]
    fn reads_the_pages_old_millisecond_stamps_and_the_clis_strings() {
        // The page's records before the shared type: f64 milliseconds, no build_spec.
        let old: ModelRecord = serde_json::from_value(record_json(serde_json::json!(1_704_205_800_123.0))).unwrap();
        assert_eq!(old.created, "2024-01-02T14:30:00.123Z");
        assert_eq!(old.created_ms(), Some(1_704_205_800_123));
        assert_eq!((old.matrix_sha.as_ref(), old.build_spec.as_ref()), (None, None));
        // The CLI's: seconds, as `format_utc` writes them.
        let cli: ModelRecord = serde_json::from_value(record_json(serde_json::json!("2024-01-02T14:30:00Z"))).unwrap();
        assert_eq!(cli.created_ms(), Some(1_704_205_800_000));
        // What is written is a string, and it reads back unchanged.
        let text = serde_json::to_string(&old).unwrap();
        assert!(text.contains("\"created\":\"2024-01-02T14:30:00.123Z\""), "{text}");
        assert_eq!(serde_json::from_str::<ModelRecord>(&text).unwrap(), old);
        assert!(serde_json::from_value::<ModelRecord>(record_json(serde_json::json!(true))).is_err());
    }
}
