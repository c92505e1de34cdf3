// Sharing by file between copies of the workbench: a bundle made by `btb` imported into the page;
// the page's own bundle imported into a fresh browser profile (same Leaderboard, same Backtest
// equity) and by `btb` (same `btb leaderboard --json` as the store it started from); importing it
// twice changes nothing; the hostile corpus is refused in the page with the file named and nothing
// stored; a markup tag stays text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, strFromU8, strToU8 } from 'fflate';
import { startServer, launch, shot, signalsOf, ROOT } from './browser.mjs';

const BTB = process.env.BTB_BIN ?? join(ROOT, 'target/debug/btb');
const HOSTILE = '<img src=x onerror=alert(1)>';
let srv, dir, cliBundle, cliBoard, cliSignals;

function btb(store, ...args) {
  return execFileSync(BTB, ['--store', store, ...args], {
    encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1764028800' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(async () => {
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'btb-bundle-'));
  const a = join(dir, 'a');
  btb(a, 'data', 'add', join(ROOT, 'public/demo/stocks-daily-2000-2013.csv.gz'));
  btb(a, 'init', '--ticker', 'AAPL');
  btb(a, 'build', '--model-id', 'aapl_swing_daily', '--start', '2003-01-01', '--end', '2012-12-31');
  btb(a, 'sweep', '--model-id', 'aapl_swing_daily', '--thresholds-variants', '0.50,0.55,0.60', '0.60,0.65,0.70',
    '--top-pct-variants', '0.15', '--tag', HOSTILE, '--trees', '40', '--leaves', '15');
  btb(a, 'train', '--model-id', 'aapl_swing_daily', '--config-kind', 'thr', '--config-value', '0.50,0.55,0.60',
    '--trees', '20', '--leaves', '7');
  // A second strategy of the same model: a bundle carries one per config.
  btb(a, 'train', '--model-id', 'aapl_swing_daily', '--config-kind', 'top_pct', '--config-value', '0.15',
    '--trees', '20', '--leaves', '7');
  cliSignals = Object.fromEntries(JSON.parse(btb(a, 'strategies', '--model-id', 'aapl_swing_daily', '--json'))
    .map((s) => [s.config_sha, JSON.parse(btb(a, 'signals', '--model-id', 'aapl_swing_daily', '--strategy', s.config_sha, '--limit', '1000', '--json'))]));
  cliBundle = join(dir, 'cli.btb.zip');
  btb(a, 'export', '--out', cliBundle, '--with-data');
  cliBoard = JSON.parse(btb(a, 'leaderboard', '--json'));
});
after(() => srv.server.close());

/** The Leaderboard as text: [run id, Sharpe as shown, gate] per row, all runs. */
async function board(page) {
  await page.click('nav a[data-route=leaderboard]');
  await page.waitForSelector('[data-testid=runs] tbody tr');
  await page.fill('[data-testid=lb-limit]', '');
  return page.locator('[data-testid=runs] tbody tr').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.run, r.querySelector('[data-testid=sharpe]').textContent, r.dataset.pass]));
}

/** The Backtest page's equity polyline for `run`. */
async function equity(page, run) {
  await page.click('nav a[data-route=backtest]');
  await page.waitForSelector('[data-testid=bt-run]');
  await page.selectOption('[data-testid=bt-run]', run);
  await page.waitForSelector(`[data-testid=bt-report][data-run="${run}"] `, { timeout: 60_000 });
  return page.locator('[data-testid=bt-equity-line]').getAttribute('points');
}

/** Picks `file` on the Data page and waits for the import's report (or its error). */
async function importFile(page, file, { deep = false } = {}) {
  await page.click('nav a[data-route=data]');
  await page.waitForSelector('[data-testid=file-input]', { state: 'attached' });
  await page.setChecked('[data-testid=import-deep]', deep);
  // The last outcome closed, as a user would, so the next one is this file's.
  if (await page.locator('[data-testid=import-report-close]').count()) await page.click('[data-testid=import-report-close]');
  if (await page.locator('[data-testid=error] button').count()) await page.click('[data-testid=error] button');
  await page.waitForSelector('[data-testid=import-report], [data-testid=error]', { state: 'detached' });
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForSelector('[data-testid=import-report], [data-testid=error]', { timeout: 120_000 });
}

/** The Signals page offers each of btb's strategies, and each gives btb's signals (times and sides). */
async function signalsMatchBtb(page) {
  await page.click('nav a[data-route=signals]');
  await page.waitForSelector('[data-testid=sig-model] option', { state: 'attached', timeout: 60_000 });
  const values = await page.locator('[data-testid=sig-model] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(values.map((v) => v.split('/')[1]).sort(), Object.keys(cliSignals).sort(), values.join(' '));
  for (const v of values) {
    const rows = (await signalsOf(page, v)).map((c) => `${c[1]} ${c[3]} ${c[5]}`);
    const want = cliSignals[v.split('/')[1]].map((x) => `${x.timestamp} ${x.side} ${x.status}`);
    assert.deepEqual(rows, want, `signals of ${v}`);
  }
}

async function statuses(page) {
  return page.locator('[data-testid=import-report] tbody tr').evaluateAll((rows) =>
    rows.map((r) => `${r.dataset.kind}:${r.dataset.status}:${r.dataset.action}`));
}

test('a btb bundle in the page, the page bundle in a fresh profile and back in btb', async () => {
  const one = await launch();
  const dialogs = [];
  one.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  let pageBundle, boardOne, equityOne, run;
  try {
    await one.page.goto(srv.base + '#/data');
    await one.page.waitForSelector('[data-testid=datasets] li');
    await importFile(one.page, cliBundle);
    const st = await statuses(one.page);
    assert.ok(st.length >= 8, st.join(' '));
    // Without --deep the out-of-fold file is taken as given (its runs are re-judged on it).
    assert.ok(st.every((s) => s.includes(':verified:') || s === 'oof:unverifiable:new'), `every artifact verified: ${st.join(' ')}`);
    assert.ok(st.filter((s) => s.startsWith('run:')).every((s) => s.endsWith(':new')));
    assert.equal(st.filter((s) => s === 'strategy:verified:new').length, 2, st.join(' '));
    assert.equal(st.filter((s) => s === 'signals:verified:not stored').length, 2, st.join(' '));
    assert.match(await one.page.locator('[data-testid=import-summary]').innerText(), /^imported cli\.btb\.zip in [\d.]+ s: \d+ new/);
    await shot(one.page, 'bundle-import-report');

    // Both strategies reached the Signals page, each with the signals btb gives.
    await signalsMatchBtb(one.page);

    boardOne = await board(one.page);
    assert.deepEqual(boardOne.map((r) => r[0]).sort(), cliBoard.map((r) => r.run_id).sort(), 'the runs btb exported');
    for (const r of cliBoard) {
      assert.equal(boardOne.find((x) => x[0] === r.run_id)[1], r.metrics.sharpe.toFixed(2), `Sharpe of ${r.run_id}`);
    }
    const text = await one.page.locator('[data-testid=runs]').innerText();
    assert.ok(text.includes(HOSTILE), 'the tag is shown as text');
    assert.equal(await one.page.locator('[data-testid=runs] img').count(), 0, 'and makes no element');
    run = boardOne[0][0];
    equityOne = await equity(one.page, run);
    assert.ok(equityOne.split(' ').length > 100);
    assert.equal(await one.page.locator('[data-testid=bt-status]').innerText(), 'verified');

    // Export everything, with data, as a download.
    await one.page.click('nav a[data-route=leaderboard]');
    await one.page.selectOption('[data-testid=export-scope]', 'all');
    const [download] = await Promise.all([
      one.page.waitForEvent('download'),
      one.page.click('[data-testid=export-bundle]'),
    ]);
    assert.match(download.suggestedFilename(), /^btb-aapl_swing_daily-\d{4}-\d\d-\d\d\.btb\.zip$/);
    pageBundle = join(dir, 'page.btb.zip');
    await download.saveAs(pageBundle);
    await one.page.waitForSelector('[data-testid=export-done]');
    assert.match(await one.page.locator('[data-testid=export-done]').innerText(), /1 models, 3 runs, 2 strategies, 1 bar slices, 1 out-of-fold files/);
    await shot(one.page, 'bundle-leaderboard-share');
    const manifest = JSON.parse(strFromU8(unzipSync(readFileSync(pageBundle))['manifest.json']));
    assert.equal(manifest.format, 'btb-bundle');
    assert.match(manifest.created_by, /^BTB Workbench \(page\)/);

    // The run's report from the Backtest page.
    await one.page.click('nav a[data-route=backtest]');
    await one.page.waitForSelector('[data-testid=bt-report-download]');
    const [rep] = await Promise.all([
      one.page.waitForEvent('download'),
      one.page.click('[data-testid=bt-report-download]'),
    ]);
    const html = readFileSync(await rep.path(), 'utf8');
    assert.ok(html.includes('<svg') && html.includes(run) && !html.includes(HOSTILE), 'a report with the tag escaped');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(one.errors, []);
  } finally {
    await one.context.close();
  }

  // A fresh profile: the same rows and the same equity, and a second import changes nothing.
  const two = await launch();
  try {
    await two.page.goto(srv.base + '#/data');
    await two.page.waitForSelector('[data-testid=datasets] li');
    await importFile(two.page, pageBundle, { deep: true });
    const st = await statuses(two.page);
    assert.ok(st.every((s) => s.includes(':verified:')), `deep: everything verified, the folds too: ${st.join(' ')}`);
    assert.deepEqual(await board(two.page), boardOne, 'the same Leaderboard, as text');
    await signalsMatchBtb(two.page);
    assert.equal(await equity(two.page, run), equityOne, 'the same equity curve');
    await importFile(two.page, pageBundle);
    assert.match(await two.page.locator('[data-testid=import-summary]').innerText(), /^nothing changed/);
    assert.equal(await two.page.locator('[data-testid=import-report]').getAttribute('data-changed'), 'false');
    assert.deepEqual(two.errors, []);
  } finally {
    await two.context.close();
  }

  // btb imports the page's bundle: its leaderboard is the store's the runs came from.
  const b = join(dir, 'b');
  const report = JSON.parse(btb(b, 'import', pageBundle, '--deep', '--json'));
  assert.ok(report.artifacts.every((x) => x.status === 'verified'), JSON.stringify(report.artifacts));
  assert.deepEqual(JSON.parse(btb(b, 'leaderboard', '--json')), cliBoard);
});

/** The page's bundle, unpacked, for forging. */
function unpack(file) {
  return unzipSync(readFileSync(file));
}

/** `files` zipped with the manifest first and every entry's sha256 and size stated again. */
function rehashed(files) {
  const man = JSON.parse(strFromU8(files['manifest.json']));
  for (const e of man.entries) {
    e.sha256 = createHash('sha256').update(files[e.path]).digest('hex');
    e.bytes = files[e.path].length;
  }
  return zipSync({ 'manifest.json': strToU8(JSON.stringify(man)), ...Object.fromEntries(Object.entries(files).filter(([k]) => k !== 'manifest.json')) });
}

test('a bundle written by format 1 (one strategy per model) still imports, verified', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/data');
    await page.waitForSelector('[data-testid=datasets] li');
    await importFile(page, join(ROOT, 'tests/fixtures/bundle-format1.btb.zip'));
    const st = await statuses(page);
    assert.ok(st.every((s) => s.includes(':verified:') || s === 'oof:unverifiable:new'), st.join(' '));
    assert.ok(st.includes('strategy:verified:new') && st.includes('signals:verified:not stored'), st.join(' '));
    await page.click('nav a[data-route=signals]');
    await page.waitForSelector('[data-testid=signals] tbody tr', { timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=sig-model] option').count(), 1);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('hostile bundles are refused in the page, naming the file, and nothing is stored', async () => {
  const good = readFileSync(cliBundle);
  const files = unpack(cliBundle);
  const runPath = Object.keys(files).find((k) => k.startsWith('runs/'));
  const forged = { ...files };
  const r = JSON.parse(strFromU8(files[runPath]));
  r.metrics.sharpe += 1;
  forged[runPath] = strToU8(JSON.stringify(r, null, 2));
  const flipped = { ...files };
  flipped[runPath] = files[runPath].slice();
  flipped[runPath][10] ^= 1;
  const dup = zipSync({ ...files, [runPath.replace('runs/', 'rUns/')]: files[runPath] });
  const alt = Buffer.from(runPath.replace('runs/', 'rUns/'));
  for (let k = 0; k + alt.length <= dup.length; k++) {
    if (Buffer.from(dup.buffer, dup.byteOffset + k, alt.length).equals(alt)) dup.set(Buffer.from(runPath), k);
  }
  const many = { 'manifest.json': strToU8('{}') };
  for (let k = 0; k < 10_500; k++) many[`runs/${k.toString(16).padStart(16, '0')}.json`] = strToU8('x');
  const bomb = { ...files, [runPath]: new Uint8Array(50 << 20).fill(32) };
  const cases = [
    ['garbage.btb.zip', Buffer.from('PK\x03\x04 certainly not a zip archive'), /garbage\.btb\.zip: (not a bundle|the archive is truncated)/],
    ['truncated.btb.zip', good.subarray(0, good.length >> 1), /truncated\.btb\.zip: the archive is truncated or damaged/],
    ['nomanifest.btb.zip', zipSync({ 'models/a.json': strToU8('{}') }), /nomanifest\.btb\.zip: not a btb bundle: it has no manifest\.json/],
    ['newer.btb.zip', zipSync({ 'manifest.json': strToU8('{"format":"btb-bundle","version":99}') }), /newer\.btb\.zip: made by a newer version of btb/],
    ['types.btb.zip', zipSync({ 'manifest.json': strToU8('{"format":"btb-bundle","version":1,"created_by":7,"with_data":false,"holds":{},"entries":[]}') }), /types\.btb\.zip: manifest\.json: wrong JSON/],
    ['flipped.btb.zip', zipSync(flipped), /flipped\.btb\.zip: runs\/.*sha256/],
    ['forged.btb.zip', rehashed(forged), /forged\.btb\.zip: refused, nothing was stored: .*mismatch.*sharpe/],
    ['dup.btb.zip', dup, /dup\.btb\.zip: duplicate entry runs\//],
    ['traversal.btb.zip', zipSync({ ...files, '../x': strToU8('x') }), /traversal\.btb\.zip: unsafe entry name "\.\.\/x"/],
    ['bomb.btb.zip', zipSync(bomb), /bomb\.btb\.zip: runs\/.* inflates past/],
    ['many.btb.zip', zipSync(many, { level: 0 }), /many\.btb\.zip: 10501 entries, more than the 10000/],
  ];
  const { context, page, errors } = await launch();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  try {
    await page.goto(srv.base + '#/data');
    await page.waitForSelector('[data-testid=datasets] li');
    const datasets = await page.locator('[data-testid=datasets] li').count();
    for (const [name, bytes, expected] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      await importFile(page, file);
      assert.equal(await page.locator('[data-testid=import-report]').count(), 0, `${name}: no report`);
      const text = await page.locator('[data-testid=error]').innerText();
      assert.match(text, expected, name);
    }
    await shot(page, 'bundle-hostile');
    assert.equal(await page.locator('[data-testid=datasets] li').count(), datasets, 'no dataset stored');
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('text=No runs yet');
    // A refused bundle left nothing half-written: the good one still imports cleanly afterwards.
    await importFile(page, cliBundle);
    assert.ok((await statuses(page)).every((s) => s.endsWith(':new') || s.endsWith(':not stored')));
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a bundle without data is imported unverifiable, shown so, and verified by the full one', async () => {
  const bare = join(dir, 'bare.btb.zip');
  btb(join(dir, 'a'), 'export', '--out', bare);
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/data');
    await page.waitForSelector('[data-testid=datasets] li');
    await importFile(page, bare);
    const st = await statuses(page);
    assert.ok(st.filter((s) => s.startsWith('run:')).every((s) => s === 'run:unverifiable:new'), st.join(' '));
    const rows = await board(page);
    assert.equal(await page.locator('[data-testid=runs] [data-testid=unverifiable]').count(), rows.length, 'every run marked');
    assert.match(await page.locator('[data-testid=runs] [data-testid=unverifiable]').first().getAttribute('title'), /^unverifiable: .*\(imported from bare\.btb\.zip\)$/);
    await shot(page, 'bundle-unverifiable-leaderboard');
    await page.click('nav a[data-route=backtest]');
    await page.waitForSelector('[data-testid=bt-error]', { timeout: 60_000 });
    assert.match(await page.locator('[data-testid=bt-error]').innerText(), /imported without its data .*import a bundle exported with data/s);
    // The same runs with their data: re-judged, verified, and the marks are gone.
    await importFile(page, cliBundle);
    assert.ok((await statuses(page)).filter((s) => s.startsWith('run:')).every((s) => s === 'run:verified:unchanged'));
    await board(page);
    assert.equal(await page.locator('[data-testid=runs] [data-testid=unverifiable]').count(), 0, 'no run marked any more');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
