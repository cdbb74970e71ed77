// The scan benchmark (scan-core.mjs) in Chromium's V8, headless, driven by playwright-core
// (not a test; `make bench-chromium`, which runs the native scan first for the ratios): both
// modules, fetched from a local server as a page would (instantiateStreaming).
//
//   CHROMIUM=/usr/bin/chromium node bindings/js/bench/scan-chromium.mjs [--rows N] [--dims D] [--min-ms T]
//
// playwright-core comes from examples/web/test (make deps-web-test installs it there).

import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { serve } from '../../../examples/web/tools/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { chromium } = createRequire(path.join(root, 'examples/web/test/package.json'))('playwright-core');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
// Chromium's clock ticks in 0.1 ms steps here (no cross-origin isolation): 20 scans per
// sample, so one tick is at most 0.4% of a 1.2 ms scan's sample.
const options = { rows: flag('--rows', 20000), dims: flag('--dims', 384), minMs: flag('--min-ms', 1000), repeat: 20 };
const MODULES = ['ferrovec.wasm', 'ferrovec-simd.wasm'];
const KERNELS = ['scan_f32/dot', 'scan_f32/cosine', 'scan_f32/l2sq', 'dot_f32 (per row)'];

const server = await serve(root, { port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage();
  await page.goto(new URL('bindings/js/bench/scan.html', server.url).href);
  const version = browser.version();
  const results = await page.evaluate(async ({ modules, kernels, options }) => {
    const { Ferrovec } = await import('/bindings/js/ferrovec.mjs');
    const { benchModule } = await import('/bindings/js/bench/scan-core.mjs');
    const out = {};
    for (const file of modules) {
      const fv = await Ferrovec.load(new URL(`/target/wasm/${file}`, location.href));
      out[file] = Object.fromEntries(benchModule(fv, { ...options, kernels }));
    }
    return out;
  }, { modules: MODULES, kernels: KERNELS, options });
  console.log(`V8 (Chromium ${version}, headless), one query vs ${options.rows} rows, d = ${options.dims}; median ms per scan`);
  const w = Math.max(...KERNELS.map((k) => k.length)) + 2;
  console.log(`${'kernel'.padEnd(w)}${'ferrovec.wasm'.padStart(16)}${'ferrovec-simd.wasm'.padStart(20)}`);
  for (const k of KERNELS) {
    const cell = (file, width) => `${results[file][k].toFixed(3)} ms`.padStart(width);
    console.log(`${k.padEnd(w)}${cell(MODULES[0], 16)}${cell(MODULES[1], 20)}`);
  }
} finally {
  await browser.close();
  await server.close();
}
