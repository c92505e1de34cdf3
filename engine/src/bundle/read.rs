//! Reading a bundle, treating its bytes as hostile: the archive's directory is checked before the
//! zip crate indexes it, every entry is inflated through a bounded reader and checked against the
//! manifest, and every record is parsed into its type. Nothing here panics on any input.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use serde::de::DeserializeOwned;

use super::{
    Build, Bundle, BundleError, DataMeta, DataSlice, Holds, Manifest, ModelSignals, OofFile, TrainedStrategy,
    BUNDLE_FORMAT_VERSION, FORMAT, MANIFEST,
};
use crate::lineage::sha256_hex;
use crate::model::{valid_model_id, ModelRecord};
use crate::run::Run;
use crate::strategy::Strategy;

/// How much a bundle may hold. The defaults are far above any real export (a 1,000-run sweep with
/// its data is a few MB) and far below what would exhaust a browser tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The archive itself.
    pub max_bundle_bytes: u64,
    /// Entries in the archive, the manifest included.
    pub max_entries: usize,
    /// One entry, inflated.
    pub max_entry_bytes: u64,
    /// Every entry together, inflated.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bundle_bytes: 1 << 30, max_entries: 10_000, max_entry_bytes: 512 << 20, max_total_bytes: 2 << 30 }
    }
}

/// The manifest is an index: a few hundred bytes per entry.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// [`read_with`] the default [`Limits`]. `file` names the bundle in every message.
pub fn read(file: &str, bytes: &[u8]) -> Result<Bundle, BundleError> {
    read_with(file, bytes, &Limits::default())
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// The names in the archive's central directory, read with checked bounds: the count is known
/// (and limited) before anything is allocated for it, and duplicate names, which the zip crate
/// would silently collapse into one, are seen.
fn central_names(file: &str, b: &[u8], limits: &Limits) -> Result<Vec<String>, BundleError> {
    let damaged = |detail: &str| BundleError::Damaged { file: file.to_string(), detail: detail.to_string() };
    const EOCD: &[u8; 4] = b"PK\x05\x06";
    let lowest = b.len().saturating_sub(22 + 65_535);
    let eocd = (lowest..=b.len().saturating_sub(22))
        .rev()
        .find(|&i| b.get(i..i + 4) == Some(EOCD.as_slice()))
        .ok_or_else(|| damaged("no end of central directory"))?;
    let count = u16_at(b, eocd + 10).ok_or_else(|| damaged("short end record"))?;
    if count > limits.max_entries || count == 0xFFFF {
        return Err(BundleError::TooManyEntries { file: file.to_string(), count, limit: limits.max_entries });
    }
    let mut at = u32_at(b, eocd + 16).ok_or_else(|| damaged("short end record"))?;
    let mut names = Vec::with_capacity(count);
    let short = || damaged("the central directory is cut short");
    for _ in 0..count {
        // Offsets come from the file: checked, so a crafted one cannot overflow on 32-bit wasm.
        let header = at.checked_add(46).filter(|&end| end <= b.len()).ok_or_else(short)?;
        if b.get(at..at + 4) != Some(b"PK\x01\x02".as_slice()) {
            return Err(short());
        }
        let name_len = u16_at(b, at + 28).ok_or_else(short)?;
        let extra = u16_at(b, at + 30).ok_or_else(short)?;
        let comment = u16_at(b, at + 32).ok_or_else(short)?;
        let name = b.get(header..header + name_len).ok_or_else(short)?;
        names.push(String::from_utf8_lossy(name).into_owned());
        at = header + name_len + extra + comment;
    }
    Ok(names)
}

/// Why `name` is not a safe relative path inside the bundle, if it is not.
fn unsafe_path(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("empty or too long");
    }
    if !name.bytes().all(|c| c.is_ascii_graphic()) {
        return Some("only printable ASCII without spaces is allowed");
    }
    if name.contains('\\') {
        return Some("backslashes are not allowed");
    }
    if name.starts_with('/') {
        return Some("absolute paths are not allowed");
    }
    if name.contains(':') {
        return Some("drive letters and colons are not allowed");
    }
    if name.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Some("`..`, `.` and empty path components are not allowed");
    }
    None
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A model's strategy as its entry paths name it: format 2 names its config, format 1 (one
/// strategy per model) does not.
type StrategyAt = (String, Option<String>);

/// What an entry path holds.
enum Slot {
    Model(String),
    Build(String),
    Run(String),
    Strategy(StrategyAt),
    StrategyModel(StrategyAt),
    Signals(StrategyAt),
    DataMeta(String),
    DataBars(String),
    Oof(String),
}

/// What `path` holds in a bundle of format `version` (1 or 2), if it is a file a bundle holds.
fn slot(path: &str, version: u64) -> Option<Slot> {
    let parts: Vec<&str> = path.split('/').collect();
    let stem = |name: &str, ext: &str| name.strip_suffix(ext).map(str::to_string);
    let model = |id: Option<String>| id.filter(|i| valid_model_id(i));
    let at = |id: &str, config: Option<String>| -> Option<StrategyAt> {
        let id = model(Some(id.to_string()))?;
        match config {
            Some(c) if is_hex(&c, 64) => Some((id, Some(c))),
            Some(_) => None,
            None => Some((id, None)),
        }
    };
    match (version, parts.as_slice()) {
        (_, ["models", f]) => model(stem(f, ".json")).map(Slot::Model),
        (_, ["builds", f]) => stem(f, ".json").filter(|s| is_hex(s, 64)).map(Slot::Build),
        (_, ["runs", f]) => stem(f, ".json").filter(|s| is_hex(s, 16)).map(Slot::Run),
        (1, ["strategies", id, "strategy.json"]) => at(id, None).map(Slot::Strategy),
        (1, ["strategies", id, "model.json"]) => at(id, None).map(Slot::StrategyModel),
        (1, ["signals", f]) => model(stem(f, ".json")).map(|id| Slot::Signals((id, None))),
        (2, ["strategies", id, c, "strategy.json"]) => at(id, Some(c.to_string())).map(Slot::Strategy),
        (2, ["strategies", id, c, "model.json"]) => at(id, Some(c.to_string())).map(Slot::StrategyModel),
        (2, ["signals", id, f]) => at(id, Some(stem(f, ".json")?)).map(Slot::Signals),
        (_, ["data", f]) if f.ends_with(".json") => model(stem(f, ".json")).map(Slot::DataMeta),
        (_, ["data", f]) => model(stem(f, ".parquet")).map(Slot::DataBars),
        (_, ["oof", f]) => stem(f, ".bin").filter(|s| is_hex(s, 64)).map(Slot::Oof),
        _ => None,
    }
}

/// Where a strategy's files are in a bundle of the format that named it so.
fn strategy_entry((id, config): &StrategyAt, file: &str) -> String {
    match config {
        Some(c) => format!("strategies/{id}/{c}/{file}"),
        None => format!("strategies/{id}/{file}"),
    }
}

/// Signals as format 1 wrote them: without the config, which was the model's one strategy's.
#[derive(serde::Deserialize)]
struct SignalsV1 {
    model_id: String,
    signals: Vec<crate::strategy::Signal>,
}

/// Inflates one entry, at most `limit` bytes plus one to see it go past (the zip header's size
/// is never trusted).
fn inflate(file: &str, z: &mut zip::ZipArchive<Cursor<&[u8]>>, path: &str, limit: u64) -> Result<Vec<u8>, BundleError> {
    let damaged = |detail: String| BundleError::Damaged { file: file.to_string(), detail: format!("{path}: {detail}") };
    let entry = z.by_name(path).map_err(|e| damaged(e.to_string()))?;
    let mut out = Vec::with_capacity(limit.min(1 << 20) as usize);
    entry.take(limit.saturating_add(1)).read_to_end(&mut out).map_err(|e| damaged(e.to_string()))?;
    Ok(out)
}

fn parse<T: DeserializeOwned>(file: &str, entry: &str, bytes: &[u8]) -> Result<T, BundleError> {
    serde_json::from_slice(bytes).map_err(|e| BundleError::Json {
        file: file.to_string(),
        entry: entry.to_string(),
        detail: e.to_string(),
    })
}

/// Parses `manifest.json`: format and version first (so a newer format is named as such even
/// when its shape changed), then the typed manifest.
fn manifest(file: &str, bytes: &[u8]) -> Result<Manifest, BundleError> {
    let v: serde_json::Value = parse(file, MANIFEST, bytes)?;
    let json_err = |detail: &str| BundleError::Json {
        file: file.to_string(),
        entry: MANIFEST.to_string(),
        detail: detail.to_string(),
    };
    let obj = v.as_object().ok_or_else(|| json_err("expected an object"))?;
    match obj.get("format") {
        Some(serde_json::Value::String(f)) if f == FORMAT => {}
        Some(other) => return Err(BundleError::NotABundle { file: file.to_string(), found: other.to_string() }),
        None => return Err(BundleError::NotABundle { file: file.to_string(), found: "missing".into() }),
    }
    let version = obj
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| json_err("`version` must be a whole number"))?;
    if version > u64::from(BUNDLE_FORMAT_VERSION) {
        return Err(BundleError::Newer { file: file.to_string(), found: version, supported: BUNDLE_FORMAT_VERSION });
    }
    if version == 0 {
        return Err(json_err("`version` 0 does not exist"));
    }
    parse(file, MANIFEST, bytes)
}

/// Read and check a bundle (see the module docs); the content is typed but not yet verified.
pub fn read_with(file: &str, bytes: &[u8], limits: &Limits) -> Result<Bundle, BundleError> {
    let f = || file.to_string();
    if bytes.len() as u64 > limits.max_bundle_bytes {
        return Err(BundleError::TooLarge { file: f(), entry: "the archive".into(), limit: limits.max_bundle_bytes });
    }
    if !bytes.starts_with(b"PK\x03\x04") && !bytes.starts_with(b"PK\x05\x06") {
        return Err(BundleError::NotZip { file: f() });
    }
    let names = central_names(file, bytes, limits)?;
    let mut seen = std::collections::BTreeSet::new();
    for n in &names {
        if let Some(detail) = unsafe_path(n) {
            return Err(BundleError::UnsafePath { file: f(), entry: n.clone(), detail: detail.into() });
        }
        if !seen.insert(n.as_str()) {
            return Err(BundleError::Duplicate { file: f(), entry: n.clone() });
        }
    }
    if !seen.contains(MANIFEST) {
        return Err(BundleError::NoManifest { file: f() });
    }
    let mut z = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| BundleError::Damaged { file: f(), detail: e.to_string() })?;
    let raw = inflate(file, &mut z, MANIFEST, MAX_MANIFEST_BYTES)?;
    if raw.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(BundleError::TooLarge { file: f(), entry: MANIFEST.into(), limit: MAX_MANIFEST_BYTES });
    }
    let man = manifest(file, &raw)?;

    // The manifest and the archive list the same files, once each.
    let mut listed = std::collections::BTreeSet::new();
    let mut total: u64 = 0;
    for e in &man.entries {
        if let Some(detail) = unsafe_path(&e.path) {
            return Err(BundleError::UnsafePath { file: f(), entry: e.path.clone(), detail: detail.into() });
        }
        if e.path == MANIFEST || !listed.insert(e.path.as_str()) {
            return Err(BundleError::Duplicate { file: f(), entry: e.path.clone() });
        }
        if !seen.contains(e.path.as_str()) {
            return Err(BundleError::Missing { file: f(), entry: e.path.clone() });
        }
        if e.bytes > limits.max_entry_bytes {
            return Err(BundleError::TooLarge { file: f(), entry: e.path.clone(), limit: limits.max_entry_bytes });
        }
        total = total.saturating_add(e.bytes);
        if total > limits.max_total_bytes {
            return Err(BundleError::TooLarge {
                file: f(),
                entry: "the entries together".into(),
                limit: limits.max_total_bytes,
            });
        }
    }
    if let Some(n) = names.iter().find(|n| n.as_str() != MANIFEST && !listed.contains(n.as_str())) {
        return Err(BundleError::Unlisted { file: f(), entry: n.clone() });
    }

    let mut b = Bundle { created_by: man.created_by.clone(), ..Bundle::default() };
    let mut strategies: BTreeMap<StrategyAt, (Option<Strategy>, Option<String>)> = BTreeMap::new();
    let mut signals: Vec<(StrategyAt, Vec<crate::strategy::Signal>)> = Vec::new();
    let mut data: BTreeMap<String, (Option<DataMeta>, Option<Vec<u8>>)> = BTreeMap::new();
    for e in &man.entries {
        let content = inflate(file, &mut z, &e.path, e.bytes)?;
        if content.len() as u64 != e.bytes {
            let detail = if content.len() as u64 > e.bytes {
                format!("it inflates past the {} bytes the manifest states", e.bytes)
            } else {
                format!("manifest {} bytes, entry {}", e.bytes, content.len())
            };
            return Err(BundleError::SizeMismatch { file: f(), entry: e.path.clone(), detail });
        }
        let found = sha256_hex(&content);
        if found != e.sha256 {
            return Err(BundleError::HashMismatch {
                file: f(),
                entry: e.path.clone(),
                expected: e.sha256.clone(),
                found,
            });
        }
        let unexpected = |detail: String| BundleError::Unexpected { file: f(), entry: e.path.clone(), detail };
        let wrong_id = |kind: &str, id: &str| unexpected(format!("it holds {kind} {id}"));
        let Some(slot) = slot(&e.path, u64::from(man.version)) else {
            return Err(unexpected(format!("not a file a bundle of format {} holds", man.version)));
        };
        let p = e.path.as_str();
        match slot {
            Slot::Model(id) => {
                let m: ModelRecord = parse(file, p, &content)?;
                if m.model_id != id {
                    return Err(wrong_id("model", &m.model_id));
                }
                b.models.push(m);
            }
            Slot::Build(id) => {
                let x: Build = parse(file, p, &content)?;
                if x.matrix_sha != id {
                    return Err(wrong_id("matrix", &x.matrix_sha));
                }
                b.builds.push(x);
            }
            Slot::Run(id) => {
                let r: Run = parse(file, p, &content)?;
                if r.run_id != id {
                    return Err(wrong_id("run", &r.run_id));
                }
                b.runs.push(r);
            }
            Slot::Strategy(at) => {
                let s: Strategy = parse(file, p, &content)?;
                if s.model_id != at.0 {
                    return Err(wrong_id("the strategy of", &s.model_id));
                }
                if at.1.as_ref().is_some_and(|c| c != &s.config_sha) {
                    return Err(wrong_id("the strategy of config", &s.config_sha));
                }
                strategies.entry(at).or_default().0 = Some(s);
            }
            Slot::StrategyModel(at) => {
                let text = String::from_utf8(content).map_err(|_| unexpected("not UTF-8 text".into()))?;
                strategies.entry(at).or_default().1 = Some(text);
            }
            Slot::Signals(at) => {
                let (model_id, config) = if at.1.is_some() {
                    let s: ModelSignals = parse(file, p, &content)?;
                    if at.1.as_ref() != Some(&s.config_sha) {
                        return Err(wrong_id("the signals of config", &s.config_sha));
                    }
                    (s.model_id, s.signals)
                } else {
                    let s: SignalsV1 = parse(file, p, &content)?;
                    (s.model_id, s.signals)
                };
                if model_id != at.0 {
                    return Err(wrong_id("the signals of", &model_id));
                }
                signals.push((at, config));
            }
            Slot::DataMeta(id) => {
                let m: DataMeta = parse(file, p, &content)?;
                if m.model_id != id {
                    return Err(wrong_id("the bars of", &m.model_id));
                }
                data.entry(id).or_default().0 = Some(m);
            }
            Slot::DataBars(id) => data.entry(id).or_default().1 = Some(content),
            Slot::Oof(key) => b.oof.push(OofFile { key, bytes: content }),
        }
    }
    let incomplete = |entry: String, with: String| BundleError::Incomplete { file: f(), entry, with };
    for (at, pair) in &strategies {
        match pair {
            (Some(strategy), Some(model_json)) => {
                b.strategies.push(TrainedStrategy { strategy: strategy.clone(), model_json: model_json.clone() })
            }
            (None, _) => return Err(incomplete(strategy_entry(at, "strategy.json"), strategy_entry(at, "model.json"))),
            (_, None) => return Err(incomplete(strategy_entry(at, "model.json"), strategy_entry(at, "strategy.json"))),
        }
    }
    for (at, list) in signals {
        // Format 1's signals are its one strategy's; they cannot be placed without it.
        let config_sha = match &at.1 {
            // Signals say what a strategy gave; without the strategy they are a claim about nothing.
            Some(c) if !strategies.contains_key(&at) => {
                let signals = format!("signals/{}/{c}.json", at.0);
                return Err(incomplete(strategy_entry(&at, "strategy.json"), signals));
            }
            Some(c) => c.clone(),
            None => match strategies.get(&at).and_then(|p| p.0.as_ref()) {
                Some(s) => s.config_sha.clone(),
                None => {
                    let signals = format!("signals/{}.json", at.0);
                    return Err(incomplete(strategy_entry(&at, "strategy.json"), signals));
                }
            },
        };
        b.signals.push(ModelSignals { model_id: at.0, config_sha, signals: list });
    }
    for (id, pair) in data {
        match pair {
            (Some(meta), Some(parquet)) => b.datasets.push(DataSlice { meta, parquet }),
            (None, _) => return Err(incomplete(format!("data/{id}.json"), format!("data/{id}.parquet"))),
            (_, None) => return Err(incomplete(format!("data/{id}.parquet"), format!("data/{id}.json"))),
        }
    }
    let holds = Holds::of(&b);
    if holds != man.holds || man.with_data != b.with_data() {
        return Err(BundleError::Json {
            file: f(),
            entry: MANIFEST.into(),
            detail: format!("`holds`/`with_data` do not match the entries (the entries hold {holds:?})"),
        });
    }
    Ok(b)
}
