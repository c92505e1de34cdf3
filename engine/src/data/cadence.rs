//! Bar cadence, detected from the spacing of consecutive bars.
//!
//! Rule: take the median of the positive differences between consecutive timestamps (so
//! weekends, holidays and overnight breaks, which are a minority of the steps, do not move it).
//! Intraday cadences match when the median is within ±10% of 1, 5, 15, 30 or 60 minutes. Daily
//! is a median between 20 hours and 4 days (a day's bars read in a zone with daylight saving can
//! be 23 or 25 hours apart), weekly 5–10 days, monthly 26–35 days. Anything else, or fewer than
//! two bars, is `Irregular`.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Minute,
    FiveMinute,
    FifteenMinute,
    ThirtyMinute,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Irregular,
}

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Trading days in a year, the usual annualisation convention.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;
/// Minutes in a regular US equity session (09:30–16:00).
pub const US_SESSION_MINUTES: f64 = 390.0;

impl Cadence {
    pub const ALL: [Cadence; 9] = [
        Cadence::Minute,
        Cadence::FiveMinute,
        Cadence::FifteenMinute,
        Cadence::ThirtyMinute,
        Cadence::Hourly,
        Cadence::Daily,
        Cadence::Weekly,
        Cadence::Monthly,
        Cadence::Irregular,
    ];

    /// The cadence whose [`Cadence::as_str`] is `name`.
    pub fn from_name(name: &str) -> Option<Cadence> {
        Cadence::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Detect from bar open times (sorted ascending; duplicates are ignored).
    pub fn detect(ts: &[i64]) -> Cadence {
        let mut diffs: Vec<i64> = ts.windows(2).map(|w| w[1].saturating_sub(w[0])).filter(|d| *d > 0).collect();
        if diffs.is_empty() {
            return Cadence::Irregular;
        }
        let mid = diffs.len() / 2;
        let (_, median, _) = diffs.select_nth_unstable(mid);
        Cadence::from_spacing(*median)
    }

    /// The cadence a typical spacing of `ms` milliseconds means.
    pub fn from_spacing(ms: i64) -> Cadence {
        let near = |target: i64| (ms - target).abs().saturating_mul(10) <= target;
        if near(MIN) {
            Cadence::Minute
        } else if near(5 * MIN) {
            Cadence::FiveMinute
        } else if near(15 * MIN) {
            Cadence::FifteenMinute
        } else if near(30 * MIN) {
            Cadence::ThirtyMinute
        } else if near(HOUR) {
            Cadence::Hourly
        } else if (20 * HOUR..=4 * DAY).contains(&ms) {
            Cadence::Daily
        } else if (5 * DAY..=10 * DAY).contains(&ms) {
            Cadence::Weekly
        } else if (26 * DAY..=35 * DAY).contains(&ms) {
            Cadence::Monthly
        } else {
            Cadence::Irregular
        }
    }

    /// Nominal bar spacing in milliseconds (`None` for irregular; monthly is 30 days).
    pub fn interval_ms(self) -> Option<i64> {
        match self {
            Cadence::Minute => Some(MIN),
            Cadence::FiveMinute => Some(5 * MIN),
            Cadence::FifteenMinute => Some(15 * MIN),
            Cadence::ThirtyMinute => Some(30 * MIN),
            Cadence::Hourly => Some(HOUR),
            Cadence::Daily => Some(DAY),
            Cadence::Weekly => Some(7 * DAY),
            Cadence::Monthly => Some(30 * DAY),
            Cadence::Irregular => None,
        }
    }

    pub fn is_intraday(self) -> bool {
        matches!(
            self,
            Cadence::Minute | Cadence::FiveMinute | Cadence::FifteenMinute | Cadence::ThirtyMinute | Cadence::Hourly
        )
    }

    /// Bars per year for annualising metrics: daily 252, weekly 52, monthly 12; intraday
    /// assumes a regular 6.5-hour US session (390 minute bars, 78 five-minute bars, 26, 13,
    /// and 7 hourly bars per day, the last one short) × 252; irregular falls back to 252.
    /// Use [`Cadence::bars_per_year_with_session`] with [`estimate_bars_per_session`] for
    /// markets with other hours.
    pub fn bars_per_year(self) -> f64 {
        match self {
            Cadence::Daily | Cadence::Irregular => TRADING_DAYS_PER_YEAR,
            Cadence::Weekly => 52.0,
            Cadence::Monthly => 12.0,
            Cadence::Hourly => TRADING_DAYS_PER_YEAR * (US_SESSION_MINUTES / 60.0).ceil(),
            c => {
                let m = c.interval_ms().unwrap_or(DAY) as f64 / MIN as f64;
                TRADING_DAYS_PER_YEAR * (US_SESSION_MINUTES / m).ceil()
            }
        }
    }

    /// Intraday bars per year given the bars in one session; slower cadences ignore the
    /// argument and return [`Cadence::bars_per_year`].
    pub fn bars_per_year_with_session(self, bars_per_session: f64) -> f64 {
        if self.is_intraday() && bars_per_session.is_finite() && bars_per_session > 0.0 {
            TRADING_DAYS_PER_YEAR * bars_per_session
        } else {
            self.bars_per_year()
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Minute => "minute",
            Cadence::FiveMinute => "five_minute",
            Cadence::FifteenMinute => "fifteen_minute",
            Cadence::ThirtyMinute => "thirty_minute",
            Cadence::Hourly => "hourly",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
            Cadence::Irregular => "irregular",
        }
    }
}

impl std::fmt::Display for Cadence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Median number of bars per local calendar day in `tz` (0 for no bars). For intraday data this
/// is the bars in a session.
pub fn estimate_bars_per_session(ts: &[i64], tz: Tz) -> f64 {
    let mut counts = Vec::new();
    let mut last_day = None;
    for &t in ts {
        let d = super::time::local_day(t, tz);
        if last_day == Some(d) {
            if let Some(c) = counts.last_mut() {
                *c += 1;
            }
        } else {
            counts.push(1usize);
            last_day = Some(d);
        }
    }
    if counts.is_empty() {
        return 0.0;
    }
    counts.sort_unstable();
    counts[counts.len() / 2] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        let days: Vec<i64> = (0..30).filter(|d| d % 7 < 5).map(|d| d * DAY).collect();
        assert_eq!(Cadence::detect(&days), Cadence::Daily);
        let five: Vec<i64> = (0..200).map(|i| (i / 78) * DAY + (i % 78) * 5 * MIN).collect();
        assert_eq!(Cadence::detect(&five), Cadence::FiveMinute);
        assert_eq!(Cadence::detect(&[0, MIN, 2 * MIN]), Cadence::Minute);
        assert_eq!(Cadence::detect(&[0, 7 * DAY, 14 * DAY]), Cadence::Weekly);
        assert_eq!(Cadence::detect(&[0, 31 * DAY, 59 * DAY, 90 * DAY]), Cadence::Monthly);
        assert_eq!(Cadence::detect(&[0]), Cadence::Irregular);
        assert_eq!(Cadence::detect(&[]), Cadence::Irregular);
        assert_eq!(Cadence::detect(&[0, 0, 0]), Cadence::Irregular);
        assert_eq!(Cadence::detect(&[0, 2 * MIN + 7]), Cadence::Irregular);
        assert_eq!(Cadence::detect(&[i64::MIN, i64::MAX]), Cadence::Irregular);
    }

    #[test]
    fn annualisation_and_names() {
        assert_eq!(Cadence::Daily.bars_per_year(), 252.0);
        assert_eq!(Cadence::Weekly.bars_per_year(), 52.0);
        assert_eq!(Cadence::Monthly.bars_per_year(), 12.0);
        assert_eq!(Cadence::FiveMinute.bars_per_year(), 252.0 * 78.0);
        assert_eq!(Cadence::Minute.bars_per_year(), 252.0 * 390.0);
        assert_eq!(Cadence::Hourly.bars_per_year(), 252.0 * 7.0);
        assert_eq!(Cadence::Hourly.bars_per_year_with_session(24.0), 252.0 * 24.0);
        assert_eq!(serde_json::to_string(&Cadence::FiveMinute).unwrap(), "\"five_minute\"");
        assert_eq!(serde_json::to_string(&Cadence::Daily).unwrap(), "\"daily\"");
        let five: Vec<i64> = (0..156).map(|i| (i / 78) * DAY + (i % 78) * 5 * MIN).collect();
        assert_eq!(estimate_bars_per_session(&five, Tz::UTC), 78.0);
    }
}
