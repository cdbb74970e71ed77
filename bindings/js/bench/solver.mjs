// V8: the sparse solver's benchmark workloads (ffi/benches/solver_wasm.rs builds the same
// data natively and in wasmi and prints the ratios) on both solver modules, through the JS
// wrapper. One JSON line per run: {"name", "module", "ms", "check"} where `check` is a
// number that must equal the native run's (iterations, pushes, walks).
//
//   node bindings/js/bench/solver.mjs [wasm dir]

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ferrovec } from '../ferrovec.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? process.env.FERROVEC_WASM_DIR ?? path.resolve(here, '../../../target/wasm');

/** The 2D Poisson matrix on a k x k grid plus `shift` on the diagonal, as triplets. */
export function poisson(k, shift) {
  const rows = [];
  const cols = [];
  const vals = [];
  const put = (r, c, v) => {
    rows.push(r);
    cols.push(c);
    vals.push(v);
  };
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const id = i * k + j;
      put(id, id, 4 + shift);
      if (i > 0) put(id, id - k, -1);
      if (i + 1 < k) put(id, id + k, -1);
      if (j > 0) put(id, id - 1, -1);
      if (j + 1 < k) put(id, id + 1, -1);
    }
  }
  return { n: k * k, rows, cols, vals };
}

/** A directed graph of n nodes, 5 out-edges each (deterministic), every 10th node dangling. */
export function graph(n) {
  const src = [];
  const dst = [];
  for (let u = 0; u < n; u++) {
    if (u % 10 === 7) continue;
    for (let k = 1; k <= 5; k++) {
      src.push(u);
      dst.push((u * 7919 + k * 104729) % n);
    }
  }
  return { n, src, dst };
}

export function rhs(n) {
  return Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 13) / 3 - 2);
}

export const K = 200;
export const GRAPH_NODES = 100000;

function time(f) {
  const t = process.hrtime.bigint();
  const check = f();
  return [Number(process.hrtime.bigint() - t) / 1e6, check];
}

for (const [module, file] of [
  ['simd', 'ferrovec-solver-simd.wasm'],
  ['scalar', 'ferrovec-solver.wasm'],
]) {
  const fv = await Ferrovec.loadSolver(readFileSync(path.join(dir, file)));
  const p = poisson(K, 0);
  const d = poisson(K, 1);
  const b = rhs(p.n);
  const spd = fv.matrixFromTriplets(p.n, p.n, p.rows, p.cols, p.vals);
  const dom = fv.matrixFromTriplets(d.n, d.n, d.rows, d.cols, d.vals);
  const g0 = graph(GRAPH_NODES);
  const g = fv.graphFromEdges(g0.n, g0.src, g0.dst);
  const runs = [
    ['cg poisson 200x200 rtol 1e-8', () => spd.cg(b, { rtol: 1e-8 }).report.iterations],
    ['jacobi poisson+1 200x200 rtol 1e-8', () => dom.jacobi(b, { rtol: 1e-8 }).report.iterations],
    ['solve_entry poisson+1 tol 1e-8', () => dom.solveEntry(b, 20100, { tol: 1e-8 }).pushes],
    ['forward_push 100k nodes eps 1e-5', () => g.forwardPush(3, { eps: 1e-5 }).report.pushes],
    ['pair 100k nodes 10k walks', () => g.pair(3, 12345, { rMax: 1e-4, walks: 10000, seed: 1 }).walkSteps],
  ];
  for (const [name, f] of runs) {
    f(); // warm-up (V8 compiles lazily)
    let best = Infinity;
    let check;
    for (let r = 0; r < 3; r++) {
      const [ms, c] = time(f);
      best = Math.min(best, ms);
      check = c;
    }
    console.log(JSON.stringify({ name, module, ms: best, check }));
  }
  for (const o of [spd, dom, g]) o.free();
}
