// Sweep files, as the seed's researcher uses them: `btb sweep-config` writes one, the user edits
// it (two label horizons, two calibrations), the Sweeps page loads it and runs every model
// variant × config, and its runs are the CLI's, id for id. Save writes the form back as the
// same file; a typo is refused with the file and the line; the Leaderboard filters by variant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launch, shot, ROOT } from './browser.mjs';

const DEMO = join(ROOT, 'public/demo/stocks-daily-2000-2013.csv.gz');
const BTB = process.env.BTB_BIN ?? join(ROOT, 'target/debug/btb');

let srv;
let dir;
before(async () => { srv = await startServer(); dir = mkdtempSync(join(tmpdir(), 'btb-sweepfile-')); });
after(() => { srv.server.close(); rmSync(dir, { recursive: true, force: true }); });

test('a sweep file of four model variants: written by btb, loaded and run by the page, the same runs', async () => {
  const store = join(dir, 'store');
  const run = (...args) => execFileSync(BTB, ['--store', store, ...args], { encoding: 'utf8' });
  run('data', 'add', DEMO);
  run('init', '--pack-id', 'swingsigma', '--ticker', 'AAPL');
  const spec = join(dir, 'build.json');
  writeFileSync(spec, JSON.stringify({ model_id: 'aapl_swing_daily', pack_id: 'swingsigma', start: '2005-01-01', end: '2012-12-31', ticker: 'AAPL', distance_max: 7 }));
  run('build', '--spec', spec, '--json');
  const file = join(dir, 'aapl_swing_daily_sweep.yaml');
  run('sweep-config', '--model-id', 'aapl_swing_daily', '--out', file);
  const edited = readFileSync(file, 'utf8')
    .replace('distance_max: []', 'distance_max: [7, 5]')
    .replace('calibration: [sigmoid]', 'calibration: [sigmoid, isotonic]')
    .replace('trees: [100]', 'trees: [40]')
    .replace('leaves: [31]', 'leaves: [15]');
  writeFileSync(file, edited);
  const cli = JSON.parse(run('sweep', '--config', file, '--json'));
  assert.equal(cli.variants.length, 4);
  assert.equal(cli.runs.length, 20);

  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/models');
    await page.waitForSelector('[data-testid=ticker] option[value=AAPL]', { state: 'attached', timeout: 60_000 });
    await page.selectOption('[data-testid=ticker]', 'AAPL');
    await page.click('[data-testid=create-model]');
    await page.click('[data-testid=models] tr[data-model=aapl_swing_daily] [data-testid=open-build]');
    await page.fill('[data-testid=start]', '2005-01-01');
    await page.fill('[data-testid=end]', '2012-12-31');
    await page.fill('[data-testid=distance]', '7');
    await page.click('[data-testid=build-matrix]');
    await page.waitForSelector('[data-testid=matrix-sha]', { timeout: 60_000 });

    await page.click('nav a[data-route=sweeps]');
    await page.waitForSelector('[data-testid=run-sweep]');
    // The form starts where `btb sweep-config` does: the template's grid.
    assert.equal(await page.inputValue('[data-testid=commission]'), '1');
    assert.equal(await page.inputValue('[data-testid=slippage]'), '2');
    assert.equal(await page.inputValue('[data-testid=sweep-calibration]'), 'sigmoid');

    // A typo is refused with the file's name and the line, and the form is left as it was.
    const typo = join(dir, 'typo_sweep.yaml');
    writeFileSync(typo, edited.replace('  leaves:', '  leafs:'));
    await page.setInputFiles('[data-testid=load-sweep]', typo);
    const refused = await page.locator('[data-testid=sweep-error]').innerText();
    const line = edited.split('\n').findIndex((l) => l.startsWith('  leaves:')) + 1;
    assert.match(refused, new RegExp(`typo_sweep\\.yaml: train: unknown field \`leafs\`.* at line ${line} column 3`));
    assert.equal(await page.inputValue('[data-testid=sweep-trees]'), '100');

    await page.setInputFiles('[data-testid=load-sweep]', file);
    await page.waitForSelector('[data-testid=sweep-loaded]');
    assert.equal(await page.locator('[data-testid=sweep-error]').count(), 0);
    assert.equal(await page.inputValue('[data-testid=sweep-calibration]'), 'sigmoid, isotonic');
    assert.equal(await page.inputValue('[data-testid=sweep-horizons]'), '7, 5');
    assert.equal(await page.inputValue('[data-testid=sweep-trees]'), '40');
    await shot(page, 'sweeps-file-loaded');

    // Save writes the form back as the file it came from.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=save-sweep]')]);
    assert.equal(download.suggestedFilename(), 'aapl_swing_daily_sweep.yaml');
    const saved = Buffer.concat(await (await download.createReadStream()).toArray()).toString();
    assert.equal(saved, edited, 'the saved file is the loaded one, comments included');

    await page.fill('[data-testid=workers]', '2');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=sweep-result]', { timeout: 240_000 });
    assert.equal(await page.locator('[data-testid=sweep-summary]').getAttribute('data-variants'), '4');
    assert.match(await page.locator('[data-testid=sweep-result] h2').innerText(), /20 runs: 4 model variants × 5 configs/);
    assert.equal(await page.locator('[data-testid=sweep-variants] li').count(), 4);
    const ids = await page.locator('[data-testid=sweep-result] [data-testid=runs] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.run));
    assert.deepEqual([...ids].sort(), cli.runs.map((r) => r.run_id).sort(), 'the page and `btb sweep --config` make the same runs');
    const variants = await page.locator('[data-testid=sweep-result] [data-testid=variant]').allInnerTexts();
    assert.equal(new Set(variants).size, 4);
    assert.ok(variants.includes('horizon 5 · isotonic · 40 trees · 15 leaves · lr 0.1 · ff 1 · 5 splits'), variants.join('\n'));
    await shot(page, 'sweeps-file-result');
    // At a glance: the five configs by the four model variants, one run a cell.
    const map = page.locator('[data-testid=sweep-result] [data-testid=sweep-map]');
    await map.locator('[data-testid=map-y]').selectOption('variant');
    assert.equal(await map.locator('[data-testid=map-x]').inputValue(), 'policy');
    assert.equal(await map.locator('[data-testid=heatmap] tbody tr').count(), 4);
    assert.equal(await map.locator('[data-testid=map-cell]').count(), 20);
    assert.deepEqual((await map.locator('[data-testid=map-cell]').evaluateAll((cs) => cs.map((c) => c.dataset.run))).sort(), [...ids].sort());
    // Two dimensions the file varies on their own: horizon × calibration, each cell the best of five.
    await map.locator('[data-testid=map-x]').selectOption('horizon');
    await map.locator('[data-testid=map-y]').selectOption('calibration');
    const sups = await map.locator('[data-testid=map-cell] sup').allInnerTexts();
    assert.ok(sups.length > 0 && sups.every((t) => Number(t) > 1), sups.join(','));
    await shot(page, 'sweeps-file-map');

    // The Leaderboard ranks all twenty together and filters one variant's five.
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('[data-testid=lb-variant]');
    assert.equal(await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').count(), 20);
    await page.selectOption('[data-testid=lb-variant]', 'horizon 5 · isotonic · 40 trees · 15 leaves · lr 0.1 · ff 1 · 5 splits');
    assert.equal(await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').count(), 5);
    await shot(page, 'leaderboard-variant');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
