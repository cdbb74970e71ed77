// Shared by the tests: where the modules are, and the golden cases.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

/** Built by `make wasm`; FERROVEC_WASM_DIR overrides the directory. */
export const WASM_DIR = process.env.FERROVEC_WASM_DIR ?? path.join(root, 'target/wasm');

/** Both builds, scalar first: [name, path, expected capabilities] (bit 1 the index, bit 4
 *  its model id, bit 0 simd128). */
export const MODULES = [
  ['ferrovec.wasm', path.join(WASM_DIR, 'ferrovec.wasm'), 2 | 16],
  ['ferrovec-simd.wasm', path.join(WASM_DIR, 'ferrovec-simd.wasm'), 3 | 16],
];

export function moduleBytes(file) {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${file}: ${err.message} (run 'make wasm' first)`);
  }
}

/** tests/golden/kernels.json (schema: tests/golden/README.md). */
export function goldenCases() {
  const doc = JSON.parse(readFileSync(path.join(root, 'tests/golden/kernels.json'), 'utf8'));
  if (doc.format !== 'ferrovec-golden-kernels' || doc.version !== 1) {
    throw new Error(`unexpected golden file format ${doc.format} v${doc.version}`);
  }
  return doc.cases;
}

/** A golden f32 value: a number (exactly an f32) or "NaN" / "Infinity" / "-Infinity". */
export function goldenNumber(v) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`bad golden number ${JSON.stringify(v)}`);
}

/** A golden f32 array as a Float32Array, checking that every value is exactly an f32. */
export function goldenF32(values) {
  const out = new Float32Array(values.length);
  values.forEach((v, i) => {
    const x = goldenNumber(v);
    out[i] = x;
    if (!Object.is(out[i], x) && !Number.isNaN(x)) {
      throw new Error(`golden value ${v} is not exactly an f32`);
    }
  });
  return out;
}

/**
 * Why `got` fails the golden rule for `expected` (with `tol`, or exact when tol is
 * undefined), or null if it passes.
 */
export function goldenMismatch(got, expected, tol) {
  const want = goldenNumber(expected);
  if (Number.isNaN(want)) return Number.isNaN(got) ? null : `expected NaN, got ${got}`;
  if (!Number.isFinite(want)) return got === want ? null : `expected ${want}, got ${got}`;
  if (tol === undefined || tol === null) return got === want ? null : `expected exactly ${want}, got ${got}`;
  if (Number.isNaN(got)) return `expected ${want} +- ${tol}, got NaN`;
  const err = Math.abs(got - want);
  return err <= tol ? null : `expected ${want} +- ${tol}, got ${got} (off by ${err})`;
}
