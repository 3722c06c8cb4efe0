// The scale job: Fashion-MNIST images of 28×28 (upscaled to 224 by kindling's own preprocessing)
// through the worker client in headless Chromium, one fresh browser per run, one epoch each. Prints
// one line per run, for scripts:
//
//   scale <recipe> <N>: finished|failed, peak <MB> MB, <x> img/s, <s> s/epoch
//
// peak = the largest wasm memory the worker reported + the page's largest JS heap (CDP
// Performance.getMetrics; the worker's own JS heap is not in it); img/s = images per second while
// the frozen backbone's features are cached (decoding included); s/epoch = one epoch after that.
// Then the memory per image of the Quick runs (the slope between the smallest and largest N).
//
//   node benches/browser/scale.mjs     (after ./build.sh build and ./build.sh setup)
// Environment: SCALE_RUNS (default quick:1000,quick:5000,quick:20000,balanced:5000),
// FASHION_MNIST (default /usr/share/datasets/fashion-mnist), SCALE_JSON (write the results there),
// SCALE_TIMEOUT_MIN per run (default 60), CHROMIUM.
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../tests/serve.mjs';

const env = process.env;
const HERE = fileURLToPath(new URL('.', import.meta.url));
const RUNS = (env.SCALE_RUNS ?? 'quick:1000,quick:5000,quick:20000,balanced:5000').split(',').map((r) => {
  const [recipe, n] = r.split(':');
  if (!['quick', 'balanced'].includes(recipe) || !(Number(n) > 0)) throw new Error(`SCALE_RUNS: '${r}' is not recipe:N`);
  return { recipe, n: Number(n) };
});
const SOURCE = env.FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const MB = (bytes) => Math.round(bytes / 1e6);

/** The first `n` training images (raw 28×28 bytes) and labels, from the IDX files. */
async function fashionMnist(n) {
  const images = gunzipSync(await readFile(join(SOURCE, 'train-images-idx3-ubyte.gz')));
  const labels = gunzipSync(await readFile(join(SOURCE, 'train-labels-idx1-ubyte.gz')));
  const count = images.readUInt32BE(4);
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049 || count < n) {
    throw new Error(`${SOURCE}: not Fashion-MNIST's IDX files with ${n} images`);
  }
  return { images: images.subarray(16, 16 + n * 784), labels: labels.subarray(8, 8 + n) };
}

async function runOne(origin, { recipe, n }) {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
  });
  let peakHeap = 0;
  let timer;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.text().startsWith('[scale] ')) console.error(m.text().slice(8)); });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    timer = setInterval(async () => {
      try {
        const { metrics } = await cdp.send('Performance.getMetrics');
        peakHeap = Math.max(peakHeap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
      } catch { /* the page is closing */ }
    }, 1000);
    await page.goto(`${origin}/bench/scale.html?recipe=${recipe}&n=${n}`);
    await page.waitForFunction(() => window.scaleResult !== undefined);
    const minutes = Number(env.SCALE_TIMEOUT_MIN ?? 60);
    const result = await page.waitForFunction(() => window.scaleResult, null, { timeout: minutes * 60_000, polling: 2000 })
      .then(() => page.evaluate(() => window.scaleResult));
    return { ...result, peakHeapBytes: peakHeap };
  } catch (e) {
    return { recipe, n, finished: false, error: e.message.split('\n')[0], peakHeapBytes: peakHeap };
  } finally {
    clearInterval(timer);
    await browser.close();
  }
}

const largest = Math.max(...RUNS.map((r) => r.n));
const data = await fashionMnist(largest);
const folder = await mkdtemp(join(tmpdir(), 'kindling-scale-'));
await writeFile(join(folder, 'images.bin'), data.images);
await writeFile(join(folder, 'labels.bin'), data.labels);
const server = await serve(`${HERE}../../www`, { routes: { '/bench/': HERE, '/scale-data/': folder } });
const results = [];
try {
  for (const run of RUNS) {
    console.error(`== scale ${run.recipe} ${run.n}`);
    const r = await runOne(server.origin, run);
    results.push(r);
    const peak = (r.peakWasmBytes ?? 0) + r.peakHeapBytes;
    const rate = r.finished ? r.cachingImagesPerSecond.toFixed(1) : '-';
    const epoch = r.finished ? r.epochSeconds.toFixed(1) : '-';
    console.log(`scale ${r.recipe} ${r.n}: ${r.finished ? 'finished' : 'failed'}, peak ${MB(peak)} MB, ${rate} img/s, ${epoch} s/epoch`);
    const detail = r.finished
      ? `wasm ${MB(r.peakWasmBytes)} MB (estimated ${MB(r.estimatedBytes)} MB for the run), page JS heap ${MB(r.peakHeapBytes)} MB, `
        + `added in ${r.addSeconds.toFixed(1)} s, validation accuracy ${(100 * r.valAccuracy).toFixed(1)}%`
      : r.error;
    console.log(`  (${detail})`);
  }
  const quick = results.filter((r) => r.recipe === 'quick' && r.finished).sort((a, b) => a.n - b.n);
  if (quick.length >= 2) {
    const [a, b] = [quick[0], quick.at(-1)];
    const perImage = (b.peakWasmBytes - a.peakWasmBytes) / (b.n - a.n);
    console.log(`scale quick memory per image: ${(perImage / 1e3).toFixed(1)} KB of wasm memory (from ${a.n} to ${b.n} images)`);
  }
  if (env.SCALE_JSON) await writeFile(env.SCALE_JSON, JSON.stringify(results, null, 2));
} finally {
  server.close();
  await rm(folder, { recursive: true, force: true });
}
