// The engine in wasm, in headless Chromium, on the same 1M synthetic bars as the native bench
// (`cargo bench -p engine --bench indicators`) and TA-Lib (`tests/golden/bench_talib.py`):
// per-indicator and whole-set time, and the full swingsigma matrix. Prints wasm / TA-Lib native.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, ROOT } from '../e2e/browser.mjs';

const n = Number(process.env.BTB_BENCH_BARS ?? 1_000_000);
const runs = Number(process.env.BTB_BENCH_RUNS ?? 5);
const read = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null);
const talib = read(join(ROOT, 'target/talib_bench.json'))?.seconds ?? {};
const native = read(join(ROOT, 'target/indicator-bench.json')) ?? {};
const nativeSecs = native.seconds ?? native;

const { server, base } = await startServer();
const { context, page } = await launch();
await page.goto(base);
await page.waitForFunction(() => window.wasmBindings?.bench_engine, null, { timeout: 60_000 });
const res = JSON.parse(await page.evaluate(([n, runs]) => window.wasmBindings.bench_engine(n, runs), [n, runs]));
await context.close();
server.close();

const fmt = (x) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(3));
console.log(`${n} bars, best of ${runs}; ms`);
console.log(`${'spec'.padEnd(20)} ${'wasm'.padStart(9)} ${'native'.padStart(9)} ${'TA-Lib'.padStart(9)} ${'wasm/TA-Lib'.padStart(12)}`);
for (const [spec, ms] of Object.entries(res.indicators)) {
  const t = talib[spec] !== undefined ? talib[spec] * 1e3 : undefined;
  const nat = nativeSecs[spec] !== undefined ? nativeSecs[spec] * 1e3 : undefined;
  console.log(`${spec.padEnd(20)} ${fmt(ms).padStart(9)} ${fmt(nat).padStart(9)} ${fmt(t).padStart(9)} ${(t ? (ms / t).toFixed(2) : '—').padStart(12)}`);
}
const tAll = talib.__all__ !== undefined ? talib.__all__ * 1e3 : undefined;
const nAll = nativeSecs.__all__ !== undefined ? nativeSecs.__all__ * 1e3 : undefined;
console.log(`${'whole set'.padEnd(20)} ${fmt(res.whole_set_ms).padStart(9)} ${fmt(nAll).padStart(9)} ${fmt(tAll).padStart(9)} ${(tAll ? (res.whole_set_ms / tAll).toFixed(2) : '—').padStart(12)}`);
console.log(`swingsigma matrix in wasm: ${res.matrix_ms.toFixed(0)} ms (${res.rows} rows)`);
