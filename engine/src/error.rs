//! One error type for every engine step, so the shells carry a failure intact to where it is
//! shown instead of flattening it to a string on the way.
//!
//! [`Error`] keeps the step's own typed error (natively, the CLI matches on it and keeps its text
//! and exit code). [`Report`] is its wire form: the step ([`ErrorKind`]) and the engine's own
//! message, unchanged, plus the structured [`IngestError`] when a file was at fault, so a worker can
//! send it to the page (and a script) without losing which step failed or which file, row and
//! column. The typed errors hold `&'static str` fields and cannot be deserialised; the report is
//! what crosses a process or worker boundary.

use serde::{Deserialize, Serialize};

use crate::backtest::BacktestError;
use crate::bundle::BundleError;
use crate::cv::CvError;
use crate::data::IngestError;
use crate::features::FeatureError;
use crate::gbt::GbtError;
use crate::indicators::IndicatorError;
use crate::leaderboard::UnknownMetric;
use crate::matrix::{BuildError, MatrixDecodeError};
use crate::model::ModelError;
use crate::oof::OofError;
use crate::policy::PolicyError;
use crate::risk::UnknownRiskProfile;
use crate::run::RunError;
use crate::strategy::StrategyError;
use crate::sweep::SweepError;

/// Which step failed. Stable snake_case names: they are part of the worker protocol (and will be
/// of the page's script API), so renaming one is a protocol change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Ingest,
    Indicator,
    Feature,
    Model,
    Build,
    Matrix,
    Cv,
    Train,
    OutOfFold,
    Policy,
    Backtest,
    Run,
    Sweep,
    Strategy,
    Leaderboard,
    Risk,
    Bundle,
    Scan,
    Rebase,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Ingest => "ingest",
            ErrorKind::Indicator => "indicator",
            ErrorKind::Feature => "feature",
            ErrorKind::Model => "model",
            ErrorKind::Build => "build",
            ErrorKind::Matrix => "matrix",
            ErrorKind::Cv => "cv",
            ErrorKind::Train => "train",
            ErrorKind::OutOfFold => "out_of_fold",
            ErrorKind::Policy => "policy",
            ErrorKind::Backtest => "backtest",
            ErrorKind::Run => "run",
            ErrorKind::Sweep => "sweep",
            ErrorKind::Strategy => "strategy",
            ErrorKind::Leaderboard => "leaderboard",
            ErrorKind::Risk => "risk",
            ErrorKind::Bundle => "bundle",
            ErrorKind::Scan => "scan",
            ErrorKind::Rebase => "rebase",
        }
    }

    /// What the user was doing, as a heading for the message.
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::Ingest => "The file could not be read",
            ErrorKind::Indicator | ErrorKind::Feature => "A feature is not valid",
            ErrorKind::Model => "The model is not valid",
            ErrorKind::Build => "The matrix could not be built",
            ErrorKind::Matrix => "The stored matrix could not be read",
            ErrorKind::Cv => "The data cannot be split for cross-validation",
            ErrorKind::Train => "Training failed",
            ErrorKind::OutOfFold => "The out-of-fold predictions failed",
            ErrorKind::Policy => "The policy is not valid",
            ErrorKind::Backtest => "The backtest failed",
            ErrorKind::Run => "The run could not be judged",
            ErrorKind::Sweep => "The sweep is not valid",
            ErrorKind::Strategy => "The strategy failed",
            ErrorKind::Leaderboard => "The leaderboard query is not valid",
            ErrorKind::Risk => "The risk profile is not valid",
            ErrorKind::Bundle => "The bundle cannot be imported",
            ErrorKind::Scan => "The scan is not valid",
            ErrorKind::Rebase => "The model cannot move to these bars",
        }
    }
}

/// Any engine failure, with the step's own error inside.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Indicator(#[from] IndicatorError),
    #[error(transparent)]
    Feature(#[from] FeatureError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A model that cannot move to another dataset (`btb model rebase`).
    #[error(transparent)]
    Rebase(#[from] crate::rebase::RebaseError),
    #[error(transparent)]
    Scan(#[from] crate::scan::ScanError),
    #[error(transparent)]
    Calibration(#[from] crate::scan::CalibrationError),
    #[error(transparent)]
    Matrix(#[from] MatrixDecodeError),
    #[error(transparent)]
    Cv(#[from] CvError),
    #[error(transparent)]
    Train(#[from] GbtError),
    #[error(transparent)]
    OutOfFold(#[from] OofError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Backtest(#[from] BacktestError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// A sweep file that cannot be read (YAML, an unknown key, a bad value, on its line).
    #[error(transparent)]
    Grid(#[from] crate::grid::GridError),
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Leaderboard(#[from] UnknownMetric),
    #[error(transparent)]
    Risk(#[from] UnknownRiskProfile),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Ingest(_) => ErrorKind::Ingest,
            Error::Indicator(_) => ErrorKind::Indicator,
            Error::Feature(_) => ErrorKind::Feature,
            Error::Model(_) => ErrorKind::Model,
            Error::Rebase(_) => ErrorKind::Rebase,
            Error::Build(_) => ErrorKind::Build,
            Error::Matrix(_) => ErrorKind::Matrix,
            Error::Cv(_) => ErrorKind::Cv,
            Error::Train(_) => ErrorKind::Train,
            Error::OutOfFold(_) => ErrorKind::OutOfFold,
            Error::Policy(_) => ErrorKind::Policy,
            Error::Backtest(_) => ErrorKind::Backtest,
            Error::Run(_) => ErrorKind::Run,
            Error::Sweep(_) | Error::Grid(_) => ErrorKind::Sweep,
            Error::Strategy(_) => ErrorKind::Strategy,
            Error::Leaderboard(_) => ErrorKind::Leaderboard,
            Error::Risk(_) => ErrorKind::Risk,
            Error::Bundle(_) => ErrorKind::Bundle,
            Error::Scan(_) | Error::Calibration(_) => ErrorKind::Scan,
        }
    }

    pub fn report(&self) -> Report {
        let ingest = match self {
            Error::Ingest(e) => Some(e.clone()),
            _ => None,
        };
        Report { kind: self.kind(), message: self.to_string(), ingest }
    }
}

/// An [`Error`] as it crosses a boundary: the step, the engine's message word for word, and the
/// file error's fields when a file was at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct Report {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest: Option<IngestError>,
}

impl<E: Into<Error>> From<E> for Report {
    fn from(e: E) -> Self {
        e.into().report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_the_kind_the_message_and_the_file() {
        let e = IngestError::Empty { file: "bars.csv".into() };
        let r = Report::from(e.clone());
        assert_eq!(r.kind, ErrorKind::Ingest);
        assert_eq!(r.message, "bars.csv: the file is empty");
        assert_eq!(r.ingest, Some(e));
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);

        let r = Report::from(PolicyError::EmptyLadder);
        assert_eq!((r.kind, r.message.as_str(), &r.ingest), (ErrorKind::Policy, "threshold ladder is empty", &None));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"kind": "policy", "message": "threshold ladder is empty"})
        );
    }

    #[test]
    fn kind_names_match_their_wire_form() {
        for kind in [ErrorKind::Ingest, ErrorKind::OutOfFold, ErrorKind::Leaderboard] {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
    }
}
