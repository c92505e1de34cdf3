//! Verifying a bundle: every artifact checked against what can be recomputed from the bundle's own
//! content, one [`ArtifactReport`] each (see the module docs of [`super`]). The same function runs
//! in the CLI and in the page, so both accept and refuse the same bundles with the same words.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Bundle, DataMeta};
use crate::config::SweepConfig;
use crate::data::{load, Dataset, LoadOptions};
use crate::gbt::Booster;
use crate::lineage::{sha256_hex, short};
use crate::matrix::{build_matrix, Matrix};
use crate::model::{valid_model_id, ModelRecord};
use crate::oof::{self, Oof};
use crate::run::{self, Run, RunSettings};
use crate::strategy::{self, Strategy};

/// How far to check: [`Depth::Deep`] also re-trains every fold of the out-of-fold probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    #[default]
    Standard,
    Deep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Dataset,
    Model,
    Build,
    Oof,
    Run,
    Strategy,
    Signals,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dataset => "dataset",
            Kind::Model => "model",
            Kind::Build => "build",
            Kind::Oof => "oof",
            Kind::Run => "run",
            Kind::Strategy => "strategy",
            Kind::Signals => "signals",
        }
    }
}

/// The outcome for one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything that can be recomputed from the bundle was, and agrees.
    Verified,
    /// Its ids agree, but what would check its numbers is not in the bundle (`detail` says what).
    Unverifiable,
    /// Something recomputed differs from what the bundle states (`detail` says what).
    Mismatch,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Unverifiable => "unverifiable",
            Status::Mismatch => "mismatch",
        }
    }
}

/// `{"kind", "id", "status", "detail"}`, as `btb import --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactReport {
    pub kind: Kind,
    pub id: String,
    pub status: Status,
    pub detail: String,
}

/// Every artifact's report, and what verification rebuilt (so a shell stores the matrices and
/// datasets it checked instead of computing them again).
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub artifacts: Vec<ArtifactReport>,
    /// The dataset slices, decoded from their Parquet and checked against their sha.
    pub datasets: Vec<(DataMeta, Dataset)>,
    /// The matrices rebuilt from the bars that gave their build's sha and bytes.
    pub matrices: Vec<Matrix>,
    /// The decoded out-of-fold probabilities.
    pub oof: Vec<Oof>,
}

impl Verification {
    /// Reports of status [`Status::Mismatch`]: any one refuses the bundle.
    pub fn mismatches(&self) -> Vec<&ArtifactReport> {
        self.artifacts.iter().filter(|a| a.status == Status::Mismatch).collect()
    }

    pub fn accepted(&self) -> bool {
        self.mismatches().is_empty()
    }

    /// The report of one artifact.
    pub fn status(&self, kind: Kind, id: &str) -> Option<&ArtifactReport> {
        self.artifacts.iter().find(|a| a.kind == kind && a.id == id)
    }

    fn push(&mut self, kind: Kind, id: &str, status: Status, detail: impl Into<String>) {
        self.artifacts.push(ArtifactReport { kind, id: id.to_string(), status, detail: detail.into() });
    }
}

const NO_DATA: &str = "export with --with-data to include the bars and out-of-fold probabilities";

/// Where two JSON values differ, as `path: stated A, recomputed B` (the first few).
fn differences(stated: &Value, got: &Value) -> Vec<String> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        if out.len() >= 4 || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&p, x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}[{i}]"), p, q, out);
                }
            }
            _ => {
                let cut = |v: &Value| {
                    let s = v.to_string();
                    if s.len() > 60 {
                        format!("{}…", s.chars().take(60).collect::<String>())
                    } else {
                        s
                    }
                };
                out.push(format!("{path}: stated {}, recomputed {}", cut(a), cut(b)));
            }
        }
    }
    let mut out = Vec::new();
    walk("", stated, got, &mut out);
    out
}

fn diff_of<T: Serialize>(stated: &T, got: &T) -> Vec<String> {
    let a = serde_json::to_value(stated).unwrap_or(Value::Null);
    let b = serde_json::to_value(got).unwrap_or(Value::Null);
    differences(&a, &b)
}

fn id_check(out: &mut Vec<String>, what: &str, stated: &str, computed: String) {
    if stated != computed {
        out.push(format!("{what}: stated {}, recomputed {}", short(stated), short(&computed)));
    }
}

/// The ids of a run recomputed from its content; the differences found.
fn run_ids(r: &Run) -> Vec<String> {
    let mut bad = Vec::new();
    let l = &r.lineage;
    id_check(&mut bad, "config_sha", &l.config_sha, r.config.config_sha());
    match r.config.to_policy(&r.policy) {
        Ok(p) if p == r.policy => {}
        Ok(_) => bad.push("policy: it is not the config's rule".into()),
        Err(e) => bad.push(format!("policy: {e}")),
    }
    id_check(&mut bad, "policy_sha", &l.policy_sha, r.policy.policy_sha());
    id_check(&mut bad, "risk_sha", &l.risk_sha, l.risk_profile.risk_sha());
    id_check(&mut bad, "oof_key", &l.oof_key, r.oof_spec.key(&l.matrix_sha));
    id_check(
        &mut bad,
        "run_id",
        &r.run_id,
        run::run_id(l, &r.overrides, r.tag.as_deref(), &r.model_id, r.trials.as_ref()),
    );
    if r.splits != r.oof_spec.splits || r.cv != r.oof_spec.cv {
        bad.push("splits/cv: they differ from the out-of-fold spec".into());
    }
    bad
}

fn strategy_ids(s: &Strategy, model_json: &str) -> (Vec<String>, Option<Booster>) {
    let mut bad = Vec::new();
    id_check(&mut bad, "config_sha", &s.config_sha, s.config.config_sha());
    match s.config.to_policy(&s.policy) {
        Ok(p) if p == s.policy => {}
        Ok(_) => bad.push("policy: it is not the config's rule".into()),
        Err(e) => bad.push(format!("policy: {e}")),
    }
    id_check(&mut bad, "policy_sha", &s.policy_sha, s.policy.policy_sha());
    let booster = match Booster::from_model_json(model_json) {
        Ok(b) => {
            id_check(&mut bad, "model_sha", &s.model_sha, b.model_sha());
            id_check(&mut bad, "report.model_sha", &s.report.model_sha, b.model_sha());
            Some(b)
        }
        Err(e) => {
            bad.push(format!("model file: {e}"));
            None
        }
    };
    (bad, booster)
}

fn model_checks(m: &ModelRecord) -> Vec<String> {
    let mut bad = Vec::new();
    if m.model_id != m.model.model_id || !valid_model_id(&m.model_id) {
        bad.push(format!("model_id: the record says {}, its model {}", m.model_id, m.model.model_id));
    }
    for f in &m.model.features {
        match f.canonical() {
            Ok(c) if &c == f => {}
            Ok(c) => bad.push(format!("feature {f}: not canonical (should be {c})")),
            Err(e) => bad.push(format!("feature {f}: {e}")),
        }
    }
    bad
}

/// Verify everything in `b` (see the module docs of [`super`]). Never fails: what cannot be
/// checked is reported as such, and what disagrees as a mismatch.
pub fn verify(b: &Bundle, depth: Depth) -> Verification {
    let mut v = Verification::default();
    let models: BTreeMap<&str, &ModelRecord> = b.models.iter().map(|m| (m.model_id.as_str(), m)).collect();

    // Bars: decoded and hashed.
    let mut bars: BTreeMap<String, Dataset> = BTreeMap::new();
    for d in &b.datasets {
        let id = &d.meta.model_id;
        let opts = LoadOptions { ticker: None, tz: Some(d.meta.tz.clone()) };
        let name = format!("data/{id}.parquet");
        match load(&name, &d.parquet, &opts, &mut |_| {}) {
            Ok(ds) => {
                let slice = Dataset { issues: Vec::new(), issue_counts: Vec::new(), ..ds };
                let mut bad = Vec::new();
                id_check(&mut bad, "sha", &d.meta.sha, slice.sha());
                if slice.series.len() != 1 || slice.series[0].ticker != d.meta.ticker || slice.rows() != d.meta.rows {
                    bad.push(format!("bars: stated {} rows of {}", d.meta.rows, d.meta.ticker));
                }
                if bad.is_empty() {
                    v.push(
                        Kind::Dataset,
                        &d.meta.sha,
                        Status::Verified,
                        format!("{} bars of {}, sha recomputed", d.meta.rows, d.meta.ticker),
                    );
                    bars.insert(id.clone(), slice.clone());
                    v.datasets.push((d.meta.clone(), slice));
                } else {
                    v.push(Kind::Dataset, &d.meta.sha, Status::Mismatch, bad.join("; "));
                }
            }
            Err(e) => v.push(Kind::Dataset, &d.meta.sha, Status::Mismatch, e.to_string()),
        }
    }

    for m in &b.models {
        let bad = model_checks(m);
        if bad.is_empty() {
            v.push(Kind::Model, &m.model_id, Status::Verified, format!("model_sha {}", short(&m.model.model_sha())));
        } else {
            v.push(Kind::Model, &m.model_id, Status::Mismatch, bad.join("; "));
        }
    }

    // Builds: the matrix rebuilt from the bars.
    let mut matrices: BTreeMap<String, Matrix> = BTreeMap::new();
    for x in &b.builds {
        let Some(model) = models.get(x.model_id.as_str()) else {
            v.push(
                Kind::Build,
                &x.matrix_sha,
                Status::Mismatch,
                format!("its model {} is not in the bundle", x.model_id),
            );
            continue;
        };
        let Some(ds) = bars.get(&x.model_id) else {
            v.push(
                Kind::Build,
                &x.matrix_sha,
                Status::Unverifiable,
                format!("the bars are not in the bundle; {NO_DATA}"),
            );
            continue;
        };
        let Some(series) = ds.series.first() else { continue };
        match build_matrix(&model.model, series, &ds.tz, &x.spec) {
            Ok(m) => {
                let bytes = m.to_bytes();
                let mut bad = Vec::new();
                id_check(&mut bad, "matrix_sha", &x.matrix_sha, m.matrix_sha.clone());
                id_check(&mut bad, "matrix bytes sha256", &x.matrix_bytes_sha256, sha256_hex(&bytes));
                if bytes.len() as u64 != x.matrix_bytes {
                    bad.push(format!("matrix bytes: stated {}, rebuilt {}", x.matrix_bytes, bytes.len()));
                }
                if bad.is_empty() {
                    v.push(
                        Kind::Build,
                        &x.matrix_sha,
                        Status::Verified,
                        format!("rebuilt from the bars: {} rows, same sha and bytes", m.rows()),
                    );
                    matrices.insert(m.matrix_sha.clone(), m);
                } else {
                    v.push(Kind::Build, &x.matrix_sha, Status::Mismatch, bad.join("; "));
                }
            }
            Err(e) => v.push(Kind::Build, &x.matrix_sha, Status::Mismatch, format!("rebuilding failed: {e}")),
        }
    }

    // Out-of-fold probabilities.
    let spec_of = |key: &str| b.runs.iter().find(|r| r.lineage.oof_key == key).map(|r| r.oof_spec.clone());
    let mut oofs: BTreeMap<String, Oof> = BTreeMap::new();
    for o in &b.oof {
        let decoded = match Oof::from_bytes(&o.bytes) {
            Ok(d) => d,
            Err(e) => {
                v.push(Kind::Oof, &o.key, Status::Mismatch, e.to_string());
                continue;
            }
        };
        if decoded.key != o.key {
            v.push(
                Kind::Oof,
                &o.key,
                Status::Mismatch,
                format!("key: stated {}, the file's {}", short(&o.key), short(&decoded.key)),
            );
            continue;
        }
        let m = matrices.get(&decoded.matrix_sha);
        let spec = spec_of(&o.key);
        let (status, detail) = match (m, &spec) {
            (Some(m), _) if decoded.prob.len() != m.rows() => {
                (Status::Mismatch, format!("{} probabilities for a matrix of {} rows", decoded.prob.len(), m.rows()))
            }
            (Some(m), Some(spec)) if spec.key(&m.matrix_sha) != o.key => {
                (Status::Mismatch, "key: it is not the key of its runs' spec on its matrix".to_string())
            }
            // The folds follow from the matrix and the spec; hostile ones would index past the rows.
            (Some(m), Some(spec))
                if oof::folds(m, spec).ok().as_ref() != Some(&decoded.folds)
                    || decoded
                        .inner_prob
                        .iter()
                        .zip(&decoded.folds)
                        .any(|(p, f)| p.len() != oof::inner_len(spec, f)) =>
            {
                (Status::Mismatch, "folds: they are not the splits of its spec on its matrix".to_string())
            }
            (Some(m), Some(spec)) if depth == Depth::Deep => match oof::compute(m, spec, &mut |_| {}) {
                Ok(again) if again.to_bytes() == o.bytes => {
                    (Status::Verified, format!("re-trained {} folds: the same bytes", again.folds.len()))
                }
                Ok(again) => {
                    let d = differences(
                        &serde_json::json!(decoded.fold_model_sha),
                        &serde_json::json!(again.fold_model_sha),
                    );
                    (
                        Status::Mismatch,
                        format!("re-trained folds differ from the bundled probabilities ({})", d.join("; ")),
                    )
                }
                Err(e) => (Status::Mismatch, format!("re-training failed: {e}")),
            },
            (Some(_), Some(_)) => (
                Status::Unverifiable,
                format!(
                    "{} folds on a verified matrix; the probabilities are as exported (--deep re-trains them)",
                    decoded.folds.len()
                ),
            ),
            (Some(_), None) => {
                (Status::Unverifiable, "no run in the bundle names its spec, so it cannot be re-trained".into())
            }
            (None, _) => (Status::Unverifiable, format!("its matrix {} was not rebuilt", short(&decoded.matrix_sha))),
        };
        v.push(Kind::Oof, &o.key, status, detail);
        // Only probabilities whose folds were checked against a rebuilt matrix judge runs.
        if status != Status::Mismatch && m.is_some() && spec.is_some() {
            oofs.insert(o.key.clone(), decoded);
        }
    }

    // Runs: ids recomputed, then judged again when the matrix and its probabilities are here.
    for r in &b.runs {
        let bad = run_ids(r);
        if !bad.is_empty() {
            v.push(Kind::Run, &r.run_id, Status::Mismatch, bad.join("; "));
            continue;
        }
        let m = matrices.get(&r.lineage.matrix_sha);
        let o = oofs.get(&r.lineage.oof_key);
        let cadence = models.get(r.model_id.as_str()).map(|m| m.model.cadence.clone());
        let (m, o, cadence) = match (m, o, cadence) {
            (Some(m), Some(o), Some(c)) => (m, o, c),
            (_, _, None) => {
                v.push(
                    Kind::Run,
                    &r.run_id,
                    Status::Unverifiable,
                    format!("ids recomputed; its model {} is not in the bundle", r.model_id),
                );
                continue;
            }
            _ => {
                let why = if b.with_data() {
                    "its matrix or out-of-fold probabilities are not in the bundle"
                } else {
                    NO_DATA
                };
                v.push(Kind::Run, &r.run_id, Status::Unverifiable, format!("ids recomputed; not re-judged: {why}"));
                continue;
            }
        };
        let settings = RunSettings::of_run(r, &cadence);
        let config = SweepConfig { config_sha: r.lineage.config_sha.clone(), config: r.config.clone() };
        match run::evaluate(&settings.context(m, o), &config) {
            Ok(e) => {
                let d = diff_of(r, &e.run);
                if d.is_empty() {
                    v.push(
                        Kind::Run,
                        &r.run_id,
                        Status::Verified,
                        "re-judged on the bundled out-of-fold probabilities: the same metrics and gate, bit for bit",
                    );
                } else {
                    v.push(Kind::Run, &r.run_id, Status::Mismatch, format!("re-judged: {}", d.join("; ")));
                }
            }
            Err(e) => v.push(Kind::Run, &r.run_id, Status::Mismatch, format!("re-judging failed: {e}")),
        }
    }

    // Strategies and their signals, each strategy by its model and config.
    let mut boosters: BTreeMap<String, Booster> = BTreeMap::new();
    for t in &b.strategies {
        let s = &t.strategy;
        let id = t.id();
        let (bad, booster) = strategy_ids(s, &t.model_json);
        if bad.is_empty() {
            v.push(
                Kind::Strategy,
                &id,
                Status::Verified,
                format!(
                    "{}: model_sha {}, config_sha and policy_sha recomputed (the final model is not re-trained)",
                    s.config,
                    short(&s.model_sha)
                ),
            );
            if let Some(bo) = booster {
                boosters.insert(id, bo);
            }
        } else {
            v.push(Kind::Strategy, &id, Status::Mismatch, bad.join("; "));
        }
    }
    for sig in &b.signals {
        let id = sig.id();
        let strat = b.strategies.iter().find(|t| t.id() == id);
        let (Some(t), Some(booster)) = (strat, boosters.get(&id)) else {
            let status = if strat.is_some() { Status::Mismatch } else { Status::Unverifiable };
            v.push(Kind::Signals, &id, status, "its strategy is not in the bundle or did not verify");
            continue;
        };
        let model_id = sig.model_id.as_str();
        let (Some(model), Some(ds)) = (models.get(model_id), bars.get(model_id)) else {
            v.push(Kind::Signals, &id, Status::Unverifiable, format!("not recomputed: {NO_DATA}"));
            continue;
        };
        let Some(series) = ds.series.first() else { continue };
        let spec = model.build_spec.clone().unwrap_or_default();
        let again = strategy::latest_signals(&model.model, series, &ds.tz, &spec, booster, &t.strategy);
        match again {
            Ok(s) => {
                let d = diff_of(&sig.signals, &s);
                if d.is_empty() {
                    v.push(
                        Kind::Signals,
                        &id,
                        Status::Verified,
                        format!("{} signals recomputed from the bars", s.len()),
                    );
                } else {
                    v.push(Kind::Signals, &id, Status::Mismatch, format!("recomputed: {}", d.join("; ")));
                }
            }
            Err(e) => v.push(Kind::Signals, &id, Status::Mismatch, format!("recomputing failed: {e}")),
        }
    }
    v.matrices = matrices.into_values().collect();
    v.oof = oofs.into_values().collect();
    v
}
