// Static server for the benchmark page on a free loopback port: the kindling page's www/ at `/`
// (so `/pkg/kindling.js` is the owner's build), this folder at `/bench/`, and its npm packages
// at `/node_modules/` (TF.js is loaded from there: no CDN).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROUTES = [
  ['/node_modules/', join(HERE, 'node_modules')],
  ['/bench/', HERE],
  ['/', join(HERE, '..', '..', 'www')],
];
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css',
};
// Cross-origin isolation lets TF.js's wasm backend use its threaded SIMD build (its best
// configuration); every resource is same-origin, so nothing else changes.
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** The file for a URL path, or null when the path escapes its folder (`..`). */
function resolve(pathname) {
  const [prefix, root] = ROUTES.find(([p]) => pathname.startsWith(p));
  const rel = normalize(pathname.slice(prefix.length));
  const file = join(root, rel.endsWith(sep) || rel === '.' ? join(rel, 'index.html') : rel);
  return file.startsWith(root) ? file : null;
}

export async function serve() {
  const server = createServer(async (req, res) => {
    const file = resolve(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    try {
      if (!file) throw new Error('outside the served folders');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...ISOLATION,
      });
      res.end(body);
    } catch {
      res.writeHead(404, ISOLATION).end('not found');
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
