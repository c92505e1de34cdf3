//! What an import did, artifact by artifact: the engine's report (`engine::bundle::ImportReport`)
//! as the same table `btb import` prints.

use leptos::prelude::*;

use engine::bundle::{ImportReport, Kind, Status};

use crate::format::short;

/// An id as the table shows it: a sha cut short, and a strategy (`model_id@config_sha`) as its
/// model and the start of its config's sha; the full id is the cell's title.
fn shown(id: &str) -> String {
    match id.split_once('@') {
        Some((model, config)) => format!("{model}@{}", short(config)),
        None if id.len() > 24 => short(id),
        None => id.to_string(),
    }
}

/// The report, with a Close button running `on_close`.
#[component]
pub fn ImportReportView(report: ImportReport, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let summary = report.summary();
    // Runs, models and strategies are what pages show; those carry the mark.
    let unverifiable = report
        .artifacts
        .iter()
        .filter(|a| a.status == Status::Unverifiable && matches!(a.kind, Kind::Run | Kind::Model | Kind::Strategy))
        .count();
    view! {
        <div class="panel" data-testid="import-report" data-changed=report.changed.to_string()>
            <div class="panel-head">
                <h2>"Import " <span class="muted small">{format!("made by {}{}", report.created_by, if report.deep { ", deep: folds re-trained" } else { "" })}</span></h2>
                <button class="ghost small" data-testid="import-report-close" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
            <p class="small" data-testid="import-summary">{summary}</p>
            {(unverifiable > 0).then(|| view! {
                <p class="small muted">{format!("{unverifiable} record(s) could not be checked against their data; they are marked unverifiable wherever they are shown.")}</p>
            })}
            <div class="scroll-x">
            <table class="grid">
                <thead><tr><th>"kind"</th><th>"id"</th><th>"status"</th><th>"action"</th><th>"detail"</th></tr></thead>
                <tbody>
                    {report.artifacts.into_iter().map(|a| {
                        let class = match a.status { Status::Verified => "chip ok", Status::Unverifiable => "chip warn", Status::Mismatch => "chip bad" };
                        let id = shown(&a.id);
                        view! {
                            <tr data-kind=a.kind.as_str() data-id=a.id.clone() data-status=a.status.as_str() data-action=a.action.as_str()>
                                <td>{a.kind.as_str()}</td>
                                <td title=a.id.clone()><code>{id}</code></td>
                                <td><span class=class>{a.status.as_str()}</span></td>
                                <td>{a.action.as_str()}</td>
                                <td class="small muted">{a.detail}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </div>
    }
}
