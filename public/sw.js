// The service worker: after one visit the app shell (HTML, JS, wasm, worker, CSS, demo data)
// comes from a cache named by the build, so the page loads and works with the network gone,
// under whatever sub-path it is served from. `scripts/stamp-build` (a Trunk post_build hook)
// writes BUILD (a hash of every shipped file) and FILES (their paths) into the built copy of
// this file, so each build is a new service worker: the browser installs it on the next visit,
// it takes over at once, and the page says a new version is ready (app.rs).
const BUILD = '__BUILD__';
const FILES = ['__FILES__'];
const CACHE = `btb-shell-${BUILD}`;

// Paths are relative to the scope, so the same file works at / and at /btb/.
const scoped = (path) => new URL(path, self.registration.scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `no-cache`: revalidate with the server, so an HTTP cache never fills this build's cache
    // with another build's bytes.
    await cache.addAll(['./', ...FILES].map((f) => new Request(scoped(f), { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('btb-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || !req.url.startsWith(self.registration.scope)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // A navigation anywhere in the scope is the app (it routes on the client).
    const key = req.mode === 'navigate' ? scoped('./') : req;
    const hit = await cache.match(key, { ignoreSearch: true });
    return hit ?? fetch(req);
  })());
});

// The page asks which build is running, to tell the user when a new one took over.
self.addEventListener('message', (event) => {
  if (event.data === 'build') event.source?.postMessage({ build: BUILD });
});
