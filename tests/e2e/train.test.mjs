// Train as a user meets it: a model with a built matrix, Start Training, per-tree progress from
// the worker, loss curves, importance and reliability; the trained model survives a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

test('train aapl_swing_daily with calibration and see its curves', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/train');
    await page.waitForSelector('[data-page=train]');
    // No model yet: the page says what to do first.
    await page.waitForSelector('text=Nothing to train yet');
    await buildAaplModel(page);

    await page.click('nav a[data-route=train]');
    await page.waitForSelector('[data-testid=start-training]');
    await page.fill('[data-testid=trees]', '60');
    await page.fill('[data-testid=early-stopping]', '0');
    await page.selectOption('[data-testid=calibration]', 'isotonic');
    await page.click('[data-testid=start-training]');
    const sha = await page.locator('[data-testid=model-sha]').getAttribute('data-sha', { timeout: 120_000 });
    assert.match(sha, /^[0-9a-f]{64}$/);
    assert.equal(await page.locator('[data-testid=trees-built]').innerText(), '60');
    const auc = Number(await page.locator('[data-testid=valid-auc]').innerText());
    assert.ok(auc > 0.3 && auc < 1, `validation AUC ${auc}`);
    assert.equal(await page.locator('[data-testid=loss-chart] polyline.train').count(), 1);
    const points = (await page.locator('[data-testid=loss-chart] polyline.train').getAttribute('points')).trim().split(' ');
    assert.equal(points.length, 60, 'one point per tree');
    assert.ok((await page.locator('[data-testid=reliability-chart] circle').count()) >= 3);
    assert.equal(await page.locator('[data-testid=importance] tbody tr').count(), 20);
    await shot(page, 'page-train');

    // A bad setting is explained, not crashed on.
    await page.fill('[data-testid=lr]', 'fast');
    await page.click('[data-testid=start-training]');
    assert.match(await page.locator('[data-testid=train-error]').innerText(), /learning rate/);
    await shot(page, 'train-error');

    // Same settings, same seed → the same model, bit for bit.
    await page.fill('[data-testid=lr]', '0.1');
    await page.click('[data-testid=start-training]');
    await page.waitForSelector('[data-testid=start-training]:not([disabled])', { timeout: 120_000 });
    assert.equal(await page.locator('[data-testid=model-sha]').getAttribute('data-sha'), sha);

    // Calibrated on out-of-fold predictions instead: same trees, another calibrator, another sha.
    await page.selectOption('[data-testid=calibration-folds]', '4');
    await page.click('[data-testid=start-training]');
    await page.waitForFunction((old) => {
      const el = document.querySelector('[data-testid=model-sha]');
      return el && el.dataset.sha !== old;
    }, sha, { timeout: 120_000 });
    assert.match(await page.locator('[data-testid=calibrated-on]').innerText(), /out-of-fold, 4 folds/);

    await page.reload();
    await page.waitForSelector(`[data-testid=trained] li[data-sha="${sha}"]`, { timeout: 30_000 });
    await page.locator(`[data-testid=trained] li[data-sha="${sha}"] button`).click();
    assert.equal(await page.locator('[data-testid=model-sha]').getAttribute('data-sha', { timeout: 30_000 }), sha);
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
  }
});

// Two requests at once, as a busy user makes them (the collision): a long training,
// then a build on another page before it ends. The build runs on a second worker beside the
// training; neither is lost, nothing panics, and the Train page lists the training when it ends.
test('a build started during a training runs beside it, and both finish', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base + '#/data');
    await buildAaplModel(page);
    const first = await page.locator('[data-testid=matrix-sha]').getAttribute('data-sha');

    await page.click('nav a[data-route=train]');
    await page.waitForSelector('[data-testid=start-training]');
    await page.fill('[data-testid=trees]', '1500');
    await page.fill('[data-testid=early-stopping]', '0');
    await page.fill('[data-testid=lr]', '0.01');
    await page.click('[data-testid=start-training]');
    await page.waitForSelector('[data-testid=start-training][disabled]');

    await page.click('nav a[data-route=build]');
    await page.fill('[data-testid=start]', '2006-01-01');
    await page.click('[data-testid=build-matrix]');
    await page.waitForFunction((old) => {
      const el = document.querySelector('[data-testid=matrix-sha]');
      return el && el.dataset.sha !== old;
    }, first, { timeout: 180_000 });

    // The training finished too and was stored.
    await page.click('nav a[data-route=train]');
    await page.waitForSelector('[data-testid=trained] li[data-sha]', { timeout: 180_000 });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
  }
});
