// Type-checked (never run) by `make test-js-package` with tsc against the installed package:
// 'ferrovec' must resolve to node_modules/ferrovec/ferrovec.d.ts through package.json's
// exports (tsc --listFiles is checked for it), and the types must be real: each "expect
// error" directive below is itself an error if its line type-checks (say, because the
// imports fell back to `any`).

import { ABI_VERSION, Ferrovec, FerrovecError, type FerrovecIndex, type Match } from 'ferrovec';

const version: 2 = ABI_VERSION;
const fv: Ferrovec = await Ferrovec.load();
const scalar: Ferrovec = await Ferrovec.load(Ferrovec.bundledModule(false));
const url: URL = Ferrovec.bundledModule();
const index: FerrovecIndex = fv.newIndex({ dims: 3, metric: 'l2sq', hnsw: { m: 8 } });
index.addBatch([1, 2], new Float32Array(6));
const hits: Match[] = index.search(new Float32Array(3), 1);
const key: bigint = hits[0].key;
const distance: number = hits[0].distance;
const dot: number = scalar.dotF32(new Float32Array(3), new Float32Array(3));

// @ts-expect-error: not a metric
fv.newIndex({ dims: 3, metric: 'euclid' });
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
