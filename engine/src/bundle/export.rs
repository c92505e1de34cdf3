//! Exporting: which records a selection takes ([`select`]) and the bundle assembled from them
//! ([`assemble`]). The CLI reads its store and the page its IndexedDB, but both hand the same
//! records to these two functions, so the same selection gives the same bundle bytes.

use serde::{Deserialize, Serialize};

use super::{Build, Bundle, BundleError, DataSlice, ModelSignals, OofFile, TrainedStrategy};
use crate::data::{Dataset, Series};
use crate::gbt::Booster;
use crate::matrix::Matrix;
use crate::model::ModelRecord;
use crate::run::Run;
use crate::strategy::latest_signals;

/// What an export takes: runs, and the models they and the selection name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub runs: Vec<Run>,
    /// Sorted, each once.
    pub model_ids: Vec<String>,
}

impl Selection {
    /// The out-of-fold keys the runs were judged on, sorted, each once (what `--with-data` carries).
    pub fn oof_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.runs.iter().map(|r| r.lineage.oof_key.clone()).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// `model_ids` with every run of theirs and `run_ids` with their models; both empty takes every
/// stored model and run. An id that is not stored is an error, not an empty bundle.
pub fn select(
    runs: Vec<Run>,
    stored_models: &[String],
    model_ids: &[String],
    run_ids: &[String],
) -> Result<Selection, BundleError> {
    for id in run_ids {
        if !runs.iter().any(|r| &r.run_id == id) {
            return Err(BundleError::NotStored { kind: "run", id: id.clone() });
        }
    }
    for id in model_ids {
        if !stored_models.contains(id) {
            return Err(BundleError::NotStored { kind: "model", id: id.clone() });
        }
    }
    let everything = model_ids.is_empty() && run_ids.is_empty();
    let mut runs: Vec<Run> = runs
        .into_iter()
        .filter(|r| everything || run_ids.contains(&r.run_id) || model_ids.contains(&r.model_id))
        .collect();
    runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    let mut ids: Vec<String> = if everything { stored_models.to_vec() } else { model_ids.to_vec() };
    ids.extend(runs.iter().map(|r| r.model_id.clone()));
    ids.sort();
    ids.dedup();
    Ok(Selection { runs, model_ids: ids })
}

/// One model's records as a store holds them.
#[derive(Debug, Clone)]
pub struct Source {
    pub record: ModelRecord,
    /// The matrix of its latest build (`record.matrix_sha`), when it is stored.
    pub matrix: Option<Matrix>,
    /// Every strategy trained on it, one per config (any order: the bundle sorts them).
    pub strategies: Vec<TrainedStrategy>,
    /// Its ticker's bars in its dataset: for the strategies' signals, and the slice `with_data` carries.
    pub bars: Option<Bars>,
}

/// A model's series with what the bundle says about where it came from.
#[derive(Debug, Clone)]
pub struct Bars {
    pub series: Series,
    pub tz: String,
    /// The dataset's name and id in the exporting store.
    pub name: String,
    pub dataset_id: String,
}

/// The bundle of `sources` (one per selected model) and `selection.runs`; with `with_data`, also
/// every model's bars and the out-of-fold files among `oof` that the runs were judged on.
pub fn assemble(
    created_by: &str,
    sources: Vec<Source>,
    selection: Selection,
    oof: Vec<OofFile>,
    with_data: bool,
) -> Result<Bundle, BundleError> {
    let mut b = Bundle { created_by: created_by.to_string(), ..Bundle::default() };
    for s in sources {
        let id = s.record.model_id.clone();
        let spec = s.record.build_spec.clone().unwrap_or_default();
        let mut strategies = s.strategies;
        strategies.sort_by(|a, b| a.strategy.config_sha.cmp(&b.strategy.config_sha));
        strategies.dedup_by(|a, b| a.strategy.config_sha == b.strategy.config_sha);
        for t in strategies {
            // Signals are a record of what the strategy said when it was exported; without the
            // bars (or with a model file this version cannot score) there are none to carry.
            if let (Some(bars), Ok(booster)) = (&s.bars, Booster::from_model_json(&t.model_json)) {
                if let Ok(signals) =
                    latest_signals(&s.record.model, &bars.series, &bars.tz, &spec, &booster, &t.strategy)
                {
                    let config_sha = t.strategy.config_sha.clone();
                    b.signals.push(ModelSignals { model_id: id.clone(), config_sha, signals });
                }
            }
            b.strategies.push(t);
        }
        if with_data {
            let bars = s.bars.ok_or_else(|| BundleError::Write {
                what: format!("the bars of {id}"),
                detail: format!("dataset {} is not stored", s.record.dataset_id),
            })?;
            let ds = Dataset {
                name: bars.name,
                tz: bars.tz,
                series: vec![bars.series],
                issues: Vec::new(),
                issue_counts: Vec::new(),
            };
            b.datasets.push(DataSlice::of(&id, &ds, &s.record.model.ticker, &spec, &bars.dataset_id)?);
        }
        if let (Some(m), Some(spec)) = (&s.matrix, &s.record.build_spec) {
            b.builds.push(Build::of(&id, spec, m));
        }
        b.models.push(s.record);
    }
    if with_data {
        // A run whose probabilities are not stored is still exported: the importer reports it
        // as unverifiable and says what is missing, rather than the export failing.
        let keys = selection.oof_keys();
        b.oof = oof.into_iter().filter(|o| keys.contains(&o.key)).collect();
        b.oof.sort_by(|a, b| a.key.cmp(&b.key));
        b.oof.dedup_by(|a, b| a.key == b.key);
    }
    b.runs = selection.runs;
    // In the order a bundle's entries keep them, so a read gives back the same value.
    // (by model, then config: a model id's characters all sort after the path's `/`).
    b.strategies.sort_by(|x, y| {
        (&x.strategy.model_id, &x.strategy.config_sha).cmp(&(&y.strategy.model_id, &y.strategy.config_sha))
    });
    b.signals.sort_by(|x, y| (&x.model_id, &x.config_sha).cmp(&(&y.model_id, &y.config_sha)));
    Ok(b)
}
