// The Backtest page's price chart as a quant uses it: the tested bars with every fill marked,
// the model's own features as studies (added, removed, over the prices or in a pane), a log
// axis, the keyboard (cursor, zoom, reset, Enter on a fill), pointer drag and wheel, and a
// trade row that brings its fills into view. The canvas says what it shows in data attributes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, buildAaplModel, sweepIntoCart, chartColours } from './browser.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(() => srv.server.close());

const chart = '[data-testid=bt-prices] canvas[data-testid=chart]';
const attr = (page, name) => page.locator(chart).getAttribute(name);
const windowOf = async (page) => (await attr(page, 'data-window')).split('-').map(Number);
const waitAttr = (page, name, value) => page.waitForFunction(([sel, n, v]) => document.querySelector(sel)?.getAttribute(n) === v, [chart, name, String(value)]);

test('the price chart: fills, studies, log axis, keyboard, pointer, a trade row', async () => {
  const { context, page, errors } = await launch();
  try {
    await page.goto(srv.base);
    await buildAaplModel(page);
    await sweepIntoCart(page, 0);
    await page.click('nav a[data-route=backtest]');
    await page.waitForSelector('[data-testid=bt-report]', { timeout: 60_000 });
    await page.waitForSelector(`${chart}[data-bars]`, { timeout: 30_000 });

    // The tested bars, each trade's entry and exit.
    const head = await page.locator('[data-testid=bt-report] .panel-head .muted').first().innerText();
    const bars = Number(head.match(/· (\d+) bars/)[1]);
    assert.equal(Number(await attr(page, 'data-bars')), bars);
    const trades = Number(await page.locator('[data-testid=bt-trade-count]').innerText());
    assert.ok(trades > 0);
    assert.equal(Number(await attr(page, 'data-marks')), 2 * trades);

    // Studies: the model's own features, a band over the prices and an oscillator in a pane
    // to begin with; one added from the list grows the chart by a pane, removing it shrinks it.
    const chips = await page.locator('[data-testid=study-chip]').evaluateAll((cs) => cs.map((c) => c.dataset.study));
    assert.ok(chips.length >= 1, 'a study to begin with');
    assert.equal(await attr(page, 'data-studies'), chips.join(' '));
    const height = async () => (await page.locator(chart).boundingBox()).height;
    const h0 = await height();
    const pane = await page.locator('[data-testid=study-add] option', { hasText: '(in a pane)' }).first().getAttribute('value');
    await page.selectOption('[data-testid=study-add]', pane);
    await waitAttr(page, 'data-studies', [...chips, pane].join(' '));
    assert.ok(await height() > h0 + 50, 'a pane of its own');
    await page.click(`[data-testid=study-chip][data-study="${pane}"] button`);
    await waitAttr(page, 'data-studies', chips.join(' '));
    assert.equal(await height(), h0);

    // Log axis: on to begin with, since AAPL's tested prices grew more than tenfold; off and on.
    await waitAttr(page, 'data-log', 'true');
    await page.uncheck('[data-testid=bt-prices] [data-testid=price-log]');
    await waitAttr(page, 'data-log', 'false');
    await page.check('[data-testid=bt-prices] [data-testid=price-log]');
    await waitAttr(page, 'data-log', 'true');

    // Keyboard: End to the last bar (its date read out), ← one back, + zooms in around the
    // cursor, Escape shows every bar again.
    const end = head.match(/\.\. (\S+) ·/)[1];
    await page.focus(chart);
    await page.keyboard.press('End');
    await waitAttr(page, 'data-cursor', bars - 1);
    assert.ok((await page.locator('[data-testid=chart-readout]').innerText()).includes(end), 'the last bar read out');
    await page.keyboard.press('ArrowLeft');
    await waitAttr(page, 'data-cursor', bars - 2);
    const [s0, e0] = await windowOf(page);
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const [s1, e1] = await windowOf(page);
    assert.ok(e1 - s1 < e0 - s0, 'zoomed in');
    assert.ok(s1 <= bars - 2 && bars - 2 < e1, 'around the cursor');
    // Page Up shows the page of bars before, Page Down comes back.
    // (A page, or to the end there is.)
    const width = e1 - s1;
    await page.keyboard.press('PageUp');
    const [sp, ep] = await windowOf(page);
    assert.ok(Math.abs(sp - Math.max(0, s1 - width)) <= 1 && Math.abs((ep - sp) - width) <= 1, `a page back: ${s1}-${e1} → ${sp}-${ep}`);
    await page.keyboard.press('PageDown');
    const [sn, en] = await windowOf(page);
    assert.ok((en === bars || Math.abs(sn - (sp + width)) <= 1) && Math.abs((en - sn) - width) <= 1, `a page on: ${sp}-${ep} → ${sn}-${en}`);
    assert.ok(await chartColours(page) > 10, 'candles, volume, studies and fills drawn');

    // Pointer: a drag pans, the wheel zooms out.
    await page.locator(chart).scrollIntoViewIfNeeded();
    const box = await page.locator(chart).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 150);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 200, box.y + 150, { steps: 5 });
    await page.mouse.up();
    const [s2, e2] = await windowOf(page);
    assert.ok(s2 < s1 && Math.abs((e2 - s2) - (e1 - s1)) <= 1, `dragged right shows earlier bars: ${s1}-${e1} → ${s2}-${e2}`);
    await page.mouse.wheel(0, 400);
    const [s3, e3] = await windowOf(page);
    assert.ok(e3 - s3 > e2 - s2, 'the wheel zooms out');
    await page.focus(chart);
    await page.keyboard.press('Escape');
    await waitAttr(page, 'data-window', `0-${bars}`);

    // Touch: two fingers spread apart zoom in about four times, as a pinch does.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 2 });
    const [cx, cy] = [box.x + box.width / 2, box.y + 200];
    const touch = (type, spread) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: type === 'touchEnd' ? [] : [{ x: cx - spread, y: cy, id: 1 }, { x: cx + spread, y: cy, id: 2 }],
    });
    await touch('touchStart', 50);
    for (const spread of [80, 120, 160, 200]) await touch('touchMove', spread);
    await touch('touchEnd', 0);
    const [s5, e5] = await windowOf(page);
    assert.ok(Math.abs((e5 - s5) - bars / 4) <= bars / 20, `a pinch zooms in four times: ${s5}-${e5} of ${bars}`);
    await page.focus(chart);
    await page.keyboard.press('Escape');
    await waitAttr(page, 'data-window', `0-${bars}`);

    // A trade row centres the chart on its entry; Enter on that bar picks the trade again.
    const rows = page.locator('[data-testid=bt-trades] tbody tr');
    await rows.nth(0).click();
    await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.focus, chart);
    const entry = Number(await attr(page, 'data-focus'));
    const [s4, e4] = await windowOf(page);
    assert.ok(s4 <= entry && entry < e4 && e4 - s4 <= 130, `the entry in a close view: ${entry} in ${s4}-${e4}`);
    assert.equal(Number(await attr(page, 'data-cursor')), entry);
    const first = await rows.nth(0).getAttribute('data-key');
    await rows.nth(1).click();
    await page.waitForFunction(([sel, e]) => document.querySelector(sel)?.dataset.focus !== String(e), [chart, entry]);
    assert.equal(await page.locator('[data-testid=bt-trades] tbody tr[aria-current=true]').getAttribute('data-key'), await rows.nth(1).getAttribute('data-key'));
    // The cursor bar is the fill: its open is the trade's entry price.
    const entryPrice = await rows.nth(0).locator('td').nth(3).innerText();
    // A click on the first trade's entry arrow picks it: down the entry bar's column until it does.
    await page.locator(chart).scrollIntoViewIfNeeded();
    const cbox = await page.locator(chart).boundingBox();
    const [sw, ew] = await windowOf(page);
    assert.ok(sw <= entry && entry < ew, `the first trade's entry still in view: ${entry} in ${sw}-${ew}`);
    const barW = (cbox.width - 64) / (ew - sw);
    const x = cbox.x + (entry - Number((await attr(page, 'data-window')).split('-')[0]) + 0.5) * barW;
    let picked = false;
    for (let y = cbox.y + 30; y < cbox.y + 330 && !picked; y += 8) {
      await page.mouse.click(x, y);
      picked = (await page.locator('[data-testid=bt-trades] tbody tr[aria-current=true]').getAttribute('data-key')) === first;
    }
    assert.ok(picked, 'a click on the fill picks its trade');
    await rows.nth(1).click();
    await page.waitForFunction(([sel, e]) => document.querySelector(sel)?.dataset.focus !== String(e), [chart, entry]);
    // Back to the first trade's entry bar with the keyboard, and Enter picks it.
    await page.focus(chart);
    const now = Number(await attr(page, 'data-cursor'));
    const key = entry < now ? 'ArrowLeft' : 'ArrowRight';
    for (let i = 0; i < Math.abs(now - entry); i++) await page.keyboard.press(key);
    await waitAttr(page, 'data-cursor', entry);
    assert.match(await page.locator('[data-testid=chart-readout]').innerText(), new RegExp(`: open ${entryPrice.replace('.', '\\.')},`));
    await page.keyboard.press('Enter');
    await page.waitForFunction((k) => document.querySelector('[data-testid=bt-trades] tbody tr[aria-current=true]')?.dataset.key === k, first);
    // Panned away, the same trade picked again from the table comes back into view.
    await page.focus(chart);
    await page.keyboard.press('Home');
    assert.ok(entry >= (await windowOf(page))[1], 'panned away from the entry');
    await rows.nth(0).click();
    await page.waitForFunction(([sel, e]) => {
      const [a, b] = document.querySelector(sel).dataset.window.split('-').map(Number);
      return a <= e && e < b;
    }, [chart, entry]);
    await shot(page, 'backtest-prices');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
