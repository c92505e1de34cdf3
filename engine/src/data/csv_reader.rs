//! CSV (and TSV) bars.
//!
//! - The delimiter is sniffed from the header line: whichever of `,` `;` tab `|` occurs most
//!   often outside quotes (comma on a tie or when none occurs).
//! - Column names: see [`super::columns`]. A pandas index column (empty name or `Unnamed: 0`)
//!   is ignored unless it is the only time-like column.
//! - Numbers: plain decimal or exponent notation. In files not separated by commas a decimal
//!   comma (`26,8`) is accepted too. Prices must be present and finite. An empty volume cell
//!   reads as 0 (and is then reported as `zero_volume`); a negative volume is an error.
//! - Every record must have as many fields as the header (`Ragged` otherwise). Blank lines are
//!   skipped. The file must be UTF-8 (a byte-order mark is allowed).

use super::columns::{map_columns, Mapping, TimeSource};
use super::error::{quote_cell, Pos};
use super::time::parse_timestamp;
use super::{Grouper, IngestError, Progress};
use chrono_tz::Tz;

fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let cands = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &c in header {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(k) = cands.iter().position(|d| *d == c) {
                counts[k] += 1;
            }
        }
    }
    let mut best = 0;
    for k in 1..4 {
        if counts[k] > counts[best] {
            best = k;
        }
    }
    cands[best]
}

/// Reject binary data: invalid UTF-8 anywhere, or control characters (other than tab, CR, LF,
/// form feed) in the first 64 KiB.
fn check_text(file: &str, bytes: &[u8]) -> Result<(), IngestError> {
    let line_at = |at: usize| bytes[..at].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
    let head = &bytes[..bytes.len().min(65_536)];
    if let Some(at) = head.iter().position(|&c| c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n' | 0x0c)) {
        return Err(IngestError::NotText {
            file: file.to_string(),
            pos: Pos::Line(line_at(at)),
            detail: format!("binary byte 0x{:02x} at offset {at}", bytes[at]),
        });
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        return Err(IngestError::NotText {
            file: file.to_string(),
            pos: Pos::Line(line_at(at)),
            detail: format!("not UTF-8 text at offset {at}"),
        });
    }
    Ok(())
}

pub(crate) fn parse_f64(cell: &str, decimal_comma: bool) -> Option<f64> {
    let t = cell.trim();
    match t.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) if decimal_comma && t.bytes().filter(|&c| c == b',').count() == 1 && !t.contains('.') => {
            t.replace(',', ".").parse().ok()
        }
        Err(_) => None,
    }
}

pub(crate) fn read(
    file: &str,
    bytes: &[u8],
    tz: Tz,
    grouper: &mut Grouper,
    progress: &mut Progress<'_>,
) -> Result<(), IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|c| c.is_ascii_whitespace()) {
        return Err(IngestError::Empty { file: file.to_string() });
    }
    check_text(file, bytes)?;
    let first_line_end = bytes.iter().position(|&c| c == b'\n').unwrap_or(bytes.len());
    let delim = sniff_delimiter(&bytes[..first_line_end]);
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).has_headers(false).flexible(true).from_reader(bytes);
    let total = bytes.len().max(1) as f64;
    let mut rec = csv::ByteRecord::new();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        IngestError::NotText { file: file.to_string(), pos: Pos::Line(line), detail: e.to_string() }
    };
    // Header: the first non-blank record.
    let headers: Vec<String> = loop {
        if !rdr.read_byte_record(&mut rec).map_err(csv_err)? {
            return Err(IngestError::Empty { file: file.to_string() });
        }
        if !(rec.len() == 1 && rec[0].iter().all(|c| c.is_ascii_whitespace())) {
            break rec.iter().map(|f| String::from_utf8_lossy(f).trim().trim_matches('"').to_string()).collect();
        }
    };
    let m: Mapping = map_columns(file, &headers, &|_| false)?;
    let decimal_comma = delim != b',';
    let col_name = |i: usize| headers.get(i).cloned().unwrap_or_default();
    let mut data_row: u64 = 0;
    let mut last_time: Vec<u8> = Vec::new();
    let mut last_ts: i64 = 0;
    let mut time_buf = String::new();
    let mut since_check = 0u32;
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != headers.len() {
            if rec.len() == 1 && rec[0].iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            return Err(IngestError::Ragged {
                file: file.to_string(),
                pos: Pos::Line(line),
                expected: headers.len(),
                found: rec.len(),
            });
        }
        data_row += 1;
        let text = |i: usize| std::str::from_utf8(&rec[i]).unwrap_or("");
        let bad = |i: usize, expected: &str, cell: &str| IngestError::BadValue {
            file: file.to_string(),
            pos: Pos::Line(line),
            column: col_name(i),
            expected: expected.to_string(),
            found: quote_cell(cell),
        };
        // Time (cached: long files repeat the same stamp for each ticker).
        let (tcol, tbytes): (usize, &[u8]) = match m.time {
            TimeSource::One(i) => (i, &rec[i]),
            TimeSource::DateAndTime(d, t) => {
                time_buf.clear();
                time_buf.push_str(text(d).trim());
                time_buf.push(' ');
                time_buf.push_str(text(t).trim());
                (d, time_buf.as_bytes())
            }
        };
        let ts = if !last_time.is_empty() && tbytes == last_time.as_slice() {
            last_ts
        } else {
            let s = std::str::from_utf8(tbytes).unwrap_or("");
            let v = parse_timestamp(s, tz).map_err(|e| bad(tcol, e.expected(), s))?;
            last_time.clear();
            last_time.extend_from_slice(tbytes);
            last_ts = v;
            v
        };
        let price = |i: usize| -> Result<f64, IngestError> {
            let s = text(i);
            match parse_f64(s, decimal_comma) {
                Some(v) if v.is_finite() => Ok(v),
                Some(_) => Err(bad(i, "a finite number", s)),
                None => Err(bad(i, "a number", s)),
            }
        };
        let open = price(m.open)?;
        let high = price(m.high)?;
        let low = price(m.low)?;
        let close = price(m.close)?;
        let vs = text(m.volume);
        let volume = if vs.trim().is_empty() {
            0.0
        } else {
            match parse_f64(vs, decimal_comma) {
                Some(v) if v.is_finite() && v >= 0.0 => v,
                Some(_) => return Err(bad(m.volume, "a non-negative finite volume", vs)),
                None => return Err(bad(m.volume, "a number", vs)),
            }
        };
        let adj = match m.adj_close {
            Some(i) => Some(price(i)?),
            None => None,
        };
        let ticker = match m.ticker {
            Some(i) => {
                let t = text(i).trim();
                if t.is_empty() {
                    return Err(bad(i, "a ticker symbol", t));
                }
                Some(t)
            }
            None => None,
        };
        grouper.push(ticker, data_row, ts, [open, high, low, close, volume], adj);
        since_check += 1;
        if since_check >= 4096 {
            since_check = 0;
            progress.set(rec.position().map(|p| p.byte()).unwrap_or(0) as f64 / total);
        }
    }
    if data_row == 0 {
        return Err(IngestError::NoRows { file: file.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(sniff_delimiter(b"Date,Open,High"), b',');
        assert_eq!(sniff_delimiter(b"Date;Open;High"), b';');
        assert_eq!(sniff_delimiter(b"Date\tOpen\tHigh"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c,d"), b',');
        assert_eq!(sniff_delimiter(b"Date"), b',');
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_f64(" 1.5 ", false), Some(1.5));
        assert_eq!(parse_f64("1e3", false), Some(1000.0));
        assert_eq!(parse_f64("26,8", true), Some(26.8));
        assert_eq!(parse_f64("26,8", false), None);
        assert_eq!(parse_f64("1,234.5", true), None);
        assert_eq!(parse_f64("abc", true), None);
    }
}
