// The page under real use: requests that overlap (two final models trained at once; a build
// during a training is in train.test.mjs) each get their own answer, and a worker that crashes
// on a hostile file fails that request with the file's name and is replaced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart, FIXTURES } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

/** Page errors other than the ones a test provokes on purpose. */
const unexpected = (errors, allowed = []) =>
  errors.filter((e) => !/favicon/.test(e) && !allowed.some((a) => a.test(e)));

test('two final models from the cart trained at once', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 2);
    await page.click('nav a[data-route=train]');
    const panels = page.locator('[data-page=train] [data-testid=strategy-panel]');
    await panels.nth(1).waitFor();
    // Both clicked before either finishes: two requests in flight at once.
    await panels.nth(0).locator('[data-testid=train-strategy]').click();
    await panels.nth(1).locator('[data-testid=train-strategy]').click();
    for (const i of [0, 1]) {
      await panels.nth(i).locator('[data-testid=strategy-trained]').waitFor({ timeout: 180_000 });
      assert.equal(await panels.nth(i).locator('[data-testid=strategy-error]').count(), 0);
    }
    await shot(page, 'workers-two-final-models');
    assert.deepEqual(unexpected(errors), [], 'no page errors');
  } finally {
    await context.close();
  }
});

test('a Parquet file that crashes the reader: the error names it, the next file loads', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
    await page.setInputFiles('[data-testid=file-input]', join(FIXTURES, 'bad/parquet_panics.parquet'));
    const msg = await page.locator('[data-testid=error]').innerText({ timeout: 30_000 });
    // The sentence `btb inspect` prints for the same file (cli/tests/cli.rs), not the panic.
    assert.match(msg, /parquet_panics\.parquet: not a readable Parquet file \(the Parquet decoder failed: [^)]+\)/, msg);
    assert.doesNotMatch(msg, /panicked at|unreachable|\.cargo|registry/, msg);
    await shot(page, 'workers-crash-named');
    await page.locator('[data-testid=error] button').click();
    // The dead worker was replaced: a good file loads.
    const n = await page.locator('[data-testid=dataset]').count();
    await page.setInputFiles('[data-testid=file-input]', join(FIXTURES, 'pyarrow_snappy_ns.parquet'));
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=dataset]').length === k + 1, n, { timeout: 60_000 });
    assert.deepEqual(unexpected(errors, [/panicked at|unreachable|RuntimeError/]), [], 'no other page errors');
  } finally {
    await context.close();
  }
});

test('idle workers are stopped to give memory back, and the next request starts one', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    assert.ok(page.workers().length >= 1, 'the build ran in a worker');
    // 15 s idle: every worker is stopped (a wasm instance never returns its memory).
    const deadline = Date.now() + 40_000;
    while (page.workers().length > 0) {
      assert.ok(Date.now() < deadline, `${page.workers().length} workers still running after 40 s idle`);
      await page.waitForTimeout(1000);
    }
    // The next request wakes one: a training on the matrix the stopped worker held.
    await page.click('nav a[data-route=train]');
    await page.fill('[data-testid=trees]', '30');
    await page.click('[data-testid=start-training]');
    await page.locator('[data-testid=model-sha]').getAttribute('data-sha', { timeout: 120_000 });
    assert.ok(page.workers().length >= 1);
    assert.deepEqual(unexpected(errors), [], 'no page errors');
  } finally {
    await context.close();
  }
});
