// Offline after the first visit: the service worker caches this build's app shell, so with the
// server stopped a reload still loads the page and the engine works (demo data, a matrix
// build); a new build is picked up on the next visit and the page says so. Served under /btb/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, launch, shot, buildAaplModel } from './browser.mjs';
import { serve } from './server.mjs';

/** Stops a server and drops its open connections, as a host going away would. */
const stop = (server) => new Promise((ok) => { server.close(ok); server.closeAllConnections(); });

test('reload with the server gone, then a new build', async () => {
  // A copy of dist/, so the test can ship a "new build" without touching the real one.
  const dir = mkdtempSync(join(tmpdir(), 'btb-dist-'));
  cpSync(join(ROOT, 'dist'), dir, { recursive: true });
  let server = await serve(dir);
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}/btb/`;
  const { context, page, errors } = await launch();
  try {
    await page.goto(base);
    await page.waitForSelector('[data-testid=offline-ready]', { timeout: 60_000 });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json());
    assert.equal(manifest.start_url, './');
    assert.equal(manifest.display, 'standalone');

    await stop(server);
    // Nothing answers: a request outside the cache fails, so the page below comes from the cache.
    await assert.rejects(page.evaluate((u) => fetch(u + 'not-cached.txt'), base));
    await page.reload();
    await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
    // The engine works offline: worker.js and the wasm come from the cache too.
    await buildAaplModel(page);
    assert.match(await page.locator('[data-testid=matrix-rows]').innerText(), /\d/);
    await shot(page, 'offline-build');

    // A new build on the same host: the next visit installs it and says so.
    const sw = join(dir, 'sw.js');
    writeFileSync(sw, readFileSync(sw, 'utf8').replace(/const BUILD = '([0-9a-f]+)'/, "const BUILD = '$1-next'"));
    server = await serve(dir, port);
    await page.reload();
    await page.waitForSelector('[data-testid=shell-updated]', { timeout: 60_000 });
    await shot(page, 'offline-new-build');
    await page.click('[data-testid=shell-reload]');
    await page.waitForSelector('[data-testid=offline-ready]', { timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=shell-updated]').count(), 0);
    const caches = await page.evaluate(() => caches.keys());
    assert.equal(caches.length, 1, `one cache, this build's: ${caches}`);
    assert.match(caches[0], /-next$/);
    assert.deepEqual(errors.filter((e) => !/favicon|ERR_CONNECTION_REFUSED|ERR_FAILED|Failed to fetch/.test(e)), [], 'no page errors');
  } finally {
    await context.close();
    await stop(server);
  }
});
