//! Deterministic synthetic bars for benchmarks.
//!
//! One generator shared by the native benches, the browser benchmark (the app's `bench_engine`)
//! and `tests/golden/bench_talib.py`, which reproduces it bit for bit, so every side times the
//! same arrays.

use crate::data::Series;

/// The benchmark specs (TA-Lib defaults, spelled out so both sides agree).
pub const BENCH_SPECS: &[&str] = &[
    "sma:30",
    "ema:30",
    "wma:30",
    "dema:30",
    "tema:30",
    "kama:30",
    "rsi:14",
    "stoch:5:3:3",
    "stochrsi:14:5:3",
    "macd:12:26:9",
    "ppo:12:26",
    "roc:10",
    "mom:10",
    "cci:14",
    "cmo:14",
    "willr:14",
    "mfi:14",
    "adx:14",
    "plus_di:14",
    "minus_di:14",
    "dx:14",
    "aroon:14",
    "aroonosc:14",
    "ultosc:7:14:28",
    "bbands:20:2",
    "atr:14",
    "natr:14",
    "trange",
    "obv",
    "ad",
    "adosc:3:10",
    "stddev:5:1",
    "linearreg_slope:14",
];

/// A 64-bit LCG (Knuth's MMIX constants); the top 53 bits as a uniform f64 in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / 9007199254740992.0
    }
}

const DAY_MS: i64 = 86_400_000;

/// `n` daily-like bars (a ±2% random walk from 100, weekdays from 1900-01-01 UTC), ticker `SYN`.
pub fn lcg_bars(n: usize) -> Series {
    let mut rng = Lcg(12345);
    let mut s = Series {
        ticker: "SYN".to_string(),
        ts: Vec::with_capacity(n),
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: Vec::with_capacity(n),
        adj_close: None,
    };
    let mut px = 100.0f64;
    // 1900-01-01 was a Monday.
    let mut day: i64 = -25_567;
    for _ in 0..n {
        let open = px;
        px *= 1.0 + (rng.next() - 0.5) * 0.04;
        let hi = open.max(px) * (1.0 + rng.next() * 0.01);
        let lo = open.min(px) * (1.0 - rng.next() * 0.01);
        let vol = (rng.next() * 1e6).floor() + 1.0;
        s.ts.push(day * DAY_MS);
        s.open.push(open);
        s.high.push(hi);
        s.low.push(lo);
        s.close.push(px);
        s.volume.push(vol);
        day += if (day + 25_567) % 7 == 4 { 3 } else { 1 };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_only_and_deterministic() {
        let a = lcg_bars(20);
        assert_eq!(a, lcg_bars(20));
        for t in &a.ts {
            // 1970-01-01 was a Thursday: (days + 3) % 7 gives 0 = Monday … 6 = Sunday.
            let dow = (t / DAY_MS + 3).rem_euclid(7);
            assert!(dow < 5, "weekend bar at {t}");
        }
        assert!(a.low.iter().zip(&a.high).all(|(l, h)| l <= h));
        assert_eq!(a.open[0], 100.0);
    }
}
