//! Risk profiles: how much to stake, how many sweep variants to try, and what a run must reach
//! to pass the gate. The numbers are the seed's table.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::lineage::sha_of;

/// Serialises in lower case; parses (and deserialises) case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskProfile {
    Conservative,
    #[default]
    Balanced,
    Aggressive,
}

/// What a profile means in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskParams {
    /// Fraction of equity per position (0.02 = 2%).
    pub position_size: f64,
    /// Most sweep variants (configs) one sweep may run.
    pub sweep_budget: usize,
    /// Gate: Sharpe ratio must exceed this.
    pub min_sharpe: f64,
    /// Gate: maximum drawdown (a positive fraction, 0.10 = 10%) must stay below this.
    pub max_drawdown: f64,
    /// Gate: at least this many trades.
    pub min_trades: usize,
    /// Gate: a deflated Sharpe ratio at least this ([`crate::significance`]); off in the three
    /// profiles, asked for by a sweep's `min_dsr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_dsr: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown risk profile `{0}`; expected one of: conservative, balanced, aggressive")]
pub struct UnknownRiskProfile(pub String);

impl RiskProfile {
    pub const ALL: [RiskProfile; 3] = [RiskProfile::Conservative, RiskProfile::Balanced, RiskProfile::Aggressive];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskProfile::Conservative => "conservative",
            RiskProfile::Balanced => "balanced",
            RiskProfile::Aggressive => "aggressive",
        }
    }

    /// | profile | position size | sweep budget | min Sharpe | max drawdown | min trades |
    /// |---|---|---|---|---|---|
    /// | conservative | 2% | 20 | 1.0 | 10% | 30 |
    /// | balanced | 5% | 50 | 0.7 | 20% | 30 |
    /// | aggressive | 10% | 100 | 0.5 | 30% | 30 |
    pub fn params(self) -> RiskParams {
        match self {
            RiskProfile::Conservative => RiskParams {
                position_size: 0.02,
                sweep_budget: 20,
                min_sharpe: 1.0,
                max_drawdown: 0.10,
                min_trades: 30,
                min_dsr: None,
            },
            RiskProfile::Balanced => RiskParams {
                position_size: 0.05,
                sweep_budget: 50,
                min_sharpe: 0.7,
                max_drawdown: 0.20,
                min_trades: 30,
                min_dsr: None,
            },
            RiskProfile::Aggressive => RiskParams {
                position_size: 0.10,
                sweep_budget: 100,
                min_sharpe: 0.5,
                max_drawdown: 0.30,
                min_trades: 30,
                min_dsr: None,
            },
        }
    }

    /// `sha_of({"profile": "<name>", "params": <RiskParams>})`, i.e. the SHA-256 of
    /// `{"params":{"max_drawdown":…,"min_sharpe":…,"min_trades":30,"position_size":…,"sweep_budget":…},"profile":"balanced"}`.
    pub fn risk_sha(self) -> String {
        #[derive(Serialize)]
        struct Canon {
            profile: &'static str,
            params: RiskParams,
        }
        sha_of(&Canon { profile: self.as_str(), params: self.params() })
    }
}

impl FromStr for RiskProfile {
    type Err = UnknownRiskProfile;

    /// Case-insensitive, surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        RiskProfile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownRiskProfile(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for RiskProfile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for RiskProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::{canonical_json, sha256_hex};

    #[test]
    fn table_and_parsing() {
        let b = RiskProfile::Balanced.params();
        assert_eq!(
            (b.position_size, b.sweep_budget, b.min_sharpe, b.max_drawdown, b.min_trades),
            (0.05, 50, 0.7, 0.20, 30)
        );
        let c = RiskProfile::Conservative.params();
        assert_eq!((c.position_size, c.sweep_budget, c.min_sharpe, c.max_drawdown), (0.02, 20, 1.0, 0.10));
        let a = RiskProfile::Aggressive.params();
        assert_eq!((a.position_size, a.sweep_budget, a.min_sharpe, a.max_drawdown), (0.10, 100, 0.5, 0.30));
        assert_eq!(" Aggressive ".parse::<RiskProfile>(), Ok(RiskProfile::Aggressive));
        assert_eq!("BALANCED".parse::<RiskProfile>(), Ok(RiskProfile::Balanced));
        assert!("reckless"
            .parse::<RiskProfile>()
            .unwrap_err()
            .to_string()
            .contains("conservative, balanced, aggressive"));
        assert_eq!(serde_json::to_string(&RiskProfile::Conservative).unwrap(), "\"conservative\"");
        assert_eq!(serde_json::from_str::<RiskProfile>("\"aggressive\"").unwrap(), RiskProfile::Aggressive);
        assert_eq!(serde_json::from_str::<RiskProfile>("\"Conservative\"").unwrap(), RiskProfile::Conservative);
        assert!(serde_json::from_str::<RiskProfile>("\"wild\"")
            .unwrap_err()
            .to_string()
            .contains("unknown risk profile"));
        assert_eq!(RiskProfile::default(), RiskProfile::Balanced);
    }

    #[test]
    fn fixed_risk_shas() {
        let text = r#"{"params":{"max_drawdown":0.2,"min_sharpe":0.7,"min_trades":30,"position_size":0.05,"sweep_budget":50},"profile":"balanced"}"#;
        assert_eq!(RiskProfile::Balanced.risk_sha(), sha256_hex(text.as_bytes()));
        assert_eq!(RiskProfile::Balanced.risk_sha(), BALANCED_SHA);
        let p = serde_json::json!({"profile": "balanced", "params": RiskProfile::Balanced.params()});
        assert_eq!(canonical_json(&p), text.as_bytes());
        assert_ne!(RiskProfile::Conservative.risk_sha(), RiskProfile::Aggressive.risk_sha());
    }

    const BALANCED_SHA: &str = "85425bb79eab4a3f3fdbc6b6d0413ab46237852b37827c6e43eae6578645b84e";
}
