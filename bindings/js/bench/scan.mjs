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
import { benchModule } from './scan-core.mjs';

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

const all = new Map();
for (const file of MODULES) {
  const fv = await Ferrovec.load(readFileSync(path.join(wasmDir, file)));
  all.set(file, benchModule(fv, { rows: ROWS, dims: DIMS, minMs: MIN_MS }));
}

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
