//! Ingestion throughput: a synthetic 1M-row daily long-format file (40 tickers × 25,000 days)
//! loaded as CSV, gzip CSV and Parquet (snappy and zstd, written in memory by the arrow writer).
//!
//! `cargo bench -p engine --bench ingest` (set `BTB_BENCH_ROWS` to change the size).

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use engine::data::{load, LoadOptions};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const TICKERS: usize = 40;
const DAY: i64 = 86_400_000;

struct Bars {
    ticker: Vec<String>,
    ts: Vec<i64>,
    o: Vec<f64>,
    h: Vec<f64>,
    l: Vec<f64>,
    c: Vec<f64>,
    v: Vec<f64>,
}

fn synth(rows: usize) -> Bars {
    let days = rows / TICKERS;
    let mut b = Bars { ticker: vec![], ts: vec![], o: vec![], h: vec![], l: vec![], c: vec![], v: vec![] };
    let mut seed: u64 = 42;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = vec![100.0f64; TICKERS];
    let start = -16_436 * DAY; // 1925-01-01
    let mut day = 0i64;
    for _ in 0..days {
        // Weekdays only.
        while (day + 3).rem_euclid(7) >= 5 {
            day += 1;
        }
        for (t, p) in price.iter_mut().enumerate() {
            let open = *p;
            let close = (open * (1.0 + (rnd() - 0.5) * 0.04)).max(0.01);
            let hi = open.max(close) * (1.0 + rnd() * 0.01);
            let lo = open.min(close) * (1.0 - rnd() * 0.01);
            b.ticker.push(format!("T{t:02}"));
            b.ts.push(start + day * DAY);
            b.o.push((open * 100.0).round() / 100.0);
            b.h.push((hi * 100.0).round() / 100.0);
            b.l.push((lo * 100.0).round() / 100.0);
            b.c.push((close * 100.0).round() / 100.0);
            b.v.push((rnd() * 1e7).round());
            *p = close;
        }
        day += 1;
    }
    b
}

fn to_csv(b: &Bars) -> Vec<u8> {
    let mut s = String::with_capacity(b.ts.len() * 60);
    s.push_str("Ticker,Date,Open,High,Low,Close,Volume\n");
    for i in 0..b.ts.len() {
        let date = engine::data::time::format_utc(b.ts[i]);
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            b.ticker[i],
            &date[..10],
            b.o[i],
            b.h[i],
            b.l[i],
            b.c[i],
            b.v[i]
        ));
    }
    s.into_bytes()
}

fn to_parquet(b: &Bars, compression: Compression) -> Vec<u8> {
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("ticker", Arc::new(StringArray::from(b.ticker.clone()))),
        ("date", Arc::new(TimestampMillisecondArray::from(b.ts.clone()))),
        ("open", Arc::new(Float64Array::from(b.o.clone()))),
        ("high", Arc::new(Float64Array::from(b.h.clone()))),
        ("low", Arc::new(Float64Array::from(b.l.clone()))),
        ("close", Arc::new(Float64Array::from(b.c.clone()))),
        ("volume", Arc::new(Float64Array::from(b.v.clone()))),
    ];
    let batch = RecordBatch::try_from_iter(cols).expect("batch");
    let props = WriterProperties::builder().set_compression(compression).build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    out
}

fn bench(label: &str, name: &str, bytes: &[u8], rows: usize) -> String {
    let opts = LoadOptions::default();
    let mut best = f64::MAX;
    let mut sha = String::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut calls = 0;
        let d = load(name, bytes, &opts, &mut |_| calls += 1).expect("load");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(d.rows(), rows);
        assert!(calls <= 101);
        best = best.min(secs);
        sha = d.sha();
    }
    println!(
        "{label:<22} {:>8.1} MB  {:>7.3} s  {:>6.2} M rows/s",
        bytes.len() as f64 / 1e6,
        best,
        rows as f64 / best / 1e6
    );
    sha
}

fn main() {
    let rows: usize = std::env::var("BTB_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let rows = rows / TICKERS * TICKERS;
    let b = synth(rows);
    let csv = to_csv(&b);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&csv).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let snappy = to_parquet(&b, Compression::SNAPPY);
    let zstd = to_parquet(&b, Compression::ZSTD(ZstdLevel::default()));
    // The browser benchmark (tests/bench/ingest.mjs) uploads these same bytes through the page.
    if let Ok(dir) = std::env::var("BTB_BENCH_OUT") {
        std::fs::create_dir_all(&dir).expect("create BTB_BENCH_OUT");
        for (name, bytes) in [("bars.csv", &csv), ("bars_snappy.parquet", &snappy), ("bars_zstd.parquet", &zstd)] {
            std::fs::write(std::path::Path::new(&dir).join(name), bytes).expect("write bench file");
        }
        println!("wrote bars.csv, bars_snappy.parquet, bars_zstd.parquet to {dir}");
    }
    println!("ingest: {rows} rows, {TICKERS} tickers (best of 3)");
    let s1 = bench("csv", "bars.csv", &csv, rows);
    let s2 = bench("csv.gz", "bars.csv.gz", &gz, rows);
    let s3 = bench("parquet snappy", "bars.parquet", &snappy, rows);
    let s4 = bench("parquet zstd", "bars.parquet", &zstd, rows);
    assert!(s1 == s2 && s2 == s3 && s3 == s4, "formats disagree");
    let d = load("bars.csv", &csv, &LoadOptions::default(), &mut |_| {}).expect("load");
    let t = Instant::now();
    let sha = d.sha();
    println!("{:<22} {:>19.3} s  ({}…)", "sha256 of dataset", t.elapsed().as_secs_f64(), &sha[..12]);
}
