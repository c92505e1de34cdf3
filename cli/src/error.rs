//! The one error every command returns, so `main` can print it as one line on stderr.

use engine::data::IngestError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: not a valid spec: {detail}")]
    Spec { path: String, detail: String },
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
}

pub(crate) fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}
