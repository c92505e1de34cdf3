//! Which file a reader is decoding, for the one failure no `Result` carries: a dependency (the
//! `parquet` decoder above all) that panics on malformed bytes. Natively the reader catches the
//! panic and returns [`panicked`]'s error; in a Web Worker a panic aborts the wasm instance
//! before anything is caught, so the worker's panic hook asks [`panicked`] for the same error and
//! the page shows the sentence `btb` prints.

use std::any::Any;
use std::cell::RefCell;

use super::IngestError;

/// What kind of bytes a reader decodes, for the error a panic in it becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Parquet,
    Gzip,
    Csv,
}

thread_local! {
    /// Innermost last (a `.parquet.gz` is a gzip reading around a Parquet one).
    static READING: RefCell<Vec<(String, Format)>> = const { RefCell::new(Vec::new()) };
}

/// Marks `file` as being decoded as `format` until dropped.
pub(crate) struct Reading(());

pub(crate) fn enter(file: &str, format: Format) -> Reading {
    READING.with(|r| r.borrow_mut().push((file.to_string(), format)));
    Reading(())
}

impl Drop for Reading {
    fn drop(&mut self) {
        // `try_with`: dropped while the thread unwinds, or after its locals are gone.
        let _ = READING.try_with(|r| r.try_borrow_mut().map(|mut r| r.pop()));
    }
}

/// The error of the file being decoded on this thread when a panic with `message` happened,
/// if a reader was decoding one.
pub fn panicked(message: &str) -> Option<IngestError> {
    let (file, format) = READING.try_with(|r| r.try_borrow().ok()?.last().cloned()).ok()??;
    Some(error(&file, format, message))
}

pub(crate) fn error(file: &str, format: Format, message: &str) -> IngestError {
    let file = file.to_string();
    match format {
        Format::Parquet => IngestError::Parquet { file, detail: format!("the Parquet decoder failed: {message}") },
        Format::Gzip => IngestError::Gzip { file, detail: format!("the gzip decoder failed: {message}") },
        Format::Csv => IngestError::Other { file, detail: format!("the CSV reader failed: {message}") },
    }
}

/// A panic's message (`panic!("…")` carries a `&str` or a `String`), on one line.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an unexpected failure".to_string());
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a reader's `body` with `file` marked, a panic in it returned as the file's error.
pub(crate) fn guarded<T>(
    file: &str,
    format: Format,
    body: impl FnOnce() -> Result<T, IngestError>,
) -> Result<T, IngestError> {
    let _reading = enter(file, format);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(error(file, format, &panic_message(&*payload))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_innermost_files_error() {
        assert_eq!(panicked("x"), None);
        let outer = enter("a.parquet.gz", Format::Gzip);
        let e = guarded("a.parquet.gz", Format::Parquet, || -> Result<(), IngestError> {
            assert!(matches!(panicked("boom"), Some(IngestError::Parquet { .. })));
            panic!("Num of bytes exceed MAX_VLQ_BYTE_LEN ({})", 10)
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.parquet.gz: not a readable Parquet file (the Parquet decoder failed: Num of bytes exceed \
             MAX_VLQ_BYTE_LEN (10))"
        );
        assert!(matches!(panicked("boom"), Some(IngestError::Gzip { .. })), "the Parquet reading ended");
        drop(outer);
        assert_eq!(panicked("x"), None);
    }
}
