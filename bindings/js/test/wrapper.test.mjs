// The JS API: loading, idiomatic arguments, FerrovecError, resident buffers, and that every
// path (including failures) frees what it allocates.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';

import { Ferrovec, FerrovecError, ErrorCode, Metric, WasmBuffer, ABI_VERSION } from '../ferrovec.mjs';
import { MODULES, moduleBytes } from './helpers.mjs';

test('simdSupported() is true on Node 20 (V8 has simd128)', () => {
  assert.equal(Ferrovec.simdSupported(), true);
});

test('load() takes a path, a file: URL, bytes or a WebAssembly.Module', async () => {
  const [, file] = MODULES[0];
  const bytes = moduleBytes(file);
  for (const source of [file, pathToFileURL(file), bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), new WebAssembly.Module(bytes)]) {
    const fv = await Ferrovec.load(source);
    assert.equal(fv.abiVersion, ABI_VERSION);
  }
});

test('a module that is not ferrovec, or has another ABI version, is refused', async () => {
  // (module (func (export "fv_abi_version") (result i32) i32.const 3))
  const wrongVersion = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 18, 1, 14, 102, 118, 95, 97, 98, 105, 95, 118, 101,
    114, 115, 105, 111, 110, 0, 0, 10, 6, 1, 4, 0, 65, 3, 11,
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wrongVersion), {});
  assert.equal(instance.exports.fv_abi_version(), 3);
  await assert.rejects(Ferrovec.load(wrongVersion), (err) => {
    assert.ok(err instanceof FerrovecError);
    assert.equal(err.code, ErrorCode.InvalidArgument);
    assert.match(err.message, /not a ferrovec module/);
    return true;
  });
  await assert.rejects(Ferrovec.load(new Uint8Array([1, 2, 3])), WebAssembly.CompileError);
});

for (const [name, file, capabilities] of MODULES) {
  describe(`wrapper on ${name}`, () => {
    let fv;
    before(async () => {
      fv = await Ferrovec.load(moduleBytes(file));
    });

    test('capabilities', () => {
      assert.equal(fv.capabilities, capabilities);
      assert.equal(fv.simd, (capabilities & 1) === 1);
    });

    test('kernels on typed arrays', () => {
      const a = new Float32Array([1, 2, 3, 4, 5]);
      const b = new Float32Array([5, 4, 3, 2, 1]);
      assert.equal(fv.dotF32(a, b), 35);
      assert.equal(fv.l2sqF32(a, b), 40);
      assert.ok(Math.abs(fv.cosineDistanceF32(a, b) - (1 - 35 / 55)) < 1e-6);
      assert.equal(fv.cosineDistanceF32(new Float32Array(3), new Float32Array(3)), 0);
      assert.equal(fv.cosineDistanceF32(new Float32Array(3), new Float32Array([1, 0, 0])), 1);
      assert.equal(fv.dotI8(new Int8Array([-128, 127]), new Int8Array([-128, -128])), 16384 - 16256);
      assert.equal(fv.l2sqI8(new Int8Array([-128]), new Int8Array([127])), 65025);
      assert.equal(fv.hammingB1(new Uint8Array([0xff, 0x0f]), new Uint8Array([0x00, 0x0f])), 8);
      assert.equal(fv.jaccardB1(new Uint8Array([0b1100]), new Uint8Array([0b0110])), Math.fround(1 - 1 / 3));
      assert.equal(fv.dotF32(new Float32Array(0), new Float32Array(0)), 0);
      assert.ok(Number.isNaN(fv.dotF32(new Float32Array([NaN]), new Float32Array([1]))), 'NaN in, NaN out, no throw');
    });

    test('inputs are not modified', () => {
      const a = new Float32Array([1, -2, 3]);
      const rows = new Float32Array([1, 2, 3, 4, 5, 6]);
      fv.scanF32('l2sq', a, rows);
      fv.dotF32(a, a);
      assert.deepEqual([...a], [1, -2, 3]);
      assert.deepEqual([...rows], [1, 2, 3, 4, 5, 6]);
    });

    test('scanF32: names, codes, derived and explicit row counts, out arrays', () => {
      const q = new Float32Array([1, 0]);
      const rows = new Float32Array([1, 0, 0, 1, 2, 2]);
      assert.deepEqual([...fv.scanF32('dot', q, rows)], [-1, -0, -2]);
      assert.deepEqual([...fv.scanF32(Metric.L2sq, q, rows)], [0, 2, 5]);
      const out = new Float32Array(3);
      assert.equal(fv.scanF32('COSINE', q, rows, out), out);
      assert.equal(out[0], 0);
      assert.equal(out[1], 1);
      assert.deepEqual([...fv.scanF32('dot', new Float32Array(0), new Float32Array(0), new Float32Array(2))], [-0, -0]);
      assert.equal(fv.scanF32('dot', q, new Float32Array(0)).length, 0);
    });

    test('FerrovecError for bad input, with the core codes', () => {
      const expectError = (fn, code, message) =>
        assert.throws(fn, (err) => {
          assert.ok(err instanceof FerrovecError, `${err}`);
          assert.ok(err instanceof Error);
          assert.equal(err.name, 'FerrovecError');
          assert.equal(err.code, code);
          assert.match(err.message, message);
          return true;
        });
      expectError(() => fv.dotF32(new Float32Array(3), new Float32Array(4)), -2, /^dimension mismatch: expected 3, got 4$/);
      expectError(() => fv.hammingB1(new Uint8Array(1), new Uint8Array(0)), -2, /dimension mismatch/);
      const q = new Float32Array(2);
      expectError(() => fv.scanF32(7, q, new Float32Array(4)), -4, /^unknown metric code 7/);
      expectError(() => fv.scanF32('manhattan', q, new Float32Array(4)), -4, /unknown metric 'manhattan'/);
      expectError(() => fv.scanF32('dot', q, new Float32Array(5)), -2, /expected 4, got 5/);
      expectError(() => fv.scanF32('dot', q, new Float32Array(4), new Float32Array(3)), -2, /expected 6, got 4/);
      assert.equal(new FerrovecError(-2, 'x').variant, 'DimensionMismatch');
    });

    test('TypeError for the wrong kind of array', () => {
      assert.throws(() => fv.dotF32([1, 2], [1, 2]), TypeError);
      assert.throws(() => fv.dotI8(new Uint8Array(2), new Uint8Array(2)), TypeError);
      assert.throws(() => fv.hammingB1(new Int8Array(2), new Int8Array(2)), TypeError);
      assert.throws(() => fv.scanF32(0.5, new Float32Array(1), new Float32Array(1)), TypeError);
      assert.throws(() => fv.scanF32('dot', new Float64Array(1), new Float32Array(1)), TypeError);
    });

    test('resident buffers: no copies, same results, freed once', () => {
      const q = fv.f32Buffer(4);
      const rows = fv.f32Buffer(12);
      const out = fv.f32Buffer(3);
      q.set([1, 2, 3, 4]);
      rows.set([1, 2, 3, 4, 0, 0, 0, 0, -1, -2, -3, -4]);
      assert.ok(q instanceof WasmBuffer);
      assert.equal(fv.dotF32(q, q), 30);
      assert.equal(fv.scanF32('dot', q, rows, out), out);
      assert.deepEqual([...out.array], [-30, -0, 30]);
      // Mixed: a typed array against a resident buffer.
      assert.equal(fv.l2sqF32(q, new Float32Array([1, 2, 3, 5])), 1);
      assert.throws(() => q.set([1, 2]), FerrovecError);
      assert.throws(() => fv.dotI8(q, q), TypeError);
      for (const buf of [q, rows, out]) {
        buf.free();
        buf.free(); // idempotent
        assert.equal(buf.ptr, 0);
      }
      assert.equal(fv.lastError(), '', 'no double free reached the module');
      assert.throws(() => fv.dotF32(q, q), FerrovecError);
      assert.throws(() => q.array, FerrovecError);
    });

    test('every call frees what it allocates, on success and on failure', () => {
      // 1 MiB inputs; if either path leaked, 300 calls would grow memory by 300+ MiB.
      const q = new Float32Array(256).fill(0.5);
      const rows = new Float32Array(256 * 1024).fill(0.25);
      // Warm up: grow to the working size of each call once.
      fv.scanF32('dot', q, rows);
      fv.dotF32(rows, rows);
      assert.throws(() => fv.scanF32(9, q, rows), FerrovecError);
      const before = fv.memory.buffer.byteLength;
      for (let i = 0; i < 100; i++) {
        fv.scanF32('l2sq', q, rows);
        fv.dotF32(rows, rows);
        assert.throws(() => fv.scanF32(9, q, rows), FerrovecError);
      }
      assert.equal(fv.memory.buffer.byteLength, before);
    });

    test('results survive memory growth during a call', () => {
      // Each call allocates; a big enough input forces memory.grow mid-call.
      const n = 3 << 20;
      const a = new Float32Array(n).fill(1);
      assert.equal(fv.dotF32(a, a), n);
    });
  });
}
