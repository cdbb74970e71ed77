// A tiny static file server for the web example (node:http only): serves one directory on
// 127.0.0.1, `.wasm` as application/wasm (so the page can compile while it downloads), with
// Content-Length (the page's progress bars) and no compression. Query strings are ignored
// (the page versions its immutable files as `file?v=<hash>`). Symbolic links are followed,
// so the model can be linked in from its cache instead of copied.
//
//   node examples/web/tools/serve.mjs DIR [--port 8080]     prints the URL, serves until ^C
//   import { serve } from './serve.mjs'; const { url, close } = await serve(dir, { port: 0 });

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** MIME types of everything the page serves; anything else is application/octet-stream. */
export const MIME_TYPES = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
});

/**
 * Serves `root` on `host:port` (port 0: any free port). Resolves to `{ url, port, close }`
 * once listening; `close()` stops the server and drops open connections.
 */
export async function serve(root, { port = 8080, host = '127.0.0.1', log = false } = {}) {
  const base = path.resolve(root);
  const server = createServer(async (req, res) => {
    const done = (status, headers = {}, body = '') => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, { Allow: 'GET, HEAD' }, 'method not allowed\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return done(400, {}, 'bad request\n');
    }
    if (pathname.includes('\0')) return done(400, {}, 'bad request\n');
    let file = path.join(base, pathname);
    if (file !== base && !file.startsWith(base + path.sep)) return done(403, {}, 'forbidden\n');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
      if (!info.isFile()) return done(404, {}, 'not found\n');
      const headers = {
        'Content-Type': MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
        // Revalidate every time: the service worker decides what works offline.
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      };
      res.writeHead(200, headers);
      if (log) console.log(`200 ${req.method} ${req.url} (${info.size} bytes)`);
      if (req.method === 'HEAD') return res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return done(404, {}, 'not found\n');
      return done(500, {}, 'internal error\n');
    }
  });
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port');
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 8080;
  if (!dir || !Number.isInteger(port)) {
    console.error('usage: node serve.mjs DIR [--port N] [--log]');
    process.exit(2);
  }
  const { url } = await serve(dir, { port, log: args.includes('--log') });
  console.log(`serving ${path.resolve(dir)} at ${url} (Ctrl-C stops)`);
}
