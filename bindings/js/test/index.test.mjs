// The vector index through the JS wrapper (FerrovecIndex over ABI v2 fv_index_*), on both
// modules in V8: results against a brute force, HNSW recall, allow-lists, batches, bad input
// leaving the index unchanged, save/load, and files saved by the *native* backend
// (test/fixtures, written by fixtures/make_native.py) loading and searching identically;
// f16 / bf16 storage: rounded rows, range errors, format version 3 files.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BatchMatches, Ferrovec, FerrovecError, ErrorCode, IndexMetric, NO_KEY, Storage } from '../ferrovec.mjs';
import { MODULES, moduleBytes } from './helpers.mjs';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
// The shared index cases (tests/golden/index.json, from the wasm surface's generator).
const GOLDEN_INDEX = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../tests/golden/index.json');
const DIMS = 16;

/** A deterministic generator (xorshift32) of floats in [-1, 1). */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function rows(n, seed, dims = DIMS) {
  const next = rng(seed);
  return Float32Array.from({ length: n * dims }, next);
}

const row = (data, i, dims = DIMS) => data.subarray(i * dims, (i + 1) * dims);

function bruteForce(data, keys, q, k, allowed = null) {
  const d = [];
  for (let i = 0; i < keys.length; i++) {
    if (allowed !== null && !allowed.has(keys[i])) continue;
    let s = 0;
    for (let j = 0; j < DIMS; j++) {
      const x = data[i * DIMS + j] - q[j];
      s += x * x;
    }
    d.push([keys[i], s]);
  }
  d.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  return d.slice(0, k).map(([key]) => key);
}

/** Half-to-even rounding of a finite f64 `q` (exact: every step is). */
function roundEven(q) {
  const f = Math.floor(q);
  const d = q - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * The f32 `x` as an f16 ('f16': 11 significant bits, no ulp below 2^-24) or bf16 row holds
 * it (8 bits, no ulp below 2^-133): rounded to nearest even, for values inside the range.
 */
function stored(x, storage) {
  if (x === 0) return x;
  const [bits, minUlp] = storage === 'f16' ? [11, -24] : [8, -133];
  const exponent = Math.max(((new Uint32Array(Float32Array.of(x).buffer)[0] >>> 23) & 0xff) - 127, -126);
  const ulp = 2 ** Math.max(exponent + 1 - bits, minUlp);
  return roundEven(x / ulp) * ulp;
}

function filled(fv, n = 300, hnsw = null) {
  const index = fv.newIndex({ dims: DIMS, metric: 'l2sq', hnsw });
  const data = rows(n, 1);
  const keys = BigUint64Array.from({ length: n }, (_, i) => 1000n + 3n * BigInt(i));
  index.addBatch(keys, data);
  return { index, data, keys: [...keys] };
}

function state(index) {
  const q = rows(3, 77);
  return {
    size: index.size,
    searches: [0, 1, 2].map((i) => index.search(row(q, i), 7)),
    vector: [...index.get(1000n)],
  };
}

for (const [name, file] of MODULES) {
  describe(`index on ${name}`, () => {
    let fv;
    before(async () => {
      fv = await Ferrovec.load(moduleBytes(file));
    });

    test('exact search matches a brute force; allow-lists; batches', () => {
      const { index, data, keys } = filled(fv);
      const queries = rows(8, 5);
      for (let i = 0; i < 8; i++) {
        const q = row(queries, i);
        const got = index.search(q, 10);
        assert.deepEqual(got.map((m) => m.key), bruteForce(data, keys, q, 10));
        for (const m of got) assert.equal(typeof m.key, 'bigint');
        for (let j = 1; j < got.length; j++) assert.ok(got[j - 1].distance <= got[j].distance);
      }
      const allowed = keys.filter((_, i) => i % 7 === 0);
      const q = row(queries, 0);
      const got = index.search(q, 5, { allowed: [...allowed.map(Number), 999999] });
      assert.deepEqual(got.map((m) => m.key), bruteForce(data, keys, q, 5, new Set(allowed)));
      assert.deepEqual(index.search(q, 5, { allowed: BigUint64Array.from(allowed) }), got);
      assert.deepEqual(index.search(q, 5, { allowed: [] }), []);
      const singles = [...Array(8).keys()].map((i) => index.search(row(queries, i), 4));
      assert.deepEqual(index.searchBatchMatches(queries, 4), singles);
      const batch = index.searchBatch(queries, 4);
      assert.ok(batch instanceof BatchMatches);
      assert.ok(batch.keys instanceof BigUint64Array && batch.keys.length === 32);
      assert.ok(batch.distances instanceof Float32Array && batch.distances.length === 32);
      assert.ok(batch.counts instanceof Uint32Array && batch.counts.length === 8);
      assert.equal(batch.n, 8);
      assert.equal(batch.k, 4);
      assert.deepEqual(batch.toMatches(), singles);
      for (let i = 0; i < 8; i++) {
        assert.deepEqual([...batch.keys.subarray(4 * i, 4 * i + 4)], singles[i].map((m) => m.key));
        assert.deepEqual([...batch.distances.subarray(4 * i, 4 * i + 4)], singles[i].map((m) => m.distance));
      }
      assert.equal(index.search(q, 1000).length, 300, 'k > size returns everything');
      index.free();
    });

    test('HNSW recall against exact, info, ef_search', () => {
      const { index, data, keys } = filled(fv, 1500, { m: 12, seed: 7 });
      const info = index.info();
      assert.equal(info.kind, 'hnsw');
      assert.equal(info.m, 12);
      assert.equal(info.efConstruction, 128);
      assert.equal(info.seed, 7n);
      assert.equal(info.metric, IndexMetric.L2sq);
      const queries = rows(30, 9);
      let hits = 0;
      for (let i = 0; i < 30; i++) {
        const q = row(queries, i);
        const want = new Set(bruteForce(data, keys, q, 10));
        hits += index.search(q, 10).filter((m) => want.has(m.key)).length;
      }
      assert.ok(hits / 300 >= 0.9, `recall ${hits / 300}`);
      index.setEfSearch(200);
      assert.equal(index.info().efSearch, 200);
      index.free();
    });

    test('searchBatch pads rows with fewer than k matches; deleted keys never appear', () => {
      const index = fv.newIndex({ dims: DIMS, metric: 'l2sq', hnsw: true });
      const data = rows(3, 5);
      index.addBatch([10n, 20n, 30n], data);
      index.remove(20n);
      const batch = index.searchBatch(data, 4);
      assert.deepEqual([...batch.counts], [2, 2, 2]);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(new Set(batch.keys.subarray(4 * i, 4 * i + 2)), new Set([10n, 30n]));
        assert.deepEqual([...batch.keys.subarray(4 * i + 2, 4 * i + 4)], [NO_KEY, NO_KEY]);
        assert.deepEqual([...batch.distances.subarray(4 * i + 2, 4 * i + 4)], [Infinity, Infinity]);
        assert.deepEqual(batch.matches(i), index.search(row(data, i), 4));
      }
      assert.equal(batch.keys[0], 10n);
      assert.equal(batch.keys[8], 30n);
      assert.equal(NO_KEY, 2n ** 64n - 1n);
      index.free();
      const empty = fv.newIndex({ dims: DIMS, metric: 'l2sq' });
      const none = empty.searchBatch(rows(2, 6), 3);
      assert.deepEqual([...none.keys], Array(6).fill(NO_KEY));
      assert.deepEqual([...none.counts], [0, 0]);
      assert.throws(() => empty.searchBatch(rows(2, 6), 0), (e) => e.variant === 'InvalidArgument');
      empty.free();
    });

    test('writers: duplicates, replace, remove, compact, get, clear, reserve', () => {
      const { index, data, keys } = filled(fv, 50);
      assert.deepEqual([...index.get(keys[3])], [...row(data, 3)]);
      assert.throws(() => index.add(keys[3], row(data, 0)), (err) => err.variant === 'DuplicateKey');
      index.add(keys[3], row(data, 0), { replace: true });
      assert.deepEqual([...index.get(keys[3])], [...row(data, 0)]);
      index.remove(keys[4]);
      assert.equal(index.contains(keys[4]), false);
      assert.equal(index.contains(keys[5]), true);
      assert.throws(() => index.remove(keys[4]), (err) => err.code === ErrorCode.KeyNotFound);
      index.compact();
      assert.equal(index.size, 49);
      index.reserve(1000);
      assert.ok(index.info().capacity >= 1049);
      index.clear();
      assert.equal(index.size, 0);
      assert.deepEqual(index.search(row(data, 0), 3), [], 'an empty index returns nothing');
      index.free();
    });

    test('bad input is refused with the right error and changes nothing', () => {
      for (const hnsw of [null, true]) {
        const { index, keys } = filled(fv, 60, hnsw);
        const before = state(index);
        const cases = [
          ['DimensionMismatch', () => index.add(1, new Float32Array(DIMS - 1))],
          ['InvalidArgument', () => index.add(1, new Float32Array(DIMS).fill(NaN))],
          ['DuplicateKey', () => index.addBatch([1, 2, keys[0]], rows(3, 4))],
          ['DuplicateKey', () => index.addBatch([1, 1], rows(2, 4))],
          ['DimensionMismatch', () => index.addBatch([1, 2], rows(1, 4))],
          ['InvalidArgument', () => index.search(rows(1, 2), 0)],
          ['DimensionMismatch', () => index.search(new Float32Array(3), 2)],
          ['InvalidArgument', () => index.search(new Float32Array(DIMS).fill(Infinity), 2)],
          ['KeyNotFound', () => index.remove(5)],
          ['KeyNotFound', () => index.get(5)],
        ];
        for (const [variant, call] of cases) {
          assert.throws(call, (err) => {
            assert.ok(err instanceof FerrovecError, String(err));
            assert.equal(err.variant, variant, err.message);
            assert.ok(err.message.length > 0);
            return true;
          });
          assert.deepEqual(state(index), before, `${variant} changed the index`);
        }
        index.free();
      }
      assert.throws(() => fv.newIndex({ dims: DIMS, metric: 'hamming', storage: 'f32' }), (e) => e.variant === 'InvalidArgument');
      assert.throws(() => fv.newIndex({ dims: DIMS, metric: 99 }), (e) => e.variant === 'UnknownMetric');
      assert.throws(() => fv.newIndex({ dims: 0 }), (e) => e.variant === 'InvalidArgument');
      assert.throws(() => fv.newIndex({ dims: DIMS, metric: 'manhattan' }), TypeError);
      assert.throws(() => fv.newIndex({ dims: DIMS }).setEfSearch(8), (e) => e.variant === 'InvalidArgument');
    });

    test('f16 / bf16 storage: rounded rows, searches on them, range errors, version 3 files', () => {
      for (const [storage, big, hnsw] of [['f16', 65520, null], ['bf16', -3.4e38, { m: 8, seed: 3 }]]) {
        const index = fv.newIndex({ dims: DIMS, metric: 'l2sq', storage, hnsw });
        assert.equal(index.info().storage, Storage[storage.toUpperCase()]);
        const n = 200;
        const data = rows(n, 3);
        const keys = BigUint64Array.from({ length: n }, (_, i) => 10n + BigInt(i));
        index.addBatch(keys, data);
        const rounded = data.map((x) => stored(x, storage));
        assert.ok(rounded.filter((x, i) => x !== data[i]).length > data.length / 2, `${storage}: the inputs round`);
        for (const i of [0, 17, 199]) assert.deepEqual([...index.get(keys[i])], [...row(rounded, i)], `${storage} get ${i}`);
        const queries = rows(6, 4);
        const before = [];
        for (let q = 0; q < 6; q++) {
          const got = index.search(row(queries, q), 10);
          before.push(got);
          if (hnsw === null) {
            // Ranked by the stored (rounded) rows, not the inputs.
            assert.deepEqual(got.map((m) => m.key), bruteForce(rounded, [...keys], row(queries, q), 10), `${storage} query ${q}`);
          }
        }
        // Out of range: refused with the storage named, nothing added (one row or a batch).
        const bytes = index.save();
        const bad = new Float32Array(DIMS);
        bad[3] = big;
        assert.throws(() => index.add(1000, bad), (e) => e.variant === 'InvalidArgument' && e.message.includes(`out of ${storage} range`));
        const batch = new Float32Array(2 * DIMS);
        batch.set(row(data, 0));
        batch.set(bad, DIMS);
        assert.throws(() => index.addBatch([1000, 1001], batch), (e) => e.variant === 'InvalidArgument' && e.message.includes('vector 1'));
        assert.equal(index.size, n);
        assert.deepEqual(index.save(), bytes, `${storage}: a refused add changed the index`);
        // Files: format version 3; they load and search the same, and save back the same.
        assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true), 3);
        const loaded = fv.loadIndex(bytes);
        assert.equal(loaded.info().storage, Storage[storage.toUpperCase()]);
        for (let q = 0; q < 6; q++) assert.deepEqual(loaded.search(row(queries, q), 10), before[q]);
        assert.deepEqual(loaded.save(), bytes);
        loaded.free();
        index.free();
      }
      assert.equal(Storage.F16, 3);
      assert.equal(Storage.BF16, 4);
      assert.throws(() => fv.newIndex({ dims: DIMS, metric: 'hamming', storage: 'f16' }), (e) => e.variant === 'InvalidArgument');
      assert.throws(() => fv.newIndex({ dims: DIMS, storage: 'f8' }), TypeError);
    });

    test('save -> load gives identical results; corrupt and truncated bytes are refused', () => {
      const { index } = filled(fv, 200, true);
      const queries = rows(5, 8);
      const want = index.searchBatchMatches(queries, 5);
      const bytes = index.save();
      assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'FVIX');
      const loaded = fv.loadIndex(bytes);
      assert.deepEqual(loaded.searchBatchMatches(queries, 5), want);
      assert.deepEqual(loaded.searchBatch(queries, 5), index.searchBatch(queries, 5));
      assert.deepEqual(loaded.save(), bytes, 'a loaded index saves the same bytes');
      assert.throws(() => fv.loadIndex(bytes.subarray(0, bytes.length - 1)), (e) => e.variant === 'CorruptFile');
      const flipped = bytes.slice();
      flipped[flipped.length >> 1] ^= 0x40;
      assert.throws(() => fv.loadIndex(flipped), (e) => e.variant === 'CorruptFile');
      assert.throws(() => fv.loadIndex(new Uint8Array(0)), (e) => e.variant === 'CorruptFile');
      loaded.free();
      index.free();
    });

    test('files saved by the native backend load and search the same', () => {
      const doc = JSON.parse(readFileSync(path.join(FIXTURES, 'native.json'), 'utf8'));
      assert.equal(doc.format, 'ferrovec-native-index-fixtures');
      assert.ok(doc.cases.length >= 6);
      for (const c of doc.cases) {
        const bytes = readFileSync(path.join(FIXTURES, c.file));
        const index = fv.loadIndex(new Uint8Array(bytes));
        assert.equal(index.dims, c.dims, c.name);
        assert.equal(index.size, c.len, c.name);
        assert.equal(index.contains(BigInt(c.removed)), false, `${c.name}: removed key`);
        assert.deepEqual([...index.get(BigInt(c.present))], c.present_vector.map(Math.fround), c.name);
        c.queries.forEach((q, i) => {
          const got = index.search(Float32Array.from(q), c.k);
          const want = c.results[i];
          assert.deepEqual(got.map((m) => m.key), want.map(([key]) => BigInt(key)), `${c.name} query ${i}`);
          got.forEach((m, j) => {
            const d = want[j][1];
            assert.ok(Math.abs(m.distance - d) <= 1e-5 * Math.max(1, Math.abs(d)), `${c.name} query ${i}: ${m.distance} vs ${d}`);
          });
        });
        // And the bytes survive a round trip through this module unchanged.
        assert.deepEqual(index.save(), new Uint8Array(bytes), c.name);
        index.free();
      }
    });

    test('golden index cases: exact keys and distances, HNSW recall', (t) => {
      if (!existsSync(GOLDEN_INDEX)) {
        t.skip(`${GOLDEN_INDEX} not present yet`);
        return;
      }
      const doc = JSON.parse(readFileSync(GOLDEN_INDEX, 'utf8'));
      assert.equal(doc.format, 'ferrovec-golden-index');
      assert.ok(doc.cases.length > 0);
      for (const c of doc.cases) {
        const queries = Float32Array.from(c.queries);
        const nq = queries.length / c.dims;
        assert.equal(nq, c.expected.length, c.name);
        for (const hnsw of [null, c.hnsw]) {
          const index = fv.newIndex({ dims: c.dims, metric: c.metric, storage: c.storage, hnsw: hnsw && {
            m: hnsw.m, efConstruction: hnsw.ef_construction, efSearch: hnsw.ef_search, seed: hnsw.seed } });
          index.addBatch(c.keys, Float32Array.from(c.vectors));
          for (const key of c.removed) index.remove(key);
          assert.equal(index.size, c.keys.length - c.removed.length, c.name);
          let found = 0;
          for (let i = 0; i < nq; i++) {
            const got = index.search(queries.subarray(i * c.dims, (i + 1) * c.dims), c.k);
            const want = c.expected[i];
            if (hnsw === null) {
              assert.deepEqual(got.map((m) => m.key), want.keys.map(BigInt), `${c.name} query ${i}`);
              got.forEach((m, j) => assert.ok(Math.abs(m.distance - want.distances[j]) <= c.tol + 1e-12,
                `${c.name} query ${i}: ${m.distance} vs ${want.distances[j]}`));
            }
            const wantSet = new Set(want.keys.map(BigInt));
            found += got.filter((m) => wantSet.has(m.key)).length;
          }
          if (hnsw !== null) {
            const recall = found / (c.k * nq);
            assert.ok(recall >= c.min_hnsw_recall, `${c.name}: HNSW recall ${recall}`);
          }
          index.free();
        }
      }
    });

    test('free() makes later calls InvalidHandle; a stale handle is refused by the module', () => {
      const index = fv.newIndex({ dims: 2 });
      const handle = index.handle;
      index.free();
      index.free();
      assert.throws(() => index.size, (e) => e.code === ErrorCode.InvalidHandle);
      assert.notEqual(fv.exports.fv_index_free(handle), 0, 'the module refuses a freed handle');
      // Memory is returned: many indexes created and freed do not grow the module's memory.
      const before = fv.memory.buffer.byteLength;
      for (let i = 0; i < 200; i++) {
        const ix = fv.newIndex({ dims: 64 });
        ix.addBatch([1, 2, 3], rows(3, i, 64));
        ix.search(row(rows(1, i, 64), 0, 64), 2);
        ix.save();
        ix.free();
      }
      assert.equal(fv.memory.buffer.byteLength, before);
    });
  });
}
