// A 5-split sweep through the release page in headless Chromium, as a user runs it: the demo's
// AAPL model, the seed's ladders and top fractions, 100 trees per fold; timed with 1 worker and
// with 2 (the folds trained again each time), then with the folds from the cache. Prints the
// page's own timings and checks that every run gives the same out-of-fold bytes.
import { startServer, launch, buildAaplModel } from '../e2e/browser.mjs';

const { server, base } = await startServer();
const { context, page } = await launch();
try {
  await page.goto(base);
  await buildAaplModel(page);
  await page.click('nav a[data-route=sweeps]');
  await page.waitForSelector('[data-testid=run-sweep]');
  await page.fill('[data-testid=sweep-trees]', '100');
  const shas = new Set();
  for (const [workers, retrain] of [[1, true], [2, true], [2, false]]) {
    await page.fill('[data-testid=workers]', String(workers));
    await page.setChecked('[data-testid=retrain]', retrain);
    await page.click('[data-testid=run-sweep]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=run-sweep]').disabled
      && document.querySelector('[data-testid=sweep-summary]'), null, { timeout: 600_000 });
    const summary = page.locator('[data-testid=sweep-summary]');
    shas.add(await summary.getAttribute('data-oof-sha'));
    console.log(`sweep in the page, ${retrain ? `${workers} worker${workers > 1 ? 's' : ''}` : 'folds cached'}: ${await summary.innerText()}`);
  }
  console.log(shas.size === 1 ? 'out-of-fold bytes identical across runs' : `MISMATCH: ${[...shas].join(' ')}`);
  if (shas.size !== 1) process.exitCode = 1;
} finally {
  await context.close();
  server.close();
}
