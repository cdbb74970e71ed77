// The text encoder in V8 (Node): ms per 128-token sequence of all-MiniLM-L6-v2 on both
// encoder modules, f32 and int8 weights (one thread; not a test). `make bench-encoder-wasm`.
//
//   node bench/encoder.mjs <model dir> [wasm dir]

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Encoder } from '../ferrovec.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
const wasm = process.argv[3] ?? path.resolve(here, '../../../target/wasm');
const text = Array(126).fill('hello').join(' ');
for (const [file, precision] of [
  ['ferrovec-encoder-simd.wasm', 'f32'],
  ['ferrovec-encoder-simd.wasm', 'int8'],
  ['ferrovec-encoder.wasm', 'f32'],
  ['ferrovec-encoder.wasm', 'int8'],
]) {
  let t = performance.now();
  const enc = await Encoder.fromDirectory(dir, path.join(wasm, file), { precision });
  const loadMs = performance.now() - t;
  if (enc.tokenize(text).length !== 128) throw new Error('expected 128 tokens');
  enc.embedOne(text);
  const runs = 10;
  t = performance.now();
  for (let i = 0; i < runs; i++) enc.embedOne(text);
  const ms = (performance.now() - t) / runs;
  console.log(`V8 (${file}, ${precision}): ${ms.toFixed(2)} ms per 128-token sequence (load ${loadMs.toFixed(0)} ms)`);
  enc.free();
}
