// The embeddable library as another web app uses it: the 30-line example app (train in the worker
// while the page stays responsive, export, reload, import, same probabilities), a worker killed
// mid-training and restored from its checkpoint, a trap in the wasm (the worker's test hook)
// recovered from the same way, a worker that fails again while it is restored (every request
// rejected, none left pending), predictions answered between training steps and while paused, a
// project restored after a reload, and a full storage quota reported without losing work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, screenshot, images } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

test('the example app trains in the worker, stays responsive, and a re-imported model predicts the same', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}examples/`);
  await page.setInputFiles('#tops', images('tshirt', 0, 8));
  await page.setInputFiles('#bags', images('bag', 0, 8));
  // Every text the log shows (each epoch replaces the last; on the threaded build an epoch of
  // this small set can pass between two polls).
  await page.evaluate(() => {
    window.shown = [];
    const log = document.querySelector('#log');
    new MutationObserver(() => window.shown.push(log.textContent)).observe(log, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#train');
  // While the worker decodes, caches and trains, a click is handled at once: the main thread is free.
  await page.click('#ping');
  const waited = parseFloat((await page.textContent('#pong')).match(/after (\d+)/)[1]);
  assert.ok(waited < 100, `the click waited ${waited} ms for the main thread`);
  await page.waitForFunction(() => /done|Error/.test(document.querySelector('#log').textContent), null, { timeout: 300_000 });
  assert.match(await page.textContent('#log'), /done$/);
  const shown = await page.evaluate(() => window.shown);
  assert.ok(shown.some((t) => /^epoch 1: \d+% validation accuracy$/.test(t)), `the log showed ${JSON.stringify(shown)}`);
  await screenshot(page, 'library-1-example-trained');

  const probe = images('bag', 8, 9);
  await page.setInputFiles('#try', probe);
  await page.waitForFunction(() => document.querySelector('#answer').textContent);
  const before = await page.textContent('#answer');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const model = await download.path();

  await page.reload();
  await page.setInputFiles('#import', model);
  await page.waitForFunction(() => /loaded|Error/.test(document.querySelector('#log').textContent), null, { timeout: 120_000 });
  assert.match(await page.textContent('#log'), /loaded: top,bag/);
  await page.setInputFiles('#try', probe);
  await page.waitForFunction(() => document.querySelector('#answer').textContent);
  const after = await page.textContent('#answer');
  const parse = (answer) => { const [, name, p] = answer.match(/^(\w+) \(p = ([\d.]+)\)$/); return [name, parseFloat(p)]; };
  assert.equal(parse(before)[0], 'bag');
  assert.equal(parse(after)[0], parse(before)[0]);
  assert.ok(Math.abs(parse(after)[1] - parse(before)[1]) <= 1e-5, `${before} before export, ${after} after import`);
  await page.close();
});

// Runs `body(KindlingClient, data)` in a page of the site; `data` is a small separable 2-class set.
// The page has a Content-Security-Policy without 'unsafe-eval', so `body` is not rebuilt there with
// `new Function`: its source goes into the expression Playwright evaluates (which CSP allows).
async function inPage(body) {
  const page = await browser.newPage();
  await page.goto(`${server.url}examples/`);
  const result = await page.evaluate(`(async () => {
    const { KindlingClient } = await import('/client.js');
    const values = new Float32Array(64 * 8);
    const labels = new Uint32Array(64);
    for (let i = 0; i < 64; i++) {
      labels[i] = i % 2;
      for (let j = 0; j < 8; j++) values[i * 8 + j] = (labels[i] ? 1 : -1) * (j % 3) + Math.sin(i * 7 + j);
    }
    const options = { backbone: { kind: 'features', dim: 8 }, device: 'cpu',
      // Epochs of batches (not the convex fit of a linear head): these tests are of the steps.
      config: { epochs: 6, learning_rate: 0.05, batch_size: 8, early_stopping: null, seed: 3, head_fit: 'epochs' } };
    const data = { values, labels, classes: ['left', 'right'], options };
    // An uninterrupted run's prediction for \`probe\`, for the recovery tests to compare with.
    data.uninterrupted = async (probe) => {
      const straight = new KindlingClient();
      await straight.create(options);
      await straight.addExamples(values, labels, data.classes);
      for await (const _ of straight.train()) { /* all epochs */ }
      const prediction = (await straight.predict(probe, 2))[0];
      straight.terminate();
      return prediction;
    };
    // A client with the examples, recording the epochs its restarts restore.
    data.recordingClient = async () => {
      const recovered = [];
      const client = new KindlingClient({ onRecover: (info) => recovered.push(info.epoch) });
      await client.create(options);
      await client.addExamples(values, labels, data.classes);
      return { client, recovered };
    };
    // Waits for the restarted worker, trains on to the end, predicts \`probe\`.
    data.continueAfterCrash = async (client, probe) => {
      const info = await client.recovery;
      const epochs = [];
      for await (const report of client.train({ continue: true })) epochs.push(report.epoch);
      const got = (await client.predict(probe, 2))[0];
      client.terminate();
      return { info, epochs, got };
    };
    return (${body.toString()})(KindlingClient, data);
  })()`);
  return { page, result };
}

test('a worker killed mid-training is restarted and the run continues from its checkpoint', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const probe = data.values.slice(0, 8);
    const expected = await data.uninterrupted(probe);

    const { client, recovered } = await data.recordingClient();
    let failure = '';
    let killedAt = null;
    try {
      for await (const report of client.train()) {
        if (report.epoch === 2 && killedAt === null) {
          client.pause();
          while (client.checkpointEpoch === null || client.checkpointEpoch < 2) await new Promise((r) => setTimeout(r, 5));
          // Kill it as the browser would (a crash or out-of-memory): gone, with an error event.
          killedAt = client.checkpointEpoch;
          client.worker.terminate();
          client.worker.dispatchEvent(new ErrorEvent('error', { message: 'killed by the test' }));
        }
      }
    } catch (e) {
      failure = e.message;
    }
    const { info, epochs, got } = await data.continueAfterCrash(client, probe);
    return { failure, killedAt, epochs, info: { epoch: info.epoch, finished: info.finished }, recovered, expected, got };
  });
  const k = result.killedAt;
  assert.ok(k >= 2 && k < 5, `killed after epoch ${k}`);
  assert.match(result.failure, new RegExp(`killed by the test.*checkpoint after epoch ${k + 1}.*continue: true`));
  assert.deepEqual(result.info, { epoch: k, finished: false });
  assert.deepEqual(result.recovered, [k]);
  assert.deepEqual(result.epochs, [0, 1, 2, 3, 4, 5].slice(k + 1));
  assert.deepEqual(result.got.classes, result.expected.classes);
  result.got.probabilities.forEach((p, i) => assert.ok(Math.abs(p - result.expected.probabilities[i]) <= 1e-6,
    `resumed ${result.got.probabilities} vs uninterrupted ${result.expected.probabilities}`));
  await page.close();
});

test('a GPU device lost mid-training: the project moves to the CPU device and the run goes on from its checkpoint', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const lost = [];
    const client = new KindlingClient({ onDeviceLost: (info) => lost.push(info) });
    const first = await client.create({ ...data.options, device: 'webgpu' });
    await client.addExamples(data.values, data.labels, data.classes);
    const epochs = [];
    let destroyed = null;
    for await (const report of client.train()) {
      epochs.push(report.epoch);
      if (report.epoch === 1 && destroyed === null) {
        while (client.checkpointEpoch === null || client.checkpointEpoch < 1) await new Promise((r) => setTimeout(r, 5));
        // As a driver reset would: every GPU device of the worker destroyed (a test hook).
        destroyed = await client.request('__testLoseDevice');
      }
    }
    const device = await client.device();
    const prediction = await client.predict(data.values.slice(0, 8), 2);
    client.terminate();
    return { first: first.kind, destroyed, lost, epochs, device: device.kind, predicted: prediction[0].classes.length,
      deviceLost: client.deviceLost };
  });
  assert.equal(result.first, 'webgpu');
  assert.ok(result.destroyed >= 1, `devices destroyed: ${result.destroyed}`);
  assert.equal(result.lost.length, 1, JSON.stringify(result.lost));
  const k = result.lost[0].epoch;
  assert.ok(k >= 1 && k < 5, `lost after the checkpoint of epoch ${k}`);
  assert.deepEqual(result.deviceLost, result.lost[0]);
  // Every epoch ran; after the loss the run went on from the checkpoint's next epoch to the end.
  const after = result.epochs.slice(result.epochs.lastIndexOf(k + 1));
  assert.deepEqual(after, [0, 1, 2, 3, 4, 5].slice(k + 1), `epochs ${result.epochs}`);
  assert.deepEqual([...new Set(result.epochs)].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(result.device, 'cpu');
  assert.equal(result.predicted, 2);
  await page.close();
});

test('auto chooses the device by measurement: a slow device loses, the figures are shown and remembered per adapter', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    // SwiftShader is a software adapter, which auto skips by name: measuring is asked for here.
    const options = { ...data.options, device: 'auto', measure_devices: true };
    const answers = [];
    for (const slow of ['webgpu', 'cpu']) {
      localStorage.clear();
      const client = new KindlingClient();
      // Test hook: that device's figure is taken 1000× slower, and a second more.
      answers.push(await client.create({ ...options, __test_slow_device: slow }));
      client.terminate();
    }
    // A new client on the same adapter and backbone recalls the last figures instead of measuring.
    const again = new KindlingClient();
    const recalled = await again.create(options);
    await again.addExamples(data.values, data.labels, data.classes);
    const trained = [];
    for await (const report of again.train()) trained.push(report.epoch);
    again.terminate();
    // Garbage under the same key (edited storage) is ignored: the devices are measured again.
    const key = Object.keys(localStorage).find((k) => k.startsWith('kindling-device-choice:'));
    localStorage.setItem(key, JSON.stringify({ kind: 'gpu', speeds: [] }));
    const remeasuring = new KindlingClient();
    const remeasured = await remeasuring.create(options);
    remeasuring.terminate();
    localStorage.clear();
    return { answers, recalled, trained, remeasured: remeasured.measured };
  });
  const [gpuSlow, cpuSlow] = result.answers;
  assert.equal(gpuSlow.kind, 'cpu');
  assert.equal(gpuSlow.measured.kind, 'cpu');
  assert.deepEqual(gpuSlow.measured.speeds.map((s) => s.kind), ['webgpu', 'cpu']);
  assert.ok(gpuSlow.measured.speeds.every((s) => s.ms_per_example >= 0), JSON.stringify(gpuSlow.measured));
  assert.match(gpuSlow.reason, /^measured on this backbone: WebGPU [0-9.]+ ms\/example, CPU [0-9.]+ ms\/example; CPU is faster$/);
  assert.equal(cpuSlow.kind, 'webgpu');
  assert.match(cpuSlow.reason, /WebGPU is faster$/);
  assert.equal(result.recalled.kind, 'webgpu');
  assert.equal(result.recalled.measured.remembered, true);
  assert.match(result.recalled.reason, /measured before on this adapter/);
  assert.deepEqual(result.trained, [0, 1, 2, 3, 4, 5]);
  assert.equal(result.remeasured.remembered, false);
  assert.ok(['webgpu', 'cpu'].includes(result.remeasured.kind));
  await page.close();
});

test('a trap in the wasm ends the worker; the client restarts it and the run continues from its checkpoint', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const probe = data.values.slice(0, 8);
    const expected = await data.uninterrupted(probe);

    const { client, recovered } = await data.recordingClient();
    const first = client.worker;
    let failure = '';
    let trapped = null;
    try {
      for await (const report of client.train()) {
        if (report.epoch === 1 && trapped === null) {
          // Paused between steps, after this epoch's checkpoint was sent; the worker answers the
          // test hook there (like a prediction), and it fails as a trap inside kindling does.
          client.pause();
          trapped = client.request('__testTrap').then(() => 'resolved', (e) => e.message);
        }
      }
    } catch (e) {
      failure = e.message;
    }
    const { info, epochs, got } = await data.continueAfterCrash(client, probe);
    return { failure, trapped: await trapped, restarted: client.worker !== first, epochs,
      info: { epoch: info.epoch, finished: info.finished }, recovered, expected, got };
  });
  const k = result.info.epoch;
  assert.ok(k >= 1 && k < 5, `restored from the checkpoint after epoch ${k}`);
  assert.match(result.trapped, /unreachable \(test hook\)/);
  assert.match(result.failure, new RegExp(`internal error in kindling: unreachable \\(test hook\\).*checkpoint after epoch ${k + 1}.*continue: true`));
  assert.equal(result.restarted, true);
  assert.equal(result.info.finished, false);
  assert.deepEqual(result.recovered, [k]);
  assert.deepEqual(result.epochs, [0, 1, 2, 3, 4, 5].slice(k + 1));
  assert.deepEqual(result.got.classes, result.expected.classes);
  result.got.probabilities.forEach((p, i) => assert.ok(Math.abs(p - result.expected.probabilities[i]) <= 1e-6,
    `resumed ${result.got.probabilities} vs uninterrupted ${result.expected.probabilities}`));
  await page.close();
});

test('a worker that fails again while the project is restored leaves no request pending', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    // A hang must fail the test, not block it.
    const within = (promise, ms) => Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve('still pending'), ms))]);
    const settle = (promise) => promise.then((value) => ({ resolved: value }), (e) => ({ rejected: e.message }));
    let recovered = 0;
    const client = new KindlingClient({ onRecover: () => { recovered += 1; } });
    await client.create(data.options);
    await client.addExamples(data.values, data.labels, data.classes);
    for await (const _ of client.train()) { /* all epochs, with checkpoints */ }
    const first = client.worker;
    // From now on every new worker traps on its first request, before the replayed journal.
    const RealWorker = globalThis.Worker;
    globalThis.Worker = class extends RealWorker {
      constructor(...args) {
        super(...args);
        this.postMessage({ id: 0, type: '__testTrap' });
      }
    };
    try {
      const trap = settle(client.request('__testTrap'));
      const behind = settle(client.classCounts()); // queued behind the trap in the first worker
      while (client.worker === first) await new Promise((r) => setTimeout(r, 5));
      const during = settle(client.classes()); // waits for the restore, which fails
      const recovery = settle(client.recovery);
      const outcomes = await within(Promise.all([trap, behind, during, recovery]), 60_000);
      const later = await within(settle(client.predict(new Float32Array(8), 2)), 1_000);
      return { outcomes, later, recovered };
    } finally {
      globalThis.Worker = RealWorker;
      client.terminate();
    }
  });
  assert.notEqual(result.outcomes, 'still pending', 'a request was still pending after 60 s');
  const [trap, behind, during, recovery] = result.outcomes;
  assert.match(trap.rejected, /unreachable \(test hook\)/);
  assert.match(behind.rejected, /kindling worker failed \(internal error in kindling: unreachable \(test hook\)\)\. It is being restarted/);
  assert.match(during.rejected, /failed again while the project was being restored.*create a new KindlingClient/);
  assert.match(recovery.rejected, /could not be restored: .*failed again/);
  assert.match(result.later.rejected ?? String(result.later), /failed again while the project was being restored/);
  assert.equal(result.recovered, 0);
  await page.close();
});

test('requests are answered in order; predictions are answered between training steps and while paused', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const client = new KindlingClient();
    await client.create({ ...data.options, config: { ...data.options.config, epochs: 1000, learning_rate: 1e-6 } });
    // Sent together: answered in the order sent.
    const order = [];
    await Promise.all([
      client.addExamples(data.values.slice(0, 32 * 8), data.labels.slice(0, 32), data.classes).then(() => order.push('first')),
      client.addExamples(data.values.slice(32 * 8), data.labels.slice(32), data.classes).then(() => order.push('second')),
      client.classCounts().then(() => order.push('counts')),
    ]);
    const epochs = [];
    const run = (async () => { for await (const report of client.train({ checkpoints: false })) epochs.push(report.epoch); })();
    while (!epochs.length) await new Promise((r) => setTimeout(r, 5));
    const [prediction] = await client.predict(data.values.slice(0, 8), 2);
    const whileTraining = epochs.length < 1000;
    client.pause();
    const counts = await client.classCounts();
    const pausedAt = epochs.length;
    await new Promise((r) => setTimeout(r, 300));
    const stillPaused = epochs.length === pausedAt;
    client.unpause();
    client.stop();
    await run;
    const dead = new KindlingClient();
    dead.dispose();
    const disposed = await Promise.race([dead.classes().then(() => 'resolved', (e) => e.message),
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_000))]);
    client.terminate();
    return { order, predicted: prediction.classes.length, whileTraining, counts, stillPaused, epochs: epochs.length, disposed };
  });
  assert.deepEqual(result.order, ['first', 'second', 'counts']);
  assert.equal(result.predicted, 2);
  assert.equal(result.whileTraining, true, 'the prediction waited for the run to end');
  assert.deepEqual(result.counts.map((c) => c.count), [32, 32]);
  assert.equal(result.stillPaused, true, 'the run went on while paused');
  assert.ok(result.epochs < 1000, `stopped after ${result.epochs} epochs`);
  assert.match(result.disposed, /terminated .*create a new one/);
  await page.close();
});

test('a saved project comes back after a reload and its training resumes', async () => {
  const { page, result: first } = await inPage(async (KindlingClient, data) => {
    const client = new KindlingClient({ project: 'reload-test' });
    await client.forget();
    await client.create(data.options);
    await client.addExamples(data.values, data.labels, data.classes);
    const stop = new AbortController();
    for await (const report of client.train({ signal: stop.signal })) if (report.epoch === 1) stop.abort();
    // The stop lands between steps, so a checkpoint after epoch 1 (or 2) is the last one saved.
    await client.saved();
    client.terminate();
    return { storageError: client.storageError?.message ?? null, saved: client.checkpointEpoch };
  });
  assert.equal(first.storageError, null);
  assert.ok(first.saved >= 1 && first.saved < 5, `saved after epoch ${first.saved}`);
  await page.reload();
  const second = await page.evaluate(async () => {
    const { KindlingClient } = await import('/client.js');
    const client = new KindlingClient({ project: 'reload-test' });
    const restored = await client.restore();
    const epochs = [];
    for await (const report of client.train({ continue: true })) epochs.push(report.epoch);
    await client.saved();
    client.terminate();
    // Restored once more, the finished model predicts at once.
    const again = new KindlingClient({ project: 'reload-test' });
    const done = await again.restore();
    const prediction = await again.predict(new Float32Array(8), 2);
    const nothing = await new KindlingClient({ project: 'never-saved' }).restore();
    await again.forget();
    again.terminate();
    return { restored: { epoch: restored.epoch, entries: restored.entries.map((e) => e.type), history: restored.history.length },
      epochs, finished: done.finished, predicted: prediction[0].classes.length, nothing };
  });
  const k = first.saved;
  assert.deepEqual(second.restored, { epoch: k, entries: ['create', 'addExamples'], history: k + 1 });
  assert.deepEqual(second.epochs, [0, 1, 2, 3, 4, 5].slice(k + 1));
  assert.equal(second.finished, true);
  assert.equal(second.predicted, 2);
  assert.equal(second.nothing, null);
  await page.close();
});

test('a full storage quota is reported with what to do, and training goes on', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    IDBObjectStore.prototype.put = () => { throw new DOMException('quota reached', 'QuotaExceededError'); };
    const errors = [];
    const client = new KindlingClient({ project: 'full-disk', onStorageError: (e) => errors.push(e.message) });
    await client.create(data.options);
    await client.addExamples(data.values, data.labels, data.classes);
    let epochs = 0;
    for await (const _ of client.train()) epochs++;
    await client.saved();
    client.terminate();
    return { errors, epochs };
  });
  assert.ok(result.errors.length >= 1);
  assert.match(result.errors[0], /storage for this site is full.*delete saved projects.*Nothing already loaded or trained was lost/);
  assert.equal(result.epochs, 6);
  await page.close();
});

test('a sweep from the library: baselines, ranked rows, a stop keeps finished rows, a row becomes the model, f16 export', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const client = new KindlingClient({ project: 'library sweep' });
    await client.create(data.options);
    await client.addExamples(data.values, data.labels, data.classes);
    // A sweep of folds stopped as its second fold starts: the first row stays.
    let stopAt = null;
    const stopped = await client.sweep({ folds: { k: 3 } }, {
      onProgress: (m) => { if (m.kind === 'start' && m.entry === 1) { stopAt = m.entry; client.stop(); } },
    });
    const kinds = [];
    const board = await client.sweep({ grid: { learning_rate: [1e-6, 0.05], 'head.hidden': [[], [16]] } },
      { onProgress: (m) => kinds.push(m.kind) });
    const refused = await client.sweep({ grid: { learning_rte: [0.1] } }).then(() => 'accepted', (e) => e.message);
    const info = await client.useSweepRow(board.rows[board.ranking[0]].entry);
    const [prediction] = await client.predict(data.values.slice(0, 8), 2);
    const f32 = await client.exportModel();
    const f16 = await client.exportModel({ precision: 'f16' });
    await client.saved();
    const { loadProject } = await import('/store.js');
    const saved = await loadProject('library sweep');
    client.terminate();
    return { kinds, board, stopped, stopAt, refused, info, predicted: prediction.classes[0], sizes: [f32.length, f16.length],
      savedRows: saved.sweep.rows.length, savedModels: saved.sweepModels.size };
  });
  const { board, stopped } = result;
  assert.deepEqual(result.kinds.slice(0, 2), ['planned', 'baselines']);
  assert.equal(result.kinds.filter((k) => k === 'row').length, 4);
  assert.equal(board.rows.length, 4);
  assert.ok(board.baselines.nearest_centroid > 0.5, JSON.stringify(board.baselines));
  const accuracies = board.ranking.map((i) => board.rows[i].accuracy);
  assert.deepEqual([...accuracies].sort((a, b) => b - a), accuracies);
  const best = board.rows[board.ranking[0]];
  assert.equal(best.config.learning_rate, 0.05, 'the rate that learns ranks first');
  assert.ok(Math.abs(best.gain_points - 100 * (best.accuracy - best.baseline_accuracy)) < 1e-9);
  assert.ok(board.rows.every((r) => r.inference_ms > 0 && r.model_bytes > 0 && r.wasm_bytes > 0 && r.history.length === 6));
  assert.equal(result.stopAt, 1);
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.rows.length, 1, 'the finished fold stays');
  assert.equal(stopped.crossValidation, null, 'no mean over a stopped k-fold');
  assert.match(result.refused, /no such setting/);
  assert.deepEqual(result.info.config.head.hidden, best.config.head.hidden);
  assert.equal(result.predicted, 0);
  // A head of a few weights: the header dominates (the size ratio is tested on MobileNetV2 natively).
  assert.ok(result.sizes[1] < result.sizes[0], `f16 ${result.sizes[1]} vs f32 ${result.sizes[0]} bytes`);
  assert.equal(result.savedRows, 4, 'the last sweep is saved with the project (a refused one changes nothing)');
  assert.equal(result.savedModels, 4);
  await page.close();
});

test('the worker and wasm URLs can be given (relative to the page); a wrong wasm URL is named, and a retry works', async () => {
  const { page, result } = await inPage(async (KindlingClient, data) => {
    const options = { ...data.options };
    // From /examples/: the worker and the one-thread build's wasm where this site serves them.
    const placed = new KindlingClient({ threads: 1, workerUrl: '../worker.js', wasmUrl: '../pkg/kindling_bg.wasm' });
    await placed.create(options);
    await placed.addExamples(data.values, data.labels, data.classes);
    const epochs = [];
    for await (const e of placed.train()) epochs.push(e.epoch);
    placed.terminate();
    const wrong = new KindlingClient({ threads: 1, wasmUrl: 'nowhere/kindling_bg.wasm' });
    const refused = await wrong.create(options).then(() => 'created', (e) => e.message);
    const again = await wrong.create(options).then(() => 'created', (e) => e.message);
    wrong.terminate();
    return { epochs, refused, again };
  });
  assert.equal(result.epochs.length, 6);
  assert.match(result.refused, /could not load kindling's one-thread wasm from http:\/\/127\.0\.0\.1:\d+\/examples\/nowhere\/kindling_bg\.wasm: .*wasmUrl/);
  assert.match(result.again, /could not load kindling's one-thread wasm/, 'tried again, not a cached failure');
  await page.close();
});
