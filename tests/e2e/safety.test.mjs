// Page safety: every request the page (and its worker) makes goes to the page's own origin, the
// Content-Security-Policy of the page and of the example app reports no violation, and names that
// come from the person's files (a class name, a CSV label and column, a file name) render as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './harness.mjs';

const IMAGES = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const FASHION = fileURLToPath(new URL('../fixtures/fashion/', import.meta.url));
const fashion = (name, from, to) => readdirSync(FASHION).filter((f) => f.startsWith(`${name}-`)).sort()
  .slice(from, to).map((f) => FASHION + f);
// `n` copies of a fixture photo under different names (the folder holds one photo per subject).
const copies = (file, n) => Array.from({ length: n }, (_, i) => ({
  name: file.replace('.png', `-${i}.png`), mimeType: 'image/png', buffer: readFileSync(IMAGES + file),
}));

const XSS = '<img src=x onerror=alert(1)>';

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

// A page in its own context that records every request (its worker's included), every CSP
// violation the page reports, and every dialog (dismissed).
async function watchedPage() {
  const context = await browser.newContext();
  const requests = [];
  context.on('request', (request) => requests.push(request.url()));
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.cspViolations.push(`${e.effectiveDirective} refused ${e.blockedURI || 'inline code'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
  const violations = () => page.evaluate(() => window.cspViolations);
  return { context, page, requests, dialogs, violations };
}

// Requests to another origin (a blob: URL's origin is its creator's; data: URLs load nothing).
function foreign(requests) {
  return requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== server.origin);
}

// Names the classes and adds their files, as page.test.mjs does; `counts` are the images kept.
async function openImageProject(page, classes, counts) {
  await page.goto(server.url);
  await page.click('#open');
  await page.waitForSelector('.class >> nth=1');
  const cards = await page.$$('.class');
  for (const [i, [name, files]] of classes.entries()) {
    const nameInput = await cards[i].$('input[type=text]');
    await nameInput.fill(name);
    await nameInput.dispatchEvent('change');
    await (await cards[i].$('input[type=file]')).setInputFiles(files);
    await page.waitForFunction(([idx, n]) => document.querySelectorAll('.class')[idx].querySelector('.count').textContent.startsWith(`${n} `), [i, counts[i]]);
  }
}

async function trainQuick(page, epochs) {
  await page.check('input[name=recipe][value=quick]');
  await page.click('#advanced > summary');
  await page.fill('#epochs', String(epochs));
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
}

const texts = (page, selector) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
// Markup injected from a name would show up as an element with its attributes.
const injected = (page) => page.$$eval('img[src="x"], [onerror]', (nodes) => nodes.length);

test('an image project loads only from its own origin, and its Content-Security-Policy reports nothing', async () => {
  const { context, page, requests, violations } = await watchedPage();
  await openImageProject(page, [['cat', copies('chelsea.png', 5)], ['coffee', copies('coffee.png', 5)]], [5, 5]);
  await trainQuick(page, 1);
  await page.waitForSelector('#evaluation:not([hidden])');
  await page.setInputFiles('#try-file', IMAGES + 'coffee.png');
  await page.waitForSelector('#prediction li');
  assert.ok(requests.some((url) => url.endsWith('/weights/mobilenet_v2.safetensors')), "the worker's requests were not seen");
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await violations(), []);
  await context.close();
});

test('the example app runs under its Content-Security-Policy (import map allowed by its hash)', async () => {
  const { context, page, requests, violations } = await watchedPage();
  await Promise.all([page.waitForRequest(/\/weights\/mobilenet_v2\.safetensors$/), page.goto(`${server.url}examples/`)]);
  await page.click('#ping');
  assert.match(await page.textContent('#pong'), /^handled after/, 'the app module did not run');
  assert.deepEqual(foreign(requests), []);
  assert.deepEqual(await violations(), []);
  await context.close();
});

test('a class name, a file name and a CSV label and column that look like HTML render as text', async () => {
  const { context, page, dialogs, violations } = await watchedPage();
  const unreadable = { name: `${XSS}.png`, mimeType: 'image/png', buffer: Buffer.from('not a png') };
  // The unreadable file goes to the last class: adding files to a class replaces the error line.
  // Playwright takes either paths or buffers in one call: the class with the odd file gets buffers.
  const asBuffer = (path) => ({ name: path.split('/').pop(), mimeType: 'image/png', buffer: readFileSync(path) });
  await openImageProject(page, [['bag', fashion('bag', 0, 6)], [XSS, [...fashion('tshirt', 0, 6).map(asBuffer), unreadable]]], [6, 6]);
  assert.ok((await page.textContent('#data-error')).includes(`Skipped ${XSS}.png`), 'the skipped file is named');
  await trainQuick(page, 4);
  await page.waitForSelector('#evaluation:not([hidden])');
  assert.ok((await texts(page, '#per-class tbody td:first-child')).includes(XSS));
  assert.ok((await texts(page, '#confusion th')).includes(XSS));
  assert.ok((await texts(page, '#hardest li')).some((t) => t.includes(XSS)), 'the possibly-mislabelled list names the class');
  await page.setInputFiles('#try-file', fashion('tshirt', 6, 7));
  await page.waitForSelector('#prediction li');
  assert.ok((await texts(page, '#prediction li')).some((t) => t.startsWith(XSS)));
  assert.equal(await injected(page), 0);
  assert.deepEqual(await violations(), []); // before the next page load forgets them

  await page.goto(server.url);
  await page.selectOption('#backbone', 'minilm');
  await page.click('#open');
  await page.waitForSelector('#text-file:not([disabled])', { timeout: 120_000 });
  let csv = `text,label,${XSS}\n`;
  for (let i = 0; i < 4; i++) csv += `"a lovely day (${i})",${XSS},1\n"an awful day (${i})",sad,2\n`;
  csv += `just ${XSS}\n`; // one field: skipped, and its line shown
  await page.setInputFiles('#text-file', { name: 'labels.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector('#text-counts li');
  assert.deepEqual(await texts(page, '#text-counts li'), [`${XSS}: 4 texts`, 'sad: 4 texts']);
  assert.deepEqual(await page.$$eval('#text-column option', (o) => o.map((x) => x.value)), ['text', 'label', XSS]);
  assert.equal((await texts(page, '#skipped-rows li')).length, 1);
  assert.equal(await injected(page), 0);

  assert.deepEqual(dialogs, []);
  assert.deepEqual(await violations(), []);
  await context.close();
});
