//! Session-aware features. A session is a calendar day in the dataset's time zone (see
//! [`crate::data::time::local_day`]); every value at bar `t` uses bars of the current session up
//! to `t` and earlier sessions only.

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;

use crate::data::time::{local_day, ms_to_local};

/// Local calendar facts of each bar, computed once per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    /// Local day number (days since 1970-01-01 in the zone): the session id.
    pub day: Vec<i64>,
    /// Minutes since local midnight (0..1440).
    pub minute: Vec<u16>,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: Vec<u8>,
}

impl Clock {
    pub fn new(ts: &[i64], tz: Tz) -> Clock {
        let mut day = Vec::with_capacity(ts.len());
        let mut minute = Vec::with_capacity(ts.len());
        let mut weekday = Vec::with_capacity(ts.len());
        for &t in ts {
            day.push(local_day(t, tz));
            match ms_to_local(t, tz) {
                Some(n) => {
                    minute.push((n.hour() * 60 + n.minute()) as u16);
                    weekday.push(n.weekday().num_days_from_monday() as u8);
                }
                None => {
                    minute.push(0);
                    weekday.push(0);
                }
            }
        }
        Clock { day, minute, weekday }
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }

    /// Whether bar `t` opens a session (the first bar, or a new local day).
    #[inline]
    pub fn is_session_start(&self, t: usize) -> bool {
        t == 0 || self.day[t] != self.day[t - 1]
    }
}

/// Local hour of the bar's open time (0..23).
pub fn hour(clock: &Clock) -> Vec<f64> {
    clock.minute.iter().map(|&m| (m / 60) as f64).collect()
}

/// Minutes since local midnight of the bar's open time (0..1439).
pub fn minute_of_day(clock: &Clock) -> Vec<f64> {
    clock.minute.iter().map(|&m| m as f64).collect()
}

/// Day of week in the dataset's zone, 0 = Monday … 6 = Sunday.
pub fn day_of_week(clock: &Clock) -> Vec<f64> {
    clock.weekday.iter().map(|&d| d as f64).collect()
}

/// Session VWAP and the close's distance to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Vwap {
    pub vwap: Vec<f64>,
    /// `close / vwap − 1`.
    pub dist: Vec<f64>,
}

/// Session VWAP of the typical price `(high + low + close) / 3`, weighted by volume and reset at
/// each session start: `Σ tp·v / Σ v` over the session's bars up to `t`. While the session's
/// volume so far is zero, the plain mean of the typical prices is used instead.
pub fn vwap(clock: &Clock, high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Vwap {
    let n = clock.len().min(high.len()).min(low.len()).min(close.len()).min(volume.len());
    let mut out = Vwap { vwap: vec![f64::NAN; close.len()], dist: vec![f64::NAN; close.len()] };
    let (mut pv, mut v, mut tps, mut k) = (0.0, 0.0, 0.0, 0.0);
    for t in 0..n {
        if clock.is_session_start(t) {
            (pv, v, tps, k) = (0.0, 0.0, 0.0, 0.0);
        }
        let tp = (high[t] + low[t] + close[t]) / 3.0;
        pv += tp * volume[t];
        v += volume[t];
        tps += tp;
        k += 1.0;
        let w = if v > 0.0 { pv / v } else { tps / k };
        out.vwap[t] = w;
        let d = close[t] / w - 1.0;
        out.dist[t] = if d.is_finite() { d } else { f64::NAN };
    }
    out
}

/// The session's opening range and the close's position in it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpeningRange {
    /// Highest high of the session's first `k` bars.
    pub high: Vec<f64>,
    /// Lowest low of the session's first `k` bars.
    pub low: Vec<f64>,
    /// `(close − low) / (high − low)` (0.5 when the range is flat): below 0 under the range,
    /// above 1 over it.
    pub pos: Vec<f64>,
}

/// Opening range of the first `k` bars of each session (`k ≥ 1`). `NaN` until the range is
/// complete, i.e. on the session's first `k − 1` bars (the `k`-th bar is included in the range
/// and is the first with a value).
pub fn opening_range(clock: &Clock, high: &[f64], low: &[f64], close: &[f64], k: usize) -> OpeningRange {
    let len = close.len();
    let n = clock.len().min(high.len()).min(low.len()).min(len);
    let k = k.max(1);
    let mut out = OpeningRange { high: vec![f64::NAN; len], low: vec![f64::NAN; len], pos: vec![f64::NAN; len] };
    let (mut j, mut hi, mut lo) = (0usize, f64::NAN, f64::NAN);
    for t in 0..n {
        if clock.is_session_start(t) {
            (j, hi, lo) = (0, f64::NAN, f64::NAN);
        }
        if j < k {
            hi = if j == 0 { high[t] } else { hi.max(high[t]) };
            lo = if j == 0 { low[t] } else { lo.min(low[t]) };
        }
        j += 1;
        if j >= k {
            out.high[t] = hi;
            out.low[t] = lo;
            let w = hi - lo;
            out.pos[t] = if w > 0.0 {
                (close[t] - lo) / w
            } else if w == 0.0 {
                0.5
            } else {
                f64::NAN
            };
        }
    }
    out
}

/// Gap: the session's first open over the previous session's last close, minus 1; the same
/// value on every bar of the session, `NaN` in the first session.
pub fn gap_pct(clock: &Clock, open: &[f64], close: &[f64]) -> Vec<f64> {
    let len = close.len();
    let n = clock.len().min(open.len()).min(len);
    let mut out = vec![f64::NAN; len];
    let mut g = f64::NAN;
    for t in 0..n {
        if clock.is_session_start(t) {
            g = if t == 0 { f64::NAN } else { open[t] / close[t - 1] - 1.0 };
            if !g.is_finite() {
                g = f64::NAN;
            }
        }
        out[t] = g;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::time::local_to_ms;
    use chrono::NaiveDate;

    fn ny_bars() -> Vec<i64> {
        let tz = chrono_tz::America::New_York;
        let mut ts = Vec::new();
        for d in [2, 3] {
            for i in 0..4 {
                let n = NaiveDate::from_ymd_opt(2024, 1, d).unwrap().and_hms_opt(9, 30 + 5 * i, 0).unwrap();
                ts.push(local_to_ms(n, tz));
            }
        }
        ts
    }

    #[test]
    fn clock_and_calendar() {
        let c = Clock::new(&ny_bars(), chrono_tz::America::New_York);
        assert_eq!(hour(&c)[0], 9.0);
        assert_eq!(minute_of_day(&c)[1], 575.0);
        assert_eq!(day_of_week(&c)[0], 1.0); // 2024-01-02 is a Tuesday
        assert_eq!(day_of_week(&c)[4], 2.0);
        assert!(c.is_session_start(0) && !c.is_session_start(1) && c.is_session_start(4));
        // In UTC the same instants are 14:30.
        assert_eq!(hour(&Clock::new(&ny_bars(), Tz::UTC))[0], 14.0);
    }

    #[test]
    fn session_features() {
        let c = Clock::new(&ny_bars(), chrono_tz::America::New_York);
        let h = [10.0, 11.0, 12.0, 13.0, 20.0, 21.0, 22.0, 23.0];
        let l = [8.0, 9.0, 10.0, 11.0, 18.0, 19.0, 20.0, 21.0];
        let cl = [9.0, 10.0, 11.0, 12.0, 19.0, 20.0, 21.0, 22.0];
        let o = [9.0, 9.0, 10.0, 11.0, 19.5, 19.0, 20.0, 21.0];
        let v = [1.0, 1.0, 2.0, 0.0, 0.0, 2.0, 1.0, 1.0];
        let w = vwap(&c, &h, &l, &cl, &v);
        assert_eq!(w.vwap[0], 9.0);
        assert_eq!(w.vwap[1], 9.5);
        assert_eq!(w.vwap[2], (9.0 + 10.0 + 22.0) / 4.0);
        assert_eq!(w.vwap[4], 19.0); // new session, zero volume: mean typical price
        assert_eq!(w.vwap[5], 20.0);
        assert_eq!(w.dist[1], 10.0 / 9.5 - 1.0);
        let or = opening_range(&c, &h, &l, &cl, 2);
        assert!(or.high[0].is_nan() && or.high[4].is_nan());
        assert_eq!((or.high[1], or.low[1]), (11.0, 8.0));
        assert_eq!((or.high[3], or.low[3]), (11.0, 8.0));
        assert_eq!(or.pos[3], (12.0 - 8.0) / 3.0);
        assert_eq!((or.high[5], or.low[5]), (21.0, 18.0));
        let g = gap_pct(&c, &o, &cl);
        assert!(g[0].is_nan() && g[3].is_nan());
        assert_eq!(g[4], 19.5 / 12.0 - 1.0);
        assert_eq!(g[7], g[4]);
    }
}
