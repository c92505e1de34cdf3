//! Every failure the user sees is drawn here, so each one reads the same way: what was being
//! done (the kind's title), the message word for word as the engine or the browser gave it,
//! and for a file, where in it.

use leptos::prelude::*;

use engine::data::IngestError;

use crate::error::AppError;

/// The place a file error names, as labelled fields (only those the error has).
fn ingest_fields(e: &IngestError) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let (file, pos, column, expected, found) = match e {
        IngestError::Empty { file } | IngestError::NoRows { file } => (file, None, None, None, None),
        IngestError::MissingColumn { file, column, expected, found } => {
            (file, None, Some(column.clone()), Some(expected.clone()), Some(found.join(", ")))
        }
        IngestError::BadValue { file, pos, column, expected, found } => {
            (file, Some(*pos), Some(column.clone()), Some(expected.clone()), Some(found.clone()))
        }
        IngestError::Ragged { file, pos, expected, found } => {
            (file, Some(*pos), None, Some(format!("{expected} fields")), Some(format!("{found} fields")))
        }
        IngestError::NotText { file, pos, .. } => (file, Some(*pos), None, None, None),
        IngestError::UnsupportedType { file, column, found, expected } => {
            (file, None, Some(column.clone()), Some(expected.clone()), Some(found.clone()))
        }
        IngestError::Gzip { file, .. }
        | IngestError::Parquet { file, .. }
        | IngestError::UnknownTimeZone { file, .. }
        | IngestError::Other { file, .. } => (file, None, None, None, None),
    };
    out.push(("file", file.clone()));
    match pos {
        Some(engine::data::Pos::Line(n)) => out.push(("line", n.to_string())),
        Some(engine::data::Pos::Row(n)) => out.push(("row", n.to_string())),
        None => {}
    }
    out.extend(column.map(|c| ("column", c)));
    out.extend(expected.map(|x| ("expected", x)));
    out.extend(found.filter(|f| !f.is_empty()).map(|f| ("found", f)));
    out
}

/// One error, with a Dismiss button when `on_dismiss` is given. `testid` is the page's name
/// for it (`data-testid`), so each page's error stays addressable.
#[component]
pub fn ErrorView(
    error: AppError,
    testid: &'static str,
    #[prop(optional, into)] on_dismiss: Option<Callback<()>>,
) -> impl IntoView {
    let fields = error.ingest().map(ingest_fields).unwrap_or_default();
    view! {
        <div class="error" role="alert" data-testid=testid data-kind=error.kind()>
            // `.error` stacks its children: the title is the heading line above the message.
            <strong class="error-title">{error.title()}</strong>
            <span class="error-message">{error.to_string()}</span>
            {(!fields.is_empty()).then(|| view! {
                // Styled here: the stylesheet in public/ is shared and this is the only user.
                <dl class="error-where small" style="display:grid;grid-template-columns:max-content 1fr;gap:0 10px;margin:6px 0 0">
                    {fields.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd data-field=k style="margin:0">{v}</dd> }).collect_view()}
                </dl>
            })}
            {on_dismiss.map(|f| view! {
                <button class="ghost small" on:click=move |_| f.run(())>"Dismiss"</button>
            })}
        </div>
    }
}

/// What an action that says one sentence when it succeeds ended with: that sentence as a notice
/// (`done` is its test id), or its error (`failed`); nothing before it ends.
pub fn outcome(v: Option<Result<String, AppError>>, done: &'static str, failed: &'static str) -> Option<AnyView> {
    v.map(|r| match r {
        Ok(text) => view! { <div class="notice" data-testid=done>{text}</div> }.into_any(),
        Err(e) => view! { <ErrorView error=e testid=failed/> }.into_any(),
    })
}

/// The error view for an optional error signal: nothing while there is none.
pub fn show_error(error: impl Fn() -> Option<AppError> + Send + Sync + 'static, testid: &'static str) -> impl IntoView {
    move || error().map(|e| view! { <ErrorView error=e testid=testid/> })
}
