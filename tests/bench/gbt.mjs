// The tree trainer in wasm, in headless Chromium, on the 50k × 40 training set that
// `tests/gbt/compare_lightgbm.py` writes to target/gbt/train.csv (run that first: it also times
// `btb train` and LightGBM on the same rows). Prints wasm training time, prediction throughput,
// and whether the wasm model_sha equals the native one in target/gbt/model.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, ROOT } from '../e2e/browser.mjs';

const csv = join(ROOT, 'target/gbt/train.csv');
if (!existsSync(csv)) {
  console.error('run python3 tests/gbt/compare_lightgbm.py first (it writes target/gbt/train.csv)');
  process.exit(1);
}
const lines = readFileSync(csv, 'utf8').trim().split('\n');
const header = lines[0].split(',');
const li = header.indexOf('label');
const features = header.length - 1;
const rows = lines.length - 1;
const x = new Array(rows * features);
const y = new Array(rows);
for (let i = 0; i < rows; i++) {
  const cells = lines[i + 1].split(',');
  let j = 0;
  for (let c = 0; c < cells.length; c++) {
    if (c === li) { y[i] = Number(cells[c]); continue; }
    x[j * rows + i] = cells[c] === '' ? NaN : Number(cells[c]);
    j++;
  }
}
const trees = Number(process.env.BTB_BENCH_TREES ?? 200);
const { server, base } = await startServer();
const { context, page } = await launch();
await page.goto(base);
await page.waitForFunction(() => window.wasmBindings?.bench_gbt, null, { timeout: 60_000 });
const res = JSON.parse(await page.evaluate(([x, f, y, t]) => window.wasmBindings.bench_gbt(x, f, y, t), [x, features, y, trees]));
await context.close();
server.close();
if (res.error) { console.error(res.error); process.exit(1); }
const native = join(ROOT, 'target/gbt/model.json');
const nativeSha = existsSync(native) ? JSON.parse(readFileSync(native, 'utf8')).model_sha : undefined;
console.log(`wasm: ${res.rows} × ${res.features}, ${res.trees} trees: train ${(res.train_ms / 1000).toFixed(2)} s; predict ${(res.rows / res.predict_ms * 1000 / 1e6).toFixed(2)} M rows/s`);
console.log(`model_sha wasm ${res.model_sha.slice(0, 12)}… native ${nativeSha?.slice(0, 12) ?? '—'}… ${res.model_sha === nativeSha ? 'identical' : 'DIFFERENT'}`);
