// The raw ABI (wasm/README.md) of both modules: exports, no imports, version, capabilities,
// pointer validation, error values, the last-error rules, fv_alloc/fv_free checks.

import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { MODULES, moduleBytes } from './helpers.mjs';

const ABI_FUNCTIONS = [
  'fv_abi_version',
  'fv_capabilities',
  'fv_alloc',
  'fv_free',
  'fv_last_error',
  'fv_dot_f32',
  'fv_cosine_distance_f32',
  'fv_l2sq_f32',
  'fv_dot_i8',
  'fv_l2sq_i8',
  'fv_hamming_b1',
  'fv_jaccard_b1',
  'fv_scan_f32',
  // Added to version 3 (wasm/README.md): the scans' loop shape for an interpreter.
  'fv_set_engine_hint',
  // ABI version 2: the vector index (bindings/js/test/index.test.mjs exercises them).
  'fv_index_new',
  'fv_index_load',
  'fv_index_free',
  'fv_index_info',
  'fv_index_add',
  'fv_index_add_batch',
  'fv_index_remove',
  'fv_index_compact',
  'fv_index_clear',
  'fv_index_reserve',
  'fv_index_set_ef_search',
  'fv_index_contains',
  'fv_index_len',
  'fv_index_get',
  'fv_index_search',
  'fv_index_search_allowed',
  'fv_index_search_batch',
  'fv_index_save',
  'fv_index_set_model_id',
  'fv_index_model_id',
];

const INT32_MIN = -2147483648;
const UINT32_MAX_AS_I32 = -1;

for (const [name, file, capabilities] of MODULES) {
  describe(`ABI of ${name}`, () => {
    const module = new WebAssembly.Module(moduleBytes(file));
    let x; // exports of a fresh instance per test
    let lenPtr;

    const lastError = () => {
      const ptr = x.fv_last_error(lenPtr) >>> 0;
      const len = new DataView(x.memory.buffer).getUint32(lenPtr, true);
      return new TextDecoder().decode(new Uint8Array(x.memory.buffer, ptr, len));
    };
    const f32At = (ptr, values) => new Float32Array(x.memory.buffer, ptr, values.length).set(values);
    const alloc = (size) => {
      const ptr = x.fv_alloc(size) >>> 0;
      assert.notEqual(ptr, 0, `fv_alloc(${size}) failed: ${lastError()}`);
      return ptr;
    };

    beforeEach(() => {
      x = new WebAssembly.Instance(module, {}).exports;
      lenPtr = x.fv_alloc(4) >>> 0;
    });

    test('imports nothing and exports exactly the ABI (plus memory and linker globals)', () => {
      assert.deepEqual(WebAssembly.Module.imports(module), []);
      const exports = WebAssembly.Module.exports(module);
      const functions = exports.filter((e) => e.kind === 'function').map((e) => e.name);
      assert.deepEqual(functions.sort(), [...ABI_FUNCTIONS].sort());
      assert.ok(exports.some((e) => e.name === 'memory' && e.kind === 'memory'));
      const others = exports.filter((e) => e.kind !== 'function' && e.name !== 'memory').map((e) => e.name);
      assert.deepEqual(others.sort(), ['__data_end', '__heap_base']);
    });

    test('version 3, capabilities', () => {
      assert.equal(x.fv_abi_version(), 3);
      assert.equal(x.fv_capabilities(), capabilities);
    });

    test('no error yet: empty message, NUL-terminated', () => {
      assert.equal(lastError(), '');
      const ptr = x.fv_last_error(0) >>> 0;
      assert.notEqual(ptr, 0);
      assert.equal(new Uint8Array(x.memory.buffer)[ptr], 0);
    });

    test('fv_alloc: aligned, distinct, size 0 valid, too large fails cleanly', () => {
      const blocks = [0, 1, 3, 16, 100, 4096, 1 << 20].map((size) => [alloc(size), size]);
      for (const [ptr] of blocks) assert.equal(ptr % 16, 0);
      assert.equal(new Set(blocks.map(([p]) => p)).size, blocks.length);
      for (const [ptr, size] of blocks) x.fv_free(ptr, size);
      assert.equal(lastError(), '', 'valid frees set no error');

      for (const size of [0xffffffff, 0xfffffff0, 0x80000000]) {
        assert.equal(x.fv_alloc(size) >>> 0, 0, `fv_alloc(${size}) must fail`);
        assert.match(lastError(), /^invalid argument: cannot allocate/);
      }
      // The instance is still usable afterwards.
      const p = alloc(64);
      x.fv_free(p, 64);
    });

    test('fv_alloc grows memory as needed and blocks hold their data', () => {
      const before = x.memory.buffer.byteLength;
      const big = alloc(8 << 20);
      assert.ok(x.memory.buffer.byteLength >= before + (8 << 20));
      new Uint8Array(x.memory.buffer, big, 8 << 20).fill(7);
      const small = alloc(32);
      assert.equal(new Uint8Array(x.memory.buffer, big, 8 << 20).every((b) => b === 7), true);
      x.fv_free(small, 32);
      x.fv_free(big, 8 << 20);
    });

    test('fv_free rejects double frees, wrong sizes and foreign pointers without harm', () => {
      const a = alloc(64);
      const b = alloc(64);
      x.fv_free(a, 64);
      assert.equal(lastError(), '');
      x.fv_free(a, 64); // double free
      assert.match(lastError(), /not a live block/);
      x.fv_free(b, 65); // wrong size
      assert.match(lastError(), /not a live block/);
      for (const ptr of [b + 16, b + 4, 8, 0xfffffff0, x.memory.buffer.byteLength]) {
        x.fv_free(ptr, 16);
        assert.match(lastError(), /not a live block/, `fv_free(${ptr})`);
      }
      x.fv_free(0, 123); // null: nothing to do
      // b is still live and usable, then frees normally; the heap is intact.
      f32At(b, [1, 2, 3, 4]);
      assert.equal(x.fv_dot_f32(b, b, 4), 30);
      x.fv_free(b, 64);
      for (let i = 0; i < 100; i++) x.fv_free(alloc(64 + i), 64 + i);
    });

    test('null pointers with n > 0: error values and messages', () => {
      const p = alloc(64);
      f32At(p, [1, 2, 3, 4]);
      const cases = [
        ['fv_dot_f32', NaN, 'a', [0, p, 4]],
        ['fv_cosine_distance_f32', NaN, 'b', [p, 0, 4]],
        ['fv_l2sq_f32', NaN, 'a', [0, 0, 4]],
        ['fv_dot_i8', INT32_MIN, 'a', [0, p, 4]],
        ['fv_l2sq_i8', UINT32_MAX_AS_I32, 'b', [p, 0, 4]],
        ['fv_hamming_b1', UINT32_MAX_AS_I32, 'a', [0, p, 4]],
        ['fv_jaccard_b1', NaN, 'b', [p, 0, 4]],
      ];
      for (const [fn, errorValue, arg, args] of cases) {
        const got = x[fn](...args);
        assert.ok(Object.is(got, errorValue), `${fn} returned ${got}`);
        assert.equal(lastError(), `null pointer passed for \`${arg}\``, fn);
      }
    });

    test('n = 0 accepts any pointer', () => {
      for (const ptr of [0, 3, 0xffffffff]) {
        assert.equal(x.fv_dot_f32(ptr, ptr, 0), 0);
        assert.equal(x.fv_cosine_distance_f32(ptr, 0, 0), 0);
        assert.equal(x.fv_l2sq_f32(0, ptr, 0), 0);
        assert.equal(x.fv_dot_i8(ptr, ptr, 0), 0);
        assert.equal(x.fv_hamming_b1(ptr, ptr, 0), 0);
        assert.equal(x.fv_jaccard_b1(ptr, ptr, 0), 0);
        assert.equal(x.fv_scan_f32(0, ptr, ptr, 0, 0, ptr), 0);
        assert.equal(lastError(), '');
      }
    });

    test('out of bounds and overflowing ranges are InvalidArgument, not traps', () => {
      const size = x.memory.buffer.byteLength;
      const p = alloc(16);
      const cases = [
        () => x.fv_dot_f32(p, size - 8, 4),
        () => x.fv_dot_f32(size, p, 1),
        () => x.fv_l2sq_f32(p, 0xfffffffc, 2), // offset + bytes wraps u32
        () => x.fv_cosine_distance_f32(p, 16, 0x40000000), // n * 4 wraps u32
        () => x.fv_dot_i8(size - 1, p, 2),
        () => x.fv_jaccard_b1(p, 0xffffffff, 1),
      ];
      for (const call of cases) {
        const got = call();
        assert.ok(Number.isNaN(got) || got === INT32_MIN, `${call}: ${got}`);
        assert.match(lastError(), /^invalid argument: `[ab]` .*reaches past the end of linear memory/, `${call}`);
      }
    });

    test('misaligned f32 is InvalidArgument; i8 and bytes may be unaligned', () => {
      const p = alloc(64);
      new Uint8Array(x.memory.buffer, p, 64).fill(1);
      assert.ok(Number.isNaN(x.fv_dot_f32(p + 2, p, 4)));
      assert.equal(lastError(), 'invalid argument: `a` at offset ' + (p + 2) + ' is not aligned to 4 bytes');
      assert.equal(x.fv_dot_i8(p + 1, p + 3, 7), 7);
      assert.equal(x.fv_hamming_b1(p + 1, p + 3, 7), 0);
      assert.equal(lastError(), '');
    });

    test('each kernel call clears the last error; fv_alloc and fv_free do not', () => {
      assert.ok(Number.isNaN(x.fv_dot_f32(0, 0, 1)));
      assert.notEqual(lastError(), '');
      const q = alloc(4); // must not clear it
      assert.match(lastError(), /null pointer/);
      x.fv_free(q, 4);
      assert.match(lastError(), /null pointer/);
      f32At(q, [0]);
      assert.equal(x.fv_abi_version(), 3);
      assert.match(lastError(), /null pointer/);
      // A genuine NaN result (NaN input) is not an error: the message is empty.
      const p = alloc(8);
      f32At(p, [NaN, 1]);
      assert.ok(Number.isNaN(x.fv_dot_f32(p, p, 2)));
      assert.equal(lastError(), '');
    });

    test('fv_last_error writes no length to a null or out-of-bounds pointer', () => {
      x.fv_dot_f32(0, 0, 1);
      const size = x.memory.buffer.byteLength;
      const ptr = x.fv_last_error(0) >>> 0;
      assert.equal(x.fv_last_error(size - 3) >>> 0, ptr); // no trap, same message
      const bytes = new Uint8Array(x.memory.buffer, ptr, 64);
      const end = bytes.indexOf(0);
      assert.equal(new TextDecoder().decode(bytes.subarray(0, end)), 'null pointer passed for `a`');
      // An unaligned length slot is fine.
      const slot = alloc(8);
      x.fv_last_error(slot + 1);
      assert.equal(new DataView(x.memory.buffer).getUint32(slot + 1, true), end);
    });

    describe('fv_scan_f32', () => {
      let q;
      let rows;
      let out;
      const sentinel = [7, 7, 7];
      beforeEach(() => {
        q = alloc(8);
        rows = alloc(24);
        out = alloc(12);
        f32At(q, [1, 2]);
        f32At(rows, [1, 0, 0, 1, 3, 4]);
        f32At(out, sentinel);
      });
      const outValues = () => [...new Float32Array(x.memory.buffer, out, 3)];

      test('every metric', () => {
        assert.equal(x.fv_scan_f32(0, q, rows, 3, 2, out), 0);
        assert.deepEqual(outValues(), [-1, -2, -11]);
        assert.equal(x.fv_scan_f32(2, q, rows, 3, 2, out), 0);
        assert.deepEqual(outValues(), [4, 2, 8]);
        assert.equal(x.fv_scan_f32(1, q, rows, 3, 2, out), 0);
        const cos = outValues();
        assert.ok(Math.abs(cos[0] - (1 - 1 / Math.sqrt(5))) < 1e-6);
        assert.equal(lastError(), '');
      });

      test('errors return the core codes and leave out untouched', () => {
        const size = x.memory.buffer.byteLength;
        const cases = [
          [[3, q, rows, 3, 2, out], -4, /^unknown metric code 3/],
          [[-1, q, rows, 3, 2, out], -4, /^unknown metric code -1/],
          [[0, q, rows, 0x10000, 0x10000, out], -3, /overflows/],
          [[0, 0, rows, 3, 2, out], -1, /`query`/],
          [[1, q, 0, 3, 2, out], -1, /`rows`/],
          [[2, q, rows, 3, 2, 0], -1, /`out`/],
          [[0, q, rows, 3, 2, rows + 4], -3, /`out` overlaps `rows`/],
          [[0, q, rows, 3, 2, q], -3, /`out` overlaps `query`/],
          [[0, q, rows, 3, 2, out + 2], -3, /not aligned/],
          [[0, q, size - 16, 3, 2, out], -3, /past the end/],
          [[0, q, rows, 3, 2, size - 8], -3, /past the end/],
        ];
        for (const [args, code, message] of cases) {
          assert.equal(x.fv_scan_f32(...args), code, `${args}`);
          assert.match(lastError(), message, `${args}`);
          assert.deepEqual(outValues(), sentinel, `${args}: out was written`);
        }
      });

      test('fv_set_engine_hint: 0 and 1 accepted, the same bits either way', () => {
        // 11 rows of 37: groups of 4 and 2 with a remainder, and a tail of 5 per row.
        const [n, d] = [11, 37];
        const qq = alloc(4 * d);
        const rr = alloc(4 * n * d);
        const oo = alloc(4 * n);
        let s = 7;
        const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        f32At(qq, Array.from({ length: d }, next));
        f32At(rr, Array.from({ length: n * d }, next));
        const bits = () => [...new Uint32Array(x.memory.buffer, oo, n)];
        for (const metric of [0, 1, 2]) {
          const results = [0, 1, 0].map((hint) => {
            assert.equal(x.fv_set_engine_hint(hint), 0);
            assert.equal(x.fv_scan_f32(metric, qq, rr, n, d, oo), 0);
            return bits();
          });
          assert.deepEqual(results[1], results[0], `metric ${metric}: interpreter vs compiler shape`);
          assert.deepEqual(results[2], results[0], `metric ${metric}: back to the compiler shape`);
          // Each row as its own pairwise call: the same bits again.
          const pairwise = [x.fv_dot_f32, x.fv_cosine_distance_f32, x.fv_l2sq_f32][metric];
          const sign = metric === 0 ? -1 : 1;
          const f = new Float32Array(x.memory.buffer, oo, n);
          for (let r = 0; r < n; r++) {
            assert.ok(Object.is(f[r], sign * pairwise(qq, rr + 4 * r * d, d)), `metric ${metric} row ${r}`);
          }
        }
        assert.equal(lastError(), '');
        assert.equal(x.fv_set_engine_hint(2), -3);
        assert.match(lastError(), /engine hint 2/);
      });

      test('dims = 0 fills every row with the empty-vector value', () => {
        assert.equal(x.fv_scan_f32(0, 0, 0, 3, 0, out), 0);
        assert.ok(outValues().every((v) => Object.is(v, -0)));
        assert.equal(x.fv_scan_f32(2, 0, 0, 3, 0, out), 0);
        assert.deepEqual(outValues(), [0, 0, 0]);
      });
    });

    test('i8 results use the full u32 / i32 range exactly at n = 65536', () => {
      const n = 65536;
      const a = alloc(n);
      const b = alloc(n);
      new Int8Array(x.memory.buffer, a, n).fill(-128);
      new Int8Array(x.memory.buffer, b, n).fill(127);
      assert.equal(x.fv_dot_i8(a, a, n), 16384 * n);
      assert.equal(x.fv_dot_i8(a, b, n), -128 * 127 * n);
      assert.equal(x.fv_l2sq_i8(a, b, n) >>> 0, 255 * 255 * n);
      assert.equal(lastError(), '');
    });
  });
}
