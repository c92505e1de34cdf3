// Bundles through the release page in headless Chromium, as a user shares them: each bundle given
// on the command line (written by `btb export` in scripts/bench-bundle) is imported into a fresh
// profile on the Data page (verified in a worker, stored in one IndexedDB transaction), then the
// page exports everything again from the Leaderboard, with data when the bundle had it. Prints
// the wall time a user waits for each, and the size of the page's own bundle.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { startServer, launch } from '../e2e/browser.mjs';

const { server, base } = await startServer();
try {
  for (const file of process.argv.slice(2)) {
    const { context, page } = await launch();
    try {
      await page.goto(base + '#/data');
      await page.waitForSelector('[data-testid=datasets] li', { timeout: 60_000 });
      let t = performance.now();
      await page.setInputFiles('[data-testid=file-input]', file);
      await page.waitForSelector('[data-testid=import-report], [data-testid=error]', { timeout: 600_000 });
      const imported = (performance.now() - t) / 1000;
      const summary = await page.locator('[data-testid=import-summary], [data-testid=error]').first().innerText();
      const statuses = await page.locator('[data-testid=import-report] tbody tr').evaluateAll((rows) => {
        const n = {};
        for (const r of rows) n[r.dataset.status] = (n[r.dataset.status] ?? 0) + 1;
        return n;
      });
      const withData = summary && (await page.locator('[data-testid=import-report] tr[data-kind=dataset]').count()) > 0;
      await page.click('nav a[data-route=leaderboard]');
      await page.waitForSelector('[data-testid=export-bundle]');
      await page.selectOption('[data-testid=export-scope]', 'all');
      await page.setChecked('[data-testid=export-with-data]', withData);
      t = performance.now();
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 600_000 }), page.click('[data-testid=export-bundle]')]);
      const path = await download.path();
      const exported = (performance.now() - t) / 1000;
      console.log(`${basename(file)} (${statSync(file).size} bytes): import in the page ${imported.toFixed(2)} s `
        + `(${JSON.stringify(statuses)}; ${summary.split('\n')[0]}); export again${withData ? ' with data' : ''} `
        + `${exported.toFixed(2)} s, ${statSync(path).size} bytes`);
    } finally {
      await context.close();
    }
  }
} finally {
  server.close();
}
