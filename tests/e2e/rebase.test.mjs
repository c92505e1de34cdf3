// New bars on the Models page (the seed's "new bars" step): a model built and trained on AAPL
// bars to mid-2012 moves to the demo file running to 2013-03 once its build there reproduces
// its matrix row for row; the same strategy's signals then reach the 2013 bars. A file whose
// past bars were revised is refused with the column and bar, and the model stays where it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startServer, launch, shot, sweepIntoCart, ROOT } from './browser.mjs';

let srv;
const dir = mkdtempSync(join(tmpdir(), 'btb-rebase-'));
before(async () => { srv = await startServer(); });
after(() => { srv.server.close(); rmSync(dir, { recursive: true, force: true }); });

/** AAPL's demo rows that `keep(date)` keeps, each through `edit`, as a CSV file in `dir`. */
function aaplRows(name, keep, edit = (l) => l) {
  const text = gunzipSync(readFileSync(join(ROOT, 'public/demo/stocks-daily-2000-2013.csv.gz'))).toString();
  const [head, ...rows] = text.trim().split('\n');
  const kept = rows.filter((l) => l.startsWith('AAPL,') && keep(l.split(',')[1])).map(edit);
  const path = join(dir, name);
  writeFileSync(path, [head, ...kept].join('\n') + '\n');
  return path;
}

async function upload(page, file, name) {
  await page.click('nav a[data-route=data]');
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForSelector(`[data-testid=dataset][data-name="${name}"]`, { timeout: 60_000 });
  await page.waitForSelector('[data-testid=progress]', { state: 'detached', timeout: 60_000 });
}

/** The Signals page's bars, newest first. */
async function signalBars(page) {
  await page.click('nav a[data-route=signals]');
  await page.waitForSelector('[data-page=signals] [data-testid=signals] tbody tr', { timeout: 60_000 });
  await page.fill('[data-testid=sig-limit]', '1000');
  return page.locator('[data-testid=signals] tbody tr').evaluateAll((rows) => rows.map((r) => r.cells[0].textContent));
}

async function moveTo(page, datasetName) {
  await page.click('nav a[data-route=models]');
  await page.waitForSelector('[data-testid=move-model]');
  const value = await page.locator('[data-testid=rebase-dataset] option', { hasText: datasetName }).getAttribute('value');
  await page.selectOption('[data-testid=rebase-dataset]', value);
  await page.click('[data-testid=rebase]');
  await page.waitForSelector('[data-testid=rebased], [data-testid=rebase-error]', { timeout: 60_000 });
}

test('a model on older bars moves to the newer file and its signals reach 2013', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset][data-name^="Demo"]', { timeout: 60_000 });
    const demo = await page.locator('[data-testid=dataset][data-name^="Demo"]').getAttribute('data-name');
    await upload(page, aaplRows('aapl_to_2012_06.csv', (d) => d < '2012-07-01'), 'aapl_to_2012_06.csv');

    // The model on the older file, built and swept; the best run's strategy trained.
    await page.click('nav a[data-route=models]');
    const old = await page.locator('[data-testid=model-dataset] option', { hasText: 'aapl_to_2012_06.csv' }).getAttribute('value');
    await page.selectOption('[data-testid=model-dataset]', old);
    await page.waitForSelector('[data-testid=ticker] option[value=AAPL]', { state: 'attached' });
    await page.click('[data-testid=create-model]');
    const row = '[data-testid=models] tr[data-model=aapl_swing_daily]';
    assert.equal(await page.locator(`${row} [data-testid=model-dataset-name]`).innerText(), 'aapl_to_2012_06.csv');
    await page.click(`${row} [data-testid=open-build]`);
    await page.click('[data-testid=build-matrix]');
    await page.waitForSelector('[data-testid=matrix-sha]', { timeout: 60_000 });
    const oldMatrix = (await page.locator('[data-testid=matrix-sha]').innerText()).trim();

    await sweepIntoCart(page, 1);
    await page.locator('[data-testid=open-backtest]').first().click();
    await page.waitForSelector('[data-testid=bt-report]', { timeout: 60_000 });
    await page.click('[data-testid=train-strategy]');
    await page.waitForSelector('[data-testid=strategy-trained]', { timeout: 120_000 });
    const before = await signalBars(page);
    assert.ok(before[0] < '2012-07-01', `signals end with the older file: ${before[0]}`);

    // Past bars revised (a high by a dollar): refused, naming the column and the bar.
    await upload(page, aaplRows('aapl_revised.csv', () => true,
      (l) => (l.startsWith('AAPL,2010-06-01,') ? l.replace(',265.94,', ',266.94,') : l)), 'aapl_revised.csv');
    await moveTo(page, 'aapl_revised.csv');
    const refusal = await page.locator('[data-testid=rebase-error]').innerText();
    assert.match(refusal, /at 2010-06-0\d/);
    assert.match(refusal, /another code version/);
    assert.equal(await page.locator('[data-testid=rebase-error]').getAttribute('data-kind'), 'rebase');
    assert.match(refusal, /The model cannot move to these bars/);
    assert.equal(await page.locator(`${row} [data-testid=model-dataset-name]`).innerText(), 'aapl_to_2012_06.csv');
    await shot(page, 'models-rebase-refused');

    // The demo file: the model moves and its matrix grows by the newer bars.
    await moveTo(page, demo);
    const moved = await page.locator('[data-testid=rebased]').innerText();
    const m = moved.match(/([\d,]+) rows of its matrix reproduced bit for bit, ([\d,]+) new rows \(last bar (\S+) → (\S+)\)/);
    assert.ok(m, moved);
    assert.ok(Number(m[2].replace(/,/g, '')) > 100, moved);
    assert.ok(m[3] < '2012-07-01' && m[4] > '2013-02-01', moved);
    assert.equal(await page.locator(`${row} [data-testid=model-dataset-name]`).innerText(), demo);
    assert.equal(await page.locator('[data-testid=rebase-from]').inputValue(), demo);
    await shot(page, 'models-rebased');

    // The same strategy, now on the newer bars; still so after a reload.
    const after = await signalBars(page);
    assert.ok(after[0] > '2013-02-01', `signals reach the newest bars: ${after[0]}`);
    assert.ok(after.length > before.length);
    await page.reload();
    assert.equal((await signalBars(page))[0], after[0]);
    await page.click('nav a[data-route=build]');
    await page.waitForSelector('[data-testid=matrix-sha]', { timeout: 60_000 });
    assert.notEqual((await page.locator('[data-testid=matrix-sha]').innerText()).trim(), oldMatrix);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
