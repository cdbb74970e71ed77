// The text encoder (Encoder) in V8 through the wrapper, on every encoder module, with the
// tiny random model of `make tiny-model` (target/tiny-bert): the golden cases of
// tests/golden/encoder.json (token ids exactly, embeddings within the file's abs_tol; the
// all-MiniLM-L6-v2 cases too when `make model` has fetched it), loading from bytes and
// from a directory, typed errors, and handle lifetimes. The relaxed-simd module runs where
// this Node validates relaxed SIMD (Node 22+, or Node 20 with --experimental-wasm-relaxed-simd:
// `make test-js` runs this file a second time so).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Encoder, Ferrovec, FerrovecError, ErrorCode, CAP_ENCODER, CAP_ENCODER_INT8, CAP_RELAXED_SIMD, CAP_SIMD128,
} from '../ferrovec.mjs';
import { WASM_DIR } from './helpers.mjs';

const root = path.resolve(WASM_DIR, '../..');
const TINY = process.env.FERROVEC_TINY_BERT ?? path.join(root, 'target/tiny-bert');
const MINILM = process.env.FERROVEC_MINILM ?? path.join(os.homedir(), '.cache/ferrovec/models/all-minilm-l6-v2');
const ENCODER_MODULES = [
  ['ferrovec-encoder.wasm', path.join(WASM_DIR, 'ferrovec-encoder.wasm'), CAP_ENCODER | CAP_ENCODER_INT8],
  ['ferrovec-encoder-simd.wasm', path.join(WASM_DIR, 'ferrovec-encoder-simd.wasm'), CAP_ENCODER | CAP_ENCODER_INT8 | CAP_SIMD128],
  [
    'ferrovec-encoder-relaxed.wasm',
    path.join(WASM_DIR, 'ferrovec-encoder-relaxed.wasm'),
    CAP_ENCODER | CAP_ENCODER_INT8 | CAP_SIMD128 | CAP_RELAXED_SIMD,
  ],
];
const RELAXED = Ferrovec.relaxedSimdSupported();
const NO_RELAXED = 'this Node has no relaxed SIMD (run it with --experimental-wasm-relaxed-simd)';

const golden = JSON.parse(readFileSync(path.join(root, 'tests/golden/encoder.json'), 'utf8'));
assert.equal(golden.format, 'ferrovec-golden-encoder');
const MODEL_DIRS = { 'tiny-bert': TINY, 'all-minilm-l6-v2': MINILM };

function tinyFiles() {
  const read = (f) => readFileSync(path.join(TINY, f));
  return {
    safetensors: read('model.safetensors'),
    config: read('config.json').toString('utf8'),
    tokenizer: read('tokenizer.json'),
    pooling: ((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))(read('1_Pooling/config.json')),
  };
}

describe('choosing an encoder module', () => {
  test('bundledEncoderModule: relaxed-simd where validated, then simd128, then scalar', () => {
    const name = (url) => path.basename(url.pathname);
    assert.equal(name(Ferrovec.bundledEncoderModule(true, true)), 'ferrovec-encoder-relaxed.wasm');
    assert.equal(name(Ferrovec.bundledEncoderModule(true, false)), 'ferrovec-encoder-simd.wasm');
    assert.equal(name(Ferrovec.bundledEncoderModule(false)), 'ferrovec-encoder.wasm');
    assert.equal(
      name(Ferrovec.bundledEncoderModule()),
      RELAXED ? 'ferrovec-encoder-relaxed.wasm' : 'ferrovec-encoder-simd.wasm',
    );
    // The probe agrees with the engine on the real module.
    const bytes = readFileSync(path.join(WASM_DIR, 'ferrovec-encoder-relaxed.wasm'));
    assert.equal(WebAssembly.validate(bytes), RELAXED);
  });

  test('an engine without relaxed SIMD refuses the relaxed module at compile time', { skip: RELAXED && 'this Node has relaxed SIMD' }, async () => {
    await assert.rejects(Ferrovec.loadEncoder(path.join(WASM_DIR, 'ferrovec-encoder-relaxed.wasm')), WebAssembly.CompileError);
  });

  test('relaxed-simd and simd128 embeddings agree within the golden tolerance', { skip: !RELAXED && NO_RELAXED }, async () => {
    const texts = ['the weather is lovely today.', "it's so sunny outside!", 'he drove to the stadium.', ''];
    const [a, b] = await Promise.all(
      ['ferrovec-encoder-simd.wasm', 'ferrovec-encoder-relaxed.wasm'].map((m) => Encoder.fromDirectory(TINY, path.join(WASM_DIR, m))),
    );
    const [va, vb] = [a.embed(texts), b.embed(texts)];
    let worst = 0;
    va.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - vb[k]))));
    const tiny = golden.models.find((m) => m.name === 'tiny-bert');
    assert.ok(worst <= tiny.abs_tol, `off by ${worst}`);
    a.free();
    b.free();
  });
});

for (const [name, file, caps] of ENCODER_MODULES) {
  describe(name, { skip: (caps & CAP_RELAXED_SIMD) !== 0 && !RELAXED && NO_RELAXED }, () => {
    test('capabilities', async () => {
      const fv = await Ferrovec.loadEncoder(file);
      assert.equal(fv.capabilities, caps);
      assert.ok(fv.hasEncoder && !fv.hasIndex && !fv.hasSolver);
    });

    for (const model of golden.models) {
      const dir = MODEL_DIRS[model.name];
      test(`golden cases: ${model.name}`, { skip: !existsSync(dir) && `${dir} is missing (${model.made_by})` }, async () => {
        const enc = await Encoder.fromDirectory(dir, file);
        assert.equal(enc.dims, model.dims);
        assert.equal(enc.maxTokens, model.max_tokens);
        assert.equal(enc.modelId, BigInt('0x' + model.model_id));
        const all = enc.embed(model.cases.map((c) => c.text));
        model.cases.forEach((c, i) => {
          assert.deepEqual(Array.from(enc.tokenize(c.text)), c.ids, `ids of ${JSON.stringify(c.text)}`);
          const v = all.subarray(i * enc.dims, (i + 1) * enc.dims);
          let worst = 0;
          c.embedding.forEach((x, k) => (worst = Math.max(worst, Math.abs(v[k] - x))));
          assert.ok(worst <= model.abs_tol, `${model.name} ${JSON.stringify(c.text)}: off by ${worst}`);
        });
        assert.deepEqual(enc.embedOne(model.cases[0].text), all.subarray(0, enc.dims));
        enc.free();
        // The same texts with int8 weights (quantized in the module) against native int8.
        const int8 = await Encoder.fromDirectory(dir, file, { precision: 'int8' });
        assert.equal(int8.modelId, BigInt('0x' + model.model_id));
        const all8 = int8.embed(model.cases.map((c) => c.text));
        model.cases.forEach((c, i) => {
          let worst = 0;
          c.int8_embedding.forEach((x, k) => (worst = Math.max(worst, Math.abs(all8[i * int8.dims + k] - x))));
          assert.ok(worst <= model.int8_abs_tol, `${model.name} int8 ${JSON.stringify(c.text)}: off by ${worst}`);
        });
        int8.free();
      });
    }

    test('bytes, strings and ArrayBuffers load the same model as the directory', async () => {
      const a = await Encoder.load(tinyFiles(), file);
      const b = await Encoder.fromDirectory(TINY, file);
      assert.equal(a.modelId, b.modelId);
      assert.deepEqual(a.embed(['same text']), b.embed(['same text']));
      assert.deepEqual(a.embed([]), new Float32Array(0));
      assert.deepEqual(a.tokenize(new TextEncoder().encode('same text')), a.tokenize('same text'));
      a.free();
      b.free();
    });

    test('bad files are typed errors, and the instance keeps working', async () => {
      const fv = await Ferrovec.loadEncoder(file);
      const files = tinyFiles();
      const truncated = { ...files, safetensors: files.safetensors.subarray(0, 100) };
      assert.throws(() => fv.newEncoder(truncated), (e) => e instanceof FerrovecError && e.code === ErrorCode.CorruptFile);
      assert.throws(() => fv.newEncoder({ ...files, config: '{' }), (e) => e instanceof FerrovecError && e.code === ErrorCode.CorruptFile);
      assert.throws(() => fv.newEncoder({ ...files, tokenizer: null }), (e) => e.code === ErrorCode.InvalidArgument);
      assert.throws(() => fv.newEncoder({ config: files.config }), TypeError);
      // Failed loads gave the weights block back (it was freed): memory does not grow per attempt.
      const before = fv.memory.buffer.byteLength;
      for (let i = 0; i < 20; i++) assert.throws(() => fv.newEncoder(truncated));
      assert.equal(fv.memory.buffer.byteLength, before);
      const enc = fv.newEncoder(files);
      assert.equal(enc.embedOne('still works').length, enc.dims);
      assert.throws(() => enc.embed('not an array'), TypeError);
      enc.free();
      enc.free(); // idempotent
      assert.throws(() => enc.embedOne('x'), (e) => e.code === ErrorCode.InvalidHandle);
    });

    test('int8 weights: reported, the f32 model id, cosine >= 0.999 vs f32, bad names refused', async () => {
      const f32 = await Encoder.fromDirectory(TINY, file);
      assert.equal(f32.precision, 'f32');
      const int8 = await Encoder.fromDirectory(TINY, { source: file, precision: 'int8' });
      assert.equal(int8.precision, 'int8');
      assert.equal(int8.modelId, f32.modelId);
      const texts = ['the weather is lovely today.', "it's so sunny outside!", 'he drove to the stadium.', ''];
      const a = f32.embed(texts);
      const b = int8.embed(texts);
      assert.notDeepEqual(a, b);
      const dims = f32.dims;
      for (let i = 0; i < texts.length; i++) {
        let dot = 0;
        for (let k = 0; k < dims; k++) dot += a[i * dims + k] * b[i * dims + k];
        assert.ok(dot >= 0.999, `text ${i}: int8 vs f32 cosine ${dot}`);
      }
      // Positional form and Ferrovec.newEncoder give the same vectors.
      const again = await Encoder.load(tinyFiles(), file, { precision: 'int8' });
      assert.deepEqual(again.embed(texts), b);
      const fv = await Ferrovec.loadEncoder(file);
      assert.throws(() => fv.newEncoder(tinyFiles(), { precision: 'int4' }), TypeError);
      await assert.rejects(Encoder.load(tinyFiles(), file, { precision: 'f16' }), TypeError);
      for (const e of [f32, int8, again]) e.free();
    });

    test('a module without CAP_ENCODER_INT8 refuses int8 clearly', async () => {
      const fv = await Ferrovec.loadEncoder(file);
      // As a module from before bit 5 would report.
      Object.defineProperty(fv, 'capabilities', { get: () => caps & ~CAP_ENCODER_INT8 });
      assert.throws(() => fv.newEncoder(tinyFiles(), { precision: 'int8' }), (e) => e.code === ErrorCode.InvalidModule && /bit 5/.test(e.message));
      const enc = fv.newEncoder(tinyFiles());
      assert.equal(enc.precision, 'f32');
      enc.free();
    });

    test('an index module has no encoder', async () => {
      const fv = await Ferrovec.load(path.join(WASM_DIR, 'ferrovec.wasm'));
      assert.throws(() => fv.newEncoder(tinyFiles()), (e) => e.code === ErrorCode.InvalidModule);
    });
  });
}
