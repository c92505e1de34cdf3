// Models and Build as a user meets them: create aapl_swing_daily on the demo data from the
// swingsigma template, build its matrix in a worker, see the sha and preview; the sha equals
// what `btb build` prints for the same file and spec, and survives a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launch, shot, ROOT } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const DEMO = join(ROOT, 'public/demo/stocks-daily-2000-2013.csv.gz');
const BTB = process.env.BTB_BIN ?? join(ROOT, 'target/debug/btb');

function cliSha(start, end, distance) {
  const store = mkdtempSync(join(tmpdir(), 'btb-store-'));
  const run = (...args) => execFileSync(BTB, ['--store', store, ...args], { encoding: 'utf8' });
  run('data', 'add', DEMO);
  run('init', '--pack-id', 'swingsigma', '--ticker', 'AAPL');
  const spec = join(store, 'build.json');
  writeFileSync(spec, JSON.stringify({ model_id: 'aapl_swing_daily', pack_id: 'swingsigma', start, end, ticker: 'AAPL', distance_max: distance }));
  return JSON.parse(run('build', '--spec', spec, '--json'));
}

test('create aapl_swing_daily, build its matrix, same sha as the CLI', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/models');
    await page.waitForSelector('[data-page=models]');
    await page.waitForSelector('[data-testid=ticker] option[value=AAPL]', { state: 'attached', timeout: 60_000 });
    await page.selectOption('[data-testid=pack]', 'swingsigma');
    await page.selectOption('[data-testid=ticker]', 'AAPL');
    await page.selectOption('[data-testid=risk]', 'balanced');
    assert.equal(await page.getAttribute('[data-testid=model-id]', 'placeholder'), 'aapl_swing_daily');
    await page.click('[data-testid=create-model]');
    await page.waitForSelector('[data-testid=models] tr[data-model=aapl_swing_daily]');
    // The same id again is refused with a message.
    await page.click('[data-testid=create-model]');
    assert.match(await page.locator('[data-testid=model-error]').innerText(), /exists already/);
    await shot(page, 'page-models-created');

    await page.click('[data-testid=models] tr[data-model=aapl_swing_daily] [data-testid=open-build]');
    await page.waitForSelector('[data-page=build]');
    await page.fill('[data-testid=start]', '2005-01-01');
    await page.fill('[data-testid=end]', '2012-12-31');
    await page.fill('[data-testid=distance]', '7');
    await page.click('[data-testid=build-matrix]');
    const sha = await page.locator('[data-testid=matrix-sha]').getAttribute('data-sha', { timeout: 60_000 });
    assert.match(sha, /^[0-9a-f]{64}$/);
    const rows = Number((await page.locator('[data-testid=matrix-rows]').innerText()).replace(/,/g, ''));
    const features = Number(await page.locator('[data-testid=matrix-features]').innerText());
    assert.ok(features >= 60, `about 70 features, got ${features}`);
    assert.ok((await page.locator('[data-testid=stats] tbody tr').count()) === features);
    assert.ok((await page.locator('[data-testid=preview] tbody tr').count()) >= 3);
    assert.equal(await page.inputValue('[data-testid=start]'), '2005-01-01', 'the form keeps its range after a build');
    await shot(page, 'page-build-matrix');

    // The same inputs again come from the cache, with the same sha.
    await page.click('[data-testid=build-matrix]');
    await page.waitForSelector('[data-testid=matrix-origin]:has-text("from the cache")');
    assert.equal(await page.locator('[data-testid=matrix-sha]').getAttribute('data-sha'), sha);

    const cli = cliSha('2005-01-01', '2012-12-31', 7);
    assert.equal(sha, cli.matrix_sha, 'the page and `btb build` agree on matrix_sha');
    assert.equal(rows, cli.rows);
    assert.equal(features, cli.features);

    // Add a custom indicator: the model changes, so does the sha; a bad one is refused clearly.
    await page.fill('[data-testid=custom-feature]', 'custom_rsi:21');
    await page.click('[data-testid=add-feature]');
    await page.waitForSelector('[data-testid=features] li[data-feature^="custom_rsi"]');
    await page.fill('[data-testid=custom-feature]', 'nonsense:3');
    await page.click('[data-testid=add-feature]');
    assert.match(await page.locator('[data-testid=build-error]').innerText(), /nonsense/);
    await page.click('[data-testid=build-matrix]');
    await page.waitForFunction((old) => {
      const el = document.querySelector('[data-testid=matrix-sha]');
      return el && el.dataset.sha && el.dataset.sha !== old;
    }, sha, { timeout: 60_000 });

    // Reload: the model and its last matrix are still there.
    const sha2 = await page.locator('[data-testid=matrix-sha]').getAttribute('data-sha');
    await page.reload();
    await page.waitForSelector('[data-page=build]');
    const after = await page.locator('[data-testid=matrix-sha]').getAttribute('data-sha', { timeout: 30_000 });
    assert.equal(after, sha2);
    // Delete the model (with a confirmation step); it stays deleted after a reload.
    await page.click('nav a[data-route=models]');
    const row = page.locator('[data-testid=models] tr[data-model=aapl_swing_daily]');
    await row.locator('[data-testid=delete-model]').click();
    await row.locator('[data-testid=delete-model-confirm]').click();
    await page.waitForSelector('[data-testid=models] tr[data-model=aapl_swing_daily]', { state: 'detached' });
    await page.reload();
    await page.waitForSelector('[data-page=models]');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('[data-testid=models] tr[data-model=aapl_swing_daily]').count(), 0);
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
  }
});
