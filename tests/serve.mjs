// The project's one static server (Node built-ins only): the page for `./build.sh serve`, the e2e
// tests (tests/e2e/harness.mjs) and the browser benchmark (benches/browser/run.mjs).
//
//   node tests/serve.mjs <root> <port> [--no-isolation]
//
// Every response is cross-origin isolated (COOP same-origin + COEP require-corp, and CORP
// same-origin on our own files), which wasm threads need, and never cached, so a rebuilt wasm is
// what the next reload gets. `isolated: false` / `--no-isolation` leaves the isolation headers
// out, so a test can show the page's fallback without it.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Serves `root` at `/` and each of `routes` (`{ '/prefix/': folder }`, the longest prefix wins)
 * on `host:port` (port 0: a free one). Resolves to `{ url, origin, port, close() }` once listening;
 * `url` ends with `/`, `close()` resolves when the server has stopped.
 */
export async function serve(root, { port = 0, host = '127.0.0.1', routes = {}, isolated = true } = {}) {
  if (!root) throw new Error('serve(root): the folder to serve is missing');
  const mounts = [...Object.entries(routes), ['/', root]]
    .map(([prefix, folder]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(folder)])
    .sort((a, b) => b[0].length - a[0].length);
  const base = isolated ? { ...ISOLATION } : {};
  base['cache-control'] = 'no-store';
  base['x-content-type-options'] = 'nosniff';

  const server = createServer(async (req, res) => {
    const fail = (status, text, headers = {}) => {
      res.writeHead(status, { ...base, 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') { fail(405, 'method not allowed', { allow: 'GET, HEAD' }); return; }
    const url = new URL(req.url, 'http://localhost');
    const file = fileFor(mounts, url.pathname);
    if (!file) { fail(404, 'not found'); return; }
    try {
      let path = file;
      let info = await stat(path);
      if (info.isDirectory()) {
        // A folder's relative links need the trailing slash (as any static server does).
        if (!url.pathname.endsWith('/')) { fail(301, 'moved', { location: `${url.pathname}/${url.search}` }); return; }
        path = join(path, 'index.html');
        info = await stat(path);
      }
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        ...base,
        'content-type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'content-length': info.size,
      });
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(path).on('error', () => res.destroy()).pipe(res);
    } catch {
      fail(404, 'not found');
    }
  });
  await new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); done(); });
  });
  const actual = server.address().port;
  const origin = `http://${host}:${actual}`;
  return {
    url: `${origin}/`,
    origin,
    port: actual,
    close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections?.(); }),
  };
}

// The file a URL path names, or null when it is malformed or would leave its folder.
function fileFor(mounts, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const mount = mounts.find(([prefix]) => decoded.startsWith(prefix) || `${decoded}/` === prefix);
  if (!mount) return null;
  const [prefix, folder] = mount;
  const file = resolve(folder, `.${sep}${decoded.slice(prefix.length)}`);
  return file === folder || file.startsWith(folder + sep) ? file : null;
}

// CLI: node tests/serve.mjs <root> <port> [--no-isolation]
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const isolated = !args.includes('--no-isolation');
  const [root, portText = '8080'] = args.filter((a) => a !== '--no-isolation');
  const port = Number(portText);
  if (!root || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node tests/serve.mjs <root> <port> [--no-isolation]');
    process.exit(2);
  }
  try {
    const { url, close } = await serve(root, { port, isolated });
    console.log(`serving ${root} at ${url}${isolated ? '' : ' (without cross-origin isolation)'}`);
    const stop = () => close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use: choose another (PORT=… ./build.sh serve)` : `could not serve ${root}: ${e.message}`);
    process.exit(1);
  }
}
