// Every page as a keyboard or screen-reader user and a laptop meet it: axe-core (npm, injected
// from node_modules, no CDN) finds no serious or critical violation on any page, in the light
// and the dark theme, and no page scrolls sideways at 1280×720 or, for the main flows, 1024 wide.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart, ROOT } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const ROUTES = ['data', 'models', 'build', 'sweeps', 'leaderboard', 'train', 'backtest', 'signals', 'scanner'];
const MAIN_FLOWS = ['data', 'build', 'sweeps', 'leaderboard', 'backtest', 'signals'];

/** Serious and critical violations on the page as it is, each as `id ×n: first targets`. */
async function violations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ path: join(ROOT, 'node_modules/axe-core/axe.min.js') });
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} ${n.any[0]?.message ?? ''}`).join(' | ')}`);
  });
}

const sideways = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

async function visit(page, route) {
  await page.click(`nav a[data-route=${route}]`);
  await page.waitForSelector(`[data-page=${route}]`);
  // Let a page's loads (a backtest, a replay) settle before it is judged.
  await page.waitForFunction(() => !document.querySelector('[data-testid=bt-loading], [data-testid=sig-loading]'), null, { timeout: 60_000 });
}

test('no serious accessibility violation on any page, and no sideways scrolling', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 1);
    // A strategy, so the Signals page has its table.
    await page.locator('[data-testid=open-backtest]').first().click();
    await page.waitForSelector('[data-testid=bt-report]', { timeout: 60_000 });
    await page.click('[data-testid=train-strategy]');
    await page.waitForSelector('[data-testid=strategy-trained]', { timeout: 120_000 });

    for (const route of ROUTES) {
      await visit(page, route);
      assert.deepEqual(await violations(page), [], `${route} at 1280×720`);
      assert.ok(await sideways(page) <= 0, `${route} scrolls sideways at 1280×720`);
    }
    await page.click('button.theme');
    for (const route of ROUTES) {
      await visit(page, route);
      assert.deepEqual(await violations(page), [], `${route} in the dark theme`);
    }
    await page.click('button.theme');
    await page.setViewportSize({ width: 1024, height: 720 });
    for (const route of MAIN_FLOWS) {
      await visit(page, route);
      assert.ok(await sideways(page) <= 0, `${route} scrolls sideways at 1024 wide`);
    }
    // Every step of the navigation in view at 1024 (none scrolled out of the bar).
    const nav = await page.evaluate(() => { const n = document.querySelector('nav.steps'); return [n.scrollWidth, n.clientWidth]; });
    assert.ok(nav[0] <= nav[1], `the navigation scrolls at 1024 wide: ${nav[0]} > ${nav[1]}`);
    await shot(page, 'signals-1024');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
