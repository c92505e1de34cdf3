//! Matrix files (CSV or Parquet with a header), as `btb train --matrix` and `btb predict` read
//! them: a table of numbers, whoever wrote it.
//!
//! Columns: every numeric column other than the label is a feature, except a column named
//! `timestamp` (or `ts`, `date`, `time`) and text columns (any non-empty cell that is not a
//! number), which are skipped and listed. Empty cells, `NaN`, `NA` and `null` are missing values.

use std::path::Path;

use crate::error::{read_err, CliError};

/// Numeric columns of a matrix file.
pub(crate) struct Table {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
    pub skipped: Vec<String>,
    /// CSV input: header and row lines, for echoing.
    pub lines: Option<Vec<String>>,
}

const TIME_COLUMNS: [&str; 4] = ["timestamp", "ts", "date", "time"];

pub(crate) fn read_table(path: &Path) -> Result<Table, CliError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "csv" => read_csv(path),
        "parquet" => read_parquet(path),
        other => Err(CliError::Usage(format!("{}: expected a .csv or .parquet file, not .{other}", path.display()))),
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

fn read_csv(path: &Path) -> Result<Table, CliError> {
    let text = std::fs::read_to_string(path).map_err(read_err(path))?;
    let lines: Vec<String> =
        text.lines().map(|l| l.trim_end_matches('\r').to_string()).filter(|l| !l.is_empty()).collect();
    let Some(header) = lines.first() else {
        return Err(CliError::Data(format!("{}: empty file", path.display())));
    };
    let names = split_csv(header);
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(lines.len()); names.len()];
    let mut numeric = vec![true; names.len()];
    for (i, line) in lines.iter().enumerate().skip(1) {
        let cells = split_csv(line);
        if cells.len() != names.len() {
            return Err(CliError::Data(format!(
                "{}: line {} has {} cells, the header {}",
                path.display(),
                i + 1,
                cells.len(),
                names.len()
            )));
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

fn read_parquet(path: &Path) -> Result<Table, CliError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let fail = |e: String| CliError::Data(format!("{}: cannot read Parquet: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(read_err(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| fail(e.to_string()))?
        .build()
        .map_err(|e| fail(e.to_string()))?;
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
