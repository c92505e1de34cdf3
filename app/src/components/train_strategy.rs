//! "Train the final model for this config" (`POST /train`): on the Backtest page for the run
//! shown, and on the Train page for each run in the cart.

use leptos::prelude::*;

use engine::run::Run;
use engine::strategy::{FinalFit, OwnerRecord};

use crate::components::ErrorView;
use crate::db::StrategyRecord;
use crate::error::AppError;
use crate::format::short;
use crate::pool::MatrixRef;
use crate::route::Route;
use crate::state::{run_inputs, use_ctx, worker, Ctx};

/// Trains the final model for `run`'s config with the sweep's model settings and stores it as
/// that config's strategy of the model (replacing the config's earlier one); returns its
/// `model_sha` and where its signals are.
async fn train_strategy(ctx: Ctx, run: Run, trees: RwSignal<usize>) -> Result<(String, String), AppError> {
    let (store, cadence, sha) = run_inputs(ctx, &run).await?;
    let owner = OwnerRecord {
        model_id: run.model_id.clone(),
        pack_id: run.pack_id.clone(),
        cadence,
        risk_profile: run.lineage.risk_profile,
        created: engine::data::time::format_utc(js_sys::Date::now() as i64),
    };
    let how = FinalFit {
        params: run.oof_spec.params.clone(),
        calibration: run.oof_spec.calibration,
        calibration_folds: run.oof_spec.splits,
    };
    let worker = worker(ctx).await?;
    let (strategy, model_json) = worker
        .train_strategy(
            owner,
            run.config.clone(),
            run.policy.clone(),
            how,
            MatrixRef { sha: &sha, store: &store },
            move |t| {
                trees.try_set(t);
            },
        )
        .await?;
    let sha = strategy.model_sha.clone();
    let link = format!(
        "{}?strategy={}",
        Route::Signals.href(),
        js_sys::encode_uri_component(&format!("{}/{}", run.model_id, strategy.config_sha))
    );
    let record = StrategyRecord { model_id: run.model_id.clone(), strategy, model_json, created: js_sys::Date::now() };
    store.put_strategy(&record).await?;
    Ok((sha, link))
}

/// `named`: the heading names the run (the Train page lists several).
#[component]
pub fn TrainStrategy(run: Run, #[prop(optional)] named: bool) -> impl IntoView {
    let ctx = use_ctx();
    let trees = RwSignal::new(0usize);
    let train = Action::new_local(move |run: &Run| train_strategy(ctx, run.clone(), trees));
    let busy = train.pending();
    let total = run.oof_spec.params.num_trees;
    let what = format!(
        "{} trees on every row of the matrix, {:?} calibration on {} purged walk-forward folds",
        total, run.oof_spec.calibration, run.oof_spec.splits
    )
    .to_lowercase();
    let heading = if named { format!("{} · {}", run.config, run.model_id) } else { "Final model".to_string() };
    view! {
        <div class="panel" data-testid="strategy-panel">
            <h2>{heading} " " <span class="muted small">{what}</span></h2>
            <button class="primary" data-testid="train-strategy" disabled=move || busy.get()
                on:click=move |_| { train.dispatch(run.clone()); }>
                {move || if busy.get() { format!("Training… tree {} of {total}", trees.get()) } else { "Train the final model for this config".to_string() }}
            </button>
            {move || (!busy.get()).then(|| train.value().get()).flatten().map(|r| match r {
                Ok((sha, link)) => view! { <p class="small" data-testid="strategy-trained">"Trained model " <code>{short(&sha)}</code>
                    " for this config. " <a href=link>"Its signals →"</a></p> }.into_any(),
                Err(e) => view! { <ErrorView error=e testid="strategy-error"/> }.into_any(),
            })}
        </div>
    }
}
