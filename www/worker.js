// The module worker that owns the wasm instance and the trainer. The page never blocks on
// training: each step is awaited here, and a stop request is seen between steps.
import init, { Trainer } from './pkg/kindling.js';

let trainer = null;
let stopRequested = false;
let paused = null; // a { promise, resume } pair while paused
const ready = init();

const handlers = {
  async create(options) {
    trainer?.free();
    trainer = await Trainer.create({ ...options, adapter_info: await adapterInfo() });
    return trainer.device;
  },
  addExamples({ values, labels, classes }) {
    return need().addExamples(values, labels, classes);
  },
  async train(_payload, progress) {
    const t = need();
    stopRequested = false;
    t.start();
    while (!t.finished && !stopRequested) {
      const report = await t.step();
      if (report) progress(report);
      // Let pending 'stop' / 'pause' messages be handled between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (paused) await paused.promise;
    }
    return { stopped: stopRequested };
  },
  predict({ values, topK }) { return need().predict(values, topK); },
};

// wgpu cannot name the adapter in a browser; GPUAdapter.info can (e.g. "google swiftshader").
async function adapterInfo() {
  try {
    const info = (await navigator.gpu?.requestAdapter())?.info;
    if (!info) return undefined;
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || undefined;
  } catch {
    return undefined;
  }
}

function need() {
  if (!trainer) throw new Error('no trainer: call create() first');
  return trainer;
}

self.addEventListener('message', async ({ data: { id, type, payload } }) => {
  if (type === 'stop') { stopRequested = true; paused?.resume(); paused = null; return; }
  if (type === 'pause') {
    if (!paused) { let resume; const promise = new Promise((r) => { resume = r; }); paused = { promise, resume }; }
    return;
  }
  if (type === 'resume') { paused?.resume(); paused = null; return; }
  try {
    await ready;
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown request '${type}'`);
    const value = await handler(payload, (v) => self.postMessage({ id, type: 'progress', value: v }));
    self.postMessage({ id, type: 'result', value });
  } catch (e) {
    self.postMessage({ id, type: 'error', message: e?.message ?? String(e) });
  }
});
