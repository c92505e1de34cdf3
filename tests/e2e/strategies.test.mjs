// "Train the top 3–5": two configurations picked into the cart, each trained from the Train
// page, stay two strategies of the model; the Signals page picks between them and gives each
// its own signals; a training's "Its signals →" opens that very strategy; a reload keeps both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart, signalsOf } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

test('two strategies from the cart give two sets of signals', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 2);
    await page.click('nav a[data-route=train]');
    await page.waitForSelector('[data-testid=cart-train]');
    const panels = page.locator('[data-testid=strategy-panel]');
    assert.equal(await panels.count(), 2);
    for (const i of [0, 1]) {
      await panels.nth(i).locator('[data-testid=train-strategy]').click();
      await panels.nth(i).locator('[data-testid=strategy-trained]').waitFor({ timeout: 120_000 });
    }
    await shot(page, 'train-cart-two-strategies');

    // The first panel's link opens its own strategy, though the second is the newer one.
    const firstConfig = (await panels.nth(0).locator('h2').innerText()).split(' · ')[0];
    await panels.nth(0).locator('[data-testid=strategy-trained] a').click();
    await page.waitForSelector('[data-page=signals] [data-testid=signals] tbody tr', { timeout: 60_000 });
    const options = await page.locator('[data-testid=sig-model] option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, label: o.textContent, selected: o.selected })));
    assert.equal(options.length, 2, JSON.stringify(options));
    assert.ok(options.every((o) => o.value.startsWith('aapl_swing_daily/')), JSON.stringify(options));
    const picked = options.find((o) => o.selected);
    assert.ok(picked.label.includes(firstConfig), `${picked.label} is the first panel's ${firstConfig}`);

    const a = await signalsOf(page, options[0].value);
    const b = await signalsOf(page, options[1].value);
    assert.ok(a.length > 0 && b.length > 0);
    assert.notDeepEqual(a, b, 'each strategy has its own signals');
    await page.fill('[data-testid=sig-limit]', '8');
    await shot(page, 'signals-two-strategies');

    await page.reload();
    await page.waitForSelector('[data-testid=sig-model] option', { state: 'attached', timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=sig-model] option').count(), 2);
    assert.deepEqual(await signalsOf(page, options[1].value), b);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
