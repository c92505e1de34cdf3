//! Moving bar columns between Rust vectors and JS: a series travels and is stored as one `Blob`
//! of its columns, one after the other in [`names`] order, each `rows` little-endian f64s. A
//! Blob is a handle: storing it, reading it back from IndexedDB and posting it to a worker cost
//! the page thread nothing, where a million bars as typed arrays were cloned on it each time
//! (200 ms tasks). Records stored before keep their typed arrays; [`blob_of`] wraps them.
//!
//! Timestamps are epoch milliseconds, kept as f64 because every millisecond timestamp up to year
//! 285,000 is exactly representable in one.

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

/// The series as one Blob (the bytes are copied once, into the browser's blob storage).
pub fn to_blob(series: &Series) -> Result<web_sys::Blob, ColumnsError> {
    let parts: Array = to_arrays(series).into_iter().collect();
    web_sys::Blob::new_with_buffer_source_sequence(&parts)
        .map_err(|e| ColumnsError { ticker: series.ticker.clone(), what: format!("cannot make a Blob: {e:?}") })
}

/// A stored record as one Blob: a Blob as is, or (a record stored before Blobs) its typed arrays
/// wrapped in one.
pub fn blob_of(layout: &SeriesLayout, stored: &[JsValue]) -> Result<web_sys::Blob, ColumnsError> {
    if let [one] = stored {
        if let Some(blob) = one.dyn_ref::<web_sys::Blob>() {
            return Ok(blob.clone());
        }
    }
    let parts: Array = stored.iter().collect();
    web_sys::Blob::new_with_buffer_source_sequence(&parts)
        .map_err(|e| ColumnsError { ticker: layout.ticker.clone(), what: format!("cannot make a Blob: {e:?}") })
}

/// A series from its Blob, read synchronously (`FileReaderSync`: workers only).
pub fn from_blob(layout: &SeriesLayout, value: &JsValue) -> Result<Series, ColumnsError> {
    let err = |what: String| ColumnsError { ticker: layout.ticker.clone(), what };
    let blob = value.dyn_ref::<web_sys::Blob>().ok_or_else(|| err("the bars were not sent as a Blob".into()))?;
    let bytes = web_sys::FileReaderSync::new()
        .and_then(|r| r.read_as_array_buffer(blob))
        .map_err(|e| err(format!("cannot read them: {e:?}")))?;
    from_buffer(layout, &bytes.unchecked_into())
}

/// A series from its Blob's bytes.
pub fn from_buffer(layout: &SeriesLayout, bytes: &js_sys::ArrayBuffer) -> Result<Series, ColumnsError> {
    let n = check_size(layout, bytes)?;
    let arrays: Vec<JsValue> = (0..n)
        .map(|i| {
            Float64Array::new_with_byte_offset_and_length(bytes, (i * layout.rows * 8) as u32, layout.rows as u32)
                .into()
        })
        .collect();
    from_arrays(layout, &arrays)
}

/// [`from_buffer`] on the page thread: the copy into wasm memory goes in pieces of
/// [`PIECE`] values with a yield to the page between them (5M bars are 240 MB, and copying
/// them in one go stalled the page for over a second).
pub async fn read_buffer(layout: &SeriesLayout, bytes: &js_sys::ArrayBuffer) -> Result<Series, ColumnsError> {
    const PIECE: usize = 1 << 19;
    let n = check_size(layout, bytes)?;
    let rows = layout.rows;
    let mut cols = Vec::with_capacity(n);
    for i in 0..n {
        let mut col = vec![0.0f64; rows];
        for (k, piece) in col.chunks_mut(PIECE).enumerate() {
            let at = i * rows * 8 + k * PIECE * 8;
            Float64Array::new_with_byte_offset_and_length(bytes, at as u32, piece.len() as u32).copy_to(piece);
            if rows > PIECE {
                yield_to_page().await;
            }
        }
        cols.push(col);
    }
    Ok(series_of(layout, cols))
}

/// Resolves on a later task (`setTimeout` 0), so the page can paint and handle input.
async fn yield_to_page() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scheduled = web_sys::window()
            .map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).is_ok())
            .unwrap_or(false);
        if !scheduled {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The number of columns, once the bytes are as many as the layout promises.
fn check_size(layout: &SeriesLayout, bytes: &js_sys::ArrayBuffer) -> Result<usize, ColumnsError> {
    let n = names(layout).len();
    let expected = (n * layout.rows * 8) as u32;
    if bytes.byte_length() != expected {
        return Err(ColumnsError {
            ticker: layout.ticker.clone(),
            what: format!("{} bytes, expected {expected} ({n} columns of {} rows)", bytes.byte_length(), layout.rows),
        });
    }
    Ok(n)
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
    Ok(series_of(layout, cols))
}

/// Columns in [`names`] order as a series.
fn series_of(layout: &SeriesLayout, cols: Vec<Vec<f64>>) -> Series {
    let mut it = cols.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let ts = next().into_iter().map(|t| t as i64).collect();
    Series {
        ticker: layout.ticker.clone(),
        ts,
        open: next(),
        high: next(),
        low: next(),
        close: next(),
        volume: next(),
        adj_close: if layout.has_adj_close { Some(next()) } else { None },
    }
}
