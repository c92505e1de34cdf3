//! The BTB Workbench web app: Leptos pages over IndexedDB and a pool of engine workers.
//!
//! The page thread only displays; every number comes from `engine`, run inside a worker
//! (`worker.rs`) that loads this same wasm module.

pub mod app;
pub mod bench;
pub mod chart;
pub mod columns;
pub mod components;
pub mod db;
pub mod download;
pub mod error;
pub mod format;
pub mod ingest;
pub mod offline;
pub mod pages;
pub mod pool;
pub mod protocol;
pub mod route;
pub mod share;
pub mod state;
pub mod worker;

use wasm_bindgen::prelude::*;

/// Runs when the module is instantiated. Workers instantiate the same module, and there is no
/// `window` there: they wait for `worker_entry` instead of mounting the UI.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if web_sys::window().is_some() {
        leptos::mount::mount_to_body(app::App);
    }
}
