// npm lifecycle helper: `prepack` copies the seven wasm modules that `make wasm` builds
// (target/wasm/ferrovec{,-simd,-solver,-solver-simd,-encoder,-encoder-simd,-encoder-relaxed}.wasm,
// or $FERROVEC_WASM_DIR) next to
// ferrovec.mjs, so `npm pack` / `npm publish` ship them; `postpack` removes the copies again
// (they are build products, never committed). Before copying, each module is checked: it
// instantiates with no imports, implements the ABI version ferrovec.mjs speaks, and the SIMD
// build says so in its capabilities (the scalar one does not). The relaxed-simd module is
// described by this script run again in a child Node with `--experimental-wasm-relaxed-simd`
// where this Node's engine does not validate relaxed SIMD by default (Node 20).
//
//   node scripts/wasm-files.mjs copy | clean
//   node scripts/wasm-files.mjs describe FILE   (prints [ABI version, capabilities] as JSON)

import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ABI_VERSION, CAP_ENCODER, CAP_ENCODER_INT8, CAP_INDEX, CAP_INDEX_MODEL_ID, CAP_RELAXED_SIMD, CAP_SIMD128,
  CAP_SOLVER, Ferrovec,
} from '../ferrovec.mjs';

const self = fileURLToPath(import.meta.url);
const pkg = path.resolve(path.dirname(self), '..');
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
  ['ferrovec-encoder-relaxed.wasm', CAP_ENCODER | CAP_ENCODER_INT8 | CAP_SIMD128 | CAP_RELAXED_SIMD],
];

// [ABI version, capabilities] of the module at `src`, or throws if it does not instantiate
// without imports.
async function describeModule(src, bytes, relaxed) {
  if (relaxed && !Ferrovec.relaxedSimdSupported()) {
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', self, 'describe', src],
      { encoding: 'utf8' });
    return JSON.parse(out);
  }
  const x = (await WebAssembly.instantiate(bytes, {})).instance.exports;
  return [typeof x.fv_abi_version === 'function' ? x.fv_abi_version() >>> 0 : null, x.fv_capabilities() >>> 0];
}

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
    let version, found;
    try {
      [version, found] = await describeModule(src, bytes, (caps & CAP_RELAXED_SIMD) !== 0);
    } catch (err) {
      fail(`${src} is not a loadable wasm module without imports: ${err.message}`);
    }
    if (version !== ABI_VERSION) {
      fail(`${src} implements ABI version ${version}, ferrovec.mjs needs ${ABI_VERSION}: rebuild with \`make wasm\``);
    }
    if (found !== caps) {
      fail(`${src} has capabilities ${found}, expected ${caps}`);
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
else if (command === 'describe') {
  const src = process.argv[3];
  console.log(JSON.stringify(await describeModule(src, readFileSync(src), false)));
} else fail(`usage: node scripts/wasm-files.mjs copy | clean | describe FILE (got ${command})`);
