// The measuring part of the scan benchmark, shared by Node (scan.mjs) and Chromium
// (scan-chromium.mjs): plain ES module, no Node APIs, so a page can import it as is.
// Data lives in module memory (resident WasmBuffers): the numbers are kernel time plus the
// ABI call, not JS-side copying.

// Deterministic data (splitmix-like LCG), the same for both modules.
export function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 40n) / 2 ** 24;
  };
}

// Median ms of one call of `fn` over samples of `repeat` calls each (a browser's clock
// without cross-origin isolation ticks in 0.1 ms steps: sample many calls at once there).
export function timeIt(fn, minMs, repeat = 1) {
  for (let i = 0; i < 3; i++) fn(); // warm up (and let V8 tier up the JS loop)
  const samples = [];
  const start = performance.now();
  while (samples.length < 5 || (performance.now() - start < minMs && samples.length < 200)) {
    const t0 = performance.now();
    for (let r = 0; r < repeat; r++) fn();
    samples.push((performance.now() - t0) / repeat);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

/**
 * Times each kernel (those named in `kernels`, default all) on the loaded module `fv`, over
 * deterministic data, `repeat` calls per sample; returns a Map from kernel name to median ms.
 */
export function benchModule(fv, { rows: ROWS = 20000, dims: DIMS = 384, minMs = 300, repeat = 1, kernels: only } = {}) {
  const x = fv.exports;
  const next = rng(42);
  const bytesB1 = DIMS / 8;

  const qF32 = fv.f32Buffer(DIMS);
  const rowsF32 = fv.f32Buffer(ROWS * DIMS);
  const out = fv.f32Buffer(ROWS);
  const qI8 = fv.i8Buffer(DIMS);
  const rowsI8 = fv.i8Buffer(ROWS * DIMS);
  const qB1 = fv.u8Buffer(bytesB1);
  const rowsB1 = fv.u8Buffer(ROWS * bytesB1);
  const fill = (buf, gen) => {
    const a = buf.array;
    for (let i = 0; i < a.length; i++) a[i] = gen();
  };
  fill(qF32, () => next() * 2 - 1);
  fill(rowsF32, () => next() * 2 - 1);
  fill(qI8, () => Math.floor(next() * 256) - 128);
  fill(rowsI8, () => Math.floor(next() * 256) - 128);
  fill(qB1, () => Math.floor(next() * 256));
  fill(rowsB1, () => Math.floor(next() * 256));
  const rowsCopy = rowsF32.array.slice(); // a plain Float32Array for the copying API
  const qCopy = qF32.array.slice();

  const perRow = (fn, q, rows, elemBytes, n) => () => {
    let acc = 0;
    const stride = n * elemBytes;
    for (let i = 0, p = rows.ptr; i < ROWS; i++, p += stride) acc += fn(q.ptr, p, n);
    return acc;
  };

  const kernels = [
    ['scan_f32/dot', () => x.fv_scan_f32(0, qF32.ptr, rowsF32.ptr, ROWS, DIMS, out.ptr)],
    ['scan_f32/cosine', () => x.fv_scan_f32(1, qF32.ptr, rowsF32.ptr, ROWS, DIMS, out.ptr)],
    ['scan_f32/l2sq', () => x.fv_scan_f32(2, qF32.ptr, rowsF32.ptr, ROWS, DIMS, out.ptr)],
    ['scan_f32/dot (copying)', () => fv.scanF32('dot', qCopy, rowsCopy)],
    ['dot_f32 (per row)', perRow(x.fv_dot_f32, qF32, rowsF32, 4, DIMS)],
    ['cosine_distance_f32 (per row)', perRow(x.fv_cosine_distance_f32, qF32, rowsF32, 4, DIMS)],
    ['l2sq_f32 (per row)', perRow(x.fv_l2sq_f32, qF32, rowsF32, 4, DIMS)],
    ['dot_i8 (per row)', perRow(x.fv_dot_i8, qI8, rowsI8, 1, DIMS)],
    ['l2sq_i8 (per row)', perRow(x.fv_l2sq_i8, qI8, rowsI8, 1, DIMS)],
    ['hamming_b1 (per row)', perRow(x.fv_hamming_b1, qB1, rowsB1, 1, bytesB1)],
    ['jaccard_b1 (per row)', perRow(x.fv_jaccard_b1, qB1, rowsB1, 1, bytesB1)],
  ];

  const results = new Map();
  for (const [name, fn] of kernels) {
    if (only && !only.includes(name)) continue;
    const status = fn();
    if (name.startsWith('scan_f32/') && !name.includes('copying') && status !== 0) {
      throw new Error(`${file} ${name}: status ${status}: ${fv.lastError()}`);
    }
    results.set(name, timeIt(fn, minMs, repeat));
  }
  // Also the fixed cost of one tiny call (n = 0, nothing read).
  const calls = 100000;
  if (!only) {
    results.set('one fv_dot_f32 call, n=0 (x100k)', timeIt(() => {
      for (let i = 0; i < calls; i++) x.fv_dot_f32(0, 0, 0);
    }, minMs, repeat));
  }
  return results;
}

