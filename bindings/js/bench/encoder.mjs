// The text encoder in V8 (Node): ms per 128-token sequence of all-MiniLM-L6-v2 on every
// encoder module this Node can run, f32 and int8 weights (one thread; not a test).
// `make bench-encoder-wasm` (Node 20 with --experimental-wasm-relaxed-simd, so that the
// relaxed-simd module runs too). The modules take turns, round after round, so that a busy
// moment of a shared machine falls on all of them; best and median of the rounds.
//
//   node [--experimental-wasm-relaxed-simd] bench/encoder.mjs <model dir> [wasm dir] [rounds]

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Encoder, Ferrovec } from '../ferrovec.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
const wasm = process.argv[3] ?? path.resolve(here, '../../../target/wasm');
const rounds = Number(process.argv[4] ?? 8);
const text = Array(126).fill('hello').join(' ');
const modules = [
  ...(Ferrovec.relaxedSimdSupported() ? ['ferrovec-encoder-relaxed.wasm'] : []),
  'ferrovec-encoder-simd.wasm',
  'ferrovec-encoder.wasm',
];
if (!Ferrovec.relaxedSimdSupported()) {
  console.log('(this Node has no relaxed SIMD: ferrovec-encoder-relaxed.wasm skipped; Node 20 needs --experimental-wasm-relaxed-simd)');
}

const runs = [];
for (const file of modules) {
  for (const precision of ['f32', 'int8']) {
    const t = performance.now();
    const enc = await Encoder.fromDirectory(dir, path.join(wasm, file), { precision });
    const loadMs = performance.now() - t;
    if (enc.tokenize(text).length !== 128) throw new Error('expected 128 tokens');
    enc.embedOne(text);
    runs.push({ file, precision, enc, loadMs, ms: [] });
  }
}
for (let r = 0; r < rounds; r++) {
  for (const run of runs) {
    // The scalar module is 5x slower: fewer sequences per round keep the rounds short.
    const n = run.file === 'ferrovec-encoder.wasm' ? 1 : 4;
    const t = performance.now();
    for (let i = 0; i < n; i++) run.enc.embedOne(text);
    run.ms.push((performance.now() - t) / n);
  }
}
for (const { file, precision, enc, loadMs, ms } of runs) {
  ms.sort((a, b) => a - b);
  const median = ms[ms.length >> 1];
  console.log(
    `V8 (${file}, ${precision}): ${ms[0].toFixed(2)} ms best, ${median.toFixed(2)} ms median per 128-token sequence ` +
      `over ${rounds} rounds (load ${loadMs.toFixed(0)} ms)`,
  );
  enc.free();
}
