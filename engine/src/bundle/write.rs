//! Writing a bundle: records → entries (sorted by path) → `manifest.json` → a ZIP whose bytes
//! depend on the records only (fixed entry times and modes, fixed compression level).

use std::io::Write;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{Bundle, BundleError, Entry, Holds, Manifest, BUNDLE_FORMAT_VERSION, FORMAT, MANIFEST};
use crate::lineage::sha256_hex;

fn json<T: serde::Serialize>(what: &str, v: &T) -> Result<Vec<u8>, BundleError> {
    serde_json::to_vec_pretty(v).map_err(|e| BundleError::Write { what: what.to_string(), detail: e.to_string() })
}

/// Every file of the bundle but the manifest, as (path, bytes), sorted by path.
fn files(b: &Bundle) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let mut out = Vec::new();
    for m in &b.models {
        out.push((format!("models/{}.json", m.model_id), json(&m.model_id, m)?));
    }
    for x in &b.builds {
        out.push((format!("builds/{}.json", x.matrix_sha), json(&x.matrix_sha, x)?));
    }
    for r in &b.runs {
        out.push((format!("runs/{}.json", r.run_id), json(&r.run_id, r)?));
    }
    for s in &b.strategies {
        let (id, config) = (&s.strategy.model_id, &s.strategy.config_sha);
        out.push((format!("strategies/{id}/{config}/strategy.json"), json(&s.id(), &s.strategy)?));
        out.push((format!("strategies/{id}/{config}/model.json"), s.model_json.as_bytes().to_vec()));
    }
    for s in &b.signals {
        out.push((format!("signals/{}/{}.json", s.model_id, s.config_sha), json(&s.id(), s)?));
    }
    for d in &b.datasets {
        out.push((format!("data/{}.json", d.meta.model_id), json(&d.meta.model_id, &d.meta)?));
        out.push((format!("data/{}.parquet", d.meta.model_id), d.parquet.clone()));
    }
    for o in &b.oof {
        out.push((format!("oof/{}.bin", o.key), o.bytes.clone()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(BundleError::Write { what: w[0].0.clone(), detail: "two records would be written there".into() });
    }
    Ok(out)
}

/// The bundle's bytes (see the module docs for the layout).
pub fn write(b: &Bundle) -> Result<Vec<u8>, BundleError> {
    let files = files(b)?;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: BUNDLE_FORMAT_VERSION,
        created_by: b.created_by.clone(),
        with_data: b.with_data(),
        holds: Holds::of(b),
        entries: files
            .iter()
            .map(|(path, bytes)| Entry { path: path.clone(), sha256: sha256_hex(bytes), bytes: bytes.len() as u64 })
            .collect(),
    };
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: zip::result::ZipError| BundleError::Write { what, detail: e.to_string() }
    };
    let io_fail = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| BundleError::Write { what, detail: e.to_string() }
    };
    let base = SimpleFileOptions::default().last_modified_time(DateTime::default()).unix_permissions(0o644);
    let deflated = base.compression_method(CompressionMethod::Deflated).compression_level(Some(6));
    let stored = base.compression_method(CompressionMethod::Stored);
    let mut z = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(MANIFEST, deflated).map_err(fail(MANIFEST))?;
    z.write_all(&json(MANIFEST, &manifest)?).map_err(io_fail(MANIFEST))?;
    for (path, bytes) in &files {
        // Parquet is compressed already; deflating it again only costs time.
        let opts = if path.ends_with(".parquet") { stored } else { deflated };
        z.start_file(path.as_str(), opts).map_err(fail(path))?;
        z.write_all(bytes).map_err(io_fail(path))?;
    }
    Ok(z.finish().map_err(fail("the archive"))?.into_inner())
}
