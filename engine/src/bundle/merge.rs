//! Importing: a verified bundle compared with what a store already holds ([`merge`]), giving the
//! report's lines and everything new to write. The CLI and the page both call it, then write
//! [`Merge::writes`] all at once (temp-and-rename; one IndexedDB transaction), so both accept,
//! refuse and report the same bundle in the same words.
//!
//! Records merge by content id. The same content again is `unchanged`; an id already stored with
//! different content refuses the whole bundle and names both versions. A record is compared
//! without its `created` stamp, which says when it was made and not what it is.

use std::collections::BTreeMap;
use std::convert::Infallible;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Bundle, BundleError, DataMeta, Kind, OofFile, Status, TrainedStrategy, Verification};
use crate::data::Dataset;
use crate::lineage::short;
use crate::matrix::Matrix;
use crate::model::ModelRecord;
use crate::run::Run;
use crate::strategy::Strategy;

/// What the importing store holds, looked up by id. `Error` is the store's own read error.
pub trait Stored {
    type Error;
    /// The sha of the dataset stored under `id`, if one is.
    fn dataset_sha(&self, id: &str) -> Result<Option<String>, Self::Error>;
    /// The id this store files a dataset of this sha under.
    fn dataset_id(&self, sha: &str) -> String;
    fn has_matrix(&self, matrix_sha: &str) -> Result<bool, Self::Error>;
    fn oof(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    /// The stored strategy of this model and config (both shells keep one per config).
    fn strategy(&self, model_id: &str, config_sha: &str) -> Result<Option<Strategy>, Self::Error>;
    fn model(&self, model_id: &str) -> Result<Option<ModelRecord>, Self::Error>;
    fn run(&self, run_id: &str) -> Result<Option<Run>, Self::Error>;
    /// Whether an earlier import recorded this artifact as not verified.
    fn marked(&self, kind: Kind, id: &str) -> Result<bool, Self::Error>;
}

/// A store's records held in memory: what the page reads from IndexedDB before it merges (its
/// reads are asynchronous, the merge is not), and what tests merge into.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Dataset id → sha.
    pub datasets: BTreeMap<String, String>,
    /// How this store names a dataset: `prefix` + the sha's first 16 hex digits.
    pub dataset_prefix: String,
    pub matrices: Vec<String>,
    pub oof: BTreeMap<String, Vec<u8>>,
    pub strategies: Vec<Strategy>,
    pub models: BTreeMap<String, ModelRecord>,
    pub runs: BTreeMap<String, Run>,
    pub marks: Vec<(Kind, String)>,
}

impl Stored for Snapshot {
    type Error = Infallible;
    fn dataset_sha(&self, id: &str) -> Result<Option<String>, Infallible> {
        Ok(self.datasets.get(id).cloned())
    }
    fn dataset_id(&self, sha: &str) -> String {
        format!("{}{}", self.dataset_prefix, sha.get(..16).unwrap_or(sha))
    }
    fn has_matrix(&self, matrix_sha: &str) -> Result<bool, Infallible> {
        Ok(self.matrices.iter().any(|m| m == matrix_sha))
    }
    fn oof(&self, key: &str) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self.oof.get(key).cloned())
    }
    fn strategy(&self, model_id: &str, config_sha: &str) -> Result<Option<Strategy>, Infallible> {
        Ok(self.strategies.iter().find(|s| s.model_id == model_id && s.config_sha == config_sha).cloned())
    }
    fn model(&self, model_id: &str) -> Result<Option<ModelRecord>, Infallible> {
        Ok(self.models.get(model_id).cloned())
    }
    fn run(&self, run_id: &str) -> Result<Option<Run>, Infallible> {
        Ok(self.runs.get(run_id).cloned())
    }
    fn marked(&self, kind: Kind, id: &str) -> Result<bool, Infallible> {
        Ok(self.marks.iter().any(|(k, i)| *k == kind && i == id))
    }
}

/// An imported artifact that is not verified: stored beside it, and shown wherever it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// A run, a model or a strategy: what pages and listings show.
    pub kind: Kind,
    pub id: String,
    pub status: Status,
    pub detail: String,
    /// The bundle it came from, as the user named it, and its SHA-256.
    pub bundle: String,
    pub bundle_sha256: String,
}

impl VerificationRecord {
    /// How a page or a report states it: `unverifiable: <why> (imported from <bundle>)`.
    pub fn status_text(&self) -> String {
        format!("{}: {} (imported from {})", self.status.as_str(), self.detail, self.bundle)
    }
}

/// What the import does with one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    New,
    Unchanged,
    /// Shown, not kept: signals are recomputed from the strategy, and a build without its bars
    /// has no matrix to store.
    NotStored,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::New => "new",
            Action::Unchanged => "unchanged",
            Action::NotStored => "not stored",
        }
    }
}

/// One line of the import report: `{"kind", "id", "status", "detail", "action"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: Kind,
    pub id: String,
    pub status: Status,
    pub detail: String,
    pub action: Action,
}

/// Everything new, in the order a store writes it (what records name before the records).
#[derive(Debug, Clone, Default)]
pub struct Writes {
    /// The store's id for each new dataset slice.
    pub datasets: Vec<(String, DataMeta, Dataset)>,
    pub matrices: Vec<Matrix>,
    pub oof: Vec<OofFile>,
    pub strategies: Vec<TrainedStrategy>,
    pub models: Vec<ModelRecord>,
    pub runs: Vec<Run>,
    /// Artifacts stored without being verified.
    pub mark: Vec<VerificationRecord>,
    /// Artifacts an earlier import marked that this one verified.
    pub unmark: Vec<(Kind, String)>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.datasets.is_empty()
            && self.matrices.is_empty()
            && self.oof.is_empty()
            && self.strategies.is_empty()
            && self.models.is_empty()
            && self.runs.is_empty()
            && self.mark.is_empty()
            && self.unmark.is_empty()
    }
}

/// An accepted bundle's report and writes.
#[derive(Debug, Clone)]
pub struct Merge {
    pub file: String,
    pub created_by: String,
    pub lines: Vec<Line>,
    pub writes: Writes,
}

/// The report a shell prints (`btb import --json`) or shows as a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub file: String,
    pub created_by: String,
    pub deep: bool,
    pub artifacts: Vec<Line>,
    pub new: usize,
    pub unchanged: usize,
    /// Whether anything was written (new records, or a status that changed).
    pub changed: bool,
    pub seconds: f64,
}

impl Merge {
    pub fn report(&self, deep: bool, seconds: f64) -> ImportReport {
        let count = |a: Action| self.lines.iter().filter(|l| l.action == a).count();
        ImportReport {
            file: self.file.clone(),
            created_by: self.created_by.clone(),
            deep,
            artifacts: self.lines.clone(),
            new: count(Action::New),
            unchanged: count(Action::Unchanged),
            changed: !self.writes.is_empty(),
            seconds,
        }
    }
}

impl ImportReport {
    /// One sentence for the end of the table.
    pub fn summary(&self) -> String {
        if self.changed {
            format!(
                "imported {} in {:.2} s: {} new, {} already stored",
                self.file, self.seconds, self.new, self.unchanged
            )
        } else {
            format!("nothing changed: everything in {} is already stored", self.file)
        }
    }
}

/// Why a merge stopped: the bundle is refused, or the store could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MergeError<E> {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Store(E),
}

/// A record's JSON without `created` (see the module docs).
fn content<T: Serialize>(v: &T) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("created");
    }
    v
}

/// Compares the verified bundle `b` (its report `v`) with `stored`. A mismatch anywhere, or an id
/// stored with other content, refuses the whole bundle: nothing of it is to be written.
/// `bundle_sha256` is the file's hash, kept with what is stored unverified.
pub fn merge<S: Stored>(
    file: &str,
    bundle_sha256: &str,
    b: &Bundle,
    v: &Verification,
    stored: &S,
) -> Result<Merge, MergeError<S::Error>> {
    let bad = v.mismatches();
    if !bad.is_empty() {
        let detail = bad.iter().map(|a| format!("{} {}: {}", a.kind.as_str(), a.id, a.detail)).collect::<Vec<_>>();
        let n = detail.len();
        return Err(BundleError::Refused {
            file: file.to_string(),
            detail: format!("{n} mismatch{}: {}", if n == 1 { "" } else { "es" }, detail.join("; ")),
        }
        .into());
    }
    let conflict = |kind: Kind, id: &str, detail: String| -> MergeError<S::Error> {
        BundleError::Conflict { file: file.to_string(), kind: kind.as_str().into(), id: id.into(), detail }.into()
    };
    let line = |kind: Kind, id: &str, action: Action| {
        let (status, detail) =
            v.status(kind, id).map(|a| (a.status, a.detail.clone())).unwrap_or((Status::Unverifiable, String::new()));
        Line { kind, id: id.to_string(), status, detail, action }
    };
    let new_if = |new: bool| if new { Action::New } else { Action::Unchanged };
    let mut lines = Vec::new();
    let mut w = Writes::default();

    // Bars, matrices and out-of-fold files first: records that name them come after.
    let mut slice_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (meta, ds) in &v.datasets {
        let id = stored.dataset_id(&meta.sha);
        let new = match stored.dataset_sha(&id).map_err(MergeError::Store)? {
            Some(sha) if sha == meta.sha => false,
            Some(sha) => {
                let detail = format!("stored sha {}, bundle's {}", short(&sha), short(&meta.sha));
                return Err(conflict(Kind::Dataset, &id, detail));
            }
            None => {
                w.datasets.push((id.clone(), meta.clone(), ds.clone()));
                true
            }
        };
        slice_ids.insert(meta.model_id.as_str(), id);
        lines.push(line(Kind::Dataset, &meta.sha, new_if(new)));
    }
    for m in &v.matrices {
        let new = !stored.has_matrix(&m.matrix_sha).map_err(MergeError::Store)?;
        if new {
            w.matrices.push(m.clone());
        }
        lines.push(line(Kind::Build, &m.matrix_sha, new_if(new)));
    }
    for x in &b.builds {
        if !v.matrices.iter().any(|m| m.matrix_sha == x.matrix_sha) {
            lines.push(line(Kind::Build, &x.matrix_sha, Action::NotStored));
        }
    }
    for o in &b.oof {
        if !v.oof.iter().any(|x| x.key == o.key) {
            continue;
        }
        let new = match stored.oof(&o.key).map_err(MergeError::Store)? {
            Some(bytes) if bytes == o.bytes => false,
            Some(_) => return Err(conflict(Kind::Oof, &o.key, "the stored probabilities differ".into())),
            None => {
                w.oof.push(o.clone());
                true
            }
        };
        lines.push(line(Kind::Oof, &o.key, new_if(new)));
    }
    for t in &b.strategies {
        let id = t.id();
        let new = match stored.strategy(&t.strategy.model_id, &t.strategy.config_sha).map_err(MergeError::Store)? {
            Some(s) if content(&s) == content(&t.strategy) => false,
            Some(s) => {
                let detail =
                    format!("stored model_sha {}, bundle's {}", short(&s.model_sha), short(&t.strategy.model_sha));
                return Err(conflict(Kind::Strategy, &id, detail));
            }
            None => {
                w.strategies.push(t.clone());
                true
            }
        };
        lines.push(line(Kind::Strategy, &id, new_if(new)));
    }
    for rec in &b.models {
        let id = &rec.model_id;
        let new = match stored.model(id).map_err(MergeError::Store)? {
            Some(have) => {
                let (ours, theirs) = (have.model.model_sha(), rec.model.model_sha());
                if ours != theirs {
                    let detail = format!("stored model_sha {}, bundle's {}", short(&ours), short(&theirs));
                    return Err(conflict(Kind::Model, id, detail));
                }
                false
            }
            None => {
                let mut r = rec.clone();
                // Point the model at the bars it came with when its own dataset is not here.
                if let Some(slice) = slice_ids.get(id.as_str()) {
                    if stored.dataset_sha(&r.dataset_id).map_err(MergeError::Store)?.is_none() {
                        r.dataset_id = slice.clone();
                    }
                }
                w.models.push(r);
                true
            }
        };
        lines.push(line(Kind::Model, id, new_if(new)));
    }
    for r in &b.runs {
        let new = match stored.run(&r.run_id).map_err(MergeError::Store)? {
            Some(have) if content(&have) == content(r) => false,
            Some(have) => {
                let d = |x: &Run| {
                    format!("sharpe {}, trades {}, created {}", x.metrics.sharpe, x.metrics.trades, x.created)
                };
                return Err(conflict(Kind::Run, &r.run_id, format!("stored: {}; bundle's: {}", d(&have), d(r))));
            }
            None => {
                w.runs.push(r.clone());
                true
            }
        };
        lines.push(line(Kind::Run, &r.run_id, new_if(new)));
    }
    for s in &b.signals {
        lines.push(line(Kind::Signals, &s.id(), Action::NotStored));
    }
    // What is stored without being verified carries its status; what is now verified loses it.
    for l in &lines {
        if !matches!(l.kind, Kind::Run | Kind::Model | Kind::Strategy) || l.action == Action::NotStored {
            continue;
        }
        let marked = stored.marked(l.kind, &l.id).map_err(MergeError::Store)?;
        match l.status {
            Status::Verified if marked => w.unmark.push((l.kind, l.id.clone())),
            Status::Verified => {}
            _ if !marked || l.action == Action::New => w.mark.push(VerificationRecord {
                kind: l.kind,
                id: l.id.clone(),
                status: l.status,
                detail: l.detail.clone(),
                bundle: file.to_string(),
                bundle_sha256: bundle_sha256.to_string(),
            }),
            _ => {}
        }
    }
    Ok(Merge { file: file.to_string(), created_by: b.created_by.clone(), lines, writes: w })
}
