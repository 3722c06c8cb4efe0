// "Compare settings" as a person uses it: the three recipes on the test images with the
// no-training baseline and each run's gain, a row made the project's model, the comparison after
// a reload, and k-fold cross-validation's mean ± std.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, screenshot, images, accessibilityProblems, openImageProject } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

async function openProject(page, name) {
  await openImageProject(page, server.url, [['tshirt', images('tshirt', 0, 8)], ['bag', images('bag', 0, 8)]]);
  await page.fill('#project-name', name);
  await page.dispatchEvent('#project-name', 'change');
  await page.click('#advanced > summary');
  await page.fill('#epochs', '3');
  await page.fill('#lr', '0.003');
}

async function compare(page, kind) {
  await page.selectOption('#sweep-kind', kind);
  await page.click('#sweep-run');
  await page.waitForFunction(() => /^(Done|Stopped)/.test(document.querySelector('#sweep-status').textContent)
    || !document.querySelector('#sweep-error').hidden, null, { timeout: 900_000 });
  assert.equal(await page.isHidden('#sweep-error'), true, await page.textContent('#sweep-error'));
}

// A row's name without what its recipe adapted (in brackets after it).
const nameOf = (row) => row[1].replace(/ \(.*$/s, '');

const rows = (page) => page.$$eval('#leaderboard tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));

test('The three recipes: a ranked leaderboard against the baseline; a row becomes the model and survives a reload', async () => {
  const page = await browser.newPage();
  await openProject(page, 'recipes compared');
  await compare(page, 'recipes');
  assert.match(await page.textContent('#sweep-status'), /^Done: 3 runs/);
  assert.match(await page.textContent('#sweep-baseline'), /^Baseline without training: nearest class centre \d+\.\d%, 5 nearest neighbours \d+\.\d%\.$/);
  const board = await rows(page);
  assert.deepEqual(board.map((r) => r[0]), ['1', '2', '3']);
  assert.deepEqual(board.map(nameOf).sort(), ['balanced', 'quick', 'thorough']);
  // Thorough adapts to the greyscale images as a single run of it does: no flips, and why.
  assert.match(board.find((r) => nameOf(r) === 'thorough')[1], /^thorough \(no horizontal flips: every image is greyscale/);
  assert.ok(board.filter((r) => nameOf(r) !== 'thorough').every((r) => r[1] === nameOf(r)), 'the others adapt nothing');
  const accuracies = board.map((r) => parseFloat(r[2]));
  assert.deepEqual([...accuracies].sort((a, b) => b - a), accuracies, 'ranked by validation accuracy');
  for (const r of board) {
    assert.match(r[4], /^[+−]\d+\.\d points$/);
    assert.match(r[5], /^\d of 3$/);
    assert.match(r[6], /^\d+\.\d+ s \(\d+ ms\/step\)$/);
    assert.match(r[7], /^\d+\.\d MB wasm$/);
    assert.match(r[8], /^\d+\.\d ms; \d+\.\d ms each in 16$/);
    assert.match(r[9], /^\d+\.\d MB$/);
  }
  assert.deepEqual(await accessibilityProblems(page), [], 'the leaderboard');
  await screenshot(page, '14-leaderboard');

  // The best row becomes the project's model: its curves and evaluation show, and it predicts.
  await page.click('#leaderboard tbody tr:first-child button:has-text("Use")');
  await page.waitForFunction(() => /is now the project's model/.test(document.querySelector('#sweep-status').textContent));
  assert.match(await page.textContent('#status'), new RegExp(`The model of "${nameOf(board[0])}" is the project's model`));
  assert.equal(await page.isVisible('#evaluation'), true);
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li, #try-error:not([hidden])');
  assert.equal(await page.isHidden('#try-error'), true, await page.textContent('#try-error'));
  const before = await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent));

  // Saved with the project: after a reload the leaderboard is back and a row's model still loads.
  const stored = () => page.evaluate(async () => {
    const { listProjects, loadProject } = await import('/store.js');
    const meta = (await listProjects()).find((m) => m.name === 'recipes compared');
    const saved = meta && await loadProject(meta.id);
    return Boolean(saved?.sweep?.rows.length === 3 && saved.sweepModels.size === 3 && saved.model);
  });
  for (let tries = 0; !(await stored()); tries++) {
    assert.ok(tries < 150, 'the comparison was not saved within 30 s');
    await page.waitForTimeout(200);
  }
  await page.reload();
  await page.click('button[aria-label="Open recipes compared"]');
  await page.waitForFunction(() => /^Opened/.test(document.querySelector('#save-status').textContent), null, { timeout: 120_000 });
  assert.deepEqual(await rows(page), board);
  assert.match(await page.textContent('#sweep-baseline'), /^Baseline without training/);
  await page.setInputFiles('#try-file', images('bag', 8, 9));
  await page.waitForSelector('#prediction li');
  assert.deepEqual(await page.$$eval('#prediction li', (li) => li.map((x) => x.textContent)), before);
  await page.click('#leaderboard tbody tr:nth-child(2) button:has-text("Use")');
  await page.waitForFunction(() => /is now the project's model/.test(document.querySelector('#sweep-status').textContent));
  await page.click('button[aria-label="Delete recipes compared"]').catch(() => {});
});

test('k-fold cross-validation: each fold, the mean ± std, and the final model on every example', async () => {
  const page = await browser.newPage();
  await openProject(page, 'folds');
  await page.selectOption('#sweep-kind', 'folds');
  await page.fill('#sweep-folds', '11');
  await page.click('#sweep-run');
  await page.waitForSelector('#sweep-error:not([hidden])');
  assert.match(await page.textContent('#sweep-error'), /Folds must be a whole number from 2 to 10/);
  await page.fill('#sweep-folds', '3');
  await page.check('#sweep-final');
  await compare(page, 'folds');
  const board = await rows(page);
  assert.equal(board.length, 4);
  assert.deepEqual(board.map((r) => r[0]), ['1', '2', '3', '—']);
  assert.match(board[3][1], /final model, all examples/);
  assert.match(board[3][2], /on training examples/);
  const cv = await page.textContent('#cv-summary');
  const m = cv.match(/^3-fold cross-validation: accuracy (\d+\.\d)% ± (\d+\.\d), macro-F1 \d\.\d{3} ± \d\.\d{3}$/);
  assert.ok(m, cv);
  const folds = board.slice(0, 3).map((r) => parseFloat(r[2]));
  const mean = folds.reduce((a, b) => a + b, 0) / 3;
  assert.ok(Math.abs(parseFloat(m[1]) - mean) < 0.11, `${cv} vs folds ${folds}`);
  await screenshot(page, '15-k-fold');
});

test('Your own grid: bad JSON and unknown settings are refused; a grid over two settings runs', async () => {
  const page = await browser.newPage();
  await openProject(page, 'custom grid');
  await page.selectOption('#sweep-kind', 'custom');
  assert.equal(await page.isVisible('#sweep-spec'), true);
  for (const [spec, expected] of [
    ['{"grid": {"learning_rate": [0.001,', /not valid JSON/],
    ['{"grid": {"learning_rte": [0.001]}}', /no such setting/],
    ['{"grid": {"epochs": [0]}}', /epochs/],
  ]) {
    await page.fill('#sweep-spec', spec);
    await page.click('#sweep-run');
    await page.waitForFunction(() => !document.querySelector('#sweep-error').hidden && !document.querySelector('#sweep-run').disabled);
    assert.match(await page.textContent('#sweep-error'), expected);
  }
  await page.fill('#sweep-spec', '{"grid": {"head.hidden": [[], [32]], "learning_rate": [0.003]}}');
  await compare(page, 'custom');
  const board = await rows(page);
  assert.deepEqual(board.map((r) => r[1]).sort(), ['head.hidden=[32], learning_rate=0.003', 'head.hidden=[], learning_rate=0.003']);
});
