// The page as a person uses it: open it, press Train, read the metrics it shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, screenshot } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

async function trainOn(device, epochs) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.selectOption('#device-choice', device);
  await page.fill('#epochs', String(epochs));
  await page.click('#train');
  await page.waitForSelector(`#metrics tbody tr[data-epoch="${epochs}"]`, { timeout: 600_000 });
  await page.waitForFunction(() => !document.querySelector('#train').disabled);
  const rows = await page.$$eval('#metrics tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const deviceText = await page.textContent('#device');
  return { page, rows, device: deviceText, errors };
}

test('Train on the CPU shows one row of metrics per epoch and learns', async () => {
  const { page, rows, device, errors } = await trainOn('cpu', 8);
  assert.equal(rows.length, 8);
  assert.match(device, /^CPU:/);
  const valAccuracy = parseFloat(rows.at(-1)[4]);
  assert.ok(valAccuracy >= 95, `validation accuracy ${valAccuracy}%`);
  assert.ok(parseFloat(rows.at(-1)[1]) < parseFloat(rows[0][1]), 'training loss falls');
  assert.match(await page.textContent('#status'), /Done/);
  assert.deepEqual(errors, []);
  await screenshot(page, 'train-cpu');
});

test('Train on WebGPU reports the adapter and learns', async () => {
  const { page, rows, device } = await trainOn('webgpu', 4);
  assert.match(device, /^WebGPU:/);
  assert.ok(parseFloat(rows.at(-1)[4]) >= 90, `validation accuracy ${rows.at(-1)[4]}`);
  await screenshot(page, 'train-webgpu');
});

test('A bad number of epochs is reported next to the form and nothing starts', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.fill('#epochs', '0');
  await page.click('#train');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /Epochs must be/);
  assert.equal(await page.isHidden('#metrics'), true);
  await screenshot(page, 'error-epochs');
});

test('Automatic device choice explains itself (software WebGPU falls back to the CPU)', async () => {
  const { rows, device } = await trainOn('auto', 2);
  assert.equal(rows.length, 2);
  // Headless Chromium here has only SwiftShader, a software adapter: auto must pick the CPU
  // and say why. On a machine with a hardware GPU it picks WebGPU and says that instead.
  assert.match(device, /^(CPU: .*software renderer|WebGPU: .*hardware)/);
});

test('Pause holds training, Resume continues it, Stop ends it and keeps the epochs done', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.selectOption('#device-choice', 'cpu');
  await page.fill('#epochs', '200');
  await page.click('#train');
  await page.waitForSelector('#metrics tbody tr[data-epoch="2"]', { timeout: 120_000 });
  await page.click('#pause');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
  await page.waitForTimeout(300);
  const whilePaused = await page.$$eval('#metrics tbody tr', (r) => r.length);
  await page.waitForTimeout(1000);
  assert.equal(await page.$$eval('#metrics tbody tr', (r) => r.length), whilePaused, 'no epochs while paused');
  await page.click('#pause');
  await page.waitForSelector(`#metrics tbody tr[data-epoch="${whilePaused + 1}"]`, { timeout: 60_000 });
  await page.click('#stop');
  await page.waitForFunction(() => !document.querySelector('#train').disabled);
  assert.match(await page.textContent('#status'), /Stopped after \d+ epoch/);
  const rows = await page.$$eval('#metrics tbody tr', (r) => r.length);
  assert.ok(rows < 200 && rows > whilePaused);
  await screenshot(page, 'stopped');
});
