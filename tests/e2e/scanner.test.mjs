// The Scanner page as a user meets it: the demo's five tickers ranked by a breakout scan as of
// a date, in the same order and with the same scores as the independent pandas computation
// (`tests/scan/golden_scan.json`); a ticker that had not listed yet is left out with the
// reason; an unknown ticker is refused by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, shot, ROOT } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const golden = JSON.parse(readFileSync(join(ROOT, 'tests/scan/golden_scan.json'), 'utf8')).scans;
const pandas = (kind, asof) => golden.find((g) => g.kind === kind && g.asof === asof);

async function scan(page, kind, asof, tickers = '') {
  await page.selectOption('[data-testid=scan-kind]', kind);
  await page.fill('[data-testid=scan-asof]', asof);
  await page.fill('[data-testid=scan-tickers]', tickers);
  await page.click('[data-testid=run-scan]');
  await page.waitForSelector(`[data-testid=scan-result][data-kind=${kind}][data-asof="${asof}"], [data-testid=scan-error]`, { timeout: 60_000 });
}

const rows = (page) => page.locator('[data-testid=scan-rows] tbody tr').evaluateAll((trs) =>
  trs.map((r) => [r.dataset.ticker, Number(r.dataset.score)]));

test('a breakout scan of the demo universe matches pandas', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset][data-name^="Demo"]', { timeout: 60_000 });
    await page.click('nav a[data-route=scanner]');
    await page.waitForSelector('[data-testid=scan-dataset] option', { state: 'attached' });
    assert.match(await page.locator('[data-testid=scan-dataset]').innerText(), /5 tickers/);

    await scan(page, 'breakout', '2012-09-14');
    const want = pandas('breakout', '2012-09-14');
    const got = await rows(page);
    assert.deepEqual(got.map((r) => r[0]), want.rows.map((r) => r.ticker), 'the ranking pandas gives');
    got.forEach(([t, s], i) => assert.ok(Math.abs(s - want.rows[i].score) <= 1e-9 * Math.max(1e-3, Math.abs(s)), `${t}: ${s} vs ${want.rows[i].score}`));
    assert.match(await page.locator('[data-testid=scan-summary]').innerText(), /breakout as of 2012-09-14: 5 of 5 tickers scored/);
    assert.match(await page.locator('[data-testid=scan-formula]').innerText(), /max\(high of the 20 bars before\)/);
    assert.equal(await page.locator('[data-testid=scan-rows] thead th').count(), 7, 'rank, ticker, bar, score and three facts');
    await shot(page, 'scanner-breakout');

    // FB listed in May 2012: as of 2010 it is left out, and says why.
    await scan(page, 'highmomo', '2010-06-01');
    assert.deepEqual((await rows(page)).map((r) => r[0]), pandas('highmomo', '2010-06-01').rows.map((r) => r.ticker));
    assert.match(await page.locator('[data-testid=scan-skipped] li[data-ticker=FB]').innerText(), /no bar on or before the as-of date/);

    // Top N and a ticker list; then a ticker the dataset does not hold.
    await page.fill('[data-testid=scan-top-n]', '1');
    await scan(page, 'rs', '2012-09-14', 'IBM, AAPL');
    assert.deepEqual((await rows(page)).map((r) => r[0]), ['AAPL']);
    assert.match(await page.locator('[data-testid=scan-summary]').innerText(), /2 of 2 tickers scored, the top 1 shown/);
    await scan(page, 'rs', '2012-09-14', 'IBM, TSLA');
    assert.match(await page.locator('[data-testid=scan-error]').innerText(), /no ticker TSLA/);
    assert.equal(await page.locator('[data-testid=scan-error]').getAttribute('data-kind'), 'scan');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
