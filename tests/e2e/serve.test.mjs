// The project's static server (tests/serve.mjs) on its own: types, isolation and caching headers,
// extra routes, folders, and paths that try to leave the served folders. Needs no wasm build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';

let dir;
let server;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindling-serve-'));
  await mkdir(join(dir, 'www', 'examples'), { recursive: true });
  await mkdir(join(dir, 'extra'));
  const files = {
    'www/index.html': '<!doctype html>', 'www/examples/index.html': 'example', 'www/a.js': 'export {}',
    'www/a.mjs': '', 'www/a.css': '', 'www/a.json': '{}', 'www/a.wasm': '\0asm', 'www/a.png': '', 'www/a.svg': '',
    'www/a.txt': '', 'www/m.safetensors': '', 'www/a.bin': '', 'www/with space.txt': 'spaced',
    'secret.txt': 'outside', 'extra/lib.js': 'extra',
  };
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  server = await serve(join(dir, 'www'), { routes: { '/extra/': join(dir, 'extra') } });
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

// A raw GET (fetch would normalise `..` away before sending it).
function get(base, path, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = request(new URL(base), { path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('files are sent with their type, cross-origin isolated and never cached', async () => {
  const types = {
    '/a.wasm': 'application/wasm', '/a.js': 'text/javascript', '/a.mjs': 'text/javascript', '/a.css': 'text/css',
    '/a.json': 'application/json', '/a.png': 'image/png', '/a.svg': 'image/svg+xml', '/': 'text/html',
    '/a.txt': 'text/plain', '/m.safetensors': 'application/octet-stream', '/a.bin': 'application/octet-stream',
  };
  for (const [path, type] of Object.entries(types)) {
    const { status, headers } = await get(server.url, path);
    assert.equal(status, 200, path);
    assert.equal(headers['content-type'].split(';')[0], type, path);
    assert.equal(headers['cross-origin-opener-policy'], 'same-origin', path);
    assert.equal(headers['cross-origin-embedder-policy'], 'require-corp', path);
    assert.equal(headers['cross-origin-resource-policy'], 'same-origin', path);
    assert.equal(headers['cache-control'], 'no-store', path);
  }
  assert.equal((await get(server.url, '/a.wasm')).body, '\0asm');
  assert.equal((await get(server.url, '/with%20space.txt')).body, 'spaced');
  const head = await get(server.url, '/a.js', 'HEAD');
  assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, '9', '']);
  assert.equal((await get(server.url, '/a.js', 'POST')).status, 405);
  assert.equal(server.url, `${server.origin}/`);
});

test('folders serve their index.html, and a folder without its slash is redirected', async () => {
  assert.equal((await get(server.url, '/examples/')).body, 'example');
  const moved = await get(server.url, '/examples?x=1');
  assert.deepEqual([moved.status, moved.headers.location], [301, '/examples/?x=1']);
  assert.equal((await get(server.url, '/nothing.js')).status, 404);
});

test('extra routes are served from their own folder', async () => {
  assert.equal((await get(server.url, '/extra/lib.js')).body, 'extra');
  assert.equal((await get(server.url, '/extra/..%2fa.txt')).status, 404); // an encoded `..` stays inside the route's folder
});

test('paths that would leave the served folder are refused', async () => {
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/extra/..%2f..%2fsecret.txt',
    '/%2e%2e%5csecret.txt', '/a.txt%00', '/%E0%A4%A']) {
    const { status, body } = await get(server.url, path);
    assert.equal(status >= 400 && status < 500, true, `${path}: ${status}`);
    assert.doesNotMatch(body, /outside/, path);
  }
});

test('isolation can be turned off (to show the fallback); the other headers stay', async () => {
  const plain = await serve(join(dir, 'www'), { isolated: false });
  try {
    const { status, headers } = await get(plain.url, '/a.js');
    assert.equal(status, 200);
    assert.equal(headers['cross-origin-opener-policy'], undefined);
    assert.equal(headers['cross-origin-embedder-policy'], undefined);
    assert.equal(headers['cross-origin-resource-policy'], undefined);
    assert.equal(headers['cache-control'], 'no-store');
  } finally {
    await plain.close();
  }
});

test('the command line serves a folder and says where', async () => {
  const cli = fileURLToPath(new URL('../serve.mjs', import.meta.url));
  const child = spawn(process.execPath, [cli, join(dir, 'www'), '0', '--no-isolation'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      child.stdout.once('data', (chunk) => resolve(String(chunk)));
      child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const [, url] = line.match(/^serving .*www at (http:\/\/127\.0\.0\.1:\d+\/) \(without cross-origin isolation\)\n$/);
    const { status, headers } = await get(url, '/a.wasm');
    assert.equal(status, 200);
    assert.equal(headers['content-type'], 'application/wasm');
    assert.equal(headers['cross-origin-embedder-policy'], undefined);
  } finally {
    child.kill('SIGTERM');
  }
});
