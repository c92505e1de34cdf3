// Shared set-up for end-to-end tests: Debian's Chromium through playwright-core (never a
// downloaded browser), a fresh profile per launch, and the built dist/ served under /btb/.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const FIXTURES = join(ROOT, 'tests/fixtures');
export const SHOTS = join(ROOT, 'test-results/screenshots');
mkdirSync(SHOTS, { recursive: true });

const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function startServer() {
  const server = await serve(join(ROOT, 'dist'));
  const base = `http://127.0.0.1:${server.address().port}/btb/`;
  return { server, base };
}

/** A browser with its own fresh profile, deleted when the browser closes (a profile holds the
 * test's IndexedDB: hundreds of MB that filled the disk over a few runs); `init` scripts run
 * before the page's own. */
export async function launch({ init } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'btb-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  // After the browser has exited (a `close` listener runs while it still writes its caches).
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await close(...args);
    try { rmSync(profile, { recursive: true, force: true, maxRetries: 3 }); } catch { /* left for the OS */ }
  };
  if (init) await context.addInitScript(init);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { context, page, errors, profile };
}

/** A full-page screenshot for a person to look at. Headless Chromium on two loaded cores has
 * once missed a frame for 30 s right after an import (the page answered at once afterwards), so
 * a timed-out capture is taken again, once, before it fails the test. */
export async function shot(page, name) {
  const take = () => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  try {
    await take();
  } catch (e) {
    if (e.name !== 'TimeoutError') throw e;
    await take();
  }
}

/** Number of distinct colours drawn on the chart canvas: a blank canvas has one or two. */
export async function chartColours(page) {
  return page.evaluate(() => {
    const c = document.querySelector('canvas.chart');
    if (!c || !c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  });
}

/** Through the pages as a user: create `aapl_swing_daily` on the demo data (Models) and build
 * its matrix over the whole range (Build). */
export async function buildAaplModel(page) {
  await page.click('nav a[data-route=models]');
  await page.waitForSelector('[data-testid=ticker] option[value=AAPL]', { state: 'attached', timeout: 60_000 });
  await page.selectOption('[data-testid=ticker]', 'AAPL');
  await page.click('[data-testid=create-model]');
  await page.click('[data-testid=models] tr[data-model=aapl_swing_daily] [data-testid=open-build]');
  await page.click('[data-testid=build-matrix]');
  await page.waitForSelector('[data-testid=matrix-sha]', { timeout: 60_000 });
}

/** The default sweep of the built model at 40 trees (Sweeps), then the first `picks` ranked runs
 * into the cart (Leaderboard). */
export async function sweepIntoCart(page, picks) {
  await page.click('nav a[data-route=sweeps]');
  await page.fill('[data-testid=sweep-trees]', '40');
  await page.click('[data-testid=run-sweep]');
  await page.waitForSelector('[data-testid=sweep-result]', { timeout: 180_000 });
  await page.click('nav a[data-route=leaderboard]');
  for (let i = 0; i < picks; i++) {
    await page.locator('[data-page=leaderboard] [data-testid=cart-toggle]').nth(i).check();
  }
}

/** Picks strategy `value` (`model_id/config_sha`) on the Signals page and gives its signals,
 * up to 1,000, as rows of cell texts (bar, timestamp, ticker, side, confidence, status, …). */
export async function signalsOf(page, value) {
  await page.selectOption('[data-testid=sig-model]', value);
  await page.waitForSelector('[data-testid=sig-loading]', { state: 'detached', timeout: 60_000 });
  await page.waitForSelector('[data-testid=signals] tbody tr', { timeout: 60_000 });
  await page.fill('[data-testid=sig-limit]', '1000');
  return page.locator('[data-testid=signals] tbody tr').evaluateAll((rows) =>
    rows.map((r) => [...r.cells].map((c) => c.textContent)));
}
