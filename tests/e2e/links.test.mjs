// Links that open the same view: the Leaderboard's filters and the Backtest page's run live in
// the URL (`#/leaderboard?model=…&pass_gate=1`, `#/backtest?run=…`), so a reload or the link
// opened in another tab shows what the user saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const hashOf = (page) => page.evaluate(() => decodeURIComponent(location.hash));
const runIds = (page) => page.locator('[data-testid=runs] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.run));

test('the leaderboard filters and the backtest run survive a reload and open from a link', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 0);
    await page.waitForSelector('[data-testid=runs] tbody tr');

    // Filters into the URL, in the order the engine's query names them.
    await page.selectOption('[data-testid=lb-model]', 'aapl_swing_daily');
    await page.selectOption('[data-testid=lb-rank-by]', 'dsr');
    await page.fill('[data-testid=lb-limit]', '3');
    const ranked = await runIds(page);
    assert.equal(ranked.length, 3);
    assert.equal(await hashOf(page), '#/leaderboard?model=aapl_swing_daily&rank_by=dsr&limit=3');
    await page.reload();
    await page.waitForSelector('[data-testid=runs] tbody tr');
    assert.deepEqual(await runIds(page), ranked, 'a reload shows the same rows');
    assert.equal(await page.locator('[data-testid=lb-model]').inputValue(), 'aapl_swing_daily');
    assert.equal(await page.locator('[data-testid=lb-rank-by]').inputValue(), 'dsr');
    assert.equal(await page.locator('[data-testid=lb-limit]').inputValue(), '3');
    await page.check('[data-testid=lb-pass-gate]');
    assert.match(await hashOf(page), /&pass_gate=1$/);
    await shot(page, 'leaderboard-link');

    // A run's Backtest as a link, opened in another tab of the same profile.
    const run = ranked[1];
    const tab = await context.newPage();
    await tab.goto(`${srv.base}#/backtest?run=${run}`);
    await tab.waitForSelector(`[data-testid=bt-report][data-run="${run}"]`, { timeout: 60_000 });
    assert.equal(await tab.locator('[data-testid=bt-run]').inputValue(), run);
    // Picking another run puts it in the URL; a reload opens that one.
    const other = ranked[2];
    await tab.selectOption('[data-testid=bt-run]', other);
    await tab.waitForSelector(`[data-testid=bt-report][data-run="${other}"]`, { timeout: 60_000 });
    assert.equal(await hashOf(tab), `#/backtest?run=${other}`);
    await tab.reload();
    await tab.waitForSelector(`[data-testid=bt-report][data-run="${other}"]`, { timeout: 60_000 });
    await shot(tab, 'backtest-link');
    // An unknown run in a link says so, naming it, instead of passing another off as it.
    await tab.goto(`${srv.base}#/backtest?run=0000000000000000`);
    await tab.waitForSelector('[data-testid=bt-missing]', { timeout: 60_000 });
    assert.match(await tab.locator('[data-testid=bt-missing]').innerText(), /Run 0000000000000000 is not stored here/);
    assert.equal(await hashOf(tab), '#/backtest?run=0000000000000000', 'the link stays as it was');
    await tab.reload();
    await tab.waitForSelector('[data-testid=bt-missing]', { timeout: 60_000 });
    await shot(tab, 'backtest-link-missing');
    // A Leaderboard link filtering on a model this copy has no runs of shows that filter, and
    // "all" clears it.
    await tab.goto(`${srv.base}#/leaderboard?model=other_model`);
    await tab.reload();
    await tab.waitForSelector('[data-testid=lb-count]');
    assert.equal(await tab.locator('[data-testid=lb-model]').inputValue(), 'other_model');
    assert.match(await tab.locator('[data-testid=lb-model] option:checked').innerText(), /other_model \(no runs here\)/);
    assert.match(await tab.locator('[data-testid=lb-count]').innerText(), /^0 of \d+ runs/);
    await tab.selectOption('[data-testid=lb-model]', '');
    assert.equal(await tab.locator('[data-testid=runs] tbody tr').count(), 5);
    assert.equal(await hashOf(tab), '#/leaderboard');
    await tab.close();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
