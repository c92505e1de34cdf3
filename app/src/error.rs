//! The app's one error type, so a failure reaches the screen with what failed (an engine step,
//! a worker, storage, the browser) instead of as a bare string.

use engine::data::IngestError;
use engine::error::Report;

use crate::db::StoreError;
use crate::protocol::ProtocolError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// An engine step refused; the report keeps its kind, its words and, for a file, the place.
    #[error(transparent)]
    Engine(Report),
    /// The worker could not start, stopped, or was stopped on purpose (a cancelled sweep).
    #[error("{0}")]
    Worker(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A browser API said no (reading a file, fetching the demo, offering a download).
    #[error("{0}")]
    Browser(String),
    /// A form field the page reads before anything runs.
    #[error("{0}")]
    Input(String),
    /// Something the request needs is not (or no longer) stored, or storage is not open yet.
    #[error("{0}")]
    Missing(String),
}

/// Page code meets the engine's typed errors directly (`ModelSpec::resolve`,
/// `FeatureSpec::parse`): `?` keeps their kind.
impl<E: Into<engine::error::Error>> From<E> for AppError {
    fn from(e: E) -> Self {
        AppError::Engine(Report::from(e))
    }
}

impl AppError {
    /// The heading above the message: what the user was doing when it failed.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::Engine(r) => r.kind.title(),
            AppError::Worker(_) => "The engine worker stopped",
            AppError::Store(StoreError::QuotaExceeded(_)) => "Browser storage is full",
            AppError::Store(_) => "Browser storage failed",
            AppError::Protocol(_) => "The page and its worker disagree",
            AppError::Browser(_) => "The browser refused",
            AppError::Input(_) => "A setting is not valid",
            AppError::Missing(_) => "Something this needs is not stored",
        }
    }

    /// A stable name per kind (`data-kind` on the error view), for tests and styling.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Engine(r) => r.kind.as_str(),
            AppError::Worker(_) => "worker",
            AppError::Store(_) => "store",
            AppError::Protocol(_) => "protocol",
            AppError::Browser(_) => "browser",
            AppError::Input(_) => "input",
            AppError::Missing(_) => "missing",
        }
    }

    /// The file error's fields when a file was at fault.
    pub fn ingest(&self) -> Option<&IngestError> {
        match self {
            AppError::Engine(r) => r.ingest.as_ref(),
            _ => None,
        }
    }

    pub fn missing(what: impl Into<String>) -> AppError {
        AppError::Missing(what.into())
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn an_engine_error_keeps_its_kind_and_file() {
        let e = AppError::from(IngestError::Empty { file: "bars.csv".into() });
        assert_eq!((e.kind(), e.title()), ("ingest", "The file could not be read"));
        assert_eq!(e.to_string(), "bars.csv: the file is empty");
        assert!(matches!(e.ingest(), Some(IngestError::Empty { file }) if file == "bars.csv"));
        let q = AppError::from(StoreError::QuotaExceeded("x.csv".into()));
        assert_eq!(q.title(), "Browser storage is full");
        assert!(q.to_string().contains("quota exceeded"));
    }
}
