// A sweep survives a reload: each fold is stored as it finishes, the Sweeps page offers Resume
// after the reload, Resume trains only the missing folds, and the result is the uninterrupted
// sweep's, bit for bit (same out-of-fold sha, same runs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

/** Folds of the interrupted sweep stored in IndexedDB. */
const storedFolds = (page) => page.evaluate(() => new Promise((ok, fail) => {
  const open = indexedDB.open('btb-workbench');
  open.onerror = () => fail(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction('folds').objectStore('folds').count();
    req.onsuccess = () => { ok(req.result); open.result.close(); };
    req.onerror = () => fail(req.error);
  };
}));

const runs = (page) => page.locator('[data-testid=sweep-result] [data-testid=runs] tbody tr').evaluateAll((rows) =>
  rows.map((r) => [r.dataset.run, r.querySelector('[data-testid=sharpe]').textContent, r.dataset.pass]));

test('reload mid-sweep, then Resume: the same bytes as an uninterrupted sweep', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await page.click('nav a[data-route=sweeps]');
    await page.fill('[data-testid=sweep-trees]', '3000');
    await page.fill('[data-testid=workers]', '2');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=fold-progress]', { timeout: 30_000 });
    // Wait for a finished fold (stored the moment it is trained), then reload mid-sweep.
    const deadline = Date.now() + 180_000;
    while ((await storedFolds(page)) < 1) {
      assert.ok(Date.now() < deadline, 'a fold was stored while the sweep ran');
      await page.waitForTimeout(250);
    }
    // The folds say how much is left at the pace so far.
    assert.match(await page.locator('[data-testid=fold-eta]').innerText(), /^\d+% of the trees · about \d+ (s|min|h \d+ min) left$/);
    await page.reload();
    const notice = page.locator('[data-testid=sweep-interrupted]');
    await notice.waitFor({ timeout: 30_000 });
    const kept = await storedFolds(page);
    assert.ok(kept >= 1 && kept < 5, `${kept} folds kept`);
    assert.match(await notice.innerText(), new RegExp(`${kept} of 5 folds are kept`));
    assert.match(await notice.locator('[data-testid=resume-sweep]').innerText(), new RegExp(`train ${5 - kept} fold`));
    await shot(page, 'sweeps-interrupted');

    await notice.locator('[data-testid=resume-sweep]').click();
    await page.waitForSelector('[data-testid=sweep-result]', { timeout: 300_000 });
    const resumed = await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof-sha');
    const resumedRuns = await runs(page);
    assert.equal(resumedRuns.length, 5);
    assert.equal(await storedFolds(page), 0, 'folds are dropped once their out-of-fold file is stored');
    assert.equal(await page.locator('[data-testid=sweep-interrupted]').count(), 0);

    // The same sweep uninterrupted, every fold trained again: the same bytes and runs. (The
    // form was reset by the reload; Resume used the interrupted sweep's own inputs.)
    const key = await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof');
    await page.fill('[data-testid=sweep-trees]', '3000');
    await page.check('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=run-sweep]:not([disabled])', { timeout: 300_000 });
    assert.equal(await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof'), key);
    assert.equal(await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof-sha'), resumed);
    assert.deepEqual(await runs(page), resumedRuns);

    // Cancel keeps finished folds for the next sweep but offers no resume.
    await page.fill('[data-testid=sweep-trees]', '8000');
    await page.uncheck('[data-testid=retrain]');
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=fold-progress]', { timeout: 30_000 });
    await page.click('[data-testid=cancel-sweep]');
    assert.match(await page.locator('[data-testid=sweep-error]').innerText({ timeout: 10_000 }), /cancelled: no run was stored/);
    await page.reload();
    await page.waitForSelector('[data-testid=run-sweep]');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('[data-testid=sweep-interrupted]').count(), 0, 'a cancelled sweep is not offered again');
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
  }
});
