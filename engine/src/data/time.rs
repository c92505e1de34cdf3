//! Timestamps: parsing the forms found in bar files and formatting them back.
//!
//! Everything is stored as UTC milliseconds since the Unix epoch. Text is parsed by hand (this
//! runs once per row of files with millions of rows) and validated with `chrono`.
//!
//! Accepted text forms:
//! - ISO dates `2024-01-02` (also `2024/01/02`), read as midnight in the dataset's zone;
//! - ISO date-times `2024-01-02 09:30`, `2024-01-02T09:30:00`, optional fractional seconds
//!   (up to nanoseconds, truncated to milliseconds), optional `Z`, `UTC`, `±HH:MM`, `±HHMM` or
//!   `±HH` offset. Without an offset the wall-clock time is read in the dataset's zone;
//! - `YYYYMMDD` (exactly eight digits, a valid calendar date between years 1800 and 2199);
//! - US dates `MM/DD/YYYY` and European dates `DD.MM.YYYY`, each optionally followed by a time;
//! - epoch integers (UTC, the zone is not applied), unit decided by magnitude:
//!   `|n| < 10^11` seconds (up to year 5138), `< 10^14` milliseconds, `< 10^17` microseconds,
//!   otherwise nanoseconds. A decimal fraction (`1704153600.5`) is read as seconds.
//!
//! Wall-clock times that do not exist in the zone (the hour skipped when clocks go forward) are
//! read with the offset in force just before the change; ambiguous ones (the repeated hour when
//! clocks go back) take the earlier instant.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Why a time cell could not be read; becomes the "expected …" part of an `IngestError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Not a form listed in the module docs.
    Unrecognised,
    /// The right shape but not a real calendar date or clock time (`2023-02-30`, `25:00`).
    Impossible,
    /// Outside the range chrono and the stored milliseconds can represent.
    OutOfRange,
}

impl TimeError {
    pub fn expected(self) -> &'static str {
        match self {
            TimeError::Unrecognised => {
                "a date or timestamp (2024-01-02, 2024-01-02 09:30:00, 2024-01-02T09:30:00Z, epoch seconds or milliseconds)"
            }
            TimeError::Impossible => "a real calendar date and time",
            TimeError::OutOfRange => "a timestamp between years 1 and 9999",
        }
    }
}

/// Parse an IANA zone name ("UTC", "America/New_York"). `None` if unknown.
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

const MS_PER_DAY: i64 = 86_400_000;

/// Epoch integer → milliseconds, unit decided by magnitude (see module docs).
pub fn epoch_to_ms(n: i64) -> i64 {
    let a = n.unsigned_abs();
    if a < 100_000_000_000 {
        n.saturating_mul(1000)
    } else if a < 100_000_000_000_000 {
        n
    } else if a < 100_000_000_000_000_000 {
        n.div_euclid(1000)
    } else {
        n.div_euclid(1_000_000)
    }
}

/// A wall-clock time in `tz` → UTC epoch ms.
pub fn local_to_ms(naive: NaiveDateTime, tz: Tz) -> i64 {
    if tz == Tz::UTC {
        return naive.and_utc().timestamp_millis();
    }
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(a, b) => a.timestamp_millis().min(b.timestamp_millis()),
        LocalResult::None => {
            // In a spring-forward gap: use the offset in force a day earlier (before the change).
            let before = naive - chrono::Duration::hours(24);
            let off = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) => t.offset().fix().local_minus_utc() as i64,
                LocalResult::Ambiguous(a, _) => a.offset().fix().local_minus_utc() as i64,
                LocalResult::None => 0,
            };
            naive.and_utc().timestamp_millis() - off * 1000
        }
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp().div_euclid(86_400))
}

/// UTC epoch ms → the wall-clock time in `tz`.
pub fn ms_to_local(ms: i64, tz: Tz) -> Option<NaiveDateTime> {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms)?;
    Some(utc.with_timezone(&tz).naive_local())
}

/// Local calendar day number (days since 1970-01-01 in `tz`) of an instant; used to tell
/// sessions apart.
pub fn local_day(ms: i64, tz: Tz) -> i64 {
    if tz == Tz::UTC {
        return ms.div_euclid(MS_PER_DAY);
    }
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(utc) => {
            let off = tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc() as i64;
            (ms + off * 1000).div_euclid(MS_PER_DAY)
        }
        None => ms.div_euclid(MS_PER_DAY),
    }
}

/// `2024-01-02` (when `date_only`) or `2024-01-02T09:30:00-05:00` in `tz`.
pub fn format_ms(ms: i64, tz: Tz, date_only: bool) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(utc) => {
            let local = utc.with_timezone(&tz);
            if date_only {
                local.format("%Y-%m-%d").to_string()
            } else if ms % 1000 != 0 {
                local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
            } else {
                local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            }
        }
        None => ms.to_string(),
    }
}

/// RFC 3339 UTC with a `Z`, e.g. for "created" stamps.
pub fn format_utc(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ms.to_string(),
    }
}

/// Parse one time cell (see module docs) into UTC epoch ms.
pub fn parse_timestamp(s: &str, tz: Tz) -> Result<i64, TimeError> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(TimeError::Unrecognised);
    }
    // Pure digits (optionally signed, optionally with a fraction): YYYYMMDD or epoch.
    let (sign, digits) = match b[0] {
        b'-' => (-1i64, &b[1..]),
        b'+' => (1, &b[1..]),
        _ => (1, b),
    };
    if !digits.is_empty()
        && digits.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && digits.iter().filter(|c| **c == b'.').count() <= 1
    {
        return parse_numeric(s, sign, digits, tz);
    }
    let mut c = Cursor { b, i: 0 };
    // Date part.
    let iso = b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && (b[4] == b'-' || b[4] == b'/');
    let (y, m, d) = if iso {
        let sep = b[4];
        let y = c.num(4).ok_or(TimeError::Unrecognised)?;
        c.expect(sep)?;
        let m = c.num_1_2().ok_or(TimeError::Unrecognised)?;
        c.expect(sep)?;
        let d = c.num_1_2().ok_or(TimeError::Unrecognised)?;
        (y as i32, m, d)
    } else {
        // MM/DD/YYYY or DD.MM.YYYY
        let a = c.num_1_2().ok_or(TimeError::Unrecognised)?;
        let sep = c.peek().ok_or(TimeError::Unrecognised)?;
        if sep != b'/' && sep != b'.' {
            return Err(TimeError::Unrecognised);
        }
        c.i += 1;
        let bb = c.num_1_2().ok_or(TimeError::Unrecognised)?;
        c.expect(sep)?;
        let y = c.num(4).ok_or(TimeError::Unrecognised)?;
        if sep == b'/' {
            (y as i32, a, bb)
        } else {
            (y as i32, bb, a)
        }
    };
    let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(TimeError::Impossible)?;
    if c.done() {
        return Ok(local_to_ms(date.and_hms_opt(0, 0, 0).ok_or(TimeError::Impossible)?, tz));
    }
    // Separator between date and time.
    match c.peek() {
        Some(b'T') | Some(b't') | Some(b' ') => {
            c.i += 1;
            while c.peek() == Some(b' ') {
                c.i += 1;
            }
        }
        _ => return Err(TimeError::Unrecognised),
    }
    if c.done() {
        return Ok(local_to_ms(date.and_hms_opt(0, 0, 0).ok_or(TimeError::Impossible)?, tz));
    }
    let hh = c.num_1_2().ok_or(TimeError::Unrecognised)?;
    c.expect(b':')?;
    let mm = c.num(2).ok_or(TimeError::Unrecognised)?;
    let mut ss = 0u32;
    let mut nanos = 0u32;
    if c.peek() == Some(b':') {
        c.i += 1;
        ss = c.num(2).ok_or(TimeError::Unrecognised)?;
        if c.peek() == Some(b'.') || c.peek() == Some(b',') {
            c.i += 1;
            let start = c.i;
            let mut scale = 100_000_000u32;
            while let Some(ch) = c.peek() {
                if !ch.is_ascii_digit() {
                    break;
                }
                nanos += (ch - b'0') as u32 * scale;
                scale /= 10;
                c.i += 1;
                if c.i - start > 9 {
                    return Err(TimeError::Unrecognised);
                }
            }
            if c.i == start {
                return Err(TimeError::Unrecognised);
            }
        }
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(hh, mm, ss.min(59), nanos).ok_or(TimeError::Impossible)?;
    if ss > 59 {
        return Err(TimeError::Impossible);
    }
    let naive = date.and_time(time);
    while c.peek() == Some(b' ') {
        c.i += 1;
    }
    if c.done() {
        return Ok(local_to_ms(naive, tz));
    }
    // Offset.
    let rest = &b[c.i..];
    let off_secs: i64 =
        if rest == b"Z" || rest == b"z" || rest.eq_ignore_ascii_case(b"UTC") || rest.eq_ignore_ascii_case(b"GMT") {
            0
        } else if rest[0] == b'+' || rest[0] == b'-' {
            let sgn = if rest[0] == b'-' { -1 } else { 1 };
            let r = &rest[1..];
            let (h, mi) = match r.len() {
                2 => (two(r, 0)?, 0),
                4 => (two(r, 0)?, two(r, 2)?),
                5 if r[2] == b':' => (two(r, 0)?, two(r, 3)?),
                _ => return Err(TimeError::Unrecognised),
            };
            if h > 18 || mi > 59 {
                return Err(TimeError::Impossible);
            }
            sgn * (h as i64 * 3600 + mi as i64 * 60)
        } else {
            return Err(TimeError::Unrecognised);
        };
    Ok(naive.and_utc().timestamp_millis() - off_secs * 1000)
}

fn two(b: &[u8], at: usize) -> Result<u32, TimeError> {
    let x = b.get(at).copied().ok_or(TimeError::Unrecognised)?;
    let y = b.get(at + 1).copied().ok_or(TimeError::Unrecognised)?;
    if !x.is_ascii_digit() || !y.is_ascii_digit() {
        return Err(TimeError::Unrecognised);
    }
    Ok(((x - b'0') * 10 + (y - b'0')) as u32)
}

fn parse_numeric(s: &str, sign: i64, digits: &[u8], tz: Tz) -> Result<i64, TimeError> {
    if let Some(dot) = digits.iter().position(|&c| c == b'.') {
        // Fractional epoch seconds.
        if dot == 0 || dot + 1 == digits.len() {
            return Err(TimeError::Unrecognised);
        }
        let v: f64 = s.parse().map_err(|_| TimeError::Unrecognised)?;
        let a = v.abs();
        let ms = if a < 1e11 {
            v * 1000.0
        } else if a < 1e14 {
            v
        } else if a < 1e17 {
            v / 1e3
        } else {
            v / 1e6
        }
        .round();
        if !ms.is_finite() || ms.abs() > 253_402_300_799_000.0 {
            return Err(TimeError::OutOfRange);
        }
        return Ok(ms as i64);
    }
    if digits.len() > 19 {
        return Err(TimeError::OutOfRange);
    }
    let mut n: i64 = 0;
    for &c in digits {
        n = n.checked_mul(10).and_then(|n| n.checked_add((c - b'0') as i64)).ok_or(TimeError::OutOfRange)?;
    }
    int_to_ms(sign * n, tz)
}

/// An integer time cell → UTC epoch ms: `YYYYMMDD` when it is one (years 1800–2199, read as
/// midnight in `tz`), else epoch by magnitude (see [`epoch_to_ms`]).
pub fn int_to_ms(n: i64, tz: Tz) -> Result<i64, TimeError> {
    if (18_000_101..=21_991_231).contains(&n) {
        let (y, m, d) = ((n / 10_000) as i32, (n / 100 % 100) as u32, (n % 100) as u32);
        if (1..=12).contains(&m) && (1..=31).contains(&d) {
            let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(TimeError::Impossible)?;
            return Ok(local_to_ms(date.and_hms_opt(0, 0, 0).ok_or(TimeError::Impossible)?, tz));
        }
    }
    let ms = epoch_to_ms(n);
    if ms.abs() > 253_402_300_799_000 {
        return Err(TimeError::OutOfRange);
    }
    Ok(ms)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn expect(&mut self, ch: u8) -> Result<(), TimeError> {
        if self.peek() == Some(ch) {
            self.i += 1;
            Ok(())
        } else {
            Err(TimeError::Unrecognised)
        }
    }
    /// Exactly `n` digits.
    fn num(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
            self.i += 1;
        }
        Some(v)
    }
    /// One or two digits.
    fn num_1_2(&mut self) -> Option<u32> {
        let mut v = self.num(1)?;
        if let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                v = v * 10 + (c - b'0') as u32;
                self.i += 1;
            }
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Result<i64, TimeError> {
        parse_timestamp(s, Tz::UTC)
    }
    const D: i64 = 1_704_153_600_000; // 2024-01-02T00:00:00Z

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(utc("2024-01-02"), Ok(D));
        assert_eq!(utc(" 2024/01/02 "), Ok(D));
        assert_eq!(utc("20240102"), Ok(D));
        assert_eq!(utc("01/02/2024"), Ok(D));
        assert_eq!(utc("1/2/2024"), Ok(D));
        assert_eq!(utc("02.01.2024"), Ok(D));
        assert_eq!(utc("2024-01-02 09:30"), Ok(D + 34_200_000));
        assert_eq!(utc("2024-01-02T09:30:00"), Ok(D + 34_200_000));
        assert_eq!(utc("2024-01-02 09:30:00.250"), Ok(D + 34_200_250));
        assert_eq!(utc("2024-01-02T09:30:00.123456789Z"), Ok(D + 34_200_123));
        assert_eq!(utc("2024-01-02T09:30:00-05:00"), Ok(D + 34_200_000 + 5 * 3_600_000));
        assert_eq!(utc("2024-01-02T09:30:00+0100"), Ok(D + 34_200_000 - 3_600_000));
        assert_eq!(utc("2024-01-02 09:30:00+01"), Ok(D + 34_200_000 - 3_600_000));
        assert_eq!(utc("2024-01-02 09:30:00 UTC"), Ok(D + 34_200_000));
        assert_eq!(utc("01/02/2024 09:30"), Ok(D + 34_200_000));
    }

    #[test]
    fn epochs() {
        assert_eq!(utc("1704153600"), Ok(D));
        assert_eq!(utc("1704153600000"), Ok(D));
        assert_eq!(utc("1704153600000000"), Ok(D));
        assert_eq!(utc("1704153600000000000"), Ok(D));
        assert_eq!(utc("1704153600.5"), Ok(D + 500));
        assert_eq!(utc("0"), Ok(0));
        assert_eq!(utc("-86400"), Ok(-MS_PER_DAY));
        // Epoch values ignore the zone.
        assert_eq!(parse_timestamp("1704153600", chrono_tz::America::New_York), Ok(D));
    }

    #[test]
    fn zones() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(parse_timestamp("2024-01-02", ny), Ok(D + 5 * 3_600_000));
        assert_eq!(
            parse_timestamp("2024-07-02 09:30", ny).map(|v| format_ms(v, Tz::UTC, false)),
            Ok("2024-07-02T13:30:00+00:00".to_string())
        );
        // Spring-forward gap: 02:30 does not exist on 2024-03-10; read with the EST offset.
        assert_eq!(
            parse_timestamp("2024-03-10 02:30", ny).map(|v| format_ms(v, Tz::UTC, false)),
            Ok("2024-03-10T07:30:00+00:00".to_string())
        );
        // Fall-back ambiguity: the earlier instant.
        assert_eq!(
            parse_timestamp("2024-11-03 01:30", ny).map(|v| format_ms(v, Tz::UTC, false)),
            Ok("2024-11-03T05:30:00+00:00".to_string())
        );
        assert!(parse_tz("Mars/Olympus").is_none());
        assert_eq!(parse_tz("America/New_York"), Some(ny));
        assert_eq!(format_ms(D + 5 * 3_600_000, ny, true), "2024-01-02");
        assert_eq!(local_day(D + 5 * 3_600_000 - 1, ny), local_day(D - MS_PER_DAY, Tz::UTC));
    }

    #[test]
    fn rejects() {
        assert_eq!(utc("2023-02-30"), Err(TimeError::Impossible));
        assert_eq!(utc("2023-13-01"), Err(TimeError::Impossible));
        assert_eq!(utc("2024-01-02 25:00"), Err(TimeError::Impossible));
        assert_eq!(utc("2024-01-02 12:00:61"), Err(TimeError::Impossible));
        assert_eq!(utc("20230230"), Err(TimeError::Impossible));
        assert_eq!(utc("abc"), Err(TimeError::Unrecognised));
        assert_eq!(utc(""), Err(TimeError::Unrecognised));
        assert_eq!(utc("2024-01-02X"), Err(TimeError::Unrecognised));
        assert_eq!(utc("2024-01-02 09:30:00+5"), Err(TimeError::Unrecognised));
        assert_eq!(utc("1.2.3"), Err(TimeError::Unrecognised));
        assert_eq!(utc("99999999999999999999999"), Err(TimeError::OutOfRange));
        assert_eq!(utc("1e300"), Err(TimeError::Unrecognised));
        assert_eq!(utc("9999999999999999999999.0"), Err(TimeError::OutOfRange));
        assert_eq!(utc("1704153600000.0"), Ok(D));
    }

    #[test]
    fn never_panics_on_garbage() {
        let samples = [
            "-",
            "+",
            ".",
            "2024-",
            "2024-01-",
            "2024-01-0",
            "1/",
            "1/2",
            "1/2/",
            "2024-01-02T",
            "2024-01-02T1",
            "2024-01-02T10:",
            "2024-01-02T10:3",
            "2024-01-02T10:30:",
            "2024-01-02T10:30:00.",
            "2024-01-02T10:30:00+",
            "2024-01-02T10:30:00+0",
            "é2024",
            "2024-01-02T10:30:00.1234567890",
            "-99999999999999999999",
            "٣٣٣",
        ];
        for s in samples {
            let _ = utc(s);
        }
        // Every prefix of a long timestamp.
        let full = "2024-01-02T09:30:00.123456+05:30";
        for i in 0..=full.len() {
            let _ = utc(&full[..i]);
        }
    }
}
