// The sparse solver (SparseMatrix, Graph) in V8 through the wrapper, on both solver modules:
// every golden case of tests/golden/solver.json (1e-12 relative; seeded walks identical on
// both modules), typed errors with codes, and handle lifetimes.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Ferrovec, FerrovecError, ErrorCode, CAP_SOLVER, CAP_INDEX } from '../ferrovec.mjs';
import { WASM_DIR, MODULES, moduleBytes, goldenNumber } from './helpers.mjs';

const root = path.resolve(WASM_DIR, '../..');
const SOLVER_MODULES = [
  ['ferrovec-solver.wasm', path.join(WASM_DIR, 'ferrovec-solver.wasm'), CAP_SOLVER],
  ['ferrovec-solver-simd.wasm', path.join(WASM_DIR, 'ferrovec-solver-simd.wasm'), CAP_SOLVER | 1],
];

const golden = JSON.parse(readFileSync(path.join(root, 'tests/golden/solver.json'), 'utf8'));
const TOL = golden.tol;
const ERROR_FIELDS = ['relative_residual', 'residual_mass', 'residual_l1', 'eps_reached', 'error_bound', 'push_bound', 'l1_change'];

function num(v) {
  return goldenNumber(v);
}

/** The file's comparison rule (tests/golden/README.md). */
function compare(where, actual, expected) {
  if (Array.isArray(expected)) {
    const a = Array.from(actual);
    assert.equal(a.length, expected.length, `${where}: length`);
    const floats = expected.some((v) => typeof v === 'string' || !Number.isInteger(v));
    if (!floats) {
      assert.deepEqual(a, expected, where);
      return;
    }
    const e = expected.map(num);
    const scale = e.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    e.forEach((y, i) => {
      const x = a[i];
      assert.ok(x === y || Math.abs(x - y) <= TOL * scale, `${where}[${i}]: ${x} vs ${y}`);
    });
    return;
  }
  if (typeof expected === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(expected)) {
    const y = num(expected);
    const x = actual;
    // Error measures (residuals, bounds) are rounding noise near convergence: TOL absolute too.
    const floor = ERROR_FIELDS.some((f) => where.endsWith(`.${f}`)) ? 1 : 0;
    assert.ok(
      x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= TOL * Math.max(Math.abs(x), Math.abs(y), floor),
      `${where}: ${x} vs ${y}`,
    );
    return;
  }
  assert.equal(actual, expected, where);
}

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function pers(p) {
  if (p === undefined || p === null) return undefined;
  switch (p.kind) {
    case 'uniform':
      return 'uniform';
    case 'node':
      return p.node;
    case 'dense':
      return Float64Array.from(p.weights.map(num));
    default:
      return { nodes: p.nodes, weights: p.weights.map(num) };
  }
}

function rhs(b) {
  const values = Float64Array.from(b.values.map(num));
  return b.indices === undefined ? values : { indices: b.indices, values };
}

/** Runs one golden op; returns its result keyed like `expected` (snake_case fields). */
function runOp(obj, op) {
  const f64 = (v) => Float64Array.from(v.map(num));
  switch (op.op) {
    case 'mul_vec':
      return { y: obj.mulVec(f64(op.x)) };
    case 'cg':
    case 'bicgstab':
    case 'jacobi': {
      const { x, report } = obj[op.op](f64(op.b), {
        rtol: op.rtol,
        maxIterations: op.max_iterations,
        preconditioner: op.preconditioner,
        x0: op.x0 ? f64(op.x0) : undefined,
      });
      return { x, ...report };
    }
    case 'solve_entry':
    case 'solve_functional': {
      const o = { tol: op.options.tol, walks: op.options.walks, seed: op.options.seed };
      return op.op === 'solve_entry'
        ? obj.solveEntry(rhs(op.b), op.row, o)
        : obj.solveFunctional(rhs(op.b), { indices: op.u_indices, values: op.u_values.map(num) }, o);
    }
    case 'pagerank':
      return obj.pagerank({
        alpha: op.alpha,
        tol: op.tol,
        maxIter: op.max_iter,
        personalization: pers(op.personalization),
        dangling: pers(op.dangling),
      });
    case 'forward_push': {
      const r = obj.forwardPush(pers(op.source), { alpha: op.alpha, eps: op.eps, topK: op.top_k });
      return { nodes: r.nodes, scores: r.scores, ...r.report };
    }
    case 'backward_push': {
      const r = obj.backwardPush(op.target, { alpha: op.alpha, rMax: op.r_max, topK: op.top_k });
      return { nodes: r.nodes, scores: r.scores, ...r.report };
    }
    case 'pair':
      return obj.pair(op.source, op.target, { alpha: op.alpha, rMax: op.r_max, walks: op.walks, seed: op.seed });
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

function build(fv, c) {
  if (c.kind === 'matrix') {
    return fv.matrixFromCsr(c.n_rows, c.n_cols, c.indptr, c.indices, c.values.map(num));
  }
  return fv.graphFromEdges(c.n_nodes, c.src, c.dst, c.weights === null ? null : c.weights.map(num));
}

const seededResults = new Map();

for (const [name, file, capabilities] of SOLVER_MODULES) {
  describe(name, async () => {
    const fv = await Ferrovec.loadSolver(moduleBytes(file));

    test('capabilities: the solver only', () => {
      assert.equal(fv.capabilities, capabilities);
      assert.ok(fv.hasSolver && !fv.hasIndex);
      for (const f of [() => fv.newIndex({ dims: 4 }), () => fv.dotF32(new Float32Array(1), new Float32Array(1))]) {
        assert.throws(f, (e) => e instanceof FerrovecError && e.code === ErrorCode.InvalidModule);
      }
    });

    for (const c of golden.cases) {
      test(`golden ${c.name}`, () => {
        const obj = build(fv, c);
        try {
          c.ops.forEach((op, i) => {
            const got = runOp(obj, op);
            for (const [field, want] of Object.entries(op.expected)) {
              compare(`${c.name} #${i} ${op.op}.${field}`, got[camel(field)], want);
            }
            const seeded = op.op === 'pair' || (op.options?.walks ?? 0) > 0;
            if (seeded) {
              const key = `${c.name} #${i}`;
              const prev = seededResults.get(key);
              if (prev === undefined) seededResults.set(key, got);
              else assert.deepEqual(got, prev, `${key}: seeded walks differ between the modules`);
            }
          });
        } finally {
          obj.free();
        }
      });
    }

    test('matrix: results, shapes, typed arrays', () => {
      // [[4, 1], [1, 3]] x = [1, 2]
      const a = fv.matrixFromTriplets(2, 2, [0, 0, 1, 1], [0, 1, 0, 1], [4, 1, 1, 3]);
      assert.deepEqual([a.nRows, a.nCols, a.nnz], [2, 2, 4]);
      const { x, report } = a.cg(new Float64Array([1, 2]), { rtol: 1e-12 });
      assert.ok(x instanceof Float64Array);
      assert.ok(Math.abs(x[0] - 1 / 11) < 1e-12 && Math.abs(x[1] - 7 / 11) < 1e-12);
      assert.equal(report.converged, true);
      assert.equal(report.stop, 'converged');
      assert.ok(report.relativeResidual <= 1e-12);
      const budget = a.bicgstab([1, 2], { rtol: 1e-14, maxIterations: 0 });
      assert.equal(budget.report.converged, false);
      assert.equal(budget.report.stop, 'max_iterations');
      assert.deepEqual(Array.from(a.mulVec([1, 1])), [5, 4]);
      a.free();
    });

    test('errors carry codes and leave objects usable', () => {
      const a = fv.matrixFromCsr(2, 2, [0, 2, 4], [0, 1, 0, 1], [4, 1, 1, 3]);
      const code = (f) => {
        try {
          f();
        } catch (e) {
          assert.ok(e instanceof FerrovecError, String(e));
          return e.code;
        }
        assert.fail('did not throw');
      };
      assert.equal(code(() => a.mulVec([1, 2, 3])), ErrorCode.DimensionMismatch);
      assert.equal(code(() => a.cg([1, 2], { rtol: NaN })), ErrorCode.InvalidArgument);
      assert.equal(code(() => fv.matrixFromCsr(2, 2, [0, 2, 1], [0, 1], [1, 1])), ErrorCode.InvalidArgument);
      assert.equal(code(() => fv.matrixFromTriplets(2, 2, [0, 5], [0, 0], [1, 1])), ErrorCode.InvalidArgument);
      assert.equal(code(() => a.solveEntry([1, 2], 9)), ErrorCode.InvalidArgument);
      const g = fv.graphFromEdges(3, [0, 1], [1, 2]);
      assert.deepEqual([g.nNodes, g.nEdges, g.nDangling], [3, 2, 1]);
      assert.equal(code(() => g.pagerank({ alpha: 1.5 })), ErrorCode.InvalidArgument);
      assert.equal(code(() => g.forwardPush(7)), ErrorCode.InvalidArgument);
      assert.equal(code(() => g.backwardPush(1, { rMax: -1 })), ErrorCode.InvalidArgument);
      assert.equal(code(() => fv.graphFromEdges(3, [0], [1], [-1])), ErrorCode.InvalidArgument);
      // Still usable.
      assert.equal(a.cg([1, 2]).report.converged, true);
      const fp = g.forwardPush(0, { eps: 1e-9 });
      assert.deepEqual(Array.from(fp.nodes), [0, 1, 2]);
      assert.ok(fp.scores instanceof Float64Array && fp.report.converged);
      a.free();
      a.free(); // idempotent
      assert.equal(code(() => a.mulVec([1, 2])), ErrorCode.InvalidHandle);
      // A stale handle in the raw ABI is an error too.
      assert.equal(fv.exports.fv_matrix_free(a.handle === 0 ? 1 : a.handle), ErrorCode.InvalidHandle);
      g.free();
    });

    test('no leak: memory stays flat over many objects', () => {
      const before = fv.memory.buffer.byteLength;
      for (let i = 0; i < 300; i++) {
        const g = fv.graphFromEdges(50, Array.from({ length: 50 }, (_, k) => k), Array.from({ length: 50 }, (_, k) => (k + 1) % 50));
        g.forwardPush(0, { eps: 1e-6 });
        g.pair(0, 5, { walks: 100 });
        g.free();
      }
      assert.equal(fv.memory.buffer.byteLength, before);
    });
  });
}

describe('index modules have no solver', async () => {
  const fv = await Ferrovec.load(moduleBytes(MODULES[1][1]));
  test('clear error', () => {
    assert.ok(fv.hasIndex && !fv.hasSolver);
    assert.equal(fv.capabilities & CAP_INDEX, CAP_INDEX);
    assert.throws(
      () => fv.matrixFromTriplets(1, 1, [0], [0], [1]),
      (e) => e instanceof FerrovecError && e.code === ErrorCode.InvalidModule,
    );
  });
});
