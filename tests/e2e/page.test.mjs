// The page as a person uses it: start a project, upload real images per class through the file
// inputs, train, evaluate, predict, export and re-import, and the error paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, screenshot, images, FASHION, openImageProject, train, accessibilityProblems } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const openProject = (page, classes) => openImageProject(page, server.url, classes);

// Trains a text project with Quick and checks the top class predicted for `text`.
async function trainTextAndPredict(page, text, expected) {
  await train(page, 'quick', 10, '0.03');
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  await page.fill('#try-text-input', text);
  await page.click('#try-text-button');
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), expected);
}

const threeClasses = [
  ['tshirt', images('tshirt', 0, 8)],
  ['trouser', images('trouser', 0, 8)],
  ['bag', images('bag', 0, 8)],
];

test('Quick: an image project trains, evaluates, drills into the confusion matrix and predicts', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await screenshot(page, '1-examples');
  await train(page, 'quick', 12);
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.match(await page.textContent('#status'), /Done|early stop|converged: the head is the optimum/);
  assert.match(await page.textContent('#device'), /^(CPU, \d+ threads? \(wasm SIMD\)|WebGPU:) /);
  const accuracy = await page.$$eval('#metrics tbody tr', (rows) => parseFloat(rows.at(-1).children[4].textContent));
  assert.ok(accuracy >= 66, `validation accuracy ${accuracy}% (chance 33%)`);
  await page.waitForSelector('#evaluation:not([hidden])');
  assert.equal(await page.$$eval('#per-class tbody tr', (r) => r.length), 3);
  // The kept model's calibration error, after temperature scaling where that helped.
  assert.match(await page.textContent('#averages'), /calibration error \d+\.\d%/);
  await page.click('#confusion td.diag >> nth=0');
  await page.waitForSelector('#cell-examples img');
  assert.equal(await page.$$eval('#hardest li', (li) => li.length), 5);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#metrics-csv')]);
  const { readFile } = await import('node:fs/promises');
  const lines = (await readFile(await csv.path(), 'utf8')).trim().split('\n');
  assert.equal(lines[0].split(',')[0], 'epoch');
  assert.ok(lines.length >= 2, 'one line per epoch');
  await screenshot(page, '2-trained-evaluation');
  await page.setInputFiles('#try-file', images('trouser', 8, 9));
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), /^trouser/);
  await screenshot(page, '3-prediction');
});

test('WebGPU: an image project chosen to compute on WebGPU trains, evaluates and predicts there', async () => {
  // SwiftShader (a CPU implementation of WebGPU) is this machine's only adapter: MobileNetV2's
  // features take seconds an image there, so the project is small; the path is the one a GPU takes.
  const page = await browser.newPage();
  const classes = [['trouser', images('trouser', 0, 4)], ['bag', images('bag', 0, 4)]];
  await openImageProject(page, server.url, classes, { device: 'webgpu' });
  await train(page, 'quick', 5);
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.match(await page.textContent('#device'), /^WebGPU: /);
  assert.match(await page.textContent('#status'), /Done|early stop|converged: the head is the optimum/);
  await page.waitForSelector('#evaluation:not([hidden])');
  assert.equal(await page.$$eval('#per-class tbody tr', (r) => r.length), 2);
  await page.setInputFiles('#try-file', images('trouser', 8, 9));
  await page.waitForSelector('#prediction li', { timeout: 120_000 });
  assert.match(await page.textContent('#prediction li'), /^trouser/);
  assert.match(await page.textContent('#device'), /^WebGPU: /);
});

test('WebGPU: a GPU device lost mid-training moves the project to the CPU device, the run goes on and the page says so', async () => {
  const page = await browser.newPage();
  const classes = [['trouser', images('trouser', 0, 4)], ['bag', images('bag', 0, 4)]];
  await openImageProject(page, server.url, classes, { device: 'webgpu' });
  // A head trained by epochs (not solved in one go), so that the loss falls between checkpoints;
  // enough of them, without early stopping, that the run is still going when the device goes.
  await page.check('input[name=recipe][value=quick]');
  await page.click('#advanced > summary');
  await page.selectOption('#head-fit', 'epochs');
  await page.fill('#epochs', '30');
  await page.uncheck('#early');
  await page.fill('#lr', '0.003');
  await page.click('#train');
  await page.waitForFunction(() => document.querySelectorAll('#metrics tbody tr').length >= 2, null, { timeout: 300_000 });
  assert.match(await page.textContent('#device'), /^WebGPU: /);
  // As a driver reset would: the worker destroys its GPU devices (its test hook), asked from
  // inside the worker so that the page's own code hears of it only through the device's loss.
  const worker = page.workers().filter((w) => w.url().endsWith('/worker.js')).at(-1);
  await worker.evaluate(() => self.dispatchEvent(new MessageEvent('message', { data: { id: 1e9, type: '__testLoseDevice' } })));
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.match(await page.textContent('#device'), /^CPU.* — the GPU device was lost \(.+\); training went on here/);
  assert.match(await page.textContent('#status'),
    /^(Done|.*early stop).*The GPU device was lost during the run; it went on on the CPU device from (the start|epoch \d+)\./);
  // Nothing trained is lost: every epoch is in the table once, and the kept model evaluates and predicts.
  const epochs = await page.$$eval('#metrics tbody tr', (rows) => rows.map((r) => Number(r.children[0].textContent)));
  assert.deepEqual(epochs, Array.from({ length: 30 }, (_, i) => i + 1), `epochs ${epochs}`);
  await page.waitForSelector('#evaluation:not([hidden])');
  assert.equal(await page.$$eval('#per-class tbody tr', (r) => r.length), 2);
  await page.setInputFiles('#try-file', images('trouser', 8, 9));
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), /^trouser/);
});

test('Auto: the recipes that suit the examples are compared and the best is kept, saying why', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await page.check('input[name=recipe][value=auto]');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isHidden('#sweep-error'), true, await page.textContent('#sweep-error'));
  // 8 images a class: too few to judge fine-tuning, so Quick alone.
  assert.match(await page.textContent('#status'),
    /^Auto chose quick: validation accuracy \d+\.\d% — the smallest class has 8 examples, fewer than the 20/);
  assert.equal(await page.$$eval('#leaderboard tbody tr', (r) => r.length), 1);
  await page.setInputFiles('#try-file', images('trouser', 8, 9));
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), /^trouser/);
});

test('Thorough on greyscale images: the recipe leaves flips out and says why', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await page.check('input[name=recipe][value=thorough]');
  await page.click('#advanced > summary');
  assert.equal(await page.isChecked('#flip'), true, 'the recipe itself flips');
  await page.fill('#epochs', '1');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.equal(await page.isChecked('#flip'), false);
  assert.match(await page.textContent('#status'), /Thorough: no horizontal flips: every image is greyscale/);
  // A person's own choice stands: flips asked for again are kept.
  await page.check('#flip');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isChecked('#flip'), true);
  assert.doesNotMatch(await page.textContent('#status'), /no horizontal flips/);
});

test('Balanced: MLP head and the last two blocks train', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await train(page, 'balanced', 6, '0.001');
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  const accuracy = await page.$$eval('#metrics tbody tr', (rows) => parseFloat(rows.at(-1).children[4].textContent));
  assert.ok(accuracy >= 66, `validation accuracy ${accuracy}%`);
});

test('Export, reload, import: the same predictions', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await train(page, 'quick', 8);
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li');
  const before = await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const path = await download.path();
  await page.reload();
  await page.click('#open');
  await page.waitForSelector('#import-file:not([disabled])');
  await page.setInputFiles('#import-file', path);
  await page.waitForFunction(() => /Imported/.test(document.querySelector('#keep-status').textContent)
    || !document.querySelector('#keep-error').hidden);
  assert.equal(await page.isHidden('#keep-error'), true, await page.textContent('#keep-error'));
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li');
  const after = await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent));
  assert.deepEqual(after, before);
  await screenshot(page, '4-imported');
});

test('Errors: a corrupt image is skipped and named, one class cannot train, bad numbers are refused', async () => {
  const page = await browser.newPage();
  await openProject(page, [['tshirt', [...images('tshirt', 0, 4), FASHION + 'corrupt.png']], ['empty', []]]);
  assert.match(await page.textContent('#data-error'), /corrupt\.png/);
  assert.match(await page.textContent('.class .count'), /^4 images/);
  await page.click('.class >> nth=1 >> text=Delete class');
  await page.click('#train');
  await page.waitForSelector('#train-error:not([hidden])');
  assert.match(await page.textContent('#train-error'), /at least 2 classes/);
  assert.match(await page.textContent('.class .count'), /^4 images/, 'the examples are still there');
  await page.click('#advanced > summary');
  await page.fill('#epochs', '0');
  await page.click('#train');
  await page.waitForFunction(() => /Epochs must be/.test(document.querySelector('#train-error').textContent));
  await screenshot(page, '5-errors');
});

test('Pause holds training, Resume continues, Stop keeps the epochs done', async () => {
  const page = await browser.newPage();
  await openProject(page, threeClasses);
  await page.click('#advanced > summary');
  await page.selectOption('#head-fit', 'epochs'); // the convex fit would converge in a few epochs
  await page.fill('#epochs', '200');
  await page.fill('#lr', '0.000001');
  await page.click('#train');
  await page.waitForSelector('#metrics tbody tr[data-epoch="2"]', { state: 'attached', timeout: 300_000 });
  await page.click('#pause');
  await page.waitForTimeout(300);
  const whilePaused = await page.$$eval('#metrics tbody tr', (r) => r.length);
  await page.waitForTimeout(1000);
  assert.equal(await page.$$eval('#metrics tbody tr', (r) => r.length), whilePaused, 'no epochs while paused');
  await page.click('#pause');
  await page.waitForSelector(`#metrics tbody tr[data-epoch="${whilePaused + 1}"]`, { state: 'attached', timeout: 60_000 });
  await page.click('#stop');
  await page.waitForFunction(() => !document.querySelector('#train').disabled);
  assert.match(await page.textContent('#status'), /Stopped after \d+ epoch/);
});

// A new text project on MiniLM, ready for its data.
async function openTextProject() {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.selectOption('#backbone', 'minilm');
  await page.click('#open');
  await page.waitForSelector('#text-file:not([disabled])', { timeout: 120_000 });
  return page;
}

const GOOD = ['I love it, wonderful and great', 'Absolutely fantastic, so happy with this', 'Best purchase ever, delightful'];
const BAD = ['Terrible, I hate it', 'Awful experience, broken and useless', 'Worst thing I ever bought, horrible'];

test('Text: a CSV with bad rows loads, reports the skipped lines, trains and predicts', async () => {
  const page = await openTextProject();
  let csv = 'id,review,sentiment\n';
  for (let i = 0; i < 8; i++) csv += `${2 * i},"${GOOD[i % 3]} (${i})",positive\n${2 * i + 1},"${BAD[i % 3]} (${i})",negative\n`;
  csv += 'just one field\n"never closed quote,positive\n';
  await page.setInputFiles('#text-file', { name: 'reviews.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector('#text-counts li');
  // The columns are picked from the header: the text and label columns are guessed by name.
  assert.deepEqual(await page.$$eval('#text-column option', (o) => o.map((x) => x.value)), ['id', 'review', 'sentiment']);
  assert.equal(await page.inputValue('#text-column'), 'review');
  assert.equal(await page.inputValue('#label-column'), 'sentiment');
  assert.deepEqual(await page.$$eval('#text-counts li', (li) => li.map((x) => x.textContent)), ['positive: 8 texts', 'negative: 8 texts']);
  const skipped = await page.$$eval('#skipped-rows li', (li) => li.map((x) => x.textContent));
  assert.equal(skipped.length, 2);
  assert.match(skipped[0], /^line 18: /);
  assert.match(skipped[1], /^line 19: .*never closed/);
  await trainTextAndPredict(page, 'What a wonderful, lovely product', /^positive/);
  await screenshot(page, '6-text');
});

test('Text, Contrastive: the recipe fills the panel, every layer learns from pairs, the model predicts', async () => {
  const page = await openTextProject();
  let csv = 'review,sentiment\n';
  for (let i = 0; i < 6; i++) csv += `"${GOOD[i % 3]} (${i})",positive\n"${BAD[i % 3]} (${i})",negative\n`;
  await page.setInputFiles('#text-file', { name: 'reviews.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector('#text-counts li');
  await page.check('input[name=recipe][value=contrastive]');
  await page.click('#advanced > summary');
  assert.equal(await page.inputValue('#strategy'), 'full');
  assert.equal(await page.inputValue('#fine-tune-loss'), 'contrastive');
  assert.equal(await page.isChecked('#early'), false, 'SetFit keeps its last epoch');
  assert.equal(await page.isVisible('#convex-c'), true, 'the solved head\'s C applies');
  await page.fill('#epochs', '2');
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  assert.equal(await page.$$eval('#metrics tbody tr', (rows) => rows.length), 2);
  await page.fill('#try-text-input', 'What a wonderful, lovely product');
  await page.click('#try-text-button');
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), /^positive/);
  // Back to Balanced: its own head, cross-entropy and early stopping again.
  await page.check('input[name=recipe][value=balanced]');
  assert.equal(await page.inputValue('#fine-tune-loss'), 'cross_entropy');
  assert.equal(await page.isChecked('#early'), true);
});

test('Text: columns picked from the header, texts pasted per class, then trained', async () => {
  const page = await openTextProject();
  // Unknown column names: the guess (first and last) is wrong, and the person corrects it.
  const tsv = 'a\tb\tc\n' + ['x\tgreat\t1', 'y\tawful\t2', 'z\tlovely\t3'].join('\n') + '\n';
  await page.setInputFiles('#text-file', { name: 'odd.tsv', mimeType: 'text/tab-separated-values', buffer: Buffer.from(tsv) });
  await page.waitForSelector('#text-counts li');
  assert.equal(await page.inputValue('#label-column'), 'c');
  assert.equal(await page.$$eval('#text-counts li', (li) => li.length), 3);
  await page.selectOption('#text-column', 'b');
  await page.selectOption('#label-column', 'a');
  await page.waitForFunction(() => document.querySelector('#text-counts li')?.textContent.startsWith('x:'), null, { timeout: 120_000 });
  assert.deepEqual(await page.$$eval('#text-counts li', (li) => li.map((x) => x.textContent)), ['x: 1 text', 'y: 1 text', 'z: 1 text']);

  await page.goto(server.url);
  await page.selectOption('#backbone', 'minilm');
  await page.click('#open');
  await page.waitForSelector('#paste-add:not([disabled])', { state: 'attached', timeout: 120_000 });
  await page.click('#paste > summary');
  await page.click('#paste-add');
  assert.match(await page.textContent('#data-error'), /Name the class/);
  const paste = async (name, lines) => {
    await page.fill('#paste-class', name);
    await page.fill('#paste-lines', lines.join('\n'));
    await page.click('#paste-add');
    await page.waitForFunction((n) => [...document.querySelectorAll('#text-counts li')].some((li) => li.textContent.startsWith(`${n}:`)), name);
  };
  const happy = ['what a joy', 'I am so happy today', 'this is wonderful news', 'love it so much', 'best day ever', 'great and lovely'];
  // The sad texts are long: the drill-downs cut them and show the whole text on expand.
  const sad = ['this is terrible', 'I feel awful', 'worst day of my life', 'so sad and tired', 'I hate this', 'horrible and broken']
    .map((t, i) => `${t}: the heater broke again, the trains were cancelled all week, the rain came through the roof and nobody answered the phone (${i})`);
  await paste('happy', happy);
  await paste('sad', [...sad, '', '   ']);
  assert.deepEqual(await page.$$eval('#text-counts li', (li) => li.map((x) => x.textContent)), ['happy: 6 texts', 'sad: 6 texts']);
  await trainTextAndPredict(page, 'such a wonderful and happy day', /^happy/);
  // A text project's evaluation speaks of texts: the likely mislabelled list and every
  // confusion-matrix cell show the validation texts themselves.
  const hardest = await page.$$eval('#hardest li .example-text', (q) => q.map((x) => x.textContent));
  assert.ok(hardest.length >= 2, `the hardest list shows texts: ${hardest}`);
  const shown = [];
  for (const cell of await page.$$('#confusion td.cell')) {
    const count = Number(await cell.textContent());
    await cell.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#cell-examples li').length === n
      && document.querySelector('#cell-examples p')?.textContent.startsWith(`${n} `), count);
    for (const item of await page.$$('#cell-examples li')) {
      const details = await item.$('details');
      if (details) {
        await (await details.$('summary')).click();
        shown.push(await (await details.$('p.example-text')).textContent());
        assert.match(await (await details.$('summary')).textContent(), /…$/);
      } else {
        shown.push(await item.textContent());
      }
    }
  }
  const supports = await page.$$eval('#per-class tbody tr', (rows) => rows.map((r) => Number(r.children[4].textContent)));
  assert.equal(shown.length, supports.reduce((a, b) => a + b, 0), 'every validation text is under one cell');
  for (const text of shown) assert.ok(happy.includes(text) || sad.includes(text), `"${text}" is one of the texts given`);
  assert.ok(shown.some((t) => sad.includes(t)), 'a long (sad) text was expanded in full');
  assert.deepEqual(await accessibilityProblems(page), []);
  await screenshot(page, '7-text-pasted');
});

test('Camera: a class captured from the webcam trains, and the camera predicts live', async () => {
  const page = await browser.newPage();
  await openProject(page, [['tshirt', images('tshirt', 0, 6)], ['bag', images('bag', 0, 6)]]);
  await page.click('#add-class');
  const card = page.locator('.class').nth(2);
  await card.locator('input[type=text]').fill('camera');
  await card.locator('input[type=text]').dispatchEvent('change');
  await card.locator('button.camera').click();
  await page.waitForSelector('#webcam-capture:not([disabled])');
  await page.click('#webcam-capture');
  await page.waitForFunction(() => document.querySelectorAll('.class')[2].querySelector('.count').textContent.startsWith('1 '));
  await page.click('#webcam-burst');
  await page.waitForFunction(() => document.querySelectorAll('.class')[2].querySelector('.count').textContent.startsWith('11 '), null, { timeout: 30_000 });
  await screenshot(page, '8-camera-capture');
  await page.click('#webcam-close');
  assert.equal(await page.isHidden('#webcam-panel'), true);
  await train(page, 'quick', 8);
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  await page.click('#try-webcam');
  await page.waitForSelector('#prediction li');
  assert.match(await page.textContent('#prediction li'), /^camera/);
  await screenshot(page, '9-camera-predict');
  await page.click('#webcam-close');
});

test('Saved projects: a trained project comes back after a reload and predicts without retraining', async () => {
  const page = await browser.newPage();
  await openProject(page, [['tshirt', images('tshirt', 0, 6)], ['bag', images('bag', 0, 6)]]);
  await page.fill('#project-name', 'shirts and bags');
  await page.dispatchEvent('#project-name', 'change');
  await train(page, 'quick', 8);
  assert.equal(await page.isHidden('#train-error'), true, await page.textContent('#train-error'));
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li');
  const before = await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent));
  // Saving runs in the background: wait until the model and the trained description are stored
  // (polled with evaluate, which awaits the check's promise).
  const stored = async () => page.evaluate(async () => {
    const { listProjects, loadProject } = await import('/store.js');
    const [meta] = await listProjects();
    return meta?.name === 'shirts and bags' && meta.history.length > 0 && (await loadProject(meta.id)).model !== null;
  });
  for (let tries = 0; !(await stored()); tries++) {
    assert.ok(tries < 150, 'the trained project was not saved within 30 s');
    await page.waitForTimeout(200);
  }

  await page.reload();
  await page.waitForSelector('#saved-projects li');
  assert.match(await page.textContent('#saved-projects li'), /^shirts and bags — 2 classes, 12 images, trained/);
  await screenshot(page, '10-saved-projects');
  await page.click('button[aria-label="Open shirts and bags"]');
  await page.waitForFunction(() => /^Opened/.test(document.querySelector('#save-status').textContent), null, { timeout: 120_000 });
  assert.deepEqual(await page.$$eval('.class .count', (c) => c.map((x) => x.textContent)), ['6 images', '6 images']);
  assert.deepEqual(await page.$$eval('.class input[type=text]', (c) => c.map((x) => x.value)), ['tshirt', 'bag']);
  assert.equal(await page.isVisible('#curves'), true);
  assert.equal(await page.isVisible('#evaluation'), true);
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li');
  assert.deepEqual(await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent)), before);
  await screenshot(page, '11-reopened');
  await page.click('button[aria-label="Delete shirts and bags"]');
  await page.waitForSelector('#saved', { state: 'hidden' });
});

test('Thousands of thumbnails: only the visible ones are in the page, and scrolling shows the rest', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.click('#open');
  await page.waitForSelector('.class >> nth=1');
  const { readFileSync } = await import('node:fs');
  const png = readFileSync(images('bag', 0, 1)[0]);
  const files = Array.from({ length: 1500 }, (_, i) => ({ name: `bag-${i}.png`, mimeType: 'image/png', buffer: png }));
  await (await page.$('.class input[type=file]')).setInputFiles(files);
  await page.waitForFunction(() => document.querySelector('.class .count').textContent.startsWith('1500 '), null, { timeout: 120_000 });
  const shown = await page.$$eval('.class >> nth=0', () => document.querySelectorAll('.class')[0].querySelectorAll('.thumbs img').length);
  assert.ok(shown > 0 && shown < 100, `${shown} thumbnails in the page for 1500 images`);
  await page.$eval('.class .thumbs', (t) => { t.scrollTop = t.scrollHeight; });
  await page.waitForSelector('.class .thumbs img[data-index="1499"]');
  assert.ok(await page.$$eval('.class .thumbs img', (i) => i.length) < 100);
  await page.setViewportSize({ width: 768, height: 1024 });
  await screenshot(page, '12-tablet-width');
});
