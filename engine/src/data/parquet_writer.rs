//! Bars to Parquet: what a bundle carries a dataset slice as, so any Parquet tool can read it and
//! [`super::load`] reads it back to the very same bars (and so the same [`super::Dataset::sha`]).
//!
//! Columns: `timestamp` (UTC milliseconds, the zone's name in the Arrow type so a reader knows
//! where sessions are), `ticker`, `open`, `high`, `low`, `close`, `volume` and, when the series
//! has one, `adj_close`; snappy-compressed (the page writes these too, and snappy's encoder is a
//! fraction of zstd's in the wasm bundle). The same bars always give the same bytes.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::Series;

/// The series as Parquet bytes; `Err` carries the writer's message.
pub fn series_to_parquet(s: &Series, tz: &str) -> Result<Vec<u8>, String> {
    let mut cols: Vec<(&str, ArrayRef)> = vec![
        ("timestamp", Arc::new(TimestampMillisecondArray::from(s.ts.clone()).with_timezone(tz))),
        ("ticker", Arc::new(StringArray::from(vec![s.ticker.as_str(); s.len()]))),
    ];
    for (name, col) in
        [("open", &s.open), ("high", &s.high), ("low", &s.low), ("close", &s.close), ("volume", &s.volume)]
    {
        cols.push((name, Arc::new(Float64Array::from(col.clone()))));
    }
    if let Some(a) = &s.adj_close {
        cols.push(("adj_close", Arc::new(Float64Array::from(a.clone()))));
    }
    let batch = RecordBatch::try_from_iter(cols).map_err(|e| e.to_string())?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{load, LoadOptions};

    #[test]
    fn bars_read_back_to_the_same_sha() {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/stocks-daily-2000-2013.csv.gz"))
            .unwrap();
        let ds = load("demo.csv.gz", &bytes, &LoadOptions::default(), &mut |_| {}).unwrap();
        let s = ds.series[0].clone();
        let one = crate::data::Dataset { series: vec![s.clone()], issues: vec![], issue_counts: vec![], ..ds.clone() };
        let pq = series_to_parquet(&s, &ds.tz).unwrap();
        assert_eq!(pq, series_to_parquet(&s, &ds.tz).unwrap(), "same bars, same bytes");
        let opts = LoadOptions { ticker: None, tz: Some(ds.tz.clone()) };
        let back = load("slice.parquet", &pq, &opts, &mut |_| {}).unwrap();
        assert_eq!(back.series, vec![s]);
        assert_eq!(back.sha(), one.sha());
    }
}
