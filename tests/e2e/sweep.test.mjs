// Sweeps and the Leaderboard as a user meets them: a built model, Run Sweep with fold progress
// from a pool of workers, ranked runs with gate verdicts; the same sweep with one worker gives
// the same runs; filters, the cart and a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

/** The table of runs as [run_id, sharpe, gate] rows. */
async function runs(page, scope) {
  return page.locator(`${scope} [data-testid=runs] tbody tr`).evaluateAll((rows) =>
    rows.map((r) => [r.dataset.run, r.querySelector('[data-testid=sharpe]').textContent, r.dataset.pass]));
}

test('sweep aapl_swing_daily, rank it, pick into the cart', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/sweeps');
    await page.waitForSelector('text=Nothing to sweep yet');
    await buildAaplModel(page);

    await page.click('nav a[data-route=sweeps]');
    await page.waitForSelector('[data-testid=run-sweep]');
    assert.match(await page.locator('[data-testid=sweep-profile]').innerText(), /balanced risk: 5% a position, budget 50 configs/);
    // A variant the engine refuses is explained before anything is trained.
    await page.fill('[data-testid=thresholds]', '0.60,0.55');
    await page.click('[data-testid=run-sweep]');
    assert.match(await page.locator('[data-testid=sweep-error]').innerText(), /ascending/);
    assert.equal(await page.locator('[data-testid=sweep-error]').getAttribute('data-kind'), 'sweep');
    await shot(page, 'sweeps-error');

    await page.fill('[data-testid=thresholds]', '0.50,0.55,0.60\n0.55,0.60,0.65\n0.60,0.65,0.70');
    await page.fill('[data-testid=top-pct]', '0.10, 0.15');
    await page.fill('[data-testid=sweep-trees]', '40');
    await page.fill('[data-testid=workers]', '2');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=fold-progress]', { timeout: 30_000 });
    await shot(page, 'sweeps-running');
    await page.waitForSelector('[data-testid=sweep-result]', { timeout: 180_000 });
    const summary = await page.locator('[data-testid=sweep-summary]').innerText();
    assert.match(summary, /2 workers/);
    const two = await runs(page, '[data-testid=sweep-result]');
    assert.equal(two.length, 5);
    const sharpes = two.map((r) => Number(r[1]));
    assert.deepEqual([...sharpes].sort((a, b) => b - a), sharpes, 'ranked by Sharpe');
    await shot(page, 'sweeps-result');

    const sha2 = await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof-sha');
    assert.match(sha2, /^[0-9a-f]{64}$/);

    // The folds trained again by one worker: the same out-of-fold bytes and the same runs.
    await page.fill('[data-testid=workers]', '1');
    await page.check('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForFunction(() => /1 worker\b/.test(document.querySelector('[data-testid=sweep-summary]')?.textContent ?? ''), null, { timeout: 180_000 });
    assert.equal(await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof-sha'), sha2, '1 worker = 2 workers, bit for bit');
    assert.deepEqual(await runs(page, '[data-testid=sweep-result]'), two);

    // Again without retraining: the folds come from the cache, the runs are the same.
    await page.uncheck('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForFunction(() => /from the cache/.test(document.querySelector('[data-testid=sweep-summary]')?.textContent ?? ''), null, { timeout: 60_000 });
    assert.deepEqual(await runs(page, '[data-testid=sweep-result]'), two);

    // A long sweep can be cancelled: the workers stop, nothing is stored, the next sweep works.
    await page.fill('[data-testid=sweep-trees]', '5000');
    await page.check('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=fold-progress]', { timeout: 30_000 });
    await page.click('[data-testid=cancel-sweep]');
    assert.match(await page.locator('[data-testid=sweep-error]').innerText({ timeout: 10_000 }), /cancelled: no run was stored/);
    await page.fill('[data-testid=sweep-trees]', '40');
    await page.uncheck('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForFunction(() => /from the cache/.test(document.querySelector('[data-testid=sweep-summary]')?.textContent ?? ''), null, { timeout: 60_000 });
    assert.deepEqual(await runs(page, '[data-testid=sweep-result]'), two);

    // The Leaderboard: every run (the reruns replaced themselves), filters, the cart, a reload.
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('[data-page=leaderboard] [data-testid=runs]');
    assert.match(await page.locator('[data-testid=lb-count]').innerText(), /^5 of 5 runs/);
    assert.deepEqual((await runs(page, '[data-page=leaderboard]')).map((r) => r[0]), two.map((r) => r[0]));
    // top_pct runs say what share of the tested bars reached their threshold, beside the
    // fraction asked for, and it is met (within a factor of 1.5); ladders leave the cell empty.
    const shares = await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').evaluateAll((rows) =>
      rows.map((r) => {
        const cell = r.querySelector('[data-testid=top-pct-share]');
        return [r.querySelector('code').textContent, cell.textContent, cell.querySelector('span')?.dataset.met, r.dataset.run];
      }));
    const topPct = shares.filter(([c]) => c.startsWith('top_pct'));
    assert.equal(topPct.length, 2);
    for (const [c, share, met] of topPct) {
      assert.match(share, /^\d+\.\d% \(asked 1[05]%\)$/, c);
      assert.equal(met, 'true', `${c}: ${share}`);
    }
    assert.ok(shares.filter(([c]) => !c.startsWith('top_pct')).every(([, share]) => share === ''));
    // Each run's deflated Sharpe ratio, deflated by the sweep's 5 configs; ranking by it.
    const dsrCells = await page.locator('[data-page=leaderboard] [data-testid=runs] [data-testid=dsr]').evaluateAll((cells) =>
      cells.map((c) => [Number(c.textContent), c.title]));
    assert.equal(dsrCells.length, 5);
    for (const [v, title] of dsrCells) {
      assert.ok(v >= 0 && v <= 1, `${v}`);
      assert.match(title, /^deflated by 5 configs; PSR \d\.\d{3}$/);
    }
    await page.selectOption('[data-testid=lb-rank-by]', 'dsr');
    const byDsr = await page.locator('[data-page=leaderboard] [data-testid=runs] [data-testid=dsr]').allInnerTexts();
    assert.deepEqual([...byDsr].map(Number).sort((a, b) => b - a), byDsr.map(Number), 'highest DSR first');
    await page.selectOption('[data-testid=lb-rank-by]', 'sharpe');
    await page.selectOption('[data-testid=lb-rank-by]', 'max_dd');
    const dd = await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr td:nth-child(8)').allInnerTexts();
    assert.deepEqual([...dd].map(parseFloat).sort((a, b) => b - a), dd.map(parseFloat), 'shallowest drawdown first');
    await page.fill('[data-testid=lb-limit]', '2');
    assert.equal(await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').count(), 2);
    await page.fill('[data-testid=lb-limit]', '');
    await page.check('[data-testid=lb-pass-gate]');
    const passing = await runs(page, '[data-page=leaderboard]');
    assert.ok(passing.every((r) => r[2] === 'true'));
    assert.equal(passing.length, two.filter((r) => r[2] === 'true').length);
    await page.uncheck('[data-testid=lb-pass-gate]');
    await page.selectOption('[data-testid=lb-profile]', 'aggressive');
    assert.equal(await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').count(), 0);
    await page.selectOption('[data-testid=lb-profile]', 'balanced');
    await page.selectOption('[data-testid=lb-rank-by]', 'sharpe');
    await page.locator('[data-page=leaderboard] [data-testid=cart-toggle]').first().check();
    await page.locator('[data-page=leaderboard] [data-testid=cart-toggle]').nth(1).check();
    assert.equal(await page.locator('[data-testid=cart] li').count(), 2);
    await shot(page, 'leaderboard-ranked');
    await page.reload();
    await page.waitForSelector('[data-page=leaderboard] [data-testid=runs]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cart] li').length === 2, null, { timeout: 10_000 });
    assert.equal(await page.locator('[data-page=leaderboard] [data-testid=cart-toggle]:checked').count(), 2);

    // The Train page lists the cart's configurations, each with its final-model button.
    await page.click('nav a[data-route=train]');
    await page.waitForSelector('[data-testid=cart-train]');
    assert.equal(await page.locator('[data-testid=strategy-panel]').count(), 2);
    await shot(page, 'train-cart');
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('[data-page=leaderboard] [data-testid=runs]');

    // Backtest the best run from the cart: the same numbers the Leaderboard ranked, now with
    // the equity and drawdown curves and the trades.
    const best = await page.locator('[data-page=leaderboard] [data-testid=runs] tbody tr').first();
    const bestId = await best.getAttribute('data-run');
    const bestSharpe = await best.locator('[data-testid=sharpe]').innerText();
    const bestTrades = await best.locator('td:nth-child(9)').innerText();
    await page.locator('[data-testid=open-backtest]').first().click();
    await page.waitForSelector(`[data-testid=bt-report][data-run="${bestId}"]`, { timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=bt-sharpe]').innerText(), bestSharpe);
    assert.equal(await page.locator('[data-testid=bt-trade-count]').innerText(), bestTrades);
    assert.match(await page.locator('[data-testid=bt-dsr]').innerText(), /^[01]\.\d{3}$/);
    assert.match(await page.locator('[data-testid=bt-dsr] + span').innerText(), /DSR, 5 configs/);
    const pts = (await page.locator('[data-testid=bt-equity-line]').getAttribute('points')).trim().split(' ');
    assert.ok(pts.length > 100, `equity points ${pts.length}`);
    assert.equal(await page.locator('[data-testid=bt-drawdown]').count(), 1);
    assert.equal(await page.locator('table[data-testid=bt-trades] tbody tr').count(), Math.min(Number(bestTrades), 250));
    assert.match(await page.locator('[data-testid=bt-lineage]').innerText(), new RegExp(`run ${bestId}`));
    await shot(page, 'backtest-run');
    // another run from the select
    const other = await page.locator('[data-testid=bt-run] option').nth(1).getAttribute('value');
    await page.selectOption('[data-testid=bt-run]', other);
    await page.waitForSelector(`[data-testid=bt-report][data-run="${other}"]`, { timeout: 60_000 });
    // a top_pct run shows its realised share as the Leaderboard does
    await page.selectOption('[data-testid=bt-run]', topPct[0][3]);
    await page.waitForSelector(`[data-testid=bt-report][data-run="${topPct[0][3]}"]`, { timeout: 60_000 });
    assert.ok(topPct[0][1].startsWith(await page.locator('[data-testid=bt-top-pct-share]').innerText()), topPct[0][1]);
    assert.equal(await page.locator('[data-testid=bt-top-pct-share]').getAttribute('data-met'), 'true');
    await shot(page, 'backtest-top-pct');
    await page.selectOption('[data-testid=bt-run]', bestId);
    await page.waitForSelector(`[data-testid=bt-report][data-run="${bestId}"]`, { timeout: 60_000 });

    // POST /train: the final model for this config, then GET /signals on the newest bars.
    await page.click('[data-testid=train-strategy]');
    await page.waitForSelector('[data-testid=strategy-trained]', { timeout: 120_000 });
    await page.click('[data-testid=strategy-trained] a');
    await page.waitForSelector('[data-page=signals] [data-testid=signals] tbody tr', { timeout: 60_000 });
    const sig = await page.locator('[data-testid=signals] tbody tr').evaluateAll((rows) =>
      rows.map((r) => ({ side: r.dataset.side, status: r.dataset.status, bar: r.cells[0].textContent })));
    assert.ok(sig.length >= 1 && sig.length <= 10, `${sig.length} signals`);
    assert.ok(sig.every((s) => ['BUY', 'SELL'].includes(s.side) && ['NEW', 'OPEN', 'CLOSED'].includes(s.status)));
    const bars = sig.map((s) => s.bar);
    assert.deepEqual([...bars].sort().reverse(), bars, 'newest first');
    assert.ok(bars[0] >= '2013-01-01', `signals reach the newest bars: ${bars[0]}`);
    assert.ok(bars[0] <= '2013-03-01');
    await page.fill('[data-testid=sig-limit]', '3');
    assert.equal(await page.locator('[data-testid=signals] tbody tr').count(), 3);
    await shot(page, 'signals');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-alerts]')]);
    assert.match(download.suggestedFilename(), /^alerts_aapl_swing_daily\.csv$/);
    const csv = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString());
    assert.match(csv.split('\n')[0], /^timestamp,bar,model_id,ticker,side,confidence,status/);
    assert.ok(csv.trim().split('\n').length > 10, 'every signal is exported');

    // Hours that daily bars never have are run (honestly: no trades) and flagged.
    await page.click('nav a[data-route=sweeps]');
    await page.fill('[data-testid=hours]', '13,14\n13,14,15');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=sweep-warning]', { timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=sweep-warning]').count(), 2);
    assert.match(await page.locator('[data-testid=sweep-warning]').first().innerText(), /never occur in this matrix/);
    await shot(page, 'sweeps-warning');

    // Deleting the model takes its runs and its strategy with it (one transaction).
    await page.click('nav a[data-route=models]');
    await page.click('[data-testid=models] tr[data-model=aapl_swing_daily] [data-testid=delete-model]');
    await page.click('[data-testid=models] tr[data-model=aapl_swing_daily] [data-testid=delete-model-confirm]');
    await page.waitForSelector('[data-testid=models] tr[data-model=aapl_swing_daily]', { state: 'detached' });
    await page.click('nav a[data-route=leaderboard]');
    await page.waitForSelector('text=No runs yet');
    await page.reload();
    await page.click('nav a[data-route=signals]');
    await page.waitForSelector('text=No trained strategy yet');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
