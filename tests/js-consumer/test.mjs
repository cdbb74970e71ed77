// An app that installed the packed npm package (`npm install --offline ferrovec-<v>.tgz`,
// make test-js-package) and uses it by name. Checks the installed files, then searches with
// the module the package ships. FERROVEC_WASM_DIR: the modules `make wasm` built, which the
// package must carry byte for byte.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ABI_VERSION, Ferrovec, FerrovecError } from 'ferrovec';

const here = path.dirname(fileURLToPath(import.meta.url));
const installed = path.join(here, 'node_modules', 'ferrovec');
const require = createRequire(import.meta.url);
const wasmDir = process.env.FERROVEC_WASM_DIR;

test('the package is installed from the tarball, not linked to the source tree', () => {
  assert.equal(realpathSync(installed), installed, 'node_modules/ferrovec must be a real directory');
  assert.equal(require.resolve('ferrovec'), path.join(installed, 'ferrovec.mjs'));
  assert.deepEqual(readdirSync(installed).sort(), [
    'README.md',
    'ferrovec-encoder-relaxed.wasm',
    'ferrovec-encoder-simd.wasm',
    'ferrovec-encoder.wasm',
    'ferrovec-simd.wasm',
    'ferrovec-solver-simd.wasm',
    'ferrovec-solver.wasm',
    'ferrovec.d.ts',
    'ferrovec.mjs',
    'ferrovec.wasm',
    'package.json',
  ]);
  const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'ferrovec');
  assert.equal(pkg.private, undefined);
  // The typings the package declares exist where it says (tsc checks they resolve and type-check).
  assert.equal(pkg.types, './ferrovec.d.ts');
  assert.equal(pkg.exports['.'].types, './ferrovec.d.ts');
  assert.match(readFileSync(path.join(installed, pkg.types), 'utf8'), /export declare class Ferrovec\b/);
  // The app's own package.json records the dependency on the tarball.
  const app = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
  assert.match(app.dependencies.ferrovec, /^file:.*ferrovec-\d+\.\d+\.\d+\.tgz$/);
});

test('the package carries every module that make wasm built, byte for byte', { skip: !wasmDir && 'FERROVEC_WASM_DIR not set' }, () => {
  for (const name of [
    'ferrovec.wasm',
    'ferrovec-simd.wasm',
    'ferrovec-solver.wasm',
    'ferrovec-solver-simd.wasm',
    'ferrovec-encoder.wasm',
    'ferrovec-encoder-simd.wasm',
    'ferrovec-encoder-relaxed.wasm',
  ]) {
    const shipped = readFileSync(require.resolve(`ferrovec/${name}`));
    assert.ok(shipped.length > 10_000, `${name}: ${shipped.length} bytes`);
    assert.ok(shipped.equals(readFileSync(path.join(wasmDir, name))), `${name} differs from ${wasmDir}`);
  }
});

test('Ferrovec.load() picks the shipped module, and both shipped modules work', async () => {
  assert.ok(Ferrovec.simdSupported(), 'Node >= 18 has WebAssembly SIMD');
  const fv = await Ferrovec.load();
  assert.equal(fv.abiVersion, ABI_VERSION);
  assert.equal(fv.simd, true);
  assert.equal(Ferrovec.bundledModule().href, pathToFileURL(path.join(installed, 'ferrovec-simd.wasm')).href);
  const scalar = await Ferrovec.load(Ferrovec.bundledModule(false));
  assert.equal(scalar.simd, false);
  for (const m of [fv, scalar]) {
    assert.equal(m.dotF32(new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6])), 32);
    assert.throws(
      () => m.dotF32(new Float32Array(2), new Float32Array(3)),
      (err) => err instanceof FerrovecError && err.variant === 'DimensionMismatch',
    );
  }
});

test('an index search by the installed package matches a brute force', async () => {
  const dims = 16;
  const n = 400;
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const rows = Float32Array.from({ length: n * dims }, rand);
  const keys = BigUint64Array.from({ length: n }, (_, i) => 1000n + BigInt(i));
  const query = rows.slice(57 * dims, 58 * dims);
  query[3] += 0.05;
  const l2 = (i) => {
    let s = 0;
    for (let j = 0; j < dims; j++) s += (rows[i * dims + j] - query[j]) ** 2;
    return s;
  };
  const expected = [...Array(n).keys()].sort((a, b) => l2(a) - l2(b) || a - b).slice(0, 10);
  assert.equal(expected[0], 57);

  for (const fv of [await Ferrovec.load(), await Ferrovec.load(Ferrovec.bundledModule(false))]) {
    for (const hnsw of [null, { m: 16, efSearch: 200 }]) {
      const index = fv.newIndex({ dims, metric: 'l2sq', hnsw });
      index.addBatch(keys, rows);
      assert.equal(index.size, n);
      const hits = index.search(query, 10);
      assert.deepEqual(hits.map((h) => h.key), expected.map((i) => keys[i]), `simd=${fv.simd} hnsw=${!!hnsw}`);
      hits.forEach((h, r) => assert.ok(Math.abs(h.distance - l2(expected[r])) <= 1e-5 * (1 + l2(expected[r]))));
      // Through the file format and back, in the same package.
      const again = fv.loadIndex(index.save());
      assert.deepEqual(again.search(query, 10), hits);
      again.free();
      index.free();
    }
  }
});

test('Ferrovec.loadSolver() picks the shipped solver module and solves', async () => {
  const fv = await Ferrovec.loadSolver();
  assert.ok(fv.hasSolver && fv.simd);
  assert.equal(Ferrovec.bundledSolverModule().href, pathToFileURL(path.join(installed, 'ferrovec-solver-simd.wasm')).href);
  for (const m of [fv, await Ferrovec.loadSolver(Ferrovec.bundledSolverModule(false))]) {
    const a = m.matrixFromTriplets(2, 2, [0, 0, 1, 1], [0, 1, 0, 1], [4, 1, 1, 3]);
    const { x, report } = a.cg([1, 2], { rtol: 1e-12 });
    assert.ok(report.converged && Math.abs(x[0] - 1 / 11) < 1e-12);
    a.free();
  }
});
