// The Data page as a user meets it: the demo on first open, uploads of every fixture format,
// reload persistence, rename/delete, a bad file that leaves stored data alone, and the
// in-memory fallback when IndexedDB is unavailable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, shot, chartColours, FIXTURES } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const names = (page) => page.locator('[data-testid=dataset]').evaluateAll((els) => els.map((e) => e.dataset.name));

async function waitIdle(page) {
  await page.waitForSelector('[data-testid=progress]', { state: 'detached', timeout: 60_000 });
}

async function upload(page, file) {
  const before = (await names(page)).length;
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid=dataset]').length > n || document.querySelector('[data-testid=error]'),
    before, { timeout: 60_000 });
  await waitIdle(page);
}

test('demo on first open, uploads, reload, rename, delete, bad input', async () => {
  const { context, page, errors } = await launch();
  try {
    const t0 = Date.now();
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset][data-name^="Demo"]', { timeout: 60_000 });
    await page.waitForSelector('[data-testid=tickers] tr[data-ticker=AAPL]');
    await page.waitForFunction(() => {
      const c = document.querySelector('canvas.chart');
      return c && c.width > 0;
    });
    await page.waitForFunction(() => true);
    assert.ok((await chartColours(page)) > 4, 'the demo chart is drawn');
    console.log(`# navigation to demo chart: ${Date.now() - t0} ms`);

    const tickers = await page.locator('[data-testid=tickers] tbody tr').evaluateAll((r) => r.map((x) => x.dataset.ticker));
    assert.deepEqual([...tickers].sort(), ['AAPL', 'FB', 'GOOG', 'IBM', 'MSFT']);
    // AAPL's 2:1 split on 2005-02-28 is in the report, with a link that focuses the chart.
    await page.locator('[data-testid=tickers] tr[data-ticker=AAPL]').click();
    const split = page.locator('table.issues tr[data-kind=suspected_split]').filter({ hasText: '2005-02-28' });
    await split.first().waitFor();
    await split.first().locator('[data-testid=show-bar]').click();
    await page.waitForFunction(() => document.querySelector('canvas.chart')?.dataset.focus);
    await shot(page, 'data-demo');

    // One CSV and every Parquet fixture.
    const files = ['semicolon.csv', ...readdirSync(FIXTURES).filter((f) => f.endsWith('.parquet')).sort()];
    for (const f of files) {
      await upload(page, join(FIXTURES, f));
      const err = await page.locator('[data-testid=error]').count();
      assert.equal(err, 0, `${f} loads without error: ${err && (await page.locator('[data-testid=error]').innerText())}`);
      assert.ok((await names(page)).includes(f), `${f} is listed`);
      await page.waitForSelector('[data-testid=tickers] tbody tr');
      await page.waitForFunction(() => document.querySelector('canvas.chart')?.width > 0);
      assert.ok((await chartColours(page)) > 4, `${f} is charted`);
      assert.equal(await page.locator('[data-testid=quality]').count(), 1, `${f} has a quality report`);
    }
    // Drag and drop takes the same path as the picker.
    const bytes = readFileSync(join(FIXTURES, 'tab.tsv')).toString('base64');
    await page.evaluate((b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], 'dropped.tsv'));
      const zone = document.querySelector('[data-testid=dropzone]');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForSelector('[data-testid=dataset][data-name="dropped.tsv"]', { timeout: 30_000 });
    await waitIdle(page);
    files.push('dropped.tsv');
    await shot(page, 'data-uploads');
    const stored = await names(page);
    assert.equal(stored.length, 1 + files.length);

    // Reload: everything is still there (IndexedDB), and the demo is not added twice.
    await page.reload();
    await page.waitForSelector('[data-testid=dataset]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=dataset]').length === n, stored.length);
    assert.deepEqual(await names(page), stored);

    // Rename and delete survive a reload.
    const item = page.locator('[data-testid=dataset][data-name="semicolon.csv"]');
    await item.locator('[data-testid=rename]').click();
    await item.locator('[data-testid=rename-input]').fill('My semicolon bars');
    await item.locator('[data-testid=rename-save]').click();
    await page.waitForSelector('[data-testid=dataset][data-name="My semicolon bars"]');
    const gone = page.locator('[data-testid=dataset]').filter({ hasText: 'polars_zstd.parquet' });
    await gone.locator('[data-testid=delete]').click();
    await gone.locator('[data-testid=delete-confirm]').click();
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=dataset]')].some((e) => e.dataset.name === 'polars_zstd.parquet'));
    await page.reload();
    await page.waitForSelector('[data-testid=dataset][data-name="My semicolon bars"]');
    const after = await names(page);
    assert.ok(!after.includes('polars_zstd.parquet'));
    assert.equal(after.length, stored.length - 1);

    // Bad files: a clear message naming the file, and nothing stored is touched.
    for (const [f, words] of [
      ['bad/text_in_price.csv', /text_in_price\.csv.*(line|row)/i],
      ['bad/missing_close.csv', /missing_close\.csv.*close/i],
      ['bad/fake.parquet', /fake\.parquet/i],
      ['bad/junk.bin', /junk\.bin/i],
    ]) {
      await page.setInputFiles('[data-testid=file-input]', join(FIXTURES, f));
      const msg = await page.locator('[data-testid=error]').innerText({ timeout: 30_000 });
      assert.match(msg, words, `error for ${f}: ${msg}`);
      await waitIdle(page);
      assert.deepEqual(await names(page), after, `${f} left stored data intact`);
      await page.locator('[data-testid=error] button').click();
    }
    await page.setInputFiles('[data-testid=file-input]', join(FIXTURES, 'bad/text_in_price.csv'));
    await page.locator('[data-testid=error]').waitFor();
    // The one error view: the step's title, the engine's message, and the file's place as fields.
    assert.equal(await page.locator('[data-testid=error]').getAttribute('data-kind'), 'ingest');
    assert.equal(await page.locator('[data-testid=error] .error-title').innerText(), 'The file could not be read');
    assert.equal(await page.locator('[data-testid=error] [data-field=file]').innerText(), 'text_in_price.csv');
    assert.match(await page.locator('[data-testid=error] [data-field=line]').innerText(), /^\d+$/);
    assert.equal(await page.locator('[data-testid=error] [data-field=column]').count(), 1);
    await shot(page, 'data-bad-file');
    await page.reload();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=dataset]').length === n, after.length);
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
  }
});

test('every pipeline page opens, light and dark', async () => {
  const { context, page } = await launch();
  try {
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
    for (const slug of ['models', 'build', 'sweeps', 'leaderboard', 'train', 'backtest', 'signals', 'data']) {
      await page.click(`nav a[data-route=${slug}]`);
      await page.waitForSelector(`[data-page=${slug}]`);
      assert.ok(page.url().endsWith(`#/${slug}`));
      await shot(page, `page-${slug}`);
    }
    await page.click('button.theme');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.waitForFunction(() => document.querySelector('canvas.chart')?.width > 0);
    await shot(page, 'data-dark');
    // Deep link straight to a page.
    await page.goto(srv.base + '#/leaderboard');
    await page.waitForSelector('[data-page=leaderboard]');
  } finally {
    await context.close();
  }
});

test('without IndexedDB the page says so and keeps working in memory', async () => {
  const { context, page } = await launch({
    init: () => { Object.defineProperty(window, 'indexedDB', { get() { return undefined; } }); },
  });
  try {
    await page.goto(srv.base);
    const warning = await page.locator('[data-testid=storage-warning]').innerText({ timeout: 30_000 });
    assert.match(warning, /IndexedDB is unavailable/);
    await page.waitForSelector('[data-testid=dataset][data-name^="Demo"]', { timeout: 60_000 });
    await upload(page, join(FIXTURES, 'semicolon.csv'));
    assert.ok((await names(page)).includes('semicolon.csv'));
    await shot(page, 'data-no-indexeddb');
  } finally {
    await context.close();
  }
});

test('a full disk (quota exceeded) is explained and stored data is kept', async () => {
  // Chromium cannot be made to run out of quota on demand, so IndexedDB's put throws the
  // browser's own QuotaExceededError once the test flips a switch.
  const { context, page } = await launch({
    init: () => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...args) {
        if (window.__quota) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, args);
      };
    },
  });
  try {
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset][data-name^="Demo"]', { timeout: 60_000 });
    const before = await names(page);
    await page.evaluate(() => { window.__quota = true; });
    await page.setInputFiles('[data-testid=file-input]', join(FIXTURES, 'semicolon.csv'));
    const msg = await page.locator('[data-testid=error]').innerText({ timeout: 30_000 });
    assert.match(msg, /storage is full \(quota exceeded\).*semicolon\.csv/);
    await waitIdle(page);
    assert.deepEqual(await names(page), before);
    await page.evaluate(() => { window.__quota = false; });
    await page.reload();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=dataset]').length === n, before.length);
    assert.deepEqual(await names(page), before, 'nothing half-written, nothing lost');
  } finally {
    await context.close();
  }
});
