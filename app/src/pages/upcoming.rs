//! Pipeline steps whose engine work has not landed yet: each page states what it will do, in
//! the seed's words, and which datasets it will work from, so the flow is visible end to end.

use leptos::prelude::*;

use crate::app::use_ctx;
use crate::route::Route;

fn plan(route: Route) -> (&'static str, &'static [&'static str]) {
    match route {
        Route::Models => (
            "Create a model from a pack template: pack (SwingSigma daily swing, ZeroSigma intraday), ticker, horizon, cadence and risk profile.",
            &["model_id auto-named like aapl_swing_daily", "risk profile: conservative / balanced / aggressive", "indicator list from the template, editable"],
        ),
        Route::Build => (
            "Build the training matrix: a dataset slice → ~70 TA-Lib-exact indicator features + a forward-return label, identified by matrix_sha.",
            &["date range", "indicator review", "preview with per-feature statistics"],
        ),
        Route::Sweeps => (
            "Run policy variants (threshold ladders, top %, allowed hours) as purged walk-forward cross-validated backtests in parallel workers.",
            &["budget from the risk profile", "progress and cancel", "finished runs survive reload"],
        ),
        Route::Leaderboard => (
            "Rank runs by Sharpe with the gate verdict per risk profile and full lineage; pick the best into the cart.",
            &["filters: model, pack, profile, tag, pass gate", "metrics: Sharpe, return, trades, max drawdown"],
        ),
        Route::Train => (
            "Train the final gradient-boosted tree model for a chosen config, with sigmoid or isotonic calibration.",
            &["per-tree progress", "loss curves", "feature importance", "reliability diagram"],
        ),
        Route::Backtest => (
            "Backtest the trained model: equity curve, drawdown, trades, metrics and gate.",
            &["next-bar-open entries", "costs in bps", "trade list"],
        ),
        Route::Signals => (
            "BUY/SELL signals from trained models on the latest bars, with confidence and status.",
            &["alerts export as CSV"],
        ),
        Route::Data => ("", &[]),
    }
}

#[component]
pub fn Upcoming(route: Route) -> impl IntoView {
    let ctx = use_ctx();
    let (what, points) = plan(route);
    view! {
        <section class="page upcoming" data-page=route.slug()>
            <h1>{route.title()}</h1>
            <p class="lede">{what}</p>
            <ul class="plan">{points.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul>
            <p class="muted">
                "This step is being built. Datasets it will work from: "
                {move || ctx.datasets.get().len()}
                " stored — see "
                <a href=Route::Data.href()>"Data"</a>
                "."
            </p>
        </section>
    }
}
