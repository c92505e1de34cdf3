// `btb report` opened in Chromium: a run report and a leaderboard report made by the CLI from a
// demo sweep render their charts and tables, make no request but the file itself, show a hostile
// tag as text (no element, no dialog), and print to PDF on a white page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, shot, ROOT } from './browser.mjs';

const BTB = process.env.BTB_BIN ?? join(ROOT, 'target/debug/btb');
const HOSTILE = '<img src=x onerror=alert(1)>';
let dir, runHtml, boardHtml;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'btb-report-'));
  const store = join(dir, 'store');
  const btb = (...args) => execFileSync(BTB, ['--store', store, ...args], {
    encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1764028800' }, stdio: ['ignore', 'pipe', 'ignore'],
  });
  btb('data', 'add', join(ROOT, 'public/demo/stocks-daily-2000-2013.csv.gz'));
  btb('init', '--ticker', 'AAPL');
  btb('build', '--model-id', 'aapl_swing_daily', '--start', '2003-01-01', '--end', '2012-12-31');
  const sweep = JSON.parse(btb('sweep', '--model-id', 'aapl_swing_daily', '--thresholds-variants', '0.50,0.55,0.60',
    '0.60,0.65,0.70', '--top-pct-variants', '0.15', '--tag', HOSTILE, '--trees', '40', '--leaves', '15', '--json'));
  runHtml = join(dir, 'run.html');
  boardHtml = join(dir, 'board.html');
  btb('report', '--run', sweep.runs[0].run_id, '--out', runHtml);
  btb('report', '--model-id', 'aapl_swing_daily', '--out', boardHtml);
});

async function open(file) {
  const b = await launch();
  const requests = [];
  const dialogs = [];
  b.page.on('request', (r) => requests.push(r.url()));
  b.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await b.page.goto(`file://${file}`);
  return { ...b, requests, dialogs };
}

test('a run report renders offline, escapes the tag and prints', async () => {
  const { context, page, errors, requests, dialogs } = await open(runHtml);
  try {
    await page.waitForSelector('#equity svg polyline');
    const facts = await page.evaluate(() => ({
      equityPoints: document.querySelector('#equity polyline').getAttribute('points').split(' ').length,
      heatCells: document.querySelectorAll('#monthly td[style]').length,
      bars: document.querySelectorAll('#distribution rect').length,
      trades: document.querySelectorAll('#trades tbody tr').length,
      imgs: document.querySelectorAll('img').length,
      header: document.querySelector('header').textContent,
      status: document.querySelector('header .status').textContent,
    }));
    assert.ok(facts.equityPoints > 100, `equity drawn: ${facts.equityPoints}`);
    assert.ok(facts.heatCells > 12, 'monthly heatmap coloured');
    assert.ok(facts.bars > 3, 'histogram drawn');
    assert.ok(facts.trades > 10, 'trades listed');
    assert.equal(facts.imgs, 0, 'the tag made no element');
    assert.ok(facts.header.includes(HOSTILE), 'the tag is shown as text');
    assert.match(facts.status, /computed here/);
    await shot(page, 'report-run');
    await page.emulateMedia({ media: 'print' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(255, 255, 255)', 'a white page in print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    assert.ok(pdf.length > 20_000, `printed: ${pdf.length} bytes`);
    assert.deepEqual(requests, [`file://${runHtml}`], 'no request but the file itself');
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(errors, [], 'no console errors (a blocked request would be one)');
  } finally {
    await context.close();
  }
});

test('a leaderboard report lists every run offline', async () => {
  const { context, page, errors, requests, dialogs } = await open(boardHtml);
  try {
    const rows = await page.locator('#rows tbody tr').count();
    assert.equal(rows, 3);
    assert.equal(await page.locator('#scatter circle').count(), 3);
    assert.equal(await page.locator('img').count(), 0);
    assert.ok((await page.locator('#rows').textContent()).includes(HOSTILE));
    await shot(page, 'report-leaderboard');
    assert.deepEqual(requests, [`file://${boardHtml}`]);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
