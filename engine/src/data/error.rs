//! Why a file could not be loaded. One error per file: the first problem found wins.
//!
//! Every message names the file; problems tied to a place name the line (CSV: 1-based line in
//! the file, the header is line 1) or the row (Parquet: 1-based data row), the column, and what
//! was expected, e.g. `prices.csv line 7, column "close": expected a number, found "abc"`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pos {
    /// 1-based line of a text file, header included.
    Line(u64),
    /// 1-based data row of a Parquet file.
    Row(u64),
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::Line(n) => write!(f, "line {n}"),
            Pos::Row(n) => write!(f, "row {n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IngestError {
    #[error("{file}: the file is empty")]
    Empty { file: String },

    #[error("{file}: the file has a header but no data rows")]
    NoRows { file: String },

    #[error("{file}: missing required column \"{column}\" (expected one of {expected}); found columns: {}", found_list(.found))]
    MissingColumn { file: String, column: String, expected: String, found: Vec<String> },

    #[error("{file} {pos}, column \"{column}\": expected {expected}, found {found}")]
    BadValue {
        file: String,
        pos: Pos,
        column: String,
        expected: String,
        /// The offending cell, quoted (`"abc"`), or a word such as `null`.
        found: String,
    },

    #[error("{file} {pos}: expected {expected} fields like the header, found {found}")]
    Ragged { file: String, pos: Pos, expected: usize, found: usize },

    #[error("{file} {pos}: not a CSV or Parquet file ({detail})")]
    NotText { file: String, pos: Pos, detail: String },

    #[error("{file}: not a readable gzip file ({detail})")]
    Gzip { file: String, detail: String },

    #[error("{file}: not a readable Parquet file ({detail})")]
    Parquet { file: String, detail: String },

    #[error("{file}, column \"{column}\": unsupported column type {found}; expected {expected}")]
    UnsupportedType { file: String, column: String, found: String, expected: String },

    #[error("{file}: unknown time zone \"{tz}\"; expected an IANA name such as \"UTC\" or \"America/New_York\"")]
    UnknownTimeZone { file: String, tz: String },

    #[error("{file}: {detail}")]
    Other { file: String, detail: String },
}

fn found_list(found: &[String]) -> String {
    if found.is_empty() {
        return "none".to_string();
    }
    found.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

/// `"abc"` with the cell shortened to 40 characters and control characters escaped.
pub(crate) fn quote_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(48) + 2);
    out.push('"');
    for (i, ch) in s.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out.push('"');
    out
}

impl IngestError {
    /// The file named in the error.
    pub fn file(&self) -> &str {
        match self {
            IngestError::Empty { file }
            | IngestError::NoRows { file }
            | IngestError::MissingColumn { file, .. }
            | IngestError::BadValue { file, .. }
            | IngestError::Ragged { file, .. }
            | IngestError::NotText { file, .. }
            | IngestError::Gzip { file, .. }
            | IngestError::Parquet { file, .. }
            | IngestError::UnsupportedType { file, .. }
            | IngestError::UnknownTimeZone { file, .. }
            | IngestError::Other { file, .. } => file,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = IngestError::BadValue {
            file: "prices.csv".into(),
            pos: Pos::Line(7),
            column: "close".into(),
            expected: "a number".into(),
            found: quote_cell("abc"),
        };
        assert_eq!(e.to_string(), r#"prices.csv line 7, column "close": expected a number, found "abc""#);
        let e = IngestError::MissingColumn {
            file: "p.csv".into(),
            column: "close".into(),
            expected: "close".into(),
            found: vec!["Date".into(), "Open".into()],
        };
        assert_eq!(
            e.to_string(),
            r#"p.csv: missing required column "close" (expected one of close); found columns: "Date", "Open""#
        );
        assert_eq!(quote_cell("a\tb"), "\"a\\tb\"");
        assert_eq!(quote_cell(&"x".repeat(100)).chars().count(), 43);
    }
}
