// Type-checked (never run) by `make test-js-package` with tsc against the installed package:
// 'ferrovec' must resolve to node_modules/ferrovec/ferrovec.d.ts through package.json's
// exports (tsc --listFiles is checked for it), and the types must be real: each "expect
// error" directive below is itself an error if its line type-checks (say, because the
// imports fell back to `any`).

import { ABI_VERSION, Encoder, Ferrovec, FerrovecError, Storage, type FerrovecIndex, type Graph, type Match, type SparseMatrix } from 'ferrovec';

const version: 3 = ABI_VERSION;
const fv: Ferrovec = await Ferrovec.load();
const scalar: Ferrovec = await Ferrovec.load(Ferrovec.bundledModule(false));
const url: URL = Ferrovec.bundledModule();
const index: FerrovecIndex = fv.newIndex({ dims: 3, metric: 'l2sq', hnsw: { m: 8 } });
index.addBatch([1, 2], new Float32Array(6));
const hits: Match[] = index.search(new Float32Array(3), 1);
const key: bigint = hits[0].key;
const distance: number = hits[0].distance;
const dot: number = scalar.dotF32(new Float32Array(3), new Float32Array(3));

const half: FerrovecIndex = fv.newIndex({ dims: 3, metric: 'ip', storage: 'f16' });
fv.newIndex({ dims: 3, storage: 'bf16' }).free();
const bf16Code: 4 = Storage.BF16;
half.free();

// @ts-expect-error: not a metric
fv.newIndex({ dims: 3, metric: 'euclid' });
// @ts-expect-error: not a storage
fv.newIndex({ dims: 3, storage: 'f8' });
// @ts-expect-error: keys are bigints
const wrongKey: string = hits[0].key;
// @ts-expect-error: vectors are Float32Arrays, not number[]
index.search([0, 0, 0], 1);

try {
  fv.dotF32(new Float32Array(2), new Float32Array(3));
} catch (err) {
  if (err instanceof FerrovecError) {
    const variant: string = err.variant;
    const code: number = err.code;
    console.log(variant, code);
  }
}
console.log(version, url, key, distance, dot, wrongKey);
index.free();

// The sparse solver (solver modules).
const sv: Ferrovec = await Ferrovec.loadSolver();
const a: SparseMatrix = sv.matrixFromTriplets(2, 2, [0, 1], [0, 1], new Float64Array([2, 3]));
const x: Float64Array = a.cg([1, 1], { rtol: 1e-10, preconditioner: 'jacobi' }).x;
const bound: number = a.jacobi([1, 1]).report.errorBound;
const g: Graph = sv.graphFromEdges(3, [0, 1], [1, 2]);
const nodes: Uint32Array = g.forwardPush(0, { eps: 1e-6 }).nodes;
const pairEstimate: number = g.pair(0, 2, { walks: 100 }).estimate;
// @ts-expect-error: not a preconditioner
a.cg([1, 1], { preconditioner: 'ilu' });
// @ts-expect-error: scores are a Float64Array, not number[]
const wrongScores: number[] = g.pagerank().scores;
console.log(x, bound, nodes, pairEstimate, wrongScores);
a.free();
g.free();

// The text encoder (encoder modules).
const enc: Encoder = await Encoder.load({ safetensors: new ArrayBuffer(8), config: '{}', tokenizer: new Uint8Array(0) });
const fromDir: Encoder = await Encoder.fromDirectory('models/all-minilm-l6-v2', Ferrovec.bundledEncoderModule(false));
const vectors: Float32Array = enc.embed(['a', new Uint8Array([98])]);
const one: Float32Array = fromDir.embedOne('c');
const ids: Uint32Array = enc.tokenize('d');
const modelId: bigint = enc.modelId;
const dims: number = enc.dims + enc.maxTokens;
// @ts-expect-error: texts are an array
enc.embed('not an array');
// @ts-expect-error: the weights are required
Encoder.load({ config: '{}' });
console.log(vectors, one, ids, modelId, dims);
enc.free();
