// The page's layout and accessibility at the three widths people use (wide, tablet 768 px, phone
// 390 px): the flow is side by side where there is room and stacked where there is not, nothing
// scrolls sideways, and axe-core finds no serious or critical problem on each main screen. The
// screenshots are the ones a person looks at before a release (tests/e2e/screenshots/layout-*).
// Also: folders as classes, from the directory picker and from a dropped .zip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { serve, launch, screenshot, images, openImageProject, train, accessibilityProblems } from './harness.mjs';

let server;
let browser;
let work;
before(async () => {
  server = await serve();
  browser = await launch();
  work = mkdtempSync(join(tmpdir(), 'kindling-layout-'));
});
after(async () => {
  await browser?.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const WIDTHS = [['wide', 1440, 900], ['tablet', 768, 1024], ['phone', 390, 844]];

// Where each card is: its left edge and top, in page pixels.
const boxes = (page) => page.evaluate(() => Object.fromEntries(['data-heading', 'train-heading', 'eval-heading', 'try-heading']
  .map((id) => { const r = document.getElementById(id).closest('section').getBoundingClientRect(); return [id, { x: r.left, y: r.top + scrollY }]; })));

test('the flow at three widths: side by side when wide, stacked on a phone, no sideways scrolling, no serious axe problems', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  assert.deepEqual(await accessibilityProblems(page), [], 'the empty page');
  await openImageProject(page, server.url, [['tshirt', images('tshirt', 0, 6)], ['bag', images('bag', 0, 6)]]);
  assert.deepEqual(await accessibilityProblems(page), [], 'a project with examples');
  await train(page, 'quick', 4);
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.deepEqual(await accessibilityProblems(page), [], 'the Advanced panel open, after training');
  await page.click('#advanced > summary');
  await page.setInputFiles('#try-file', images('bag', 6, 7));
  await page.waitForSelector('#prediction li');
  await page.click('#confusion td.diag >> nth=0');
  await page.waitForSelector('#cell-examples img');
  for (const [name, width, height] of WIDTHS) {
    await page.setViewportSize({ width, height });
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    // What sticks out, to say where (the innermost elements past the right edge).
    const out = sideways <= 0 ? [] : await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth && !e.parentElement.closest('.table-scroll'))
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`));
    assert.ok(sideways <= 0, `${name}: the page scrolls ${sideways} px sideways: ${out.join(', ')}`);
    const at = await boxes(page);
    if (name === 'wide') {
      // Examples, Train and Evaluate side by side, in that order.
      assert.ok(at['data-heading'].x < at['train-heading'].x && at['train-heading'].x < at['eval-heading'].x, JSON.stringify(at));
    } else if (name === 'phone') {
      // One column, in the order of the flow.
      const order = ['data-heading', 'train-heading', 'eval-heading', 'try-heading'];
      assert.ok(order.every((id) => at[id].x === at['data-heading'].x), JSON.stringify(at));
      assert.ok(order.every((id, i) => i === 0 || at[order[i - 1]].y < at[id].y), JSON.stringify(at));
    }
    assert.deepEqual(await accessibilityProblems(page), [], `${name}: the trained project`);
    await screenshot(page, `layout-${name}`);
  }
  // The class colours: each card's, its per-class row's and its confusion-matrix header's agree.
  const colours = await page.evaluate(() => ({
    cards: [...document.querySelectorAll('.class')].map((c) => c.style.getPropertyValue('--class-colour')),
    scores: [...document.querySelectorAll('#per-class tbody .swatch')].map((s) => s.style.getPropertyValue('--class-colour')),
  }));
  assert.equal(new Set(colours.cards).size, 2);
  assert.deepEqual(colours.scores, colours.cards);
  await page.close();
});

// A folder of classes as a person has one: two class folders, a stray file at the top and a
// non-image inside a class (both skipped and named).
function classFolder() {
  const root = join(work, 'clothes');
  for (const [name, files] of [['tshirt', images('tshirt', 0, 5)], ['trouser', images('trouser', 0, 4)]]) {
    mkdirSync(join(root, name), { recursive: true });
    for (const f of files) copyFileSync(f, join(root, name, basename(f)));
  }
  writeFileSync(join(root, 'README.txt'), 'tshirts and trousers');
  writeFileSync(join(root, 'trouser', 'notes.txt'), 'not an image');
  return root;
}

test('folders as classes: a chosen folder and a dropped .zip make the classes and add their images', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.click('#open');
  await page.waitForSelector('#folder-picker:not([disabled])', { state: 'attached', timeout: 120_000 });
  const root = classFolder();
  await page.setInputFiles('#folder-picker', root);
  await page.waitForFunction(() => /^Added/.test(document.querySelector('#folder-status').textContent), null, { timeout: 60_000 });
  // The two empty classes the page started with gave way to the folder's.
  const cards = () => page.$$eval('.class', (c) => c.map((x) => `${x.dataset.className}: ${x.querySelector('.count').textContent}`));
  // Classes in the order of their names, as Keras gives them.
  assert.deepEqual(await cards(), ['trouser: 4 images', 'tshirt: 5 images']);
  const status = await page.textContent('#folder-status');
  assert.match(status, /^Added 9 images in 2 classes from "clothes"\. Skipped 2 files: /);
  assert.match(status, /clothes\/README\.txt \(not an image/);
  assert.match(status, /clothes\/trouser\/notes\.txt \(not an image/);

  // The same folder zipped (as "Compress" makes it: one top folder), dropped on the drop zone:
  // the classes of the same names get the images, and a new class is made.
  mkdirSync(join(root, 'bag'));
  for (const f of images('bag', 0, 3)) copyFileSync(f, join(root, 'bag', basename(f)));
  const zip = join(work, 'clothes.zip');
  execFileSync('python3', ['-m', 'zipfile', '-c', zip, root]);
  const bytes = [...(await import('node:fs')).readFileSync(zip)];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], 'clothes.zip', { type: 'application/zip' }));
    document.querySelector('#folder-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await page.waitForFunction(() => /from clothes\.zip/.test(document.querySelector('#folder-status').textContent), null, { timeout: 60_000 });
  assert.deepEqual(await cards(), ['trouser: 8 images', 'tshirt: 10 images', 'bag: 3 images']);
  assert.match(await page.textContent('#folder-status'), /^Added 12 images in 3 classes from clothes\.zip\./);

  // Not a zip: said, and nothing changes.
  await page.setInputFiles('#zip-file', { name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
  await page.waitForFunction(() => /broken\.zip could not be read/.test(document.querySelector('#data-error').textContent));
  assert.deepEqual(await cards(), ['trouser: 8 images', 'tshirt: 10 images', 'bag: 3 images']);

  // A small zip whose directory claims 3 GB (a zip bomb's shape): refused before unpacking.
  const bomb = join(work, 'bomb.zip');
  execFileSync('python3', ['-c', `
import io, struct, zipfile, sys
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, 'w') as z:
    z.writestr('huge/class/a.png', b'tiny')
data = bytearray(buffer.getvalue())
at = data.index(b'PK\x01\x02')
data[at + 24:at + 28] = struct.pack('<I', 3_000_000_000)
open(sys.argv[1], 'wb').write(data)`, bomb]);
  await page.setInputFiles('#zip-file', bomb);
  await page.waitForFunction(() => /bomb\.zip would unpack to more than 2 GiB/.test(document.querySelector('#data-error').textContent));
  assert.deepEqual(await cards(), ['trouser: 8 images', 'tshirt: 10 images', 'bag: 3 images']);
  await screenshot(page, 'folders-as-classes');
  await page.close();
});
