//! Moving a model to a newer dataset of its ticker (`btb model rebase`): the seed's "new bars"
//! step, so a trained strategy's signals reach the newest bar without retraining.
//!
//! A move is only honest if the strategies trained on the model's matrix would have been trained
//! on the same numbers had the new dataset been there from the start. Features are causal and
//! computed from the build's start, so the check is direct: the model's build is run again on
//! the new dataset ([`crate::matrix::find_or_build`] with the model's own `BuildSpec`), and every
//! row of the stored matrix must appear in the new one with the same bits in every feature, the
//! label and the policy columns. That one comparison catches all the ways a move goes wrong: a
//! feature computed by another code version (a `FEATURE_CODE_VERSION` bump), bars that were
//! revised or re-adjusted for a later dividend, another zone, a dataset that starts later. The
//! rows past the old matrix are the new bars; the model then points at the new dataset and at
//! the new matrix, while the old matrix, its runs and its strategies stay as they were.

use serde::{Deserialize, Serialize};

use crate::data::Series;
use crate::matrix::{find_or_build, Found, Matrix};
use crate::model::ModelRecord;

/// What a move checked and changed (`btb model rebase --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rebased {
    pub model_id: String,
    pub from_dataset: String,
    pub to_dataset: String,
    pub from_matrix: String,
    pub to_matrix: String,
    /// Rows of the old matrix found, bit for bit, in the new one.
    pub rows_checked: usize,
    /// Rows the new matrix has past the old one's last row.
    pub rows_added: usize,
    /// Last row of the old and of the new matrix (as [`Matrix::end`] prints it).
    pub old_end: String,
    pub new_end: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RebaseError {
    #[error("model {model_id} has no matrix to check the new dataset against; build it first (`btb build --model-id {model_id}`)")]
    NoMatrix { model_id: String },
    #[error("model {model_id} is a model of {ticker}; these bars are {got}'s")]
    Ticker { model_id: String, ticker: String, got: String },
    #[error("model {model_id} is on dataset {dataset} already")]
    SameDataset { model_id: String, dataset: String },
    #[error("dataset {dataset} computes features {got:?}, the model's matrix has {expected:?}")]
    Features { dataset: String, expected: Vec<String>, got: Vec<String> },
    #[error("dataset {dataset} has no row for {bar}, which the model's matrix holds: it starts later or misses bars, so the model cannot move to it")]
    MissingRow { dataset: String, bar: String },
    #[error("dataset {dataset} ends at {new_end}, before the model's matrix ({old_end}): it is not newer")]
    Older { dataset: String, old_end: String, new_end: String },
    #[error("{column} at {bar} is {stored} in the model's matrix but {now} computed from dataset {dataset}: the bars differ (revised or re-adjusted prices?) or the features were computed by another code version; build and train the model on the new dataset instead")]
    Differs { dataset: String, column: String, bar: String, stored: f64, now: f64 },
}

/// A model moved by [`onto`]: its record on the new dataset, what was checked, and its matrix
/// there (`Stored` when the caller's store held it already, `Built` to be stored).
#[derive(Debug)]
pub struct Moved {
    pub record: ModelRecord,
    pub rebased: Rebased,
    pub matrix: Found<Matrix>,
}

/// The whole move, as `btb model rebase` and the Models page run it: the model's own build
/// (its `BuildSpec`; its end lifted when it was the old data's last bar, `old_last`, the
/// ticker's last bar there as its summary prints it) on `series`, the ticker's bars in dataset `to_dataset`, asking `find`
/// first (as [`find_or_build`] does), then the check of [`rebase`]. Nothing is stored here;
/// the caller stores the matrix (when built) and the record, in that order.
#[allow(clippy::too_many_arguments)]
pub fn onto(
    record: &ModelRecord,
    stored: &Matrix,
    to_dataset: &str,
    series: &Series,
    tz: &str,
    old_last: Option<&str>,
    find: impl FnOnce(&str) -> Option<Matrix>,
    progress: &mut dyn FnMut(f64),
) -> Result<Moved, crate::error::Error> {
    if record.dataset_id == to_dataset {
        return Err(
            RebaseError::SameDataset { model_id: record.model_id.clone(), dataset: to_dataset.to_string() }.into()
        );
    }
    if series.ticker != record.model.ticker {
        return Err(RebaseError::Ticker {
            model_id: record.model_id.clone(),
            ticker: record.model.ticker.clone(),
            got: series.ticker.clone(),
        }
        .into());
    }
    // A build to the old data's last bar (the Build page names that date as the end) is lifted,
    // as signals lift it: the move is for the bars after it. An end before the old data's last
    // bar held a period out on purpose, and stays. Unknown (the old dataset is gone): lifted.
    let mut spec = record.build_spec.clone().unwrap_or_default();
    let held_out = match (&spec.end, old_last) {
        (Some(end), Some(last)) => end.as_str() < last.get(..10).unwrap_or(last),
        _ => false,
    };
    if !held_out {
        spec.end = None;
    }
    let matrix = find_or_build(&record.model, series, tz, &spec, find, progress)?;
    let rebuilt = match &matrix {
        Found::Stored(m) | Found::Built(m) => m,
    };
    let (mut moved, rebased) = rebase(record, stored, to_dataset, rebuilt)?;
    moved.build_spec = Some(spec);
    Ok(Moved { record: moved, rebased, matrix })
}

/// Checks that `rebuilt` (the model's build run on dataset `to_dataset`) reproduces every row
/// of `stored` (the model's matrix) and returns the record moved onto the new dataset and
/// matrix, with what was checked.
pub fn rebase(
    record: &ModelRecord,
    stored: &Matrix,
    to_dataset: &str,
    rebuilt: &Matrix,
) -> Result<(ModelRecord, Rebased), RebaseError> {
    let dataset = to_dataset.to_string();
    if record.dataset_id == to_dataset {
        return Err(RebaseError::SameDataset { model_id: record.model_id.clone(), dataset });
    }
    if record.matrix_sha.as_deref() != Some(stored.matrix_sha.as_str()) {
        return Err(RebaseError::NoMatrix { model_id: record.model_id.clone() });
    }
    if rebuilt.feature_names != stored.feature_names {
        return Err(RebaseError::Features {
            dataset,
            expected: stored.feature_names.clone(),
            got: rebuilt.feature_names.clone(),
        });
    }
    if let (Some(&a), Some(&b)) = (stored.ts.last(), rebuilt.ts.last()) {
        if b < a {
            return Err(RebaseError::Older { dataset, old_end: stored.end.clone(), new_end: rebuilt.end.clone() });
        }
    }
    let bar = |m: &Matrix, i: usize| {
        let tz = crate::data::time::parse_tz(&m.tz).unwrap_or(chrono_tz::UTC);
        let date_only = m.start.len() == 10;
        crate::data::time::format_ms(m.ts[i], tz, date_only)
    };
    let mut j = 0;
    for i in 0..stored.rows() {
        j += rebuilt.ts[j..].partition_point(|&t| t < stored.ts[i]);
        if rebuilt.ts.get(j) != Some(&stored.ts[i]) {
            return Err(RebaseError::MissingRow { dataset, bar: bar(stored, i) });
        }
        let columns = stored
            .feature_names
            .iter()
            .zip(stored.features.iter().zip(&rebuilt.features))
            .map(|(name, (a, b))| (name.as_str(), a, b))
            .chain([
                ("label", &stored.label, &rebuilt.label),
                ("close", &stored.close, &rebuilt.close),
                ("next_open", &stored.next_open, &rebuilt.next_open),
                ("hour", &stored.hour, &rebuilt.hour),
                ("momentum_score_total", &stored.momentum_score_total, &rebuilt.momentum_score_total),
            ]);
        for (name, a, b) in columns {
            if a[i].to_bits() != b[j].to_bits() {
                return Err(RebaseError::Differs {
                    dataset,
                    column: name.to_string(),
                    bar: bar(stored, i),
                    stored: a[i],
                    now: b[j],
                });
            }
        }
    }
    let after = stored.ts.last().map_or(0, |&t| rebuilt.ts.partition_point(|&x| x <= t));
    let moved =
        ModelRecord { dataset_id: dataset.clone(), matrix_sha: Some(rebuilt.matrix_sha.clone()), ..record.clone() };
    let report = Rebased {
        model_id: record.model_id.clone(),
        from_dataset: record.dataset_id.clone(),
        to_dataset: dataset,
        from_matrix: stored.matrix_sha.clone(),
        to_matrix: rebuilt.matrix_sha.clone(),
        rows_checked: stored.rows(),
        rows_added: rebuilt.rows() - after,
        old_end: stored.end.clone(),
        new_end: rebuilt.end.clone(),
    };
    Ok((moved, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Series;
    use crate::matrix::{build_matrix, BuildSpec};
    use crate::model::{Model, ModelSpec};
    use crate::synth::lcg_bars;

    const TZ: &str = "UTC";

    fn demo_model() -> Model {
        ModelSpec::new("swingsigma", "SYN").resolve().unwrap()
    }

    fn demo_dataset() -> (Series, String) {
        (lcg_bars(1200), TZ.to_string())
    }

    fn record(m: &Matrix) -> ModelRecord {
        let model = demo_model();
        ModelRecord {
            model_id: model.model_id.clone(),
            model,
            dataset_id: "old".into(),
            created: "2026-01-01T00:00:00Z".into(),
            matrix_sha: Some(m.matrix_sha.clone()),
            build_spec: Some(BuildSpec::default()),
        }
    }

    fn head(s: &Series, n: usize) -> Series {
        s.slice(0, n)
    }

    fn built(s: &Series, tz: &str) -> Matrix {
        build_matrix(&demo_model(), s, tz, &BuildSpec::default()).unwrap()
    }

    #[test]
    fn newer_bars_of_the_same_data_move_the_model_and_add_rows() {
        let (series, tz) = demo_dataset();
        let n = series.len();
        let old = built(&head(&series, n - 60), &tz);
        let new = built(&series, &tz);
        let (moved, r) = rebase(&record(&old), &old, "new", &new).unwrap();
        assert_eq!(moved.dataset_id, "new");
        assert_eq!(moved.matrix_sha.as_deref(), Some(new.matrix_sha.as_str()));
        assert_eq!(r.rows_checked, old.rows());
        assert_eq!(r.rows_added, new.rows() - old.rows());
        assert!(r.rows_added >= 55, "{r:?}");
    }

    #[test]
    fn a_revised_past_bar_or_an_older_dataset_is_refused() {
        let (series, tz) = demo_dataset();
        let n = series.len();
        let old = built(&head(&series, n - 60), &tz);
        // A past close revised by a cent: every feature from it on differs.
        let mut revised = series.clone();
        revised.close[n / 2] += 0.01;
        let e = rebase(&record(&old), &old, "new", &built(&revised, &tz)).unwrap_err();
        assert!(matches!(e, RebaseError::Differs { .. }), "{e}");
        assert!(e.to_string().contains("another code version"), "{e}");
        // Fewer bars than the model's.
        let e = rebase(&record(&old), &old, "new", &built(&head(&series, n - 120), &tz)).unwrap_err();
        assert!(matches!(e, RebaseError::Older { .. }), "{e}");
        // A dataset starting later misses the model's first rows.
        let late = series.slice(300, n);
        let e = rebase(&record(&old), &old, "new", &built(&late, &tz)).unwrap_err();
        assert!(matches!(e, RebaseError::MissingRow { .. } | RebaseError::Differs { .. }), "{e}");
        let e = rebase(&record(&old), &old, "old", &old).unwrap_err();
        assert!(matches!(e, RebaseError::SameDataset { .. }), "{e}");
    }

    #[test]
    fn onto_builds_with_the_models_spec_and_takes_a_stored_matrix_from_find() {
        let (series, tz) = demo_dataset();
        let n = series.len();
        let old = built(&head(&series, n - 60), &tz);
        let new = built(&series, &tz);
        let moved = onto(&record(&old), &old, "new", &series, &tz, None, |_| None, &mut |_| {}).unwrap();
        assert!(matches!(&moved.matrix, Found::Built(m) if m.matrix_sha == new.matrix_sha));
        assert_eq!(moved.record.matrix_sha.as_deref(), Some(new.matrix_sha.as_str()));
        // A build to the old file's last bar (as the Build page names it) still reaches the new bars.
        let date = |i: usize| crate::data::time::format_ms(series.ts[i], chrono_tz::UTC, true);
        let last = date(n - 61);
        let to_end = BuildSpec { end: Some(last.clone()), ..BuildSpec::default() };
        let old_to_end = build_matrix(&demo_model(), &head(&series, n - 60), &tz, &to_end).unwrap();
        let r = ModelRecord { build_spec: Some(to_end), ..record(&old_to_end) };
        let moved = onto(&r, &old_to_end, "new", &series, &tz, Some(&last), |_| None, &mut |_| {}).unwrap();
        assert_eq!(moved.rebased.rows_added, new.rows() - old_to_end.rows());
        assert_eq!(moved.record.build_spec.and_then(|s| s.end), None);
        // An end before the old data's last bar held a period out: it stays, and no row is new.
        let early = date(n - 300);
        let spec = BuildSpec { end: Some(early.clone()), ..BuildSpec::default() };
        let held = build_matrix(&demo_model(), &head(&series, n - 60), &tz, &spec).unwrap();
        let r = ModelRecord { build_spec: Some(spec), ..record(&held) };
        let moved = onto(&r, &held, "new", &series, &tz, Some(&last), |_| None, &mut |_| {}).unwrap();
        assert_eq!(moved.rebased.rows_added, 0);
        assert_eq!(moved.record.build_spec.and_then(|s| s.end), Some(early));
        let copy = new.clone();
        let moved = onto(
            &record(&old),
            &old,
            "new",
            &series,
            &tz,
            None,
            |sha| (sha == copy.matrix_sha).then(|| copy.clone()),
            &mut |_| {},
        )
        .unwrap();
        assert!(matches!(moved.matrix, Found::Stored(_)));
        // Another ticker's bars are refused before anything is built.
        let mut other = series.clone();
        other.ticker = "OTHER".into();
        let e = onto(&record(&old), &old, "new", &other, &tz, None, |_| None, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("OTHER"), "{e}");
    }
}
