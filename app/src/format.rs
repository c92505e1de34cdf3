//! Display formatting only: how the engine's numbers and times are written on screen.

use engine::data::time::{ms_to_local, parse_tz};
use engine::data::Cadence;

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a dataset's timestamps are written: in its own zone, dates alone for daily and slower
/// bars, minutes for intraday ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    tz: chrono_tz::Tz,
    intraday: bool,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock { tz: chrono_tz::UTC, intraday: true }
    }
}

impl Clock {
    pub fn new(tz: &str, cadence: Cadence) -> Clock {
        Clock { tz: parse_tz(tz).unwrap_or(chrono_tz::UTC), intraday: cadence.is_intraday() }
    }

    pub fn label(&self, ms: i64) -> String {
        match ms_to_local(ms, self.tz) {
            Some(t) if self.intraday => t.format("%Y-%m-%d %H:%M").to_string(),
            Some(t) => t.format("%Y-%m-%d").to_string(),
            None => ms.to_string(),
        }
    }
}

/// `x` with `decimals` decimals, never "-0.00": a Sharpe of −0.001 reads as 0.00, as it is.
pub fn fixed(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => text,
    }
}

pub fn price(x: f64) -> String {
    // Adding 0.0 turns -0.0 into 0.0, so an axis never reads "-0.00".
    let x = x + 0.0;
    if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Four significant digits, for tables of feature values of any scale.
pub fn sig(x: f64) -> String {
    let x = x + 0.0;
    if !x.is_finite() {
        return if x.is_nan() { "NaN".into() } else { format!("{x}") };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        let decimals = if a == 0.0 { 0 } else { (3 - a.log10().floor() as i32).clamp(0, 6) as usize };
        format!("{x:.decimals$}")
    }
}

pub fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// A fraction as a signed percentage: `0.0123` → `+1.23%`.
pub fn pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

/// The first seven characters of a hash, as git shows one.
/// A file size as people read it: `812 B`, `268 KB`, `1.6 MB`.
pub fn bytes(n: usize) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.0} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

pub fn short(s: &str) -> String {
    s.chars().take(7).collect()
}

/// A metric's definition for a hover title (`engine::metrics::DEFINITIONS`, with how it is
/// annualised); empty for a name it does not define.
pub fn definition(name: &str) -> String {
    engine::metrics::definition(name).map(|d| format!("{name}: {d}")).unwrap_or_default()
}

/// The time left of a step `fraction` done after `elapsed_s` seconds, at the pace so far:
/// `about 40 s left`, `about 3 min left`, `about 1 h 5 min left`; `estimating the time left`
/// until a second has passed and a percent is done (an estimate from less is noise).
pub fn time_left(elapsed_s: f64, fraction: f64) -> String {
    if !(elapsed_s.is_finite() && fraction.is_finite()) || elapsed_s < 1.0 || fraction < 0.01 {
        return "estimating the time left".into();
    }
    if fraction >= 1.0 {
        return "finishing".into();
    }
    let left = (elapsed_s * (1.0 - fraction) / fraction).round() as u64;
    match left {
        0..=59 => format!("about {} s left", left.max(1)),
        60..=3599 => format!("about {} min left", (left + 30) / 60),
        _ => format!("about {} h {} min left", left / 3600, (left % 3600 + 30) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::{fixed, time_left};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn no_negative_zero() {
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-0.0, 3), "0.000");
        assert_eq!(fixed(-0.006, 2), "-0.01");
        assert_eq!(fixed(1.234, 2), "1.23");
    }

    #[wasm_bindgen_test]
    fn time_left_at_the_pace_so_far() {
        assert_eq!(time_left(10.0, 0.5), "about 10 s left");
        assert_eq!(time_left(60.0, 0.25), "about 3 min left");
        assert_eq!(time_left(3600.0, 0.4), "about 1 h 30 min left");
        assert_eq!(time_left(0.5, 0.5), "estimating the time left");
        assert_eq!(time_left(30.0, 0.0), "estimating the time left", "nothing done: no estimate, no division by 0");
        assert_eq!(time_left(30.0, f64::NAN), "estimating the time left");
        assert_eq!(time_left(30.0, 1.0), "finishing");
    }

    #[wasm_bindgen_test]
    fn clock_uses_the_dataset_zone() {
        let ny = super::Clock::new("America/New_York", engine::data::Cadence::FiveMinute);
        assert_eq!(ny.label(1_704_205_800_000), "2024-01-02 09:30");
        let daily = super::Clock::new("UTC", engine::data::Cadence::Daily);
        assert_eq!(daily.label(1_704_153_600_000), "2024-01-02");
    }

    #[wasm_bindgen_test]
    fn thousands_groups() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(12155), "12,155");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
