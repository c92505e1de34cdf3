//! Parquet bars (pyarrow, pandas, polars, DuckDB, Spark …) through arrow-rs.
//!
//! Columns are matched by name as in CSV (see [`super::columns`]); pandas' `__index_level_0__`
//! counts as a time column, and if no column has a time-like name the first column with a
//! timestamp or date type is used. Accepted types:
//! - time: `Timestamp(s|ms|us|ns, zone)` (an instant), `Timestamp(unit, None)` (wall-clock time,
//!   read in the dataset's zone), `Date32`/`Date64` (midnight in the dataset's zone), integers
//!   (epoch by magnitude or `YYYYMMDD`, as in CSV), floats (epoch by magnitude), strings;
//! - prices and volume: any integer or float type, `Decimal128`, or numeric strings;
//! - ticker: `Utf8`, `LargeUtf8`, `Utf8View`, or a dictionary of those.
//!
//! Nulls are errors in time, price and ticker columns; a null volume reads as 0.
//! Row numbers in errors and issues are 1-based data rows.

use super::columns::{map_columns, Mapping, TimeSource};
use super::csv_reader::parse_f64;
use super::error::{quote_cell, Pos};
use super::reading::{self, Format};
use super::time::{epoch_to_ms, int_to_ms, local_to_ms, parse_timestamp};
use super::{Grouper, IngestError, Progress};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::DateTime;
use chrono_tz::Tz;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

const TIME_TYPES: &str = "a timestamp, date, integer epoch or text column";
const NUMBER_TYPES: &str = "an integer, float, decimal or numeric text column";
const TEXT_TYPES: &str = "a text column";

fn is_time_type(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64)
}

pub(crate) fn read(
    file: &str,
    bytes: &[u8],
    tz: Tz,
    grouper: &mut Grouper,
    progress: &mut Progress<'_>,
) -> Result<(), IngestError> {
    // arrow-rs is hardened against malformed files but not proven panic-free (a few changed bytes
    // in a page make its RLE decoder panic): natively a panic becomes this file's error; on
    // wasm32 panics abort, and the worker's hook reports the same error (see `reading`).
    reading::guarded(file, Format::Parquet, || read_inner(file, bytes, tz, grouper, progress))
}

/// The IANA zone of the file's first zone-aware timestamp column, if it names one: pyarrow and
/// pandas write `America/New_York`-style zones into the Arrow schema. Offsets ("+05:00") are not
/// zones and give `None`. Reads the footer only; any failure is `None` (the full read reports it).
pub(crate) fn file_zone(file: &str, bytes: &[u8]) -> Option<String> {
    let zone = reading::guarded(file, Format::Parquet, || {
        let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes)) else {
            return Ok(None);
        };
        Ok(builder.schema().fields().iter().find_map(|f| match f.data_type() {
            DataType::Timestamp(_, Some(zone)) => super::time::parse_tz(zone).map(|tz| tz.name().to_string()),
            _ => None,
        }))
    });
    zone.ok().flatten()
}

fn pq_err(file: &str) -> impl Fn(parquet::errors::ParquetError) -> IngestError + '_ {
    move |e| IngestError::Parquet { file: file.to_string(), detail: e.to_string() }
}

/// The reader of a Parquet file's bytes, once they passed [`check_chunks`] and [`check_pages`]:
/// what bars and matrix files (`table`) both read through. The bytes are copied once and shared.
pub(crate) fn open(file: &str, bytes: &[u8]) -> Result<ParquetRecordBatchReaderBuilder<bytes::Bytes>, IngestError> {
    let data = bytes::Bytes::copy_from_slice(bytes);
    let builder = ParquetRecordBatchReaderBuilder::try_new(data.clone()).map_err(pq_err(file))?;
    check_chunks(file, builder.metadata(), bytes.len() as u64)?;
    check_pages(file, data)?;
    Ok(builder)
}

/// A problem of one column chunk, named as the user's tools name it.
fn chunk_error(file: &str, group: usize, column: &str, detail: String) -> IngestError {
    IngestError::Parquet {
        file: file.to_string(),
        detail: format!("row group {}, column \"{column}\": {detail}", group + 1),
    }
}

/// Refuses a footer whose column chunks do not lie inside the file: the decoder asserts on a
/// negative offset or size (`ColumnChunkMetaData::byte_range`), which in the page would abort the
/// worker. Found by `scripts/fuzz` (`tests/fixtures/fuzz/data/`).
fn check_chunks(file: &str, meta: &parquet::file::metadata::ParquetMetaData, len: u64) -> Result<(), IngestError> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let start = chunk.dictionary_page_offset().unwrap_or_else(|| chunk.data_page_offset());
            let size = chunk.compressed_size();
            let end = u64::try_from(start).ok().zip(u64::try_from(size).ok()).and_then(|(a, b)| a.checked_add(b));
            if end.is_none_or(|end| end > len) {
                let detail =
                    format!("its data lies outside the file (offset {start}, {size} bytes, in a file of {len})");
                return Err(chunk_error(file, g, &chunk.column_path().string(), detail));
            }
        }
    }
    Ok(())
}

/// Refuses pages the decoder would trust to its own harm, seen page by page (headers and
/// decompressed bodies, not values), before any is decoded: a dictionary claiming more values
/// than its bytes hold (the decoder allocates them all: 4 billion from a 5 KB file, found by
/// `scripts/fuzz`), level lengths past a v2 page's end, and `BIT_PACKED` levels (deprecated,
/// never written by pyarrow, polars or DuckDB, and read without a bounds check). Costs one more
/// decompression of each page.
fn check_pages(file: &str, data: bytes::Bytes) -> Result<(), IngestError> {
    use parquet::basic::{Encoding, Type};
    use parquet::column::page::Page;
    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::SerializedFileReader;

    let bad = |g: usize, column: &str, detail: String| chunk_error(file, g, column, detail);
    let reader = SerializedFileReader::new(data).map_err(pq_err(file))?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    for g in 0..meta.num_row_groups() {
        let group = reader.get_row_group(g).map_err(pq_err(file))?;
        for j in 0..group.num_columns() {
            let descr = schema.column(j);
            let column = descr.path().string();
            // The fewest bytes one plain value takes (a byte array: its 4-byte length).
            let width = match descr.physical_type() {
                Type::BOOLEAN => 0,
                Type::INT32 | Type::FLOAT | Type::BYTE_ARRAY => 4,
                Type::INT64 | Type::DOUBLE => 8,
                Type::INT96 => 12,
                Type::FIXED_LEN_BYTE_ARRAY => descr.type_length().max(0) as u64,
            };
            let has_levels = descr.max_def_level() > 0 || descr.max_rep_level() > 0;
            #[allow(deprecated)] // the encoding refused here is the deprecated one
            let bit_packed = Encoding::BIT_PACKED;
            for page in group.get_column_page_reader(j).map_err(pq_err(file))? {
                match page.map_err(pq_err(file))? {
                    Page::DictionaryPage { buf, num_values, encoding, .. } => {
                        let plain = matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY);
                        if plain && u64::from(num_values) * width > buf.len() as u64 {
                            let detail = format!("its dictionary claims {num_values} values in {} bytes", buf.len());
                            return Err(bad(g, &column, detail));
                        }
                    }
                    Page::DataPageV2 { buf, def_levels_byte_len, rep_levels_byte_len, .. } => {
                        if u64::from(def_levels_byte_len) + u64::from(rep_levels_byte_len) > buf.len() as u64 {
                            let detail = format!(
                                "a page's levels ({def_levels_byte_len} + {rep_levels_byte_len} bytes) run past its {} bytes",
                                buf.len()
                            );
                            return Err(bad(g, &column, detail));
                        }
                    }
                    Page::DataPage { def_level_encoding, rep_level_encoding, .. } => {
                        if has_levels && (def_level_encoding == bit_packed || rep_level_encoding == bit_packed) {
                            return Err(bad(g, &column, "BIT_PACKED levels (deprecated) are not supported".into()));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn read_inner(
    file: &str,
    bytes: &[u8],
    tz: Tz,
    grouper: &mut Grouper,
    progress: &mut Progress<'_>,
) -> Result<(), IngestError> {
    let builder = open(file, bytes)?;
    let schema = builder.schema().clone();
    let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let m: Mapping =
        map_columns(file, &headers, &|i| schema.fields().get(i).is_some_and(|f| is_time_type(f.data_type())))?;
    let used = m.used();
    // Type checks up front, so the error names the column rather than a row.
    let unsupported = |i: usize, expected: &str| IngestError::UnsupportedType {
        file: file.to_string(),
        column: headers[i].clone(),
        found: format!("{}", schema.field(i).data_type()),
        expected: expected.to_string(),
    };
    let time_cols = match m.time {
        TimeSource::One(i) => vec![i],
        TimeSource::DateAndTime(a, b) => vec![a, b],
    };
    for &i in &time_cols {
        let dt = schema.field(i).data_type();
        let ok = match m.time {
            TimeSource::One(_) => is_time_type(dt) || is_int(dt) || is_float(dt) || is_text(dt),
            TimeSource::DateAndTime(..) => is_text(dt),
        };
        if !ok {
            return Err(unsupported(i, TIME_TYPES));
        }
    }
    for i in [m.open, m.high, m.low, m.close, m.volume].into_iter().chain(m.adj_close) {
        let dt = schema.field(i).data_type();
        if !(is_int(dt) || is_float(dt) || is_text(dt) || matches!(dt, DataType::Decimal128(_, _))) {
            return Err(unsupported(i, NUMBER_TYPES));
        }
    }
    if let Some(i) = m.ticker {
        if !is_text(schema.field(i).data_type()) {
            return Err(unsupported(i, TEXT_TYPES));
        }
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), used.iter().copied());
    let reader = builder.with_projection(mask).with_batch_size(65_536).build().map_err(pq_err(file))?;
    let mut offset: u64 = 0;
    for batch in reader {
        let batch: RecordBatch = batch.map_err(|e| IngestError::Parquet {
            file: file.to_string(),
            detail: format!("at row {}: {e}", offset + 1),
        })?;
        let col = |i: usize| -> Result<&ArrayRef, IngestError> {
            batch.column_by_name(&headers[i]).ok_or_else(|| IngestError::Parquet {
                file: file.to_string(),
                detail: format!("column \"{}\" is missing from a row group", headers[i]),
            })
        };
        let ctx = Ctx { file, headers: &headers, offset };
        let ts = match m.time {
            TimeSource::One(i) => times(&ctx, i, col(i)?.as_ref(), tz)?,
            TimeSource::DateAndTime(d, t) => {
                let (dc, tc) = (text_col(col(d)?.as_ref()), text_col(col(t)?.as_ref()));
                let (Some(dc), Some(tc)) = (dc, tc) else {
                    return Err(unsupported(d, TEXT_TYPES));
                };
                let mut out = Vec::with_capacity(batch.num_rows());
                for r in 0..batch.num_rows() {
                    let s = format!("{} {}", dc.get(r).unwrap_or(""), tc.get(r).unwrap_or(""));
                    out.push(parse_timestamp(&s, tz).map_err(|e| ctx.bad(d, r, e.expected(), quote_cell(&s)))?);
                }
                out
            }
        };
        let open = numbers(&ctx, m.open, col(m.open)?.as_ref(), false)?;
        let high = numbers(&ctx, m.high, col(m.high)?.as_ref(), false)?;
        let low = numbers(&ctx, m.low, col(m.low)?.as_ref(), false)?;
        let close = numbers(&ctx, m.close, col(m.close)?.as_ref(), false)?;
        let volume = numbers(&ctx, m.volume, col(m.volume)?.as_ref(), true)?;
        let adj = match m.adj_close {
            Some(i) => Some(numbers(&ctx, i, col(i)?.as_ref(), false)?),
            None => None,
        };
        let tick = match m.ticker {
            Some(i) => Some((i, text_col(col(i)?.as_ref()).ok_or_else(|| unsupported(i, TEXT_TYPES))?)),
            None => None,
        };
        for r in 0..batch.num_rows() {
            let ticker = match &tick {
                Some((i, tc)) => match tc.get(r).map(str::trim) {
                    Some(t) if !t.is_empty() => Some(t),
                    Some(t) => return Err(ctx.bad(*i, r, "a ticker symbol", quote_cell(t))),
                    None => return Err(ctx.bad(*i, r, "a ticker symbol", "null".into())),
                },
                None => None,
            };
            grouper.push(
                ticker,
                offset + r as u64 + 1,
                ts[r],
                [open[r], high[r], low[r], close[r], volume[r]],
                adj.as_ref().map(|a| a[r]),
            );
        }
        offset += batch.num_rows() as u64;
        if total_rows > 0 {
            progress.set(offset as f64 / total_rows as f64);
        }
    }
    if offset == 0 {
        return Err(IngestError::NoRows { file: file.to_string() });
    }
    Ok(())
}

struct Ctx<'a> {
    file: &'a str,
    headers: &'a [String],
    offset: u64,
}

impl Ctx<'_> {
    fn bad(&self, col: usize, r: usize, expected: &str, found: String) -> IngestError {
        IngestError::BadValue {
            file: self.file.to_string(),
            pos: Pos::Row(self.offset + r as u64 + 1),
            column: self.headers.get(col).cloned().unwrap_or_default(),
            expected: expected.to_string(),
            found,
        }
    }
}

fn is_int(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

fn is_float(dt: &DataType) -> bool {
    matches!(dt, DataType::Float32 | DataType::Float64)
}

fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
        _ => false,
    }
}

/// A text column of any of arrow's string layouts.
enum TextCol<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Dict { keys: Vec<usize>, array: &'a dyn Array, values: Box<TextCol<'a>> },
}

fn text_col(a: &dyn Array) -> Option<TextCol<'_>> {
    if let Some(s) = a.as_string_opt::<i32>() {
        return Some(TextCol::Utf8(s));
    }
    if let Some(s) = a.as_string_opt::<i64>() {
        return Some(TextCol::Large(s));
    }
    if let Some(s) = a.as_string_view_opt() {
        return Some(TextCol::View(s));
    }
    let d = a.as_any_dictionary_opt()?;
    let values = text_col(d.values().as_ref())?;
    let keys = if d.values().is_empty() { vec![usize::MAX; a.len()] } else { d.normalized_keys() };
    Some(TextCol::Dict { keys, array: a, values: Box::new(values) })
}

impl TextCol<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            TextCol::Utf8(s) => (i < s.len() && s.is_valid(i)).then(|| s.value(i)),
            TextCol::Large(s) => (i < s.len() && s.is_valid(i)).then(|| s.value(i)),
            TextCol::View(s) => (i < s.len() && s.is_valid(i)).then(|| s.value(i)),
            TextCol::Dict { keys, array, values } => {
                if i >= array.len() || array.is_null(i) {
                    return None;
                }
                values.get(*keys.get(i)?)
            }
        }
    }
}

macro_rules! prim_f64 {
    ($a:expr, $t:ty) => {
        $a.as_primitive_opt::<$t>().map(|p| p.iter().map(|v| v.map(|x| x as f64)).collect::<Vec<Option<f64>>>())
    };
}

macro_rules! prim_i64 {
    ($a:expr, $t:ty) => {
        $a.as_primitive_opt::<$t>().map(|p| p.iter().map(|v| v.map(|x| x as i64)).collect::<Vec<Option<i64>>>())
    };
}

fn as_f64s(a: &dyn Array) -> Option<Vec<Option<f64>>> {
    match a.data_type() {
        DataType::Float64 => prim_f64!(a, Float64Type),
        DataType::Float32 => prim_f64!(a, Float32Type),
        DataType::Int8 => prim_f64!(a, Int8Type),
        DataType::Int16 => prim_f64!(a, Int16Type),
        DataType::Int32 => prim_f64!(a, Int32Type),
        DataType::Int64 => prim_f64!(a, Int64Type),
        DataType::UInt8 => prim_f64!(a, UInt8Type),
        DataType::UInt16 => prim_f64!(a, UInt16Type),
        DataType::UInt32 => prim_f64!(a, UInt32Type),
        DataType::UInt64 => prim_f64!(a, UInt64Type),
        DataType::Decimal128(_, scale) => {
            let div = 10f64.powi(*scale as i32);
            a.as_primitive_opt::<Decimal128Type>().map(|p| p.iter().map(|v| v.map(|x| x as f64 / div)).collect())
        }
        _ => None,
    }
}

fn as_i64s(a: &dyn Array) -> Option<Vec<Option<i64>>> {
    match a.data_type() {
        DataType::Int8 => prim_i64!(a, Int8Type),
        DataType::Int16 => prim_i64!(a, Int16Type),
        DataType::Int32 => prim_i64!(a, Int32Type),
        DataType::Int64 => prim_i64!(a, Int64Type),
        DataType::UInt8 => prim_i64!(a, UInt8Type),
        DataType::UInt16 => prim_i64!(a, UInt16Type),
        DataType::UInt32 => prim_i64!(a, UInt32Type),
        DataType::UInt64 => a
            .as_primitive_opt::<UInt64Type>()
            .map(|p| p.iter().map(|v| v.map(|x| i64::try_from(x).unwrap_or(i64::MAX))).collect()),
        DataType::Date64 => prim_i64!(a, Date64Type),
        DataType::Date32 => prim_i64!(a, Date32Type),
        DataType::Timestamp(TimeUnit::Second, _) => prim_i64!(a, TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => prim_i64!(a, TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => prim_i64!(a, TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => prim_i64!(a, TimestampNanosecondType),
        _ => None,
    }
}

fn numbers(ctx: &Ctx<'_>, ci: usize, a: &dyn Array, is_volume: bool) -> Result<Vec<f64>, IngestError> {
    let vals: Vec<Option<f64>> = match as_f64s(a) {
        Some(v) => v,
        None => {
            let t = text_col(a).ok_or_else(|| IngestError::UnsupportedType {
                file: ctx.file.to_string(),
                column: ctx.headers.get(ci).cloned().unwrap_or_default(),
                found: a.data_type().to_string(),
                expected: NUMBER_TYPES.to_string(),
            })?;
            let mut out = Vec::with_capacity(a.len());
            for r in 0..a.len() {
                match t.get(r) {
                    None => out.push(None),
                    Some(s) if is_volume && s.trim().is_empty() => out.push(None),
                    Some(s) => match parse_f64(s, false) {
                        Some(v) => out.push(Some(v)),
                        None => return Err(ctx.bad(ci, r, "a number", quote_cell(s))),
                    },
                }
            }
            out
        }
    };
    let mut out = Vec::with_capacity(vals.len());
    for (r, v) in vals.into_iter().enumerate() {
        match v {
            Some(x) if x.is_finite() && (!is_volume || x >= 0.0) => out.push(x),
            Some(x) if is_volume && x.is_finite() => {
                return Err(ctx.bad(ci, r, "a non-negative finite volume", x.to_string()))
            }
            Some(x) => return Err(ctx.bad(ci, r, "a finite number", x.to_string())),
            None if is_volume => out.push(0.0),
            None => return Err(ctx.bad(ci, r, "a number", "null".into())),
        }
    }
    Ok(out)
}

fn naive_ms_to_ms(ms: i64, tz: Tz) -> Option<i64> {
    if tz == Tz::UTC {
        return Some(ms);
    }
    let naive = DateTime::from_timestamp_millis(ms)?.naive_utc();
    Some(local_to_ms(naive, tz))
}

fn times(ctx: &Ctx<'_>, ci: usize, a: &dyn Array, tz: Tz) -> Result<Vec<i64>, IngestError> {
    let dt = a.data_type().clone();
    let range_err = |r: usize, v: i64| ctx.bad(ci, r, "a timestamp between years 1 and 9999", v.to_string());
    if is_text(&dt) {
        let t = text_col(a).ok_or_else(|| ctx.bad(ci, 0, TIME_TYPES, dt.to_string()))?;
        let mut out = Vec::with_capacity(a.len());
        let mut last: Option<(&str, i64)> = None;
        for r in 0..a.len() {
            let s = t.get(r).ok_or_else(|| ctx.bad(ci, r, "a date or timestamp", "null".into()))?;
            let v = match last {
                Some((ls, lv)) if ls == s => lv,
                _ => parse_timestamp(s, tz).map_err(|e| ctx.bad(ci, r, e.expected(), quote_cell(s)))?,
            };
            last = Some((s, v));
            out.push(v);
        }
        return Ok(out);
    }
    if is_float(&dt) {
        let vals = as_f64s(a).unwrap_or_default();
        let mut out = Vec::with_capacity(vals.len());
        for (r, v) in vals.into_iter().enumerate() {
            let x = v.ok_or_else(|| ctx.bad(ci, r, "a date or timestamp", "null".into()))?;
            if !x.is_finite() || x.abs() > 9.2e18 {
                return Err(ctx.bad(ci, r, "an epoch timestamp", x.to_string()));
            }
            // Fractional epoch seconds keep their milliseconds; larger units by magnitude.
            let ms = if x.abs() < 1e11 { (x * 1000.0).round() as i64 } else { epoch_to_ms(x.round() as i64) };
            out.push(ms);
        }
        return Ok(out);
    }
    let vals = as_i64s(a).ok_or_else(|| IngestError::UnsupportedType {
        file: ctx.file.to_string(),
        column: ctx.headers.get(ci).cloned().unwrap_or_default(),
        found: dt.to_string(),
        expected: TIME_TYPES.to_string(),
    })?;
    let mut out = Vec::with_capacity(vals.len());
    for (r, v) in vals.into_iter().enumerate() {
        let v = v.ok_or_else(|| ctx.bad(ci, r, "a date or timestamp", "null".into()))?;
        let ms = match &dt {
            DataType::Timestamp(unit, zone) => {
                let ms = match unit {
                    TimeUnit::Second => v.checked_mul(1000),
                    TimeUnit::Millisecond => Some(v),
                    TimeUnit::Microsecond => Some(v.div_euclid(1000)),
                    TimeUnit::Nanosecond => Some(v.div_euclid(1_000_000)),
                };
                let ms = ms.ok_or_else(|| range_err(r, v))?;
                if zone.is_some() {
                    ms
                } else {
                    naive_ms_to_ms(ms, tz).ok_or_else(|| range_err(r, v))?
                }
            }
            DataType::Date32 => naive_ms_to_ms(v.saturating_mul(86_400_000), tz).ok_or_else(|| range_err(r, v))?,
            DataType::Date64 => naive_ms_to_ms(v, tz).ok_or_else(|| range_err(r, v))?,
            _ => int_to_ms(v, tz).map_err(|e| ctx.bad(ci, r, e.expected(), v.to_string()))?,
        };
        out.push(ms);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{load, LoadOptions, Pos};
    use super::*;
    use arrow_array::{
        BooleanArray, Decimal128Array, Float32Array, Float64Array, Int64Array, StringArray, StringViewArray,
        TimestampNanosecondArray,
    };
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    fn write(cols: Vec<(&str, ArrayRef)>) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        out
    }

    const T0: i64 = 1_704_153_600_000; // 2024-01-02

    #[test]
    fn zone_comes_from_the_file_unless_given() {
        let bytes =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/pyarrow_snappy_us_tz.parquet"))
                .unwrap();
        assert_eq!(file_zone("z.parquet", &bytes).as_deref(), Some("America/New_York"));
        let d = load("a.parquet", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(d.tz, "America/New_York");
        let utc =
            load("a.parquet", &bytes, &LoadOptions { ticker: None, tz: Some("UTC".into()) }, &mut |_| {}).unwrap();
        assert_eq!(utc.tz, "UTC");
        assert_eq!(d.series[0].ts, utc.series[0].ts, "zone-aware instants do not depend on the zone");
        assert_eq!(file_zone("z.parquet", b"PAR1 not really PAR1"), None);
    }

    #[test]
    fn string_view_ticker_tz_ns_float32_decimal() {
        let ts: Vec<i64> = (0..4).map(|d| (T0 + d * 86_400_000) * 1_000_000).collect();
        let bytes = write(vec![
            ("Symbol", Arc::new(StringViewArray::from(vec!["A", "B", "A", "B"])) as ArrayRef),
            ("ts", Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC"))),
            ("o", Arc::new(Float32Array::from(vec![1.5f32, 2.0, 1.5, 2.0]))),
            ("h", Arc::new(Float64Array::from(vec![2.0, 3.0, 2.0, 3.0]))),
            ("l", Arc::new(Int64Array::from(vec![1, 1, 1, 1]))),
            ("c", Arc::new(StringArray::from(vec!["1.75", "2.5", "1.75", "2.5"]))),
            (
                "Volume",
                Arc::new(
                    Decimal128Array::from(vec![Some(12345), None, Some(1), Some(2)])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ),
        ]);
        let d = load("x.parquet", &bytes, &LoadOptions { ticker: None, tz: Some("Asia/Tokyo".into()) }, &mut |_| {})
            .unwrap();
        assert_eq!(d.series.len(), 2);
        assert_eq!(d.series[0].ticker, "A");
        assert_eq!(d.series[0].ts, vec![T0, T0 + 2 * 86_400_000]);
        assert_eq!(d.series[0].open, vec![1.5, 1.5]);
        assert_eq!(d.series[0].close, vec![1.75, 1.75]);
        assert_eq!(d.series[0].volume, vec![123.45, 0.01]);
        assert_eq!(d.series[1].volume, vec![0.0, 0.02]);
    }

    #[test]
    fn null_price_unsupported_type_missing_column() {
        let ts = || Arc::new(TimestampNanosecondArray::from(vec![0, 86_400_000_000_000])) as ArrayRef;
        let num = || Arc::new(Float64Array::from(vec![1.0, 1.0])) as ArrayRef;
        let bytes = write(vec![
            ("date", ts()),
            ("open", num()),
            ("high", num()),
            ("low", num()),
            ("close", Arc::new(Float64Array::from(vec![Some(1.0), None])) as ArrayRef),
            ("volume", num()),
        ]);
        let e = load("n.parquet", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, IngestError::BadValue { pos: Pos::Row(2), .. }), "{e:?}");
        assert_eq!(e.to_string(), r#"n.parquet row 2, column "close": expected a number, found null"#);

        let bytes = write(vec![
            ("date", ts()),
            ("open", num()),
            ("high", num()),
            ("low", num()),
            ("close", Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef),
            ("volume", num()),
        ]);
        let e = load("b.parquet", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, IngestError::UnsupportedType { .. }), "{e:?}");
        assert!(e.to_string().contains("column \"close\": unsupported column type Boolean"), "{e}");

        let bytes = write(vec![("date", ts()), ("open", num())]);
        let e = load("m.parquet", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, IngestError::MissingColumn { .. }), "{e:?}");

        let bytes = write(vec![
            ("date", Arc::new(StringArray::from(vec!["2024-01-02", "2024-13-02"])) as ArrayRef),
            ("open", num()),
            ("high", num()),
            ("low", num()),
            ("close", num()),
            ("volume", num()),
        ]);
        let e = load("s.parquet", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"s.parquet row 2, column "date": expected a real calendar date and time, found "2024-13-02""#
        );
    }
}
