//! Moving bar columns between Rust vectors and JS typed arrays.
//!
//! Timestamps are epoch milliseconds; they travel and are stored as `Float64Array` because every
//! millisecond timestamp up to year 285,000 is exactly representable in an f64, and a
//! `Float64Array` is cheaper to handle in JS than a `BigInt64Array`.

use engine::data::{Series, SeriesLayout};
use js_sys::{Array, Float64Array};
use wasm_bindgen::{JsCast, JsValue};

/// Each series' layout, `offset` counting rows from the dataset's first series as the engine's
/// `ColumnSet` does (the page keeps one array set per series, so it only reads `rows`).
pub fn layouts(series: &[Series]) -> Vec<SeriesLayout> {
    let mut offset = 0;
    series
        .iter()
        .map(|s| {
            let l = SeriesLayout {
                ticker: s.ticker.clone(),
                offset,
                rows: s.ts.len(),
                has_adj_close: s.adj_close.is_some(),
            };
            offset += l.rows;
            l
        })
        .collect()
}

/// The typed arrays that travel and are stored for one series, in this order.
pub fn names(layout: &SeriesLayout) -> &'static [&'static str] {
    if layout.has_adj_close {
        &["ts", "open", "high", "low", "close", "volume", "adj_close"]
    } else {
        &["ts", "open", "high", "low", "close", "volume"]
    }
}

/// The series' columns as typed arrays in [`names`] order.
pub fn to_arrays(series: &Series) -> Vec<Float64Array> {
    let ts: Vec<f64> = series.ts.iter().map(|&t| t as f64).collect();
    let mut out = vec![
        Float64Array::from(ts.as_slice()),
        Float64Array::from(series.open.as_slice()),
        Float64Array::from(series.high.as_slice()),
        Float64Array::from(series.low.as_slice()),
        Float64Array::from(series.close.as_slice()),
        Float64Array::from(series.volume.as_slice()),
    ];
    if let Some(adj) = &series.adj_close {
        out.push(Float64Array::from(adj.as_slice()));
    }
    out
}

#[derive(Debug, thiserror::Error)]
#[error("stored columns for {ticker} are damaged: {what}")]
pub struct ColumnsError {
    pub ticker: String,
    pub what: String,
}

/// Rebuilds a series from typed arrays, checking every column has the promised length.
pub fn from_arrays(layout: &SeriesLayout, arrays: &[JsValue]) -> Result<Series, ColumnsError> {
    let err = |what: String| ColumnsError { ticker: layout.ticker.clone(), what };
    let names = names(layout);
    if arrays.len() < names.len() {
        return Err(err(format!("{} columns, expected {}", arrays.len(), names.len())));
    }
    let mut cols = Vec::with_capacity(names.len());
    for (name, value) in names.iter().zip(arrays) {
        let arr: &Float64Array =
            value.dyn_ref::<Float64Array>().ok_or_else(|| err(format!("column {name} is not a Float64Array")))?;
        if arr.length() as usize != layout.rows {
            return Err(err(format!("column {name} has {} rows, expected {}", arr.length(), layout.rows)));
        }
        cols.push(arr.to_vec());
    }
    let mut it = cols.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let ts = next().into_iter().map(|t| t as i64).collect();
    Ok(Series {
        ticker: layout.ticker.clone(),
        ts,
        open: next(),
        high: next(),
        low: next(),
        close: next(),
        volume: next(),
        adj_close: if layout.has_adj_close { Some(next()) } else { None },
    })
}

/// Buffers to hand to `postMessage` as its transfer list.
pub fn transfer_list(arrays: &[Float64Array]) -> Array {
    arrays.iter().map(|a| JsValue::from(a.buffer())).collect()
}
