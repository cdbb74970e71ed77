// The page: UI only. The engine (wasm modules, model, index) lives in worker.js; the service
// worker (sw.js) keeps the page working offline. State the browser test reads:
//   document.body.dataset.state        loading | ready | error
//   document.body.dataset.indexSource  indexeddb | built (once ready)
//   window.ferrovecPage                { info, timings: { ready, firstResults }, ... }

const $ = (id) => document.getElementById(id);
const page = {
  info: null,
  timings: { ready: null, firstResults: null },
  notices: [],
  worker: null,
};
window.ferrovecPage = page;

function fail(message) {
  document.body.dataset.state = 'error';
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  $('stage').textContent = 'stopped';
}

function addNotice(message) {
  page.notices.push(message);
  const li = document.createElement('li');
  li.textContent = message;
  $('notices').append(li);
}

/** What the browser lacks for this page, or null. */
function missingFeature() {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
    return 'This browser does not support WebAssembly (or it is turned off), so the search engine cannot run here. Try a current Chrome, Edge, Firefox or Safari, or turn WebAssembly on.';
  }
  if (typeof Worker !== 'function') return 'This browser has no Web Workers, which this page runs its engine in.';
  return null;
}

/** Registers sw.js and waits until it controls this page (first visit: a moment). */
async function offlineSupport() {
  if (!('serviceWorker' in navigator)) return 'unavailable: no service workers in this browser (or not a secure context): online only';
  try {
    await navigator.serviceWorker.register('sw.js');
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve, reject) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(() => reject(new Error('the service worker did not take control')), 10000);
      });
    }
    return 'ready: the page, the model and the wasm are cached (service worker active)';
  } catch (err) {
    return `unavailable (${err.message}): online only`;
  }
}

async function main() {
  const missing = missingFeature();
  if (missing !== null) return fail(missing);
  $('stage').textContent = 'starting the service worker';
  const offline = await offlineSupport();
  $('offline-status').textContent = offline;
  page.offline = offline;

  let site;
  try {
    const response = await fetch('site.json', { cache: 'no-cache' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    site = await response.json();
  } catch (err) {
    return fail(`Could not load site.json (${err.message}). Offline on a first visit, or the server is down?`);
  }
  renderExamples(site.examples ?? []);

  const params = new URLSearchParams(location.search);
  const worker = new Worker('worker.js', { type: 'module' });
  page.worker = worker;
  worker.onerror = (event) => fail(`The worker failed: ${event.message || 'it could not start (module workers unsupported?)'}`);
  worker.onmessage = ({ data }) => onWorkerMessage(data);
  worker.postMessage({ type: 'init', site, scalar: params.get('scalar') === '1', noRelaxed: params.get('relaxed') === '0' });
  if (params.get('mode') === 'hnsw') document.querySelector('input[name=mode][value=hnsw]').checked = true;
}

function onWorkerMessage(m) {
  switch (m.type) {
    case 'stage':
      $('stage').textContent = m.text;
      break;
    case 'progress': {
      const bar = $(m.phase === 'model' ? 'model-progress' : 'embed-progress');
      bar.max = m.total;
      bar.value = m.done;
      $(`${bar.id}-text`).textContent = m.text;
      break;
    }
    case 'notice':
      addNotice(m.message);
      break;
    case 'ready':
      ready(m.info);
      break;
    case 'results':
      showResults(m);
      break;
    case 'warm':
      page.warmMs = m.ms;
      break;
    case 'error':
      if (m.id !== undefined && page.info !== null) {
        inFlight = null;
        $('timing').textContent = `search failed: ${m.message}`;
        pump();
      } else {
        fail(m.message);
      }
      break;
    default:
      break;
  }
}

function ready(info) {
  page.info = info;
  page.timings.ready = performance.now();
  const ms = (x) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
  $('wasm-status').textContent =
    `${info.relaxedSimd ? 'simd128 modules (encoder: relaxed-simd)' : info.simd ? 'simd128 modules' : 'scalar modules'}, ${info.streaming ? 'compiled while streaming (instantiateStreaming)' : 'compiled from the whole body (server not sending application/wasm)'}` +
    `${info.wasmFromCache ? ', from the cache' : ''}`;
  $('model-status').textContent = `model id ${info.modelId}, ${info.dims} dims, ${info.modelFromCache ? 'from the cache' : 'downloaded'} in ${ms(info.fetchMs)}`;
  $('index-status').textContent =
    info.indexSource === 'indexeddb'
      ? `index: from IndexedDB (${info.count} vectors, loaded in ${ms(info.loadMs)})`
      : `index: built (embedded ${info.count} texts, ${info.tokens} tokens, in ${(info.embedMs / 1000).toFixed(1)} s, ${(info.embedMs / info.count).toFixed(1)} ms per text; indexes built in ${ms(info.buildMs)}; saved to IndexedDB)`;
  document.body.dataset.indexSource = info.indexSource;
  document.body.dataset.state = 'ready';
  $('q').disabled = false;
  $('mode').disabled = false;
  $('q').focus();
  if ($('q').value) search();
}

// ---------------------------------------------------------------- search as you type

let nextId = 1;
let inFlight = null;
let pending = null;
let shownId = 0;

function mode() {
  return document.querySelector('input[name=mode]:checked').value;
}

function search() {
  pending = { type: 'search', id: nextId++, query: $('q').value, mode: mode(), k: 10 };
  pump();
}

/** One search at a time: while one runs, only the newest request waits. */
function pump() {
  if (inFlight !== null || pending === null || page.worker === null) return;
  inFlight = pending;
  pending = null;
  page.worker.postMessage(inFlight);
}

function showResults(m) {
  inFlight = null;
  if (m.id > shownId) {
    shownId = m.id;
    const list = $('results');
    list.replaceChildren(
      ...m.hits.map((hit) => {
        const li = document.createElement('li');
        li.dataset.key = hit.key;
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = hit.name;
        const text = document.createElement('span');
        text.className = 'text';
        text.textContent = hit.text;
        const dist = document.createElement('span');
        dist.className = 'dist';
        dist.textContent = `distance ${hit.distance.toFixed(4)}`;
        li.append(name, text, dist);
        return li;
      }),
    );
    $('timing').textContent = m.query.trim() === '' ? '' : `embed ${m.embedMs.toFixed(1)} ms · search (${m.mode}) ${m.searchMs.toFixed(2)} ms`;
    list.dataset.query = m.query;
    list.dataset.mode = m.mode;
    if (page.timings.firstResults === null && m.hits.length > 0) {
      page.timings.firstResults = performance.now();
      $('first-search').textContent = `${(page.timings.firstResults / 1000).toFixed(2)} s after the page started loading`;
    }
  }
  pump();
}

function renderExamples(examples) {
  const box = $('examples');
  box.replaceChildren(
    ...examples.map((text) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = text;
      b.addEventListener('click', () => {
        $('q').value = text;
        if (page.info !== null) search();
      });
      return b;
    }),
  );
}

$('q').addEventListener('input', () => search());
for (const radio of document.querySelectorAll('input[name=mode]')) radio.addEventListener('change', () => search());
$('forget').addEventListener('click', async () => {
  for (const name of await caches.keys()) if (name.startsWith('ferrovec-web-')) await caches.delete(name);
  await new Promise((resolve) => {
    const r = indexedDB.deleteDatabase('ferrovec-web');
    r.onsuccess = r.onerror = r.onblocked = resolve;
  });
  for (const reg of await navigator.serviceWorker?.getRegistrations?.() ?? []) await reg.unregister();
  location.reload();
});

main().catch((err) => fail(`Unexpected error: ${err.message}`));
