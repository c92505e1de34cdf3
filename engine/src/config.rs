//! A config: one policy rule (a threshold ladder or a top fraction) with its allowed hours, the
//! unit a sweep varies and a run is judged under. It has its own home because runs, the
//! leaderboard and strategies all name a config while only a sweep expands a request into them
//! ([`crate::sweep`]), so none of them has to depend on request expansion.
//!
//! A sweep writes every config canonically (`"0.6, 0.65"` → `"0.60,0.65"`, hours sorted; see
//! [`Config::normalised`] for one written by hand), so equal configs have equal
//! [`Config::config_sha`].

use serde::{Deserialize, Serialize};

use crate::lineage::sha_of;
use crate::policy::{fmt_level, parse_hours, parse_ladder, Policy, PolicyError, PolicyKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigKind {
    Thr,
    TopPct,
}

/// One sweep variant, shaped like the seed's leaderboard `config`:
/// `{"kind":"thr","value":"0.60,0.65,0.70","allowed_hours":"13,14,15"}` (`allowed_hours` left out
/// when unrestricted). `config_sha` is `sha_of` this object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    pub kind: ConfigKind,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hours: Option<String>,
}

impl Config {
    pub fn config_sha(&self) -> String {
        sha_of(self)
    }

    /// The same config written canonically (`"0.6, 0.65"` → `"0.60,0.65"`, hours sorted), as
    /// [`crate::sweep::expand`] writes it, so equal configs have equal `config_sha`.
    pub fn normalised(&self) -> Result<Config, PolicyError> {
        let value = match self.kind {
            ConfigKind::Thr => join(parse_ladder(&self.value)?.into_iter().map(fmt_level)),
            ConfigKind::TopPct => {
                let f: f64 = self.value.trim().parse().map_err(|_| PolicyError::BadNumber(self.value.clone()))?;
                if !(f > 0.0 && f < 1.0) {
                    return Err(PolicyError::BadFraction(f));
                }
                fmt_level(f)
            }
        };
        let allowed_hours = match &self.allowed_hours {
            Some(h) => Some(join(parse_hours(h)?.into_iter().map(|h| h.to_string()))),
            None => None,
        };
        Ok(Config { kind: self.kind, value, allowed_hours })
    }

    /// `base` (exits, costs, momentum gate, shorts) with this config's rule and hours.
    pub fn to_policy(&self, base: &Policy) -> Result<Policy, PolicyError> {
        let kind = match self.kind {
            ConfigKind::Thr => PolicyKind::Thr { ladder: parse_ladder(&self.value)? },
            ConfigKind::TopPct => PolicyKind::TopPct {
                fraction: self.value.trim().parse().map_err(|_| PolicyError::BadNumber(self.value.clone()))?,
            },
        };
        let allowed_hours = match &self.allowed_hours {
            Some(h) => Some(parse_hours(h)?),
            None => None,
        };
        let p = Policy { kind, allowed_hours, ..base.clone() };
        p.validate()?;
        Ok(p)
    }
}

/// The one wording of a config, wherever one is named (the terminal, the page, the HTML report,
/// an alert): `thr 0.60,0.65,0.70 · hours 13,14`, `top_pct 0.10`.
impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ConfigKind::Thr => "thr",
            ConfigKind::TopPct => "top_pct",
        };
        write!(f, "{kind} {}", self.value)?;
        match &self.allowed_hours {
            Some(h) => write!(f, " · hours {h}"),
            None => Ok(()),
        }
    }
}

/// A config with its hash, in expansion order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepConfig {
    pub config_sha: String,
    pub config: Config,
}

/// Values joined the canonical way: by commas, without spaces.
pub(crate) fn join(v: impl IntoIterator<Item = String>) -> String {
    v.into_iter().collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_policy_keeps_the_base_and_sets_rule_and_hours() {
        let base = Policy::thr(vec![0.5]);
        let thr =
            Config { kind: ConfigKind::Thr, value: "0.60,0.65,0.70".into(), allowed_hours: Some("13,14,15".into()) };
        let p = thr.to_policy(&base).unwrap();
        assert_eq!(p.kind, PolicyKind::Thr { ladder: vec![0.6, 0.65, 0.7] });
        assert_eq!(p.allowed_hours, Some(vec![13, 14, 15]));
        let top = Config { kind: ConfigKind::TopPct, value: "0.10".into(), allowed_hours: Some("13,14".into()) };
        let q = top.to_policy(&base).unwrap();
        assert_eq!(q.kind, PolicyKind::TopPct { fraction: 0.1 });
    }
}
