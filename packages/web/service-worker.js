// The page's service worker (built into dist/sw.js by vite.config.ts, which puts VERSION and FILES above this): it
// stores every file of the build when installed, then answers the page's requests from that store first, so the
// page — the bundled model and sample included — opens and trains with no network once it has been loaded.
// Responses are stored with their headers, the cross-origin-isolation ones included, so an offline page keeps
// SharedArrayBuffer and the CPU backend's threads.
/* global VERSION, FILES */
const CACHE = `siftjs-web-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(FILES);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('siftjs-web-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      // The page's address may carry a query (?storage=indexeddb): the stored page serves it. Vary is ignored: the
      // server varies on Origin, which a module script's request sends and the install's requests did not.
      const stored = await caches.match(request, { ignoreSearch: request.mode === 'navigate', ignoreVary: true, cacheName: CACHE });
      return stored ?? fetch(request);
    })(),
  );
});
