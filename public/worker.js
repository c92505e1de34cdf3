// An engine worker: the app's own wasm module, started without a window. It answers the
// versioned Request/Response protocol in app/src/protocol.rs (see app/src/worker.rs).
import init, { worker_entry } from './app.js';

await init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
worker_entry();
