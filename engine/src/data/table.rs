//! Tables of numbers (CSV or Parquet with a header), as `btb train --matrix` and `btb predict`
//! read a matrix file: whoever wrote it, so read as hostile as bars are (`scripts/fuzz`'s
//! `table` target), a Parquet decoder's panic guarded as in [`super::load`].
//!
//! Columns: every numeric column other than the label is a feature, except a column named
//! `timestamp` (or `ts`, `date`, `time`) and text columns (any non-empty cell that is not a
//! number), which are skipped and listed. Empty cells, `NaN`, `NA` and `null` are missing values.

use super::error::Pos;
use super::reading::{self, Format};
use super::IngestError;

/// Numeric columns of a matrix file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
    pub skipped: Vec<String>,
    /// CSV input: header and row lines, for echoing.
    pub lines: Option<Vec<String>>,
}

const TIME_COLUMNS: [&str; 4] = ["timestamp", "ts", "date", "time"];

/// The table in `bytes`: Parquet when they start with `PAR1`, else CSV. `name` names the file
/// in every error.
pub fn read(name: &str, bytes: &[u8]) -> Result<Table, IngestError> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if bytes.starts_with(b"PAR1") {
        reading::guarded(file, Format::Parquet, || read_parquet(file, bytes))
    } else {
        reading::guarded(file, Format::Csv, || read_csv(file, bytes))
    }
}

/// Splits one CSV line (RFC 4180 quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_cell(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("null") {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

fn read_csv(file: &str, bytes: &[u8]) -> Result<Table, IngestError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        IngestError::NotText { file: file.to_string(), pos: Pos::Line(line), detail: "not UTF-8 text".into() }
    })?;
    let lines: Vec<String> =
        text.lines().map(|l| l.trim_end_matches('\r').to_string()).filter(|l| !l.is_empty()).collect();
    let Some(header) = lines.first() else {
        return Err(IngestError::Empty { file: file.to_string() });
    };
    let names = split_csv(header);
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(lines.len()); names.len()];
    let mut numeric = vec![true; names.len()];
    for (i, line) in lines.iter().enumerate().skip(1) {
        let cells = split_csv(line);
        if cells.len() != names.len() {
            return Err(IngestError::Ragged {
                file: file.to_string(),
                pos: Pos::Line(i as u64 + 1),
                expected: names.len(),
                found: cells.len(),
            });
        }
        for (j, c) in cells.iter().enumerate() {
            let v = if numeric[j] { parse_cell(c) } else { None };
            if v.is_none() {
                numeric[j] = false;
            }
            columns[j].push(v.unwrap_or(f64::NAN));
        }
    }
    let mut t = Table { names: Vec::new(), columns: Vec::new(), skipped: Vec::new(), lines: None };
    for ((n, c), num) in names.into_iter().zip(columns).zip(numeric) {
        if num && !TIME_COLUMNS.contains(&n.to_ascii_lowercase().as_str()) {
            t.names.push(n);
            t.columns.push(c);
        } else {
            t.skipped.push(n);
        }
    }
    t.lines = Some(lines);
    Ok(t)
}

fn read_parquet(file: &str, bytes: &[u8]) -> Result<Table, IngestError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::Array;

    let fail = |e: String| IngestError::Parquet { file: file.to_string(), detail: e };
    let reader = super::parquet_reader::open(file, bytes)?.build().map_err(|e| fail(e.to_string()))?;
    let mut t = Table { names: Vec::new(), columns: Vec::new(), skipped: Vec::new(), lines: None };
    let mut first = true;
    let mut keep: Vec<bool> = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        let schema = batch.schema();
        let mut k = 0;
        for (j, field) in schema.fields().iter().enumerate() {
            let a = batch.column(j);
            let n = a.len();
            macro_rules! prim {
                ($($t:ty),*) => {{
                    let mut v: Option<Vec<f64>> = None;
                    $(
                        if v.is_none() {
                            if let Some(p) = a.as_primitive_opt::<$t>() {
                                v = Some((0..n).map(|i| if p.is_null(i) { f64::NAN } else { p.value(i) as f64 }).collect());
                            }
                        }
                    )*
                    v
                }};
            }
            let mut vals = prim!(
                Float64Type,
                Float32Type,
                Int64Type,
                Int32Type,
                Int16Type,
                Int8Type,
                UInt64Type,
                UInt32Type,
                UInt16Type,
                UInt8Type
            );
            if vals.is_none() {
                if let Some(b) = a.as_boolean_opt() {
                    vals =
                        Some((0..n).map(|i| if b.is_null(i) { f64::NAN } else { b.value(i) as u8 as f64 }).collect());
                }
            }
            let name = field.name().clone();
            let usable = vals.is_some() && !TIME_COLUMNS.contains(&name.to_ascii_lowercase().as_str());
            if first {
                keep.push(usable);
                if usable {
                    t.names.push(name);
                    t.columns.push(Vec::new());
                } else {
                    t.skipped.push(name);
                }
            }
            if keep.get(j).copied().unwrap_or(false) {
                if let (Some(v), Some(col)) = (vals, t.columns.get_mut(k)) {
                    col.extend(v);
                }
                k += 1;
            }
        }
        first = false;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_columns_are_features_text_and_time_are_skipped() {
        let t = read("dir/m.csv", b"timestamp,a,b,name,label\n1,0.5,NA,x,1\n2,\"1,5\",2,y,0\n").unwrap();
        assert_eq!(t.names, ["b", "label"]);
        assert_eq!(t.skipped, ["timestamp", "a", "name"], "\"1,5\" is one cell, and not a number");
        assert!(t.columns[0][0].is_nan(), "NA is missing");
        assert_eq!(t.columns[1], [1.0, 0.0]);
        assert_eq!(t.lines.as_ref().map(Vec::len), Some(3));
    }

    #[test]
    fn bad_tables_name_the_file_and_line() {
        let e = read("dir/m.csv", b"a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(e.to_string(), "m.csv line 3: expected 2 fields like the header, found 1");
        assert_eq!(read("m.csv", b"").unwrap_err().to_string(), "m.csv: the file is empty");
        assert!(read("m.csv", b"a\n\xff\n").unwrap_err().to_string().starts_with("m.csv line 2: not a CSV"));
        let e = read("m.parquet", b"PAR1 not really").unwrap_err();
        assert!(e.to_string().starts_with("m.parquet: not a readable Parquet file ("), "{e}");
    }
}
