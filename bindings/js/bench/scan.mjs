// V8 benchmark of both wasm modules: one query against 20,000 rows of d = 384, per kernel.
//
//   node bindings/js/bench/scan.mjs [--json] [--rows N] [--dims D] [--min-ms T]
//   make bench-js
//
// Data lives in module memory (resident WasmBuffers), so the numbers are kernel time plus
// the ABI call, not JS-side copying; `scan_f32 (copying)` shows the end-to-end cost of the
// convenience API that copies a Float32Array of rows in on every call.
//
// - scan_f32/<metric>: one fv_scan_f32 call over all rows.
// - <kernel> (per row): one ABI call per row (fv_dot_f32, fv_dot_i8, fv_hamming_b1, ...),
//   i.e. the pairwise kernels have no scan in ABI v1; includes 20,000 JS->wasm calls.
//
// Prints the median ms per scan (all rows) and ns per row; compare with the native
// scan timed the same way over the same data (`cargo run --release -p ferrovec-core --example
// scan_native`, which `make bench-js` runs first) as ratios. `--json` prints one JSON object per line:
// {"engine":"v8","module":...,"kernel":...,"dims":...,"rows":...,"ms":...,"ns_per_row":...}.
// The machine is shared and noisy: compare numbers inside one run.

import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { readFileSync } from 'node:fs';

import { Ferrovec } from '../ferrovec.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const JSON_OUT = args.includes('--json');
const ROWS = flag('--rows', 20000);
const DIMS = flag('--dims', 384);
const MIN_MS = flag('--min-ms', 300);

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = process.env.FERROVEC_WASM_DIR ?? path.resolve(here, '../../../target/wasm');
const MODULES = ['ferrovec.wasm', 'ferrovec-simd.wasm'];

// Deterministic data (splitmix-like LCG), the same for both modules.
function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 40n) / 2 ** 24;
  };
}

function timeIt(fn) {
  for (let i = 0; i < 3; i++) fn(); // warm up (and let V8 tier up the JS loop)
  const samples = [];
  const start = performance.now();
  while (samples.length < 5 || (performance.now() - start < MIN_MS && samples.length < 200)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

async function benchModule(file) {
  const fv = await Ferrovec.load(readFileSync(path.join(wasmDir, file)));
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
    const status = fn();
    if (name.startsWith('scan_f32/') && !name.includes('copying') && status !== 0) {
      throw new Error(`${file} ${name}: status ${status}: ${fv.lastError()}`);
    }
    results.set(name, timeIt(fn));
  }
  // Also the fixed cost of one tiny call (n = 0, nothing read).
  const calls = 100000;
  results.set('one fv_dot_f32 call, n=0 (x100k)', timeIt(() => {
    for (let i = 0; i < calls; i++) x.fv_dot_f32(0, 0, 0);
  }));
  return results;
}

const all = new Map();
for (const file of MODULES) all.set(file, await benchModule(file));

const names = [...all.get(MODULES[0]).keys()];
if (JSON_OUT) {
  for (const [file, results] of all) {
    for (const [kernel, ms] of results) {
      const perCall = kernel.includes('x100k');
      console.log(JSON.stringify({
        engine: 'v8',
        node: process.versions.node,
        module: file,
        kernel,
        dims: perCall ? 0 : DIMS,
        rows: perCall ? 0 : ROWS,
        ms,
        ns_per_row: perCall ? (ms * 1e6) / 100000 : (ms * 1e6) / ROWS,
      }));
    }
  }
} else {
  console.log(`V8 (Node ${process.versions.node}), one query vs ${ROWS} rows, d = ${DIMS}; median ms per scan (ns per row)`);
  const w = Math.max(...names.map((n) => n.length)) + 2;
  console.log(`${'kernel'.padEnd(w)}${'ferrovec.wasm'.padStart(22)}${'ferrovec-simd.wasm'.padStart(22)}${'scalar/simd'.padStart(13)}`);
  const cell = (name, ms) => {
    const ns = name.includes('x100k') ? (ms * 1e6) / 100000 : (ms * 1e6) / ROWS;
    return `${ms.toFixed(3)} ms (${ns.toFixed(1)} ns)`.padStart(22);
  };
  for (const name of names) {
    const s = all.get(MODULES[0]).get(name);
    const v = all.get(MODULES[1]).get(name);
    console.log(`${name.padEnd(w)}${cell(name, s)}${cell(name, v)}${(s / v).toFixed(2).padStart(12)}x`);
  }
  console.log('(the n=0 row: ms per 100k calls, ns per call)');
}
