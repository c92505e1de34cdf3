//! The page's side of offline use: registers `sw.js` (which caches this build's app shell), and
//! tells the user when a new build took over, so the page they are looking at is an old one
//! until they reload.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// What the service worker does for this page.
#[derive(Clone, Debug, PartialEq)]
pub enum Shell {
    /// No service worker (an insecure origin, a private window, a browser without them): the
    /// page works, but not offline.
    Unavailable(String),
    /// Installed; this build loads and works with the network gone.
    Offline,
    /// A newer build was installed while this page ran: reload to use it.
    Updated,
}

/// Registers the service worker and keeps `shell` up to date.
pub async fn register(shell: RwSignal<Option<Shell>>) {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    // `serviceWorker` is missing on insecure origins: check before touching it.
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        shell.set(Some(Shell::Unavailable("this browser or origin does not allow service workers".into())));
        return;
    }
    let container = navigator.service_worker();
    // Controlled already: a later change of controller is a new build taking over.
    let had_controller = container.controller().is_some();
    let on_change = Closure::<dyn FnMut()>::new(move || {
        if had_controller {
            shell.try_set(Some(Shell::Updated));
        }
    });
    container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    // Relative: the scope is the directory the page is served from, under any sub-path.
    match JsFuture::from(container.register("./sw.js")).await {
        Ok(_) => {
            if JsFuture::from(container.ready().unwrap_or_else(|_| js_sys::Promise::resolve(&JsValue::NULL)))
                .await
                .is_ok()
                && shell.get_untracked() != Some(Shell::Updated)
            {
                shell.set(Some(Shell::Offline));
            }
        }
        Err(e) => {
            let why =
                e.as_string().or_else(|| js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()));
            shell.set(Some(Shell::Unavailable(why.unwrap_or_else(|| "the service worker did not install".into()))));
        }
    }
}
