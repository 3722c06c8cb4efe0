// A data set of thousands of images in the page: 3,000 images through the class cards' file
// inputs train one epoch of Quick. The images stay as files outside kindling's wasm memory, so the
// memory read-out stays far below the 1.8 GB their preprocessed pixels would take (600 KB each);
// and a run a tab cannot hold is refused up front with what to change, the images kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve, launch, screenshot } from './harness.mjs';

const FIXTURES = fileURLToPath(new URL('../fixtures/fashion/', import.meta.url));
const PER_CLASS = 1500;

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

/** `n` PNG files of class `name`, cycling through its fixtures. */
function files(name, n) {
  const pngs = readdirSync(FIXTURES).filter((f) => f.startsWith(`${name}-`)).sort()
    .map((f) => readFileSync(FIXTURES + f));
  return Array.from({ length: n }, (_, i) => ({ name: `${name}-${i}.png`, mimeType: 'image/png', buffer: pngs[i % pngs.length] }));
}

test('3,000 images train one epoch of Quick within a fraction of the memory their pixels would take', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.click('#open');
  await page.waitForSelector('.class >> nth=1');
  const cards = await page.$$('.class');
  for (const [i, name] of ['bag', 'trouser'].entries()) {
    const nameInput = await cards[i].$('input[type=text]');
    await nameInput.fill(name);
    await nameInput.dispatchEvent('change');
    await (await cards[i].$('input[type=file]')).setInputFiles(files(name, PER_CLASS));
    await page.waitForFunction(([idx, n]) => document.querySelectorAll('.class')[idx].querySelector('.count').textContent.startsWith(`${n} `),
      [i, PER_CLASS], { timeout: 120_000 });
  }
  await page.check('input[name=recipe][value=quick]');
  await page.click('#advanced > summary');
  await page.fill('#epochs', '1');
  await page.click('#train');
  // The read-out appears while the features are computed, and is there at the end.
  await page.waitForFunction(() => /Memory in use/.test(document.querySelector('#memory').textContent), null, { timeout: 300_000 });
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 900_000 });
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.match(await page.textContent('#status'), /validation accuracy/);
  const wasmBytes = Number(await page.$eval('#memory', (m) => m.dataset.wasmBytes));
  const text = await page.textContent('#memory');
  assert.match(text, /estimated peak: \d+ MB/);
  // Weights, model and burn's pools take a few hundred MB; the cache 2 × 3,000 × 5 KB.
  assert.ok(wasmBytes > 20e6 && wasmBytes < 600e6, `${text} (${wasmBytes} bytes)`);
  await screenshot(page, '13-three-thousand-images');
  assert.doesNotMatch(await page.textContent('#status'), /reused/);

  // Trained again (a fresh worker), and again after a reload: the features computed by the first
  // run are reused from the saved project, not computed from the 3,000 images again.
  await page.fill('#lr', '0.01');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled && /Done/.test(document.querySelector('#status').textContent),
    null, { timeout: 900_000 });
  assert.match(await page.textContent('#status'), /features reused from the last run/);
  // Saving runs in the background: wait until the cache and the model are stored.
  const stored = async () => page.evaluate(async () => {
    const { listProjects, loadProject } = await import('/store.js');
    const [meta] = await listProjects();
    const saved = meta && await loadProject(meta.id);
    return saved?.cache instanceof Blob && saved.model !== null;
  });
  for (let tries = 0; !(await stored()); tries++) {
    assert.ok(tries < 150, 'the cache and model were not saved within 30 s');
    await page.waitForTimeout(200);
  }
  await page.reload();
  await page.waitForSelector('#saved-projects li');
  await page.click('#saved-projects li button');
  await page.waitForFunction(() => /^Opened/.test(document.querySelector('#save-status').textContent), null, { timeout: 300_000 });
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled && /Done/.test(document.querySelector('#status').textContent),
    null, { timeout: 900_000 });
  assert.match(await page.textContent('#status'), /features reused from the last run/);

  // Every block fine-tuned, 256 images a batch: refused before it starts, naming the setting.
  if (!await page.isVisible('#strategy')) await page.click('#advanced > summary');
  await page.selectOption('#strategy', 'full');
  await page.fill('#batch', '256');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train-error').hidden, null, { timeout: 300_000 });
  const error = await page.textContent('#train-error');
  assert.match(error, /browser tab/);
  assert.match(error, /batch_size/);
  for (const i of [0, 1]) {
    assert.match(await page.$eval(`.class >> nth=${i}`, (c) => c.querySelector('.count').textContent), new RegExp(`^${PER_CLASS} `));
  }
  await page.close();
});
