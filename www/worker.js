// The module worker that owns the wasm instance and the trainer. The page never blocks on
// training: each step is awaited here, and a stop request is seen between steps.
import init, { Trainer } from './pkg/kindling.js';

let trainer = null;
let stopRequested = false;
let paused = null; // a { promise, resume } pair while paused
const ready = init();

const handlers = {
  async create({ weights, vocab, ...options }) {
    const bytes = await weightBytes(weights);
    if (vocab?.url) {
      const response = await fetch(vocab.url);
      if (!response.ok) throw new Error(`could not download the vocabulary from ${vocab.url}: HTTP ${response.status}`);
      options.vocab = await response.text();
    } else if (typeof vocab === 'string') {
      options.vocab = vocab;
    }
    trainer?.free();
    trainer = null;
    trainer = await Trainer.create({ ...options, adapter_info: await adapterInfo() }, bytes);
    return trainer.device;
  },
  addClass({ name }) { need().addClass(name); },
  async addImageFiles({ files, className }) {
    const t = need();
    const skipped = [];
    for (const file of files) {
      try {
        const { data, width, height } = await decode(file);
        t.addImage(data, width, height, className);
      } catch (e) {
        skipped.push({ name: file.name, reason: e?.message ?? String(e) });
      }
    }
    return { added: files.length - skipped.length, skipped, counts: t.classCounts() };
  },
  async predictImageFile({ file, topK }) {
    const { data, width, height } = await decode(file);
    return need().predictImage(data, width, height, topK);
  },
  addTexts({ texts, className }) { return need().addTexts(texts, className); },
  async addTextFile({ file, options }) { return need().addTextFile(await file.text(), options); },
  predictText({ text, topK }) { return need().predictText(text, topK); },
  predictTexts({ texts, topK }) { return need().predictTexts(texts, topK); },
  evaluate() { return need().evaluate(); },
  async exportModel() { return need().exportModel(); },
  importModel({ bytes }) { return need().importModel(bytes); },
  classes() { return need().classes; },
  classCounts() { return need().classCounts(); },
  addExamples({ values, labels, classes }) {
    return need().addExamples(values, labels, classes);
  },
  setConfig({ config }) { need().setConfig(config); },
  restoreCheckpoint({ bytes }) { need().resume(bytes); },
  async train({ continue: keepGoing = false, checkpoints = true } = {}, progress) {
    const t = need();
    stopRequested = false;
    if (!(keepGoing && t.canContinue)) t.start();
    while (!t.finished && !stopRequested) {
      const report = await t.step();
      if (report) {
        progress(report);
        // A checkpoint after every epoch lets the client restore the run if this worker dies.
        if (checkpoints) {
          const bytes = await t.checkpoint();
          self.postMessage({ type: 'checkpoint', value: { bytes, epoch: report.epoch, finished: t.finished, history: t.history } }, [bytes.buffer]);
        }
      }
      // Let pending 'stop' / 'pause' messages be handled between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (paused) await paused.promise;
    }
    return { stopped: stopRequested };
  },
  predict({ values, topK }) { return need().predict(values, topK); },
};

// Pretrained weights given as bytes, or as {url} fetched here (same origin or CORS-enabled).
async function weightBytes(weights) {
  if (!weights) return undefined;
  if (weights instanceof Uint8Array) return weights;
  if (weights instanceof ArrayBuffer) return new Uint8Array(weights);
  if (weights.url) {
    let response;
    try {
      response = await fetch(weights.url);
    } catch (e) {
      throw new Error(`could not download the weights from ${weights.url}: ${e.message}`);
    }
    if (!response.ok) throw new Error(`could not download the weights from ${weights.url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  throw new Error('weights must be bytes (Uint8Array) or { url }');
}

// Any image format the browser decodes (PNG, JPEG, WebP, GIF, BMP) -> RGBA pixels.
async function decode(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name ?? 'image'} is not an image this browser can read`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { data: new Uint8Array(data.buffer), width, height };
}

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
    // A panic leaves the wasm instance unusable: ask the client for a fresh worker.
    if (e instanceof WebAssembly.RuntimeError) {
      self.postMessage({ type: 'fatal', message: `internal error in kindling: ${e.message}` });
      self.close();
    }
  }
});
