// Tables, charts and explanations as a quant reads them: headers sort (the engine's ranking
// until clicked, and again on the third click), rows are walked with the keyboard, the
// leaderboard, trades and equity download as CSV in the order shown, the equity chart reads a
// bar under the pointer beside buy and hold, and a failed gate offers its remedy in one click.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const hashOf = (page) => page.evaluate(() => decodeURIComponent(location.hash));
const runIds = (page) => page.locator('[data-testid=runs] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.run));
const column = (page, testid) => page.locator(`[data-testid=runs] tbody [data-testid=${testid}]`).allInnerTexts();
const numbers = (texts) => texts.map((t) => Number(t.replace('%', '').replace('+', '')));
const focused = (page) => page.evaluate(() => document.activeElement?.dataset?.key ?? document.activeElement?.tagName);

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** A download's suggested name and text. */
async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const text = await (await d.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString());
  return { name: d.suggestedFilename(), lines: text.trim().split('\n'), text };
}

test('sort, keyboard, CSV downloads, the equity chart and a remedy in one click', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 0);
    await page.waitForSelector('[data-testid=runs] tbody tr');
    const ranked = await runIds(page);
    assert.equal(ranked.length, 5);

    // Sort: Sharpe largest first, then smallest first, then the engine's ranking again.
    const sharpeHeader = '[data-testid=runs] th button[data-sort=sharpe]';
    await page.click(sharpeHeader);
    const desc = numbers(await column(page, 'sharpe'));
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    assert.equal(await page.locator('[data-testid=runs] th[aria-sort=descending]').count(), 1);
    await page.click(sharpeHeader);
    const asc = numbers(await column(page, 'sharpe'));
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    await page.click(sharpeHeader);
    assert.deepEqual(await runIds(page), ranked, 'the third click is the engine ranking');
    assert.equal(await hashOf(page), '#/leaderboard');
    // By DSR ascending, from the keyboard (Enter on the header's button twice), into the URL.
    await page.focus('[data-testid=runs] th button[data-sort=dsr]');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const byDsr = await runIds(page);
    const dsr = numbers(await column(page, 'dsr'));
    assert.deepEqual(dsr, [...dsr].sort((a, b) => a - b));
    assert.equal(await hashOf(page), '#/leaderboard?sort=dsr');
    await page.reload();
    await page.waitForSelector('[data-testid=runs] tbody tr');
    assert.deepEqual(await runIds(page), byDsr, 'a reload keeps the order');

    // The CSV is the rows shown, in the order shown, with every metric at full precision.
    const lb = await download(page, '[data-testid=lb-csv]');
    assert.match(lb.name, /^leaderboard_\d{4}-\d{2}-\d{2}\.csv$/);
    const table = parseCsv(lb.text);
    const head = table[0];
    assert.deepEqual(head.slice(0, 9), ['rank', 'run_id', 'model_id', 'tag', 'variant', 'kind', 'value', 'allowed_hours', 'sharpe']);
    assert.equal(table.length, 6);
    assert.ok(table.every((r) => r.length === head.length), 'every row as wide as the header');
    const rows = table.slice(1);
    assert.equal(rows.filter((r) => r[5] === 'thr').map((r) => r[6]).length, 3, 'a ladder is one quoted field');
    assert.deepEqual(rows.map((r) => r[1]), byDsr);
    const shownSharpe = await column(page, 'sharpe');
    rows.forEach((r, i) => assert.equal(Number(r[8]).toFixed(2), shownSharpe[i], 'the shown Sharpe is the CSV value rounded'));

    // The sweep at a glance: one cell per config (only the policy varies), the distribution
    // counts every run.
    assert.equal(await page.locator('[data-testid=heatmap] [data-testid=map-cell]').count(), 5);
    const binned = await page.locator('[data-testid=sharpe-dist] rect.bin').evaluateAll((rs) => rs.reduce((a, r) => a + Number(r.dataset.count), 0));
    assert.equal(binned, 5);
    assert.deepEqual(
      (await page.locator('[data-testid=map-cell]').evaluateAll((cs) => cs.map((c) => c.dataset.run))).sort(),
      [...byDsr].sort(), 'each run is one cell');

    // Keyboard: ↓ moves between rows, End to the last, Enter opens its backtest.
    await page.locator('[data-testid=runs] tbody tr').first().focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), byDsr[1]);
    await page.keyboard.press('End');
    assert.equal(await focused(page), byDsr[4]);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(page), byDsr[3]);
    await shot(page, 'leaderboard-sorted');
    await page.keyboard.press('Enter');
    const run = byDsr[3];
    await page.waitForSelector(`[data-testid=bt-report][data-run="${run}"]`, { timeout: 60_000 });
    assert.equal(await hashOf(page), `#/backtest?run=${run}`);

    // The equity chart: strategy and buy and hold, dates along the axis, trades marked, and a
    // crosshair that reads the bar under the pointer.
    const trades = Number(await page.locator('[data-testid=bt-trade-count]').innerText());
    const bars = (await page.locator('[data-testid=bt-report] .panel-head .muted').first().innerText()).match(/· (\d+) bars/)[1];
    assert.ok((await page.locator('[data-testid=bt-hold]').getAttribute('points')).split(' ').length > 100);
    const dates = await page.locator('[data-testid=bt-date]').allTextContents();
    assert.equal(dates.length, 6);
    assert.ok(dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)), dates.join(' '));
    assert.deepEqual([...dates].sort(), dates, 'dates in order');
    assert.ok(await page.locator('[data-testid=bt-equity] .mark.entry').count() > 0, 'entries marked');
    assert.equal(await page.locator('[data-testid=bt-legend]').textContent(), '— strategy');
    assert.match(await page.locator('[data-testid=bt-hold-kpis]').innerText(), /^Buy and hold over the same bars: return [+-]?\d/);
    assert.match(await page.locator('[data-testid=bt-sharpe]').locator('..').getAttribute('title'), /√B.*252 for daily bars/);
    // Below the price chart: brought into view before the pointer goes to it.
    await page.locator('[data-testid=bt-equity]').scrollIntoViewIfNeeded();
    const box = await page.locator('[data-testid=bt-equity]').boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.3);
    await page.waitForSelector('[data-testid=bt-crosshair]', { state: 'attached' });
    const readout = await page.locator('[data-testid=bt-readout]').innerText();
    assert.match(readout, /^\d{4}-\d{2}-\d{2} · equity \d+\.\d{4} · buy and hold \d+\.\d{4} · drawdown /);
    await page.mouse.move(box.x + box.width * 0.999, box.y + box.height * 0.3);
    const end = (await page.locator('[data-testid=bt-report] .panel-head .muted').first().innerText()).match(/\.\. (\S+) ·/)[1];
    assert.ok((await page.locator('[data-testid=bt-readout]').innerText()).startsWith(end), 'the right edge reads the last bar');
    // ← from the keyboard moves the crosshair one bar back.
    await page.focus('[data-testid=bt-equity]');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    assert.ok(!(await page.locator('[data-testid=bt-readout]').innerText()).startsWith(end));

    // Trades: sorted by return, a click marks the trade on the chart, Enter does too.
    await page.click('[data-testid=bt-trades] th button[data-sort=return]');
    const rets = numbers(await page.locator('[data-testid=bt-trades] tbody tr td:nth-child(7)').allInnerTexts());
    assert.deepEqual(rets, [...rets].sort((a, b) => b - a), 'largest return first');
    assert.equal(await page.locator('[data-testid=bt-selected-trade]').count(), 0);
    await page.locator('[data-testid=bt-trades] tbody tr').first().click();
    await page.waitForSelector('[data-testid=bt-selected-trade]', { state: 'attached' });
    assert.equal(await page.locator('[data-testid=bt-trades] tbody tr[aria-current=true]').count(), 1);
    const x1 = await page.locator('[data-testid=bt-selected-trade]').getAttribute('x');
    await page.locator('[data-testid=bt-trades] tbody tr').nth(1).focus();
    await page.keyboard.press('Enter');
    assert.notEqual(await page.locator('[data-testid=bt-selected-trade]').getAttribute('x'), x1, 'Enter marks the focused trade');
    await shot(page, 'backtest-chart-trades');

    // Trades and equity as CSV: every trade, every bar, buy and hold from 1.
    const tr = await download(page, '[data-testid=bt-trades-csv]');
    assert.match(tr.name, /^trades_aapl_swing_daily_[0-9a-f]{7}\.csv$/);
    assert.equal(tr.lines[0], 'entry_time,exit_time,side,entry_price,exit_price,size,pnl,return,bars_held,prob,exit_reason');
    assert.equal(tr.lines.length, trades + 1);
    const eq = await download(page, '[data-testid=bt-equity-csv]');
    assert.equal(eq.lines[0], 'time,equity,drawdown,buy_and_hold');
    assert.equal(eq.lines.length, Number(bars) + 1);
    assert.deepEqual(eq.lines[1].split(',').slice(1), ['1', '0', '1']);

    // A gate failure's remedy in one click: a sweep of thresholds no bar reaches fails on
    // trades; its remedy fills the Sweeps form with lower ladders.
    await page.click('nav a[data-route=sweeps]');
    await page.fill('[data-testid=sweep-trees]', '40');
    await page.fill('[data-testid=thresholds]', '0.90,0.95');
    await page.fill('[data-testid=top-pct]', '');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=sweep-result]', { timeout: 180_000 });
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('[data-testid=runs] tbody tr');
    const failing = await page.locator('[data-testid=runs] tbody tr', { hasText: '0.90,0.95' }).getAttribute('data-run');
    await page.goto(`${srv.base}#/backtest?run=${failing}`);
    await page.waitForSelector(`[data-testid=bt-report][data-run="${failing}"]`, { timeout: 60_000 });
    const remedy = page.locator('[data-testid=bt-remedies] li[data-reason=min_trades_not_met]');
    assert.match(await remedy.innerText(), /Lower threshold or extend period/);
    assert.match(await remedy.locator('[data-step=import]').innerText(), /already uses every bar/);
    await shot(page, 'backtest-remedy');
    await remedy.locator('[data-step=sweep]').click();
    await page.waitForSelector('[data-testid=sweep-draft]');
    assert.match(await page.locator('[data-testid=sweep-draft]').innerText(), /Sweep lower thresholds: 0\.85,0\.90 · 0\.80,0\.85/);
    assert.equal(await page.locator('[data-testid=thresholds]').inputValue(), '0.85,0.90\n0.80,0.85');
    assert.equal(await page.locator('[data-testid=top-pct]').inputValue(), '');
    assert.equal(await page.locator('[data-testid=sweep-trees]').inputValue(), '40', "the run's own variant");
    await shot(page, 'sweeps-remedy');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=sweep-result]', { timeout: 180_000 });
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('[data-testid=runs] tbody tr');
    for (const ladder of ['0.85,0.90', '0.80,0.85']) {
      assert.equal(await page.locator('[data-testid=runs] tbody tr', { hasText: ladder }).count(), 1, ladder);
    }
    // Three ladders on the map by trades; a cell opens its run.
    await page.selectOption('[data-testid=map-metric]', 'trades');
    const lowest = page.locator('[data-testid=map-cell][data-x="thr 0.80,0.85"]');
    const highest = page.locator('[data-testid=map-cell][data-x="thr 0.90,0.95"]');
    assert.ok(Number(await lowest.innerText()) >= Number(await highest.innerText()), 'a lower ladder trades at least as often');
    await shot(page, 'leaderboard-map');
    const lowestRun = await lowest.getAttribute('data-run');
    await lowest.click();
    await page.waitForSelector(`[data-testid=bt-report][data-run="${lowestRun}"]`, { timeout: 60_000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
