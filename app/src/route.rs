//! Hash routing (`#/data`, `#/build`, …).
//!
//! A static host has no rewrite rules, and the app may live under any sub-path (`/btb/`): with
//! the route in the fragment, every page reloads and deep-links without the server knowing.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Data,
    Models,
    Build,
    Sweeps,
    Leaderboard,
    Train,
    Backtest,
    Signals,
    Scanner,
}

impl Route {
    pub const ALL: [Route; 9] = [
        Route::Data,
        Route::Models,
        Route::Build,
        Route::Sweeps,
        Route::Leaderboard,
        Route::Train,
        Route::Backtest,
        Route::Signals,
        Route::Scanner,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Route::Data => "data",
            Route::Models => "models",
            Route::Build => "build",
            Route::Sweeps => "sweeps",
            Route::Leaderboard => "leaderboard",
            Route::Train => "train",
            Route::Backtest => "backtest",
            Route::Signals => "signals",
            Route::Scanner => "scanner",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Route::Data => "Data",
            Route::Models => "Models",
            Route::Build => "Build",
            Route::Sweeps => "Sweeps",
            Route::Leaderboard => "Leaderboard",
            Route::Train => "Train",
            Route::Backtest => "Backtest",
            Route::Signals => "Signals",
            Route::Scanner => "Scanner",
        }
    }

    pub fn href(self) -> String {
        format!("#/{}", self.slug())
    }

    /// Unknown or empty fragments land on Data, the first step.
    pub fn from_hash(hash: &str) -> Route {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        let slug = slug.split(['/', '?']).next().unwrap_or("");
        Route::ALL.into_iter().find(|r| r.slug() == slug).unwrap_or(Route::Data)
    }
}

/// `name`'s value in the fragment's query (`#/signals?strategy=m/abc` → `m/abc`): how a link
/// opens a page on one record.
pub fn param(hash: &str, name: &str) -> Option<String> {
    let (_, query) = hash.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| js_sys::decode_uri_component(v).ok().and_then(|v| v.as_string()).unwrap_or(v.to_string()))
    })
}

/// `#/<route>?k=v&…` with each value URI-encoded; empty pairs leave no `?`.
/// Opens run `id` on the Backtest page, by a link another copy of the page could follow too.
pub fn open_run(ctx: crate::state::Ctx, id: String) {
    let href = href_with(Route::Backtest, &[("run", id.clone())]);
    ctx.focus_run.set(Some(id));
    let _ = web_sys::window().map(|w| w.location().set_hash(&href));
}

pub fn href_with(route: Route, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v)))).collect();
    if query.is_empty() {
        route.href()
    } else {
        format!("{}?{}", route.href(), query.join("&"))
    }
}

/// Puts what a page shows into its URL (`#/leaderboard?model=…`), so a reload or a shared link
/// opens the same view. Replaces the history entry (no `hashchange`, no new Back step), and only
/// while `route` is the page the URL names, so a page being left never writes over the next.
pub fn set_query(route: Route, pairs: &[(&str, String)]) {
    let Some(w) = web_sys::window() else { return };
    if Route::from_hash(&current_hash()) != route {
        return;
    }
    let href = href_with(route, pairs);
    if current_hash() != href {
        if let Ok(h) = w.history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&href));
        }
    }
}

/// [`param`] of the page's current fragment.
pub fn current_param(name: &str) -> Option<String> {
    param(&current_hash(), name)
}

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// The current route as a signal that follows `hashchange`.
pub fn use_route() -> ReadSignal<Route> {
    let (route, set_route) = signal(Route::from_hash(&current_hash()));
    let on_change = Closure::<dyn FnMut()>::new(move || set_route.set(Route::from_hash(&current_hash())));
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_change.as_ref().unchecked_ref()));
    }
    on_change.forget();
    route
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn parses_fragments() {
        assert_eq!(Route::from_hash("#/sweeps"), Route::Sweeps);
        assert_eq!(Route::from_hash("#/leaderboard?model=x"), Route::Leaderboard);
        assert_eq!(Route::from_hash(""), Route::Data);
        assert_eq!(Route::from_hash("#/nope"), Route::Data);
        for r in Route::ALL {
            assert_eq!(Route::from_hash(&r.href()), r);
        }
        assert_eq!(param("#/signals?strategy=aapl%2Fab12&x=1", "strategy").as_deref(), Some("aapl/ab12"));
        assert_eq!(param("#/signals?x=1", "strategy"), None);
        assert_eq!(param("#/signals", "strategy"), None);
        let href = href_with(Route::Leaderboard, &[("model", "a b/c".into()), ("pass_gate", "1".into())]);
        assert_eq!(href, "#/leaderboard?model=a%20b%2Fc&pass_gate=1");
        assert_eq!(param(&href, "model").as_deref(), Some("a b/c"));
        assert_eq!(href_with(Route::Backtest, &[]), "#/backtest");
    }
}
