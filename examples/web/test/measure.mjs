// Measures the web example with the real model in headless Chromium (not a test; make
// web-measure): time to first search on a cold visit (download, embed the corpus, build)
// and a warm one (everything cached, index from IndexedDB), and the encoder's ms per query
// in Chromium's V8: the example queries, and one 128-token sequence as in
// `make bench-encoder-wasm` (126 x "hello").
//
//   node examples/web/test/measure.mjs [SITE_DIR, default target/web]

import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { serve } from '../tools/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const site = path.resolve(root, process.argv[2] ?? 'target/web');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function visit(page, how) {
  const t0 = Date.now();
  if (how === 'goto') await page.goto(server.url);
  else await page.reload();
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 20 * 60_000, polling: 200 });
  if ((await page.evaluate(() => document.body.dataset.state)) !== 'ready') throw new Error(await page.textContent('#error'));
  const query = 'play chess against the computer';
  await page.fill('#q', query);
  await page.waitForFunction((q) => document.getElementById('results').dataset.query === q, query);
  const r = await page.evaluate(() => ({
    info: window.ferrovecPage.info,
    timings: window.ferrovecPage.timings,
    top: [...document.querySelectorAll('#results li')].slice(0, 3).map((li) => li.textContent),
    timing: document.getElementById('timing').textContent,
  }));
  r.wallMs = Date.now() - t0;
  // Once the worker's warm-up is done: a second query, exact and HNSW.
  await page.waitForFunction(() => window.ferrovecPage.warmMs !== undefined, null, { timeout: 60_000 });
  r.warmUpMs = await page.evaluate(() => window.ferrovecPage.warmMs);
  r.after = [];
  for (const [mode, q] of [['exact', 'read PDF files with vim keys'], ['hnsw', 'weather forecast in the terminal']]) {
    await page.check(`input[name=mode][value=${mode}]`);
    await page.fill('#q', q);
    await page.waitForFunction(([text, m]) => {
      const list = document.getElementById('results');
      return list.dataset.query === text && list.dataset.mode === m;
    }, [q, mode]);
    r.after.push(await page.textContent('#timing'));
  }
  await page.check('input[name=mode][value=exact]');
  return r;
}

const server = await serve(site, { port: 0 });
const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
const result = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  result.cold = await visit(page, 'goto');
  result.warm = await visit(page, 'reload');
  result.encoder = await page.evaluate(
    (texts) =>
      new Promise((resolve, reject) => {
        const worker = window.ferrovecPage.worker;
        const onMessage = ({ data }) => {
          if (data.id !== 'measure') return;
          worker.removeEventListener('message', onMessage);
          if (data.type === 'bench') resolve(data.rows.map((row, i) => ({ text: texts[i], ...row })));
          else reject(new Error(data.message));
        };
        worker.addEventListener('message', onMessage);
        worker.postMessage({ type: 'bench', id: 'measure', texts, repeat: 9 });
      }),
    ['play chess against the computer', 'read PDF files with vim keys', 'weather forecast in the terminal', 'music player for the desktop', Array(126).fill('hello').join(' ')],
  );
  await context.setOffline(true);
  await server.close();
  result.warmOffline = await visit(page, 'reload');
  await page.screenshot({ path: path.join(root, 'target/web-measure.png'), fullPage: true });
} finally {
  await browser.close();
  await server.close();
}
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
for (const k of ['cold', 'warm', 'warmOffline']) {
  const r = result[k];
  console.log(
    `${k}: index ${r.info.indexSource}, ready ${s(r.timings.ready)}, first results ${s(r.timings.firstResults)} after navigation start` +
      (r.info.embedMs ? `; embedded ${r.info.count} texts (${r.info.tokens} tokens) in ${s(r.info.embedMs)} = ${(r.info.embedMs / r.info.count).toFixed(1)} ms per text` : '') +
      `; model ${r.info.modelFromCache ? 'cached' : 'downloaded'} in ${r.info.fetchMs.toFixed(0)} ms; ${r.timing}`,
  );
  console.log(`  top 3: ${r.top.join(' | ')}`);
  console.log(`  after the warm-up (${r.warmUpMs.toFixed(0)} ms): ${r.after.join('; ')}`);
}
for (const row of result.encoder) console.log(`encoder in Chromium: ${row.ms.toFixed(2)} ms for ${row.tokens} tokens (${row.text.slice(0, 40)})`);
writeFileSync(path.join(root, 'target/web-measure.json'), JSON.stringify(result, null, 2) + '\n');
console.log('details: target/web-measure.json; screenshot: target/web-measure.png');
