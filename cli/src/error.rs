//! The one error every command returns. Its variant decides the exit status, so a script can
//! tell a command line it got wrong (2, the status clap gives its own usage errors) from a
//! failure of the data or of an engine step (1) without parsing the message.

use std::path::Path;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The flags (with the spec) are incomplete or contradict each other or what they name; the
    /// message says which flag fixes it.
    #[error("{0}")]
    Usage(String),
    /// A spec file that is not the body it stands for (bad JSON, a missing or mistyped field):
    /// the command line's other half, so a usage error too.
    #[error("{path}: not a valid spec: {detail}")]
    Spec { path: String, detail: String },
    /// An engine step failed: its own message and kind, unchanged. Boxed because the engine's
    /// errors carry their file's details and every command's `Result` would carry their size.
    #[error(transparent)]
    Engine(Box<engine::error::Error>),
    /// An engine step failed on a named input (a model file, an indicator), which leads the
    /// message so the user knows which one.
    #[error("{at}: {source}")]
    EngineAt { at: String, source: Box<engine::error::Error> },
    /// A file or the store holds something the command cannot use (found only by reading it).
    #[error("{0}")]
    Data(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// A file the command was asked to write (`--out`, a sweep file) could not be.
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Every engine step's error converts through `engine::error::Error`, so `?` keeps it typed
/// without this crate naming each step's error type (or the module it lives in).
impl<E: Into<engine::error::Error>> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Engine(Box::new(e.into()))
    }
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Spec { .. } => 2,
            CliError::Engine(_)
            | CliError::EngineAt { .. }
            | CliError::Data(_)
            | CliError::Store(_)
            | CliError::Read { .. }
            | CliError::Write { .. } => 1,
        }
    }

    /// An engine error about `at` (a file, an indicator spec).
    pub(crate) fn engine_at(at: impl std::fmt::Display, e: impl Into<engine::error::Error>) -> Self {
        CliError::EngineAt { at: at.to_string(), source: Box::new(e.into()) }
    }
}

/// Only for errors in the command line itself; an engine failure converts with `?` instead.
pub(crate) fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

pub(crate) fn read_err(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::Read { path: path.display().to_string(), source }
}

pub(crate) fn write_err(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::Write { path: path.display().to_string(), source }
}
