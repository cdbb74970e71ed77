// Loading from the network: a Response (or an http URL) served as application/wasm goes
// through WebAssembly.instantiateStreaming; any other MIME type falls back to the whole body.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { Ferrovec, ABI_VERSION } from '../ferrovec.mjs';
import { MODULES, moduleBytes } from './helpers.mjs';

/** Runs `fn` with WebAssembly.instantiateStreaming counted; returns [result, calls]. */
async function countingStreaming(fn) {
  const original = WebAssembly.instantiateStreaming;
  let calls = 0;
  WebAssembly.instantiateStreaming = (...args) => {
    calls += 1;
    return original.apply(WebAssembly, args);
  };
  try {
    return [await fn(), calls];
  } finally {
    WebAssembly.instantiateStreaming = original;
  }
}

const cases = [
  ['application/wasm', 1],
  ['APPLICATION/WASM', 0],
  ['application/wasm; charset=binary', 0],
  ['application/octet-stream', 0],
  [null, 0],
];

for (const [name, file, caps] of MODULES) {
  for (const [type, streamed] of cases) {
    test(`${name}: a Response sent as ${type ?? 'no Content-Type'} loads (${streamed ? 'streaming' : 'from the body'})`, async () => {
      const headers = type === null ? {} : { 'Content-Type': type };
      const [fv, calls] = await countingStreaming(() => Ferrovec.load(new Response(moduleBytes(file), { headers })));
      assert.equal(calls, streamed);
      assert.equal(fv.abiVersion, ABI_VERSION);
      assert.equal(fv.capabilities, caps);
    });
  }
}

test('an http URL: streaming when the server sends application/wasm, the body otherwise, an error for 404', async () => {
  const [, file] = MODULES[1];
  const bytes = moduleBytes(file);
  const server = createServer((req, res) => {
    if (req.url === '/missing.wasm') {
      res.writeHead(404).end();
      return;
    }
    const type = req.url === '/right.wasm' ? 'application/wasm' : 'text/plain';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length }).end(bytes);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const [right, streamedRight] = await countingStreaming(() => Ferrovec.load(`${base}/right.wasm`));
    assert.equal(streamedRight, 1);
    assert.equal(right.simd, true);
    const [wrong, streamedWrong] = await countingStreaming(() => Ferrovec.load(new URL(`${base}/wrong.wasm`)));
    assert.equal(streamedWrong, 0);
    assert.equal(wrong.simd, true);
    await assert.rejects(Ferrovec.load(`${base}/missing.wasm`), /HTTP 404/);
  } finally {
    server.close();
  }
});

test('a Response that is not a wasm module is a CompileError, whatever its MIME type', async () => {
  for (const type of ['application/wasm', 'text/html']) {
    const response = new Response('<html>not found</html>', { headers: { 'Content-Type': type } });
    await assert.rejects(Ferrovec.load(response), WebAssembly.CompileError);
  }
});
