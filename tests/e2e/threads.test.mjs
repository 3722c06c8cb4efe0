// Every core (issue 15): on a cross-origin isolated page the worker runs the threaded build with
// a pool of Web Workers, and a fine-tune of MobileNetV2 on 2 threads gives the predictions and
// metrics of the one-thread build (within float rounding); the page's device line names the
// threads. Without cross-origin isolation the client falls back to the one-thread build and the
// page says why. (On this 2-core machine navigator.hardwareConcurrency is 2, so every other e2e
// test runs the threaded build too.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './harness.mjs';

const FIXTURES = fileURLToPath(new URL('../fixtures/fashion/', import.meta.url));

let isolated;
let plain;
let browser;
before(async () => {
  isolated = await serve(undefined, { routes: { '/fixtures/': FIXTURES } });
  plain = await serve(undefined, { isolated: false });
  browser = await launch();
});
after(async () => { await browser?.close(); isolated?.close(); plain?.close(); });

test('2 threads and 1 thread fine-tune MobileNetV2 to the same predictions and metrics', async () => {
  const page = await browser.newPage();
  await page.goto(isolated.url);
  const result = await page.evaluate(async () => {
    const { KindlingClient } = await import('/client.js');
    const blob = async (name) => (await fetch(`/fixtures/${name}`)).blob();
    const classes = ['trouser', 'bag'];
    const images = await Promise.all(classes.map((c) => Promise.all([0, 1, 2, 3, 4, 5].map((i) => blob(`${c}-${i}.png`)))));
    const probe = [await blob('trouser-7.png'), await blob('bag-7.png')];
    const options = {
      backbone: { kind: 'mobilenet_v2' }, device: 'cpu', weights: { url: '/weights/mobilenet_v2.safetensors' },
      // The last block trains too, so burn flex's parallel kernels run in the backward pass, and
      // a batch of 8 runs in two shards at once on 2 threads (train/run/shards.rs: their autodiff
      // graphs' locks meet across the pool's workers) and whole on 1.
      config: { strategy: { kind: 'partial', trainable_blocks: 1 }, epochs: 2, batch_size: 8, learning_rate: 0.001,
        validation_fraction: 0.34, early_stopping: null, seed: 7 },
    };
    const run = async (threads) => {
      const client = new KindlingClient({ threads });
      const started = performance.now();
      const device = await client.create(options);
      for (const [i, c] of classes.entries()) await client.addImageFiles(images[i], c);
      for await (const _ of client.train({ checkpoints: false })) { /* every epoch */ }
      const evaluation = await client.evaluate();
      const predictions = [];
      for (const image of probe) predictions.push(await client.predictImageFile(image, 2));
      const runtime = await client.runtime();
      client.terminate();
      return { device, runtime, evaluation, predictions, seconds: (performance.now() - started) / 1000 };
    };
    return { crossOriginIsolated, two: await run(2), one: await run(1) };
  });
  await page.close();
  const { two, one } = result;
  assert.equal(result.crossOriginIsolated, true);
  assert.deepEqual(two.runtime, { threads: 2, build: 'threaded', reason: '2 threads, as asked' });
  assert.deepEqual(one.runtime, { threads: 1, build: 'single', reason: 'one thread, as asked' });
  assert.equal(two.device.description, 'CPU, 2 threads (wasm SIMD)');
  assert.equal(one.device.description, 'CPU, 1 thread (wasm SIMD)');
  for (const [i, p] of two.predictions.entries()) {
    assert.deepEqual(p.classes, one.predictions[i].classes);
    p.probabilities.forEach((q, j) => assert.ok(Math.abs(q - one.predictions[i].probabilities[j]) <= 1e-5,
      `2 threads ${p.probabilities} vs 1 thread ${one.predictions[i].probabilities}`));
  }
  assert.deepEqual(two.evaluation.report, one.evaluation.report);
  console.log(`fine-tune in the page: 2 threads ${two.seconds.toFixed(1)} s, 1 thread ${one.seconds.toFixed(1)} s`);
});

test('without cross-origin isolation the worker runs one thread, and the page says why', async () => {
  const page = await browser.newPage();
  await page.goto(plain.url);
  const runtime = await page.evaluate(async () => {
    const { KindlingClient } = await import('/client.js');
    const client = new KindlingClient({ threads: 2 });
    await client.create({ backbone: { kind: 'features', dim: 4 }, device: 'cpu' });
    const value = await client.runtime();
    client.terminate();
    return { crossOriginIsolated, ...value };
  });
  assert.equal(runtime.crossOriginIsolated, false);
  assert.equal(runtime.threads, 1);
  assert.equal(runtime.build, 'single');
  assert.match(runtime.reason, /not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);

  await page.selectOption('#device-choice', 'cpu');
  await page.click('#open');
  await page.waitForFunction(() => /^CPU, /.test(document.querySelector('#device').textContent), null, { timeout: 120_000 });
  assert.match(await page.textContent('#device'), /^CPU, 1 thread \(wasm SIMD\) — chosen by the user \(one thread: this page is not cross-origin isolated/);
  await page.close();
});

test('the page shows its threads, and a new thread count restarts the worker with the project', async () => {
  const page = await browser.newPage();
  await page.goto(isolated.url);
  await page.selectOption('#device-choice', 'cpu');
  await page.click('#open');
  await page.waitForFunction(() => /^CPU, /.test(document.querySelector('#device').textContent), null, { timeout: 120_000 });
  assert.match(await page.textContent('#device'), /^CPU, 2 threads \(wasm SIMD\) — chosen by the user$/);
  assert.equal(await page.getAttribute('#threads-choice', 'placeholder'), '2');

  await page.click('#advanced > summary');
  await page.fill('#threads-choice', '1');
  await page.dispatchEvent('#threads-choice', 'change');
  await page.waitForFunction(() => /^CPU, 1 thread/.test(document.querySelector('#device').textContent), null, { timeout: 120_000 });
  assert.match(await page.textContent('#device'), /^CPU, 1 thread \(wasm SIMD\) — chosen by the user$/);

  await page.fill('#threads-choice', '1.5');
  await page.dispatchEvent('#threads-choice', 'change');
  await page.waitForSelector('#model-error:not([hidden])');
  assert.match(await page.textContent('#model-error'), /CPU threads must be a whole number from 1 to 64/);
  await page.close();
});

test('absurd thread counts and device names are refused with what to do, and the client goes on', async () => {
  const page = await browser.newPage();
  await page.goto(isolated.url);
  const result = await page.evaluate(async () => {
    const { KindlingClient } = await import('/client.js');
    const refused = [];
    for (const threads of [0, -2, 1.5, 1e9, 'four', NaN]) {
      try { new KindlingClient({ threads }).terminate(); refused.push(null); } catch (e) { refused.push(e.message); }
    }
    const client = new KindlingClient({ threads: 2 });
    let badDevice = null;
    try { await client.create({ backbone: { kind: 'features', dim: 4 }, device: 'gpu' }); } catch (e) { badDevice = e.message; }
    const device = await client.create({ backbone: { kind: 'features', dim: 4 }, device: 'auto' });
    let badSet = null;
    try { await client.setThreads(0); } catch (e) { badSet = e.message; }
    const runtime = await client.runtime();
    client.terminate();
    return { refused, badDevice, device, badSet, runtime };
  });
  await page.close();
  for (const message of result.refused) assert.match(message ?? 'accepted', /threads must be a whole number from 1 to 64/);
  assert.match(result.badDevice, /device.*unknown variant `gpu`/);
  // `auto` on SwiftShader chooses the CPU, so the threaded build runs it, with the one-thread build's reason.
  assert.equal(result.device.description, 'CPU, 2 threads (wasm SIMD)');
  assert.equal(result.device.build, 'threaded');
  assert.match(result.device.reason, /software|SwiftShader|swiftshader/i);
  assert.match(result.badSet, /threads must be a whole number from 1 to 64/);
  assert.equal(result.runtime.threads, 2);
});
