//! The model picker the Train and Sweeps pages share: only models with a built matrix, the
//! current one kept in `Ctx` so moving between pages keeps the choice.

use leptos::prelude::*;

use crate::route::Route;
use crate::state::Ctx;
use engine::model::ModelRecord;

/// Models whose matrix is built, in creation order.
pub fn built(ctx: Ctx) -> Vec<ModelRecord> {
    ctx.models.get().into_iter().filter(|m| m.matrix_sha.is_some()).collect()
}

/// Keeps `ctx.current_model` on a built model and returns the current built model's record.
pub fn current_built(ctx: Ctx) -> Memo<Option<ModelRecord>> {
    Effect::new(move |_| {
        let list = built(ctx);
        let current = ctx.current_model.get();
        if !list.iter().any(|m| Some(&m.model_id) == current.as_ref()) {
            if let Some(first) = list.first() {
                ctx.current_model.set(Some(first.model_id.clone()));
            }
        }
    });
    Memo::new(move |_| {
        let id = ctx.current_model.get()?;
        built(ctx).into_iter().find(|r| r.model_id == id)
    })
}

#[component]
pub fn ModelSelect(ctx: Ctx, testid: &'static str) -> impl IntoView {
    view! {
        <label>"Model"
            <select data-testid=testid on:change=move |ev| ctx.current_model.set(Some(event_target_value(&ev)))>
                {move || built(ctx).into_iter().map(|r| {
                    let id = r.model_id.clone();
                    let sel = ctx.current_model.get() == Some(id.clone());
                    view! { <option value=id.clone() selected=sel>{id.clone()}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// What to do first when no model has a matrix yet.
#[component]
pub fn NoMatrix(title: &'static str) -> impl IntoView {
    view! {
        <div class="panel empty"><h2>{title}</h2>
            <p class="muted">"Create a model on the " <a href=Route::Models.href()>"Models"</a>
            " page and build its matrix on the " <a href=Route::Build.href()>"Build"</a> " page."</p></div>
    }
}

/// A labelled text input bound to `sig` (parsed by the page when it acts).
pub fn text_field(label: &'static str, sig: RwSignal<String>, testid: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <input type="text" inputmode="decimal" data-testid=testid prop:value=move || sig.get()
                on:input=move |ev| sig.set(event_target_value(&ev))/>
        </label>
    }
}
