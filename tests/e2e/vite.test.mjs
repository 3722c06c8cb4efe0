// The package as a bundled web app gets it: `npm pack` of pkg/, installed into a copy of the Vite
// example (www/examples/vite/) as a user would, built with Vite, served, and run in Chromium —
// two classes trained in the bundled worker, then a prediction. The weights' URL is relative to
// the page, which the bundled worker (in assets/) would resolve elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'vite';
import { serve, launch, screenshot, images } from './harness.mjs';

const WWW = process.env.WWW;
const ROOT = dirname(WWW);
let work;
let server;
let browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kindling-vite-'));
  const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
  const tarball = npm(['pack', join(ROOT, 'pkg'), '--pack-destination', work], work).trim().split('\n').pop();
  const app = join(work, 'app');
  for (const file of ['index.html', 'main.js', 'vite.config.js']) cpSync(join(WWW, 'examples/vite', file), join(app, file));
  // The example's own package.json points at the repository's pkg/; here the tarball stands in
  // for the registry, and Vite is the e2e tests' own.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  npm(['install', join(work, tarball)], app);
  await build({ root: app, logLevel: 'warn' });
  server = await serve(join(app, 'dist'), { routes: { '/weights/': join(WWW, 'weights') } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the packed package builds with Vite: its worker and wasm are bundled', () => {
  const assets = readdirSync(join(work, 'app/dist/assets'));
  assert.ok(assets.some((f) => /^worker.*\.js$/.test(f)), `no bundled worker in ${assets}`);
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `the two wasm builds, in ${assets}`);
  const installed = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("kindling/package.json"))'], { cwd: join(work, 'app'), encoding: 'utf8' }));
  assert.deepEqual(installed.exports['./client'], { types: './client.d.ts', default: './client.js' });
});

test('the Vite app trains two classes in the bundled worker and predicts', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => /ready|Error/.test(document.querySelector('#log').textContent), null, { timeout: 120_000 });
  const ready = await page.textContent('#log');
  assert.match(ready, /^ready: (cpu|webgpu), \d+ thread/);
  await page.setInputFiles('#tops', images('tshirt', 0, 8));
  await page.setInputFiles('#bags', images('bag', 0, 8));
  await page.click('#train');
  await page.waitForFunction(() => /done|Error/.test(document.querySelector('#log').textContent), null, { timeout: 300_000 });
  // Up to 6 epochs: the solved linear head may converge before the last.
  assert.match(await page.textContent('#log'), /^epoch [1-6]: \d+% validation accuracy — done$/);
  await page.setInputFiles('#try', images('bag', 8, 9));
  await page.waitForFunction(() => document.querySelector('#answer').textContent);
  assert.match(await page.textContent('#answer'), /^bag \(p = /);
  await screenshot(page, 'library-2-vite-app');
  assert.deepEqual(problems, []);
  console.log(`vite app: ${ready}`);
  await page.close();
});
