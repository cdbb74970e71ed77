// Every golden case (tests/golden/kernels.json) on both modules, through the wrapper.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';

import { Ferrovec } from '../ferrovec.mjs';
import { MODULES, moduleBytes, goldenCases, goldenF32, goldenMismatch } from './helpers.mjs';

const cases = goldenCases();

const PAIR_OPS = {
  dot_f32: ['dotF32', Float32Array],
  cosine_distance_f32: ['cosineDistanceF32', Float32Array],
  l2sq_f32: ['l2sqF32', Float32Array],
  dot_i8: ['dotI8', Int8Array],
  l2sq_i8: ['l2sqI8', Int8Array],
  hamming_b1: ['hammingB1', Uint8Array],
  jaccard_b1: ['jaccardB1', Uint8Array],
};

function input(values, type) {
  return type === Float32Array ? goldenF32(values) : type.from(values);
}

test('the golden file covers every ABI kernel and every scan metric', () => {
  const ops = new Set(cases.map((c) => c.op));
  assert.deepEqual([...ops].sort(), [...Object.keys(PAIR_OPS), 'scan_f32'].sort());
  const metrics = new Set(cases.filter((c) => c.op === 'scan_f32').map((c) => c.metric));
  assert.deepEqual([...metrics].sort(), [0, 1, 2]);
  assert.ok(cases.length > 200, `only ${cases.length} cases`);
});

/** Why a case fails on `fv`, or null. */
function check(fv, c) {
  if (c.op === 'scan_f32') {
    const query = goldenF32(c.query);
    const rows = goldenF32(c.rows);
    assert.equal(query.length, c.dims);
    assert.equal(rows.length, c.n_rows * c.dims);
    // `out` fixes n_rows (needed when dims = 0).
    const out = fv.scanF32(c.metric, query, rows, new Float32Array(c.n_rows));
    const bad = [];
    out.forEach((got, i) => {
      const why = goldenMismatch(got, c.expected[i], c.tol[i]);
      if (why) bad.push(`row ${i}: ${why}`);
    });
    return bad.length > 0 ? bad.join('; ') : null;
  }
  const [method, type] = PAIR_OPS[c.op];
  return goldenMismatch(fv[method](input(c.a, type), input(c.b, type)), c.expected, c.tol);
}

// One test per module and op; a failure lists every failing case by name.
for (const [name, file] of MODULES) {
  describe(`golden cases on ${name}`, () => {
    let fv;
    before(async () => {
      fv = await Ferrovec.load(moduleBytes(file));
    });

    for (const op of [...Object.keys(PAIR_OPS), 'scan_f32']) {
      const mine = cases.filter((c) => c.op === op);
      test(`${op} (${mine.length} cases)`, () => {
        const failures = [];
        for (const c of mine) {
          const why = check(fv, c);
          if (why) failures.push(`${c.name}: ${why}`);
        }
        assert.deepEqual(failures, []);
      });
    }
  });
}
