// The web example in a real browser (make test-web): Debian's chromium, headless, driven by
// playwright-core. The site is built by the Makefile with the tiny random model (its ranking
// means nothing) and the tiny corpus, so each query is a corpus text verbatim and the
// expected top hit is that text itself, at distance ~0.
//
//   FERROVEC_WEB_SITE  the built site (default target/web-test)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   FERROVEC_WEB_OUT   where the screenshot and timings.json go (default target/web-test-out)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { serve } from '../tools/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const site = path.resolve(root, process.env.FERROVEC_WEB_SITE ?? 'target/web-test');
const out = path.resolve(root, process.env.FERROVEC_WEB_OUT ?? 'target/web-test-out');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const corpus = JSON.parse(readFileSync(path.join(site, 'corpus.json'), 'utf8'));
const siteJson = JSON.parse(readFileSync(path.join(site, 'site.json'), 'utf8'));
const READY_MS = 60_000;

/** Waits until the page is ready (or failed: then the page's error message fails the test). */
async function waitReady(page) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: READY_MS });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') assert.fail(`page error: ${await page.textContent('#error')}`);
}

/** Types `query`, waits for its results in `mode`, returns them as { key, text, distance }. */
async function searchFor(page, query, mode = 'exact') {
  await page.check(`input[name=mode][value=${mode}]`);
  await page.fill('#q', query);
  await page.waitForFunction(
    ([q, m]) => {
      const list = document.getElementById('results');
      return list.dataset.query === q && list.dataset.mode === m;
    },
    [query, mode],
    { timeout: 10_000 },
  );
  return page.$$eval('#results li', (items) =>
    items.map((li) => ({
      key: Number(li.dataset.key),
      text: li.querySelector('.text').textContent,
      distance: Number(li.querySelector('.dist').textContent.replace('distance ', '')),
    })),
  );
}

function assertTopHit(hits, key) {
  assert.ok(hits.length > 0, 'no results');
  assert.equal(hits[0].text, corpus.texts[key], `top hit for text ${key}`);
  assert.equal(hits[0].key, key);
  assert.ok(hits[0].distance < 1e-3, `distance to itself: ${hits[0].distance}`);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i].distance >= hits[i - 1].distance, 'ascending distances');
}

const pageInfo = (page) => page.evaluate(() => ({ ...window.ferrovecPage.info, timings: window.ferrovecPage.timings, notices: window.ferrovecPage.notices }));

test('the web page in headless Chromium', { timeout: 110_000 }, async (t) => {
  mkdirSync(out, { recursive: true });
  let server = await serve(site, { port: 0 });
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  const timings = {};
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));

    await t.test('first visit: downloads, embeds the corpus, builds the index, finds a text', async () => {
      await page.goto(server.url);
      await waitReady(page);
      const info = await pageInfo(page);
      assert.equal(info.indexSource, 'built');
      assert.equal(info.count, corpus.texts.length);
      assert.equal(info.simd, true, 'Chromium validates simd128');
      assert.equal(info.relaxedSimd, true, 'Chromium validates relaxed-simd: the encoder is ferrovec-encoder-relaxed.wasm');
      assert.match(await page.textContent('#wasm-status'), /encoder: relaxed-simd/);
      assert.equal(info.streaming, true, 'served as application/wasm: instantiateStreaming');
      assert.equal(info.modelFromCache, false);
      assertTopHit(await searchFor(page, corpus.texts[137]), 137);
      assertTopHit(await searchFor(page, corpus.texts[5], 'hnsw'), 5);
      assert.match(await page.textContent('#timing'), /embed [\d.]+ ms · search \(hnsw\) [\d.]+ ms/);
      assert.match(await page.textContent('#offline-status'), /^ready/);
      timings.cold = (await pageInfo(page)).timings;
    });

    await t.test('reload offline (server stopped, network cut): the index comes from IndexedDB', async () => {
      await server.close();
      await context.setOffline(true);
      await page.reload();
      await waitReady(page);
      const info = await pageInfo(page);
      assert.equal(info.indexSource, 'indexeddb');
      assert.equal(await page.evaluate(() => document.body.dataset.indexSource), 'indexeddb');
      assert.match(await page.textContent('#index-status'), /^index: from IndexedDB/);
      assert.equal(info.modelFromCache, true);
      assert.equal(info.wasmFromCache, true);
      assertTopHit(await searchFor(page, corpus.texts[42]), 42);
      assertTopHit(await searchFor(page, corpus.texts[299], 'hnsw'), 299);
      timings.warm = (await pageInfo(page)).timings;
      await page.screenshot({ path: path.join(out, 'screenshot.png'), fullPage: true });
    });

    await t.test('a corrupt cached model file and a corrupt saved index are dropped and rebuilt', async () => {
      await context.setOffline(false);
      server = await serve(site, { port: server.port });
      const weights = siteJson.model.files.find((f) => f.key === 'safetensors').url;
      await page.evaluate(async (url) => {
        const cache = await caches.open('ferrovec-web-assets-v1');
        if (!(await cache.match(url))) throw new Error(`${url} is not cached`);
        await cache.put(url, new Response(new Uint8Array(1000).fill(7), { headers: { 'Content-Type': 'application/octet-stream' } }));
        await new Promise((resolve, reject) => {
          const open = indexedDB.open('ferrovec-web', 1);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction('indexes', 'readwrite');
            const store = tx.objectStore('indexes');
            const cursor = store.openCursor();
            cursor.onsuccess = () => {
              const c = cursor.result;
              if (c) {
                c.update({ ...c.value, exact: new Uint8Array(64).fill(1).buffer });
                c.continue();
              }
            };
            tx.oncomplete = () => {
              open.result.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        });
      }, weights);
      await page.reload();
      await waitReady(page);
      const info = await pageInfo(page);
      assert.ok(info.notices.some((n) => /cached copy of the model file model\.safetensors was corrupt/.test(n)), info.notices.join('\n'));
      assert.ok(info.notices.some((n) => /saved index was unusable/.test(n)), info.notices.join('\n'));
      assert.equal(info.indexSource, 'built');
      assertTopHit(await searchFor(page, corpus.texts[77]), 77);
    });
    assert.deepEqual(consoleErrors, []);
    await context.close();

    // The fallbacks a URL parameter forces give the same top hits: [parameter, what it
    // loads, info.simd, the wasm status line].
    for (const [param, what, simd, status] of [
      ['scalar=1', 'the scalar modules', false, /^scalar modules/],
      ['relaxed=0', 'the plain simd128 encoder', true, /^simd128 modules,/],
    ]) {
      await t.test(`?${param}: the same top hits with ${what}`, async () => {
        const ctx = await browser.newContext();
        try {
          const p = await ctx.newPage();
          await p.goto(`${server.url}?${param}`);
          await waitReady(p);
          const info = await pageInfo(p);
          assert.equal(info.simd, simd);
          assert.equal(info.relaxedSimd, false);
          assert.equal(info.indexSource, 'built');
          assert.match(await p.textContent('#wasm-status'), status);
          assertTopHit(await searchFor(p, corpus.texts[137]), 137);
          assertTopHit(await searchFor(p, corpus.texts[5], 'hnsw'), 5);
        } finally {
          await ctx.close();
        }
      });
    }

    await t.test('a failed download is reported in the page', async () => {
      // The same site with model/config.json missing: the server answers 404.
      const broken = path.join(out, 'site-missing-file');
      rmSync(broken, { recursive: true, force: true });
      cpSync(site, broken, { recursive: true, verbatimSymlinks: true });
      rmSync(path.join(broken, 'model/config.json'));
      const brokenServer = await serve(broken, { port: 0 });
      const ctx = await browser.newContext();
      try {
        const p = await ctx.newPage();
        await p.goto(brokenServer.url);
        await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: READY_MS });
        assert.equal(await p.evaluate(() => document.body.dataset.state), 'error');
        assert.match(await p.textContent('#error'), /Could not download the model file config\.json: HTTP 404/);
      } finally {
        await ctx.close();
        await brokenServer.close();
      }
    });

    await t.test('a browser without WebAssembly gets a clear message', async () => {
      const ctx = await browser.newContext();
      await ctx.addInitScript(() => {
        delete globalThis.WebAssembly;
      });
      const p = await ctx.newPage();
      await p.goto(server.url);
      await p.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 10_000 });
      assert.match(await p.textContent('#error'), /does not support WebAssembly/);
      await ctx.close();
    });
  } finally {
    await browser.close();
    await server.close();
  }
  writeFileSync(path.join(out, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `web: time to first results: cold ${s(timings.cold.firstResults)} (ready ${s(timings.cold.ready)}), ` +
      `warm offline ${s(timings.warm.firstResults)} (ready ${s(timings.warm.ready)}); screenshot ${path.join(out, 'screenshot.png')}`,
  );
});
