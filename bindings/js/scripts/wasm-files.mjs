// npm lifecycle helper: `prepack` copies the six wasm modules that `make wasm` builds
// (target/wasm/ferrovec{,-simd,-solver,-solver-simd,-encoder,-encoder-simd}.wasm, or $FERROVEC_WASM_DIR) next to
// ferrovec.mjs, so `npm pack` / `npm publish` ship them; `postpack` removes the copies again
// (they are build products, never committed). Before copying, each module is checked: it
// instantiates with no imports, implements the ABI version ferrovec.mjs speaks, and the SIMD
// build says so in its capabilities (the scalar one does not).
//
//   node scripts/wasm-files.mjs copy | clean

import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ABI_VERSION, CAP_ENCODER, CAP_ENCODER_INT8, CAP_INDEX, CAP_INDEX_MODEL_ID, CAP_SIMD128, CAP_SOLVER,
} from '../ferrovec.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = process.env.FERROVEC_WASM_DIR
  ? path.resolve(process.env.FERROVEC_WASM_DIR)
  : path.resolve(pkg, '../../target/wasm');
// [name, expected capabilities]: the index modules and the solver modules (wasm/README.md).
const MODULES = [
  ['ferrovec.wasm', CAP_INDEX | CAP_INDEX_MODEL_ID],
  ['ferrovec-simd.wasm', CAP_INDEX | CAP_INDEX_MODEL_ID | CAP_SIMD128],
  ['ferrovec-solver.wasm', CAP_SOLVER],
  ['ferrovec-solver-simd.wasm', CAP_SOLVER | CAP_SIMD128],
  ['ferrovec-encoder.wasm', CAP_ENCODER | CAP_ENCODER_INT8],
  ['ferrovec-encoder-simd.wasm', CAP_ENCODER | CAP_ENCODER_INT8 | CAP_SIMD128],
];

function fail(message) {
  clean(); // no half-copied pair left behind
  console.error(`ferrovec prepack: ${message}`);
  process.exit(1);
}

async function copy() {
  for (const [name, caps] of MODULES) {
    const src = path.join(from, name);
    let bytes;
    try {
      bytes = readFileSync(src);
    } catch (err) {
      fail(`${src} is missing (${err.code}): build the modules first with \`make wasm\` in the repository root (or set FERROVEC_WASM_DIR)`);
    }
    let x;
    try {
      x = (await WebAssembly.instantiate(bytes, {})).instance.exports;
    } catch (err) {
      fail(`${src} is not a loadable wasm module without imports: ${err.message}`);
    }
    const version = typeof x.fv_abi_version === 'function' ? x.fv_abi_version() >>> 0 : null;
    if (version !== ABI_VERSION) {
      fail(`${src} implements ABI version ${version}, ferrovec.mjs needs ${ABI_VERSION}: rebuild with \`make wasm\``);
    }
    if (x.fv_capabilities() >>> 0 !== caps) {
      fail(`${src} has capabilities ${x.fv_capabilities()}, expected ${caps}`);
    }
    copyFileSync(src, path.join(pkg, name));
    console.error(`ferrovec prepack: ${name} (${bytes.length} bytes) from ${src}`);
  }
}

function clean() {
  for (const [name] of MODULES) rmSync(path.join(pkg, name), { force: true });
}

const command = process.argv[2];
if (command === 'copy') await copy();
else if (command === 'clean') clean();
else fail(`usage: node scripts/wasm-files.mjs copy | clean (got ${command})`);
