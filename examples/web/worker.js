// The page's Web Worker: every piece of engine work happens here, so the page never blocks.
// It loads the wasm modules (the simd128 builds where the browser validates simd128), the
// model (from the asset cache, or downloaded with progress and stored there), the corpus,
// and the index: from IndexedDB when this model and corpus were indexed before, otherwise
// by embedding the corpus in batches and building an exact and an HNSW index, which it then
// saves to IndexedDB (ferrovec's portable index bytes). Then it answers searches.
//
// Messages in:  { type: 'init', site, scalar, noRelaxed } | { type: 'search', id, query, mode, k }
//               | { type: 'bench', texts, repeat }
// Messages out: 'stage' | 'progress' | 'notice' | 'ready' | 'results' | 'bench' | 'error'
//               (app.js shows them).

import { Ferrovec } from './ferrovec.mjs';

/** Shared with sw.js, which serves these entries first. */
const ASSET_CACHE = 'ferrovec-web-assets-v1';
const DB_NAME = 'ferrovec-web';
const DB_STORE = 'indexes';
/** Texts per call to the encoder: large enough to amortize a call, small for smooth progress. */
const EMBED_BATCH = 16;
const HNSW = { m: 16, efConstruction: 128, efSearch: 64 };

/** An error the page shows as it is; `kind`: fetch, corrupt, wasm, model, storage. */
class PageError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

const post = (message) => self.postMessage(message);
const notice = (message) => post({ type: 'notice', message });
const stage = (stageName, text) => post({ type: 'stage', stage: stageName, text });
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

let state = null;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === 'init') await init(data);
    else if (data.type === 'search') search(data);
    else if (data.type === 'bench') bench(data);
  } catch (err) {
    post({
      type: 'error',
      id: data.id,
      kind: err instanceof PageError ? err.kind : 'internal',
      message: err instanceof PageError ? err.message : `${err.name ?? 'Error'}: ${err.message}`,
    });
  }
};

// ---------------------------------------------------------------- downloads and the cache

async function openAssetCache() {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(ASSET_CACHE);
  } catch {
    return null; // e.g. storage disabled: everything still works, online only
  }
}

async function download(url, label) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (err) {
    throw new PageError('fetch', `Could not download ${label} (${url}): ${err.message}. Offline, or the server is down?`);
  }
  if (!response.ok) {
    throw new PageError('fetch', `Could not download ${label}: HTTP ${response.status} ${response.statusText} for ${url}.`);
  }
  return response;
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Why `bytes` are not the file site.json describes, or null when they are. */
async function problemWith(bytes, file) {
  if (bytes.byteLength !== file.bytes) return `${bytes.byteLength} bytes instead of ${file.bytes}`;
  if ((await sha256Hex(bytes)) !== file.sha256) return 'SHA-256 mismatch';
  return null;
}

/** The body of `response`, calling `onBytes(n)` as chunks arrive. */
async function readBody(response, onBytes) {
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes(bytes.length);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
    onBytes(value.length);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

async function store(cache, url, response) {
  if (cache === null) return;
  try {
    await cache.put(url, response);
  } catch (err) {
    notice(`Could not keep ${url} for offline use (${err.message}); it will be downloaded again next time.`);
  }
}

/**
 * The bytes of `file` (an entry of site.json): from the asset cache, else downloaded (streamed,
 * `onBytes` per chunk) and stored there. A cached copy that fails the size and SHA-256 check
 * is dropped and downloaded again; a download that fails it is an error.
 */
async function fileBytes(cache, file, label, onBytes) {
  let cached = cache === null ? null : (await cache.match(file.url)) ?? null;
  for (;;) {
    const fromCache = cached !== null;
    const response = cached ?? (await download(file.url, label));
    let read = 0;
    const bytes = await readBody(response, (n) => {
      read += n;
      onBytes(n);
    });
    const problem = await problemWith(bytes, file);
    if (problem === null) {
      if (!fromCache) {
        const type = response.headers.get('Content-Type') ?? 'application/octet-stream';
        await store(cache, file.url, new Response(bytes, { headers: { 'Content-Type': type } }));
      }
      return { bytes, fromCache };
    }
    onBytes(-read);
    if (!fromCache) throw new PageError('corrupt', `The download of ${label} is corrupt (${problem}). Reload to try again.`);
    await cache.delete(file.url);
    notice(`The cached copy of ${label} was corrupt (${problem}): dropped it and downloading it again.`);
    cached = null;
  }
}

/**
 * A wasm module instance of `file`: the cached or downloaded Response goes to
 * `Ferrovec.load`, which compiles it while it streams in when it is served as
 * application/wasm (`WebAssembly.instantiateStreaming`) and from the whole body otherwise.
 * A second copy is checked against site.json's checksum (and a third stored in the cache).
 */
async function wasmModule(cache, file, label) {
  let cached = cache === null ? null : (await cache.match(file.url)) ?? null;
  for (;;) {
    const fromCache = cached !== null;
    const response = cached ?? (await download(file.url, label));
    const streaming = response.headers.get('Content-Type') === 'application/wasm';
    const checkCopy = response.clone();
    const storeCopy = fromCache ? null : response.clone();
    try {
      const [fv, problem] = await Promise.all([
        Ferrovec.load(response),
        checkCopy.arrayBuffer().then((b) => problemWith(new Uint8Array(b), file)),
      ]);
      if (problem !== null) throw new Error(problem);
      if (storeCopy !== null) await store(cache, file.url, storeCopy);
      return { fv, streaming, fromCache };
    } catch (err) {
      if (!fromCache) {
        throw new PageError(
          'wasm',
          `${label} did not load: ${err.message}. ${err instanceof WebAssembly.CompileError ? 'Is it a ferrovec module?' : ''}`.trim(),
        );
      }
      await cache.delete(file.url);
      notice(`The cached copy of ${label} was corrupt (${err.message}): dropped it and downloading it again.`);
      cached = null;
    }
  }
}

// ---------------------------------------------------------------- IndexedDB

function openDb() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new Error('no IndexedDB'));
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

function dbRequest(db, mode, makeRequest) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(DB_STORE, mode);
    const request = makeRequest(tx.objectStore(DB_STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

// ---------------------------------------------------------------- start-up

async function init({ site, scalar, noRelaxed }) {
  const cache = await openAssetCache();
  const simd = !scalar && Ferrovec.simdSupported();
  const flavor = simd ? 'simd' : 'scalar';
  // The encoder's relaxed-simd build (fused multiply-adds) where the engine validates it.
  const relaxedSimd = simd && !noRelaxed && Ferrovec.relaxedSimdSupported();
  const encoderFlavor = relaxedSimd ? 'relaxed' : flavor;

  stage('wasm', `loading the ${relaxedSimd ? 'simd128 + relaxed-simd' : simd ? 'simd128' : 'scalar'} wasm modules`);
  const [indexModule, encoderModule] = await Promise.all([
    wasmModule(cache, site.wasm.index[flavor], `the index module (${site.wasm.index[flavor].url})`),
    wasmModule(cache, site.wasm.encoder[encoderFlavor], `the encoder module (${site.wasm.encoder[encoderFlavor].url})`),
  ]);

  // The model and the corpus: one progress bar over every byte.
  const files = [...site.model.files.map((f) => ({ ...f, label: `the model file ${f.name}` })), { ...site.corpus, label: 'the corpus' }];
  const total = files.reduce((n, f) => n + f.bytes, 0);
  let loaded = 0;
  let lastPost = 0;
  const onBytes = (n) => {
    loaded += n;
    const now = performance.now();
    if (now - lastPost > 50 || loaded === total) {
      lastPost = now;
      post({ type: 'progress', phase: 'model', done: loaded, total, text: `${site.model.name}: ${mb(loaded)} of ${mb(total)}` });
    }
  };
  stage('model', `loading ${site.model.name} (${mb(total)})`);
  const t0 = performance.now();
  const got = await Promise.all(files.map((f) => fileBytes(cache, f, f.label, onBytes)));
  const fetchMs = performance.now() - t0;
  post({ type: 'progress', phase: 'model', done: total, total, text: `${site.model.name}: ${mb(total)}` });
  const fromCache = got.every((g) => g.fromCache);

  const modelFiles = {};
  site.model.files.forEach((f, i) => {
    modelFiles[f.key] = got[i].bytes;
  });
  let encoder;
  try {
    encoder = encoderModule.fv.newEncoder(modelFiles);
  } catch (err) {
    throw new PageError('model', `The model ${site.model.name} does not load: ${err.message}`);
  }
  let corpus;
  try {
    corpus = JSON.parse(new TextDecoder().decode(got[got.length - 1].bytes));
    if (!Array.isArray(corpus.texts) || !Array.isArray(corpus.names) || corpus.texts.length !== corpus.names.length) {
      throw new Error('expected { texts: [...], names: [...] } of equal length');
    }
  } catch (err) {
    throw new PageError('corrupt', `The corpus is not valid: ${err.message}`);
  }

  const fv = indexModule.fv;
  const modelId = encoder.modelId.toString(16).padStart(16, '0');
  const dbKey = `${modelId}:${site.corpus.sha256}`;
  const indexes = await savedIndexes(fv, dbKey, corpus.texts.length, encoder.dims);
  let source = 'indexeddb';
  let built = null;
  if (indexes.exact === undefined) {
    source = 'built';
    built = buildIndexes(fv, encoder, corpus.texts);
    Object.assign(indexes, built.indexes);
    await saveIndexes(dbKey, built.indexes, corpus.texts.length);
  }

  state = { encoder, indexes, texts: corpus.texts, names: corpus.names };
  setTimeout(() => warmUp(corpus.texts[0] ?? 'warm up'), 0);
  post({
    type: 'ready',
    info: {
      simd,
      relaxedSimd,
      streaming: indexModule.streaming && encoderModule.streaming,
      wasmFromCache: indexModule.fromCache && encoderModule.fromCache,
      modelFromCache: fromCache,
      fetchMs,
      modelId,
      dims: encoder.dims,
      count: corpus.texts.length,
      indexSource: source,
      loadMs: indexes.loadMs,
      embedMs: built?.embedMs,
      tokens: built?.tokens,
      buildMs: built?.buildMs,
    },
  });
}

/** The exact and HNSW indexes saved for `key`, or {} (a bad record is dropped). */
async function savedIndexes(fv, key, count, dims) {
  let record;
  try {
    const db = await openDb();
    record = await dbRequest(db, 'readonly', (s) => s.get(key));
    db.close();
  } catch (err) {
    notice(`IndexedDB is not available (${err.message}): the corpus is embedded on every visit.`);
    return {};
  }
  if (record === undefined) return {};
  stage('index', 'loading the saved index from IndexedDB');
  const t0 = performance.now();
  const loaded = [];
  try {
    for (const kind of ['exact', 'hnsw']) {
      const index = fv.loadIndex(new Uint8Array(record[kind]));
      loaded.push(index);
      if (index.size !== count || index.dims !== dims) {
        throw new Error(`${kind}: ${index.size} vectors of ${index.dims} dims, expected ${count} of ${dims}`);
      }
    }
  } catch (err) {
    for (const index of loaded) index.free();
    notice(`The saved index was unusable (${err.message}): dropped it; embedding the corpus again.`);
    try {
      const db = await openDb();
      await dbRequest(db, 'readwrite', (s) => s.delete(key));
      db.close();
    } catch {
      // nothing more to do: it is overwritten below
    }
    return {};
  }
  return { exact: loaded[0], hnsw: loaded[1], loadMs: performance.now() - t0 };
}

function buildIndexes(fv, encoder, texts) {
  const n = texts.length;
  const dims = encoder.dims;
  const vectors = new Float32Array(n * dims);
  stage('embed', `embedding ${n} texts`);
  let tokens = 0;
  const t0 = performance.now();
  let lastPost = 0;
  for (let i = 0; i < n; i += EMBED_BATCH) {
    const batch = texts.slice(i, i + EMBED_BATCH);
    vectors.set(encoder.embed(batch), i * dims);
    const done = i + batch.length;
    const now = performance.now();
    if (now - lastPost > 50 || done === n) {
      lastPost = now;
      const rate = (now - t0) / done;
      post({ type: 'progress', phase: 'embed', done, total: n, text: `embedded ${done} of ${n} texts (${rate.toFixed(1)} ms per text)` });
    }
  }
  for (const t of texts) tokens += encoder.tokenize(t).length;
  const embedMs = performance.now() - t0;
  stage('index', `building the exact and HNSW indexes of ${n} vectors`);
  const t1 = performance.now();
  const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const exact = fv.newIndex({ dims, metric: 'cosine' });
  exact.addBatch(keys, vectors);
  const hnsw = fv.newIndex({ dims, metric: 'cosine', hnsw: HNSW });
  hnsw.addBatch(keys, vectors);
  return { indexes: { exact, hnsw }, embedMs, tokens, buildMs: performance.now() - t1 };
}

async function saveIndexes(key, { exact, hnsw }, count) {
  try {
    const record = { exact: exact.save().buffer, hnsw: hnsw.save().buffer, count, savedAt: Date.now() };
    const db = await openDb();
    await dbRequest(db, 'readwrite', (s) => s.put(record, key));
    db.close();
  } catch (err) {
    notice(`Could not save the index to IndexedDB (${err.message}): the next visit embeds the corpus again.`);
  }
}

// ---------------------------------------------------------------- searching

/**
 * V8 compiles wasm with its baseline compiler first and optimizes a function only once it
 * is hot, so a fresh instance's first searches are slow: an exact search of 3,000 x 384 took
 * 13 ms on its first call and 0.2 ms from about the sixth on (Node 20), and the first query
 * of a warm visit took 34 ms to embed where later ones took 15-20 (Chromium). After 'ready',
 * a few embeddings and searches, one per task so that a real query waits for at most one of
 * them, get the hot code optimized before the user's first query; 'warm' says when done.
 */
function warmUp(text) {
  const t0 = performance.now();
  const steps = [];
  let vector = null;
  for (let i = 0; i < 3; i++) {
    steps.push(() => {
      vector = state.encoder.embedOne(text);
    });
  }
  for (let i = 0; i < 8; i++) {
    steps.push(() => {
      state.indexes.exact.search(vector, 10);
      state.indexes.hnsw.search(vector, 10);
    });
  }
  const next = () => {
    const step = steps.shift();
    if (step === undefined) {
      post({ type: 'warm', ms: performance.now() - t0 });
      return;
    }
    step();
    setTimeout(next, 0);
  };
  next();
}

function search({ id, query, mode, k = 10 }) {
  if (state === null) throw new PageError('internal', 'not ready yet');
  const index = state.indexes[mode];
  if (index === undefined) throw new PageError('internal', `unknown mode ${mode}`);
  if (query.trim() === '') {
    post({ type: 'results', id, query, mode, hits: [], embedMs: 0, searchMs: 0 });
    return;
  }
  const t0 = performance.now();
  const vector = state.encoder.embedOne(query);
  const t1 = performance.now();
  const matches = index.search(vector, k);
  const t2 = performance.now();
  const hits = matches.map(({ key, distance }) => ({
    key: Number(key),
    distance,
    text: state.texts[Number(key)],
    name: state.names[Number(key)],
  }));
  post({ type: 'results', id, query, mode, hits, embedMs: t1 - t0, searchMs: t2 - t1 });
}

/** Median ms to embed each of `texts` alone (after one warm-up), with its token count. */
function bench({ id, texts, repeat = 5 }) {
  if (state === null) throw new PageError('internal', 'not ready yet');
  const rows = texts.map((text) => {
    state.encoder.embedOne(text);
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      state.encoder.embedOne(text);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { tokens: state.encoder.tokenize(text).length, ms: times[Math.floor(times.length / 2)] };
  });
  post({ type: 'bench', id, rows });
}
