// Browser ingestion benchmark: the same 1M-row files as `cargo bench --bench ingest`, uploaded
// through the real page. Reports the worker's parse time (rows/s), the time until the dataset
// is stored and listed, time from navigation to the demo chart, and the wasm bundle size.
// Run via scripts/bench (which builds dist/ and writes the files first).
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startServer, launch, ROOT } from '../e2e/browser.mjs';

const dir = process.env.BTB_BENCH_OUT ?? join(ROOT, 'target/bench-data');
const rows = Number(process.env.BTB_BENCH_ROWS ?? 1_000_000);
const { server, base } = await startServer();

const wasm = readFileSync(join(ROOT, 'dist/app_bg.wasm'));
console.log(`wasm bundle: ${(wasm.length / 1e6).toFixed(2)} MB raw, ${(gzipSync(wasm, { level: 9 }).length / 1e6).toFixed(2)} MB gzipped`);

{
  const { context, page } = await launch();
  const t0 = Date.now();
  await page.goto(base);
  await page.waitForSelector('[data-testid=tickers] tr[data-ticker=AAPL]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('canvas.chart')?.width > 0);
  console.log(`navigation → demo chart (fresh profile, demo parsed and stored): ${Date.now() - t0} ms`);
  await page.reload();
  const t1 = Date.now();
  await page.waitForFunction(() => document.querySelector('canvas.chart')?.width > 0, null, { timeout: 60_000 });
  console.log(`reload → chart (demo read back from IndexedDB): ${Date.now() - t1} ms`);
  await context.close();
}

for (const file of ['bars.csv', 'bars_snappy.parquet', 'bars_zstd.parquet']) {
  const path = join(dir, file);
  const { context, page } = await launch();
  await page.goto(base);
  await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
  // The longest gap between animation frames while the file loads: the page must stay live.
  await page.evaluate(() => {
    window.__maxGap = 0;
    let last = performance.now();
    const tick = (t) => { window.__maxGap = Math.max(window.__maxGap, t - last); last = t; window.__raf = requestAnimationFrame(tick); };
    window.__raf = requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', path);
  const notice = await page.locator('[data-testid=notice]').innerText({ timeout: 300_000 });
  const total = (Date.now() - t0) / 1000;
  const parse = Number(/parsed in ([\d.]+) s/.exec(notice)?.[1]);
  const gap = await page.evaluate(() => { cancelAnimationFrame(window.__raf); return window.__maxGap; });
  console.log(`${file.padEnd(20)} ${(statSync(path).size / 1e6).toFixed(1)} MB  parse ${parse.toFixed(2)} s = ${(rows / parse / 1e6).toFixed(2)} M rows/s;  upload→stored ${total.toFixed(2)} s = ${(rows / total / 1e6).toFixed(2)} M rows/s;  longest frame gap ${gap.toFixed(0)} ms`);
  await context.close();
}
server.close();
