// The page's service worker: makes a reload work offline.
//
// - The shell (the page, its scripts, ferrovec.mjs, site.json) is cached at install and
//   served network-first: online you get the newest build, offline the cached one.
// - The model, the wasm modules and the corpus have versioned URLs (`file?v=<hash>`, from
//   site.json) and never change under a URL: the worker stores them in the asset cache as
//   it downloads them (with a progress bar and a checksum), and this worker serves them
//   from there first. A corrupt entry is dropped by the worker, which fetches it again.
//
// build-site.mjs stamps the build id below, so each build is a new service worker that
// drops the previous build's shell cache.

const BUILD = '__BUILD__';
const SHELL_CACHE = `ferrovec-web-shell-${BUILD}`;
/** Shared with worker.js: immutable, versioned files. */
const ASSET_CACHE = 'ferrovec-web-assets-v1';
const SHELL = ['./', 'index.html', 'style.css', 'app.js', 'worker.js', 'ferrovec.mjs', 'site.json'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // `reload`: straight from the server, not the HTTP cache.
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('ferrovec-web-shell-') && name !== SHELL_CACHE) await caches.delete(name);
      }
      // Control the page that registered us now, so its first visit is already cached.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(respond(request));
});

async function respond(request) {
  const asset = await (await caches.open(ASSET_CACHE)).match(request);
  if (asset) return asset;
  try {
    const response = await fetch(request);
    if (response.ok && isShell(request)) {
      const copy = response.clone();
      caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy)).catch(() => {});
    }
    return response;
  } catch (err) {
    // Offline (or the server is down): the cached shell. A navigation to `./?q=...` is `./`.
    const cached = await caches.match(request, { ignoreSearch: request.mode === 'navigate' });
    if (cached) return cached;
    if (request.mode === 'navigate') {
      const page = await caches.match('./');
      if (page) return page;
    }
    return new Response(`offline and not cached: ${new URL(request.url).pathname}\n`, {
      status: 503,
      statusText: 'Offline',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
  }
}

function isShell(request) {
  const scope = new URL(self.registration.scope);
  const url = new URL(request.url);
  if (!url.pathname.startsWith(scope.pathname)) return false;
  const rel = url.pathname.slice(scope.pathname.length);
  return request.mode === 'navigate' || SHELL.includes(rel === '' ? './' : rel);
}
