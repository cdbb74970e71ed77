// Assembles the served directory of the web example (examples/web/README.md):
//
//   node examples/web/tools/build-site.mjs --out target/web --wasm target/wasm \
//       --model ~/.cache/ferrovec/models/all-minilm-l6-v2 --model-name all-MiniLM-L6-v2 \
//       --corpus debian
//
// Into --out: the page's static files (index.html, style.css, app.js, worker.js, sw.js with
// the build id stamped in), bindings/js/ferrovec.mjs, the four wasm modules (wasm/), the
// model's files (model/, symbolic links into --model), the corpus as corpus.json and
// site.json, which names every file with its size and SHA-256 and gives the immutable ones
// a versioned URL (`?v=<hash>`). --corpus debian: the 3,000 Debian package descriptions
// that `make demo` searches (ffi/examples/data/debian-demo.bin and its names file);
// --corpus tiny: generated sentences in the tiny test model's vocabulary (all distinct), for
// the browser test, where the model is random and only exact duplicates rank meaningfully.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const root = path.resolve(webDir, '../..');

/** The page's own files, served as they are (sw.js gets the build id). */
export const STATIC_FILES = ['index.html', 'style.css', 'app.js', 'worker.js', 'sw.js'];
/** The wasm modules the worker chooses from: [role, { build: file }] (the encoder also has a
 *  relaxed-simd build, for engines that validate it). */
export const WASM_MODULES = [
  ['index', { simd: 'ferrovec-simd.wasm', scalar: 'ferrovec.wasm' }],
  ['encoder', { relaxed: 'ferrovec-encoder-relaxed.wasm', simd: 'ferrovec-encoder-simd.wasm', scalar: 'ferrovec-encoder.wasm' }],
];
/** A sentence-transformers directory: [key for Encoder.load, file, required]. */
export const MODEL_FILES = [
  ['safetensors', 'model.safetensors', true],
  ['config', 'config.json', true],
  ['tokenizer', 'tokenizer.json', true],
  ['pooling', '1_Pooling/config.json', false],
  ['sentenceBertConfig', 'sentence_bert_config.json', false],
];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function parseArgs(argv) {
  const opts = { corpus: 'debian', modelName: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    const key = { '--out': 'out', '--wasm': 'wasm', '--model': 'model', '--model-name': 'modelName', '--corpus': 'corpus' }[flag];
    if (key === undefined) throw new Error(`unknown option ${flag}`);
    opts[key] = value;
  }
  for (const k of ['out', 'wasm', 'model']) if (!opts[k]) throw new Error(`--${k} is required`);
  if (!['debian', 'tiny'].includes(opts.corpus)) throw new Error('--corpus: debian or tiny');
  return opts;
}

/** The item texts of ffi/examples/data/debian-demo.bin (format: bench/data/make_demo_set.py). */
export function debianCorpus(bin, namesText) {
  if (bin.subarray(0, 8).toString('latin1') !== 'FVDEMO01') throw new Error('debian-demo.bin: bad magic');
  const nItems = bin.readUInt32LE(8);
  const nQueries = bin.readUInt32LE(12);
  const dims = bin.readUInt32LE(16);
  const at = 20 + (nItems + nQueries) * (4 + dims);
  const textLen = bin.readUInt32LE(at);
  const texts = bin.subarray(at + 4, at + 4 + textLen).toString('utf8').split('\n');
  if (texts.length !== nItems + nQueries) throw new Error(`debian-demo.bin: ${texts.length} texts, expected ${nItems + nQueries}`);
  const names = namesText.replace(/\n$/, '').split('\n');
  if (names.length !== texts.length) throw new Error(`names: ${names.length} lines for ${texts.length} texts`);
  return {
    texts: texts.slice(0, nItems),
    names: names.slice(0, nItems),
    examples: [
      'play chess against the computer',
      'read PDF files with vim keys',
      'weather forecast in the terminal',
      'draw and edit pictures',
      'make up secure passwords',
      'music player for the desktop',
    ],
  };
}

/**
 * `count` distinct sentences of the tiny model's vocabulary (core/tests/support/tiny_bert.rs:
 * every word is one token, so distinct texts are distinct token sequences), deterministic.
 */
export function tinyCorpus(count = 400) {
  const words = ['the', 'weather', 'is', 'lovely', 'today', 'it', 'so', 'sunny', 'outside', 'he', 'drove', 'to', 'stadium', 'a', 'c', 'e', 'cafe'];
  const ends = ['.', '!', '?', ''];
  let state = 0x2545f491n;
  const next = (n) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((state >> 33n) % BigInt(n));
  };
  const seen = new Set();
  const texts = [];
  while (texts.length < count) {
    const len = 3 + next(7);
    const text = Array.from({ length: len }, () => words[next(words.length)]).join(' ') + ends[next(ends.length)];
    if (!seen.has(text)) {
      seen.add(text);
      texts.push(text);
    }
  }
  return { texts, names: texts.map((_, i) => `tiny-${i}`), examples: texts.slice(0, 3) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const out = path.resolve(opts.out);
  await rm(out, { recursive: true, force: true });
  await mkdir(path.join(out, 'wasm'), { recursive: true });
  const versioned = (rel, bytes) => ({ url: `${rel}?v=${sha256(bytes).slice(0, 16)}`, bytes: bytes.length, sha256: sha256(bytes) });

  const wasm = {};
  for (const [role, builds] of WASM_MODULES) {
    wasm[role] = {};
    for (const [kind, name] of Object.entries(builds)) {
      const bytes = await readFile(path.join(opts.wasm, name)).catch((err) => {
        throw new Error(`${name}: ${err.message} (run 'make wasm' first)`);
      });
      await writeFile(path.join(out, 'wasm', name), bytes);
      wasm[role][kind] = versioned(`wasm/${name}`, bytes);
    }
  }

  const model = { name: opts.modelName ?? path.basename(path.resolve(opts.model)), files: [] };
  for (const [key, name, required] of MODEL_FILES) {
    const source = path.resolve(opts.model, name);
    let bytes;
    try {
      bytes = await readFile(source);
    } catch (err) {
      if (required || err.code !== 'ENOENT') throw new Error(`${source}: ${err.message}`);
      continue;
    }
    const target = path.join(out, 'model', name);
    await mkdir(path.dirname(target), { recursive: true });
    await symlink(source, target);
    model.files.push({ key, name, ...versioned(`model/${name}`, bytes) });
  }

  const corpus =
    opts.corpus === 'debian'
      ? debianCorpus(
          await readFile(path.join(root, 'ffi/examples/data/debian-demo.bin')),
          await readFile(path.join(root, 'ffi/examples/data/debian-demo-names.txt'), 'utf8'),
        )
      : tinyCorpus();
  const corpusBytes = Buffer.from(JSON.stringify({ texts: corpus.texts, names: corpus.names }));
  await writeFile(path.join(out, 'corpus.json'), corpusBytes);

  await copyFile(path.join(root, 'bindings/js/ferrovec.mjs'), path.join(out, 'ferrovec.mjs'));
  const shell = [];
  for (const name of STATIC_FILES.filter((f) => f !== 'sw.js')) {
    const bytes = await readFile(path.join(webDir, name));
    await writeFile(path.join(out, name), bytes);
    shell.push(bytes);
  }
  shell.push(await readFile(path.join(out, 'ferrovec.mjs')));
  const site = {
    format: 'ferrovec-web-site',
    version: 1,
    model,
    wasm,
    corpus: { name: opts.corpus, count: corpus.texts.length, ...versioned('corpus.json', corpusBytes) },
    examples: corpus.examples,
  };
  // The build id: everything the page is made of, so a new build installs a new service
  // worker (its bytes change) and drops the old shell cache.
  const build = sha256(Buffer.concat([...shell, Buffer.from(JSON.stringify(site))])).slice(0, 16);
  site.build = build;
  await writeFile(path.join(out, 'site.json'), JSON.stringify(site, null, 2) + '\n');
  const sw = await readFile(path.join(webDir, 'sw.js'), 'utf8');
  if (!sw.includes("'__BUILD__'")) throw new Error("sw.js: no '__BUILD__' placeholder");
  await writeFile(path.join(out, 'sw.js'), sw.replace("'__BUILD__'", `'${build}'`));
  console.log(
    `web: ${out} (build ${build}): ${model.name} (${model.files.length} files, ` +
      `${model.files.reduce((n, f) => n + f.bytes, 0)} bytes), corpus ${opts.corpus} (${corpus.texts.length} texts)`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`build-site: ${err.message}`);
    process.exit(1);
  });
}
