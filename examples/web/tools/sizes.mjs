// What the page transfers, per file of a built site: raw bytes, gzip -9 and brotli (quality
// 11; files over 4 MB, i.e. the model's weights, at quality 6, marked *: quality 11 takes
// minutes there and gains little on f32 weights), as a static server that precompresses
// would send them (tools/serve.mjs itself sends them uncompressed).
//
//   node examples/web/tools/sizes.mjs target/web

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node sizes.mjs SITE_DIR');
  process.exit(2);
}
const site = JSON.parse(await readFile(path.join(dir, 'site.json'), 'utf8'));
const file = (role, kind) => site.wasm[role][kind].url.split('?')[0];
// What an engine with relaxed SIMD loads (Chromium 114+), then the builds the others fall back to.
const loadedWasm = [file('index', 'simd'), file('encoder', 'relaxed')];
const fallbacks = [file('encoder', 'simd'), file('index', 'scalar'), file('encoder', 'scalar')];
const groups = [
  ['page', ['index.html', 'style.css', 'app.js', 'worker.js', 'sw.js', 'site.json']],
  ['js wrapper', ['ferrovec.mjs']],
  ['wasm (simd128 + relaxed-simd encoder, loaded)', loadedWasm],
  ['wasm (fallbacks: simd128 encoder, scalar)', fallbacks],
  ['corpus', ['corpus.json']],
  [`model (${site.model.name})`, site.model.files.map((f) => `model/${f.name}`)],
];
const pad = (s, n) => String(s).padStart(n);
console.log(`${'file'.padEnd(40)} ${pad('raw', 11)} ${pad('gzip -9', 11)} ${pad('brotli 11', 11)}`);
const loaded = [0, 0, 0];
for (const [group, files] of groups) {
  const sum = [0, 0, 0];
  for (const f of files) {
    const bytes = await readFile(path.join(dir, f));
    const gz = gzipSync(bytes, { level: 9 }).length;
    const big = bytes.length > 4e6;
    const br = brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: big ? 6 : 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length;
    console.log(`  ${f.padEnd(38)} ${pad(bytes.length, 11)} ${pad(gz, 11)} ${pad(br, 11)}${big ? '*' : ''}`);
    [bytes.length, gz, br].forEach((v, i) => (sum[i] += v));
  }
  console.log(`${(group + ' total').padEnd(40)} ${pad(sum[0], 11)} ${pad(sum[1], 11)} ${pad(sum[2], 11)}`);
  if (!group.startsWith('wasm (fallbacks')) sum.forEach((v, i) => (loaded[i] += v));
}
console.log(`${'everything Chromium loads'.padEnd(40)} ${pad(loaded[0], 11)} ${pad(loaded[1], 11)} ${pad(loaded[2], 11)}`);
