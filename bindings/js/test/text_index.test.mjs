// Text on the index in V8 (FerrovecIndex with an Encoder attached) on both index modules,
// with the tiny random models of `make tiny-model`: target/tiny-bert and its seed-2 twin
// target/tiny-bert-seed2 (same shape, another model id). The behaviour every surface
// asserts: a text finds itself first and search by text equals embed + search, save + load
// keep the model id (format v2, written by the module), another model's encoder is refused
// with a message naming both ids, a failed add changes nothing, and the bytes load natively
// shaped the same (the model id at offset 88 of a v2 file).

import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { CAP_INDEX_MODEL_ID, Encoder, Ferrovec, FerrovecError } from '../ferrovec.mjs';
import { MODULES, WASM_DIR } from './helpers.mjs';

const root = path.resolve(WASM_DIR, '../..');
const TINY = process.env.FERROVEC_TINY_BERT ?? path.join(root, 'target/tiny-bert');
const SEED2 = process.env.FERROVEC_TINY_BERT_SEED2 ?? `${TINY}-seed2`;

const TEXTS = [
  'The weather is lovely today.',
  "It's so sunny outside!",
  'He drove to the stadium.',
  'a cafe today',
  '日本 is so lovely',
  'the stadium is outside',
];
const KEYS = TEXTS.map((_, i) => 100n + BigInt(i));
const hex = (id) => id.toString(16).padStart(16, '0');

const invalid = (...needles) => (err) =>
  err instanceof FerrovecError && err.variant === 'InvalidArgument' && needles.every((n) => err.message.includes(n));

let enc;
let other;
before(async () => {
  // The encoder runs in its own module instance (the built simd encoder module).
  const encoderModule = path.join(WASM_DIR, 'ferrovec-encoder-simd.wasm');
  enc = await Encoder.fromDirectory(TINY, encoderModule);
  other = await Encoder.fromDirectory(SEED2, encoderModule);
  assert.notEqual(enc.modelId, other.modelId);
});

for (const [name, file, caps] of MODULES) {
  describe(name, () => {
    const filled = async (options = {}) => {
      const fv = await Ferrovec.load(file);
      const index = fv.newIndex({ encoder: enc, ...options });
      index.addText(KEYS[0], TEXTS[0]);
      index.addTexts(KEYS.slice(1), TEXTS.slice(1));
      return { fv, index };
    };

    test('the module records model ids (capability bit 4)', async () => {
      assert.ok((caps & CAP_INDEX_MODEL_ID) !== 0);
      const fv = await Ferrovec.load(file);
      assert.ok(fv.hasIndexModelId);
    });

    test('add and search by text', async () => {
      for (const options of [{}, { metric: 'ip', hnsw: true }]) {
        const { index } = await filled(options);
        assert.equal(index.size, TEXTS.length);
        assert.equal(index.modelId, enc.modelId);
        TEXTS.forEach((text, i) => {
          const hits = index.searchText(text, 3);
          assert.equal(hits[0].key, KEYS[i], text);
          assert.ok(hits[0].distance < 1e-5);
          assert.deepEqual(hits, index.search(enc.embedOne(text), 3));
        });
        const batch = index.searchTexts(TEXTS, 2);
        assert.deepEqual(batch.map((r) => r[0].key), KEYS);
        assert.deepEqual(batch[2], index.searchText(TEXTS[2], 2));
        index.free();
      }
    });

    test('duplicates and failed batches change nothing', async () => {
      const { index } = await filled();
      assert.throws(() => index.addText(KEYS[0], 'so sunny'), (e) => e.variant === 'DuplicateKey');
      const before = index.save();
      assert.throws(() => index.addTexts([7n, KEYS[1]], ['a', 'b']), (e) => e.variant === 'DuplicateKey');
      assert.throws(() => index.addTexts([7n, 8n], ['a']), (e) => e.variant === 'DimensionMismatch');
      assert.deepEqual(index.save(), before);
      index.addText(KEYS[0], 'so sunny', { replace: true });
      assert.equal(index.searchText('so sunny', 1)[0].key, KEYS[0]);
    });

    test('a plain index takes an encoder; without one, text is an error', async () => {
      const fv = await Ferrovec.load(file);
      const index = fv.newIndex({ dims: enc.dims });
      assert.equal(index.modelId, null);
      assert.throws(() => index.searchText('sunny'), invalid('no text encoder'));
      index.setEncoder(enc).addTexts(KEYS, TEXTS);
      assert.equal(index.modelId, enc.modelId, 'the first text records the id');
      assert.throws(() => fv.newIndex({ dims: 8, encoder: enc }), (e) => e.variant === 'DimensionMismatch');
    });

    test('save + load keep the model id; another model is refused naming both ids', async () => {
      const { fv, index } = await filled();
      const bytes = index.save();
      assert.equal(new DataView(bytes.buffer).getUint32(4, true), 2, 'format v2');
      assert.equal(new DataView(bytes.buffer).getBigUint64(88, true), enc.modelId);
      const loaded = fv.loadIndex(bytes, { encoder: enc });
      assert.equal(loaded.modelId, enc.modelId);
      assert.equal(loaded.searchText(TEXTS[4], 1)[0].key, KEYS[4]);
      const ids = [hex(enc.modelId), hex(other.modelId)];
      assert.throws(() => fv.loadIndex(bytes, { encoder: other }), invalid('models are not comparable', ...ids));
      const plain = fv.loadIndex(bytes);
      assert.equal(plain.modelId, enc.modelId);
      assert.throws(() => plain.setEncoder(other), invalid(...ids));
      assert.equal(plain.encoder, null);
      // Once empty, another model may take the index over (the core's rule).
      plain.clear();
      plain.setEncoder(other).addText(1n, 'sunny');
      assert.equal(plain.modelId, other.modelId);
    });
  });
}
