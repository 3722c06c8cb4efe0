// The module worker that owns the wasm instance and the project. The page never blocks on
// training: each step is awaited here, and a stop request is seen between steps.
//
// Requests run one at a time, in the order they arrive, so examples are added in the order they
// were asked for (two addImageFiles never interleave while they decode) and the client's journal
// replays them the same way. The control messages stop / pause / unpause act at once. While a run
// trains, the read-only requests at the head of the queue (READ_ONLY) are answered between its
// steps; every other request waits for the run to end, and so does a read-only one queued behind
// it, so each request sees what was asked before it.
//
// A wasm trap (a WebAssembly.RuntimeError: a panic or an out-of-memory in kindling) leaves the
// instance unusable, wherever it surfaces: the worker says 'fatal' and closes, and the client
// starts a fresh worker.
//
// Which build (runtime.js): the client's first message ('threads') gives the thread count; each
// `create` loads the build for its device — the threaded one for a CPU project with more than one
// thread on a cross-origin isolated page, else the one-thread one — and says why.
import { askThreads, buildFor, anyBuild } from './runtime.js';
import { watchGpuDevices, gpuLost, loseGpuDevices } from './gpu-watch.js';
import { measuredChoice, measuredReason } from './device-choice.js';
import { decode, encoded } from './image-decode.js';

let build = null; // the current project's build: { module, memory, runtime, autoChoice }
let measured = null; // `auto`'s choice by measurement for the current project, or null
let trainer = null;
// The images of an image project, by example index, as compact encoded Blobs (a File from the
// disk stays a reference to it): kindling keeps none of their pixels; a run asks for the ones its
// next step needs (supplyRequested).
let sources = [];
let broken = false; // set by a trap: no further call reaches the wasm
let paused = null; // a { promise, unpause } pair while paused
let trainsArrived = 0; // train requests received so far
let stoppedThrough = 0; // stop() applies to every train request received before it
// Answered between the steps of a run (they only read the project); see the top of the file.
// '__testTrap' is among them so that a test can crash a run mid-training.
const READ_ONLY = new Set(['predict', 'predictText', 'predictTexts', 'predictImageFile', 'classes', 'classCounts', 'exampleTexts',
  'textColumns', 'memory', 'memoryEstimate', 'runtime', 'device', 'leaderboard', 'baselines', '__testTrap', '__testLoseDevice']);

const handlers = {
  async create({ weights, vocab, remembered_speeds: remembered = null, measure_devices: always = false,
    __test_slow_device: slow = null, ...options }) {
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
    sources = [];
    const adapter = await adapterInfo();
    measured = (options.device ?? 'auto') === 'auto' && navigator.gpu
      ? await measuredChoice({ backbone: options.backbone, bytes, adapter, remembered, always, slow })
      : null;
    if (measured) options.device = measured.kind;
    build = await buildFor(options.device ?? 'auto', adapter);
    // `auto` resolved to the CPU by the one-thread build runs the CPU on the threaded one.
    const device = build.autoChoice ? 'cpu' : options.device;
    trainer = await build.module.Project.create({ ...options, device, adapter_info: adapter }, bytes);
    return handlers.device();
  },
  addClass({ name }) { need().addClass(name); },
  async addImageFiles({ files, className }) {
    const t = need();
    const skipped = [];
    for (const [index, file] of files.entries()) {
      try {
        const source = await encoded(file);
        const { data, width, height } = await decode(source);
        t.addImage(data, width, height, className);
        sources.push(source);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) throw e; // a trap, not a bad file: the worker must go
        skipped.push({ index, name: file.name ?? `image ${index + 1}`, reason: e?.message ?? String(e) });
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
  // The header (or the first JSON object) is at the start: 1 MB of it is plenty.
  async adaptRecipe({ name, augment, profile }) { return (await anyBuild()).module.adaptRecipe(name, augment, profile); },
  async textColumns({ file, format }) { return (await anyBuild()).module.textColumns(await file.slice(0, 1 << 20).text(), format); },
  runtime() {
    return build?.runtime ?? { threads: null, build: null, reason: 'not chosen yet: create() chooses the build for its device' };
  },
  // The device in use (for `auto` resolved to the CPU, the one-thread build's reason), with this
  // worker's build and threads.
  device() {
    const t = need();
    const { runtime, autoChoice } = build;
    const reason = measured ? measuredReason(measured) : autoChoice?.reason;
    return { ...t.device, ...(reason ? { reason } : {}), ...(measured ? { measured } : {}),
      threads: runtime.threads, build: runtime.build, threadsReason: runtime.reason };
  },
  predictText({ text, topK }) { return need().predictText(text, topK); },
  predictTexts({ texts, topK }) { return need().predictTexts(texts, topK); },
  exampleTexts({ indices }) { return need().exampleTexts(Uint32Array.from(indices)); },
  async evaluate() {
    const t = need();
    // A restored run refills its cache first, a chunk of images at a time.
    do await supplyRequested(t, { cacheOnly: true }); while (t.cacheNextChunk());
    return t.evaluate();
  },
  async memory() { return memoryInUse(); },
  memoryEstimate() { return need().memoryEstimate; },
  async exportModel({ options } = {}) { return need().exportModel(options); },
  importModel({ bytes }) { return need().importModel(bytes); },
  classes() { return need().classes; },
  classCounts() { return need().classCounts(); },
  addExamples({ values, labels, classes }) {
    return need().addExamples(values, labels, classes);
  },
  setConfig({ config }) { need().setConfig(config); },
  restoreCheckpoint({ bytes }) { need().restoreCheckpoint(bytes); },
  async train({ continue: keepGoing = false, checkpoints = true, cache = null, exportCache = false } = {}, progress, request) {
    const t = need();
    const stopped = () => request.train <= stoppedThrough;
    // A new run may reuse a cache file of the frozen part (from an earlier run on the same
    // examples); one that computes its own hands it over once it is complete.
    let cacheToSend = false;
    if (!(keepGoing && t.canContinue)) {
      t.start();
      cacheToSend = exportCache;
    }
    if (cache && t.caching) { // a new run, or a restored one whose cache is still empty
      try {
        t.importCache(cache instanceof Blob ? new Uint8Array(await cache.arrayBuffer()) : cache);
        cacheToSend = false;
        self.postMessage({ type: 'cache', value: { kind: 'reused' } });
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) throw e;
        self.postMessage({ type: 'cache', value: { kind: 'refused', reason: e?.message ?? String(e) } });
      }
    }
    await runSteps(t, { stopped, progress, checkpoints, cacheToSend });
    return { stopped: stopped() };
  },
  // A sweep: the baseline task, then each entry's run, driven like a training run (without
  // checkpoints: a crash ends the sweep, and the rows already finished stay with the client).
  // Each row's model file travels with it.
  async sweep({ spec, profile }, progress, request) {
    const t = need();
    const stopped = () => request.train <= stoppedThrough;
    progress({ kind: 'planned', entries: t.startSweep(spec, profile) });
    try {
      await sweepRuns(t, stopped, progress);
    } finally {
      if (!broken) t.endSweep(); // a stopped sweep's run gives way to the project's own
    }
    return { stopped: stopped(), leaderboard: t.leaderboard };
  },
  async baselines() { return need().baselines(); },
  leaderboard() { return need().leaderboard; },
  predict({ values, topK }) { return need().predict(values, topK); },
  // Test hook (tests/e2e/library.test.mjs): fails the way a trap inside kindling does.
  __testTrap() { throw new WebAssembly.RuntimeError('unreachable (test hook)'); },
  // Test hook (tests/e2e/library.test.mjs): loses the GPU device mid-training; resolves to how
  // many devices there were.
  __testLoseDevice() { return loseGpuDevices(); },
};

// The sweep's runs one after another (the `sweep` request): the baseline task fills the frozen
// backbone's cache, each entry trains to its end, and each row goes out with its model file.
async function sweepRuns(t, stopped, progress) {
  for (let next = t.sweepNext(); next && !stopped(); next = stopped() ? null : t.sweepNext()) {
    if (next.task === 'baseline') {
      await runSteps(t, { stopped, until: () => !t.caching });
      if (stopped()) return;
      progress({ kind: 'baselines', baselines: await t.sweepFinish() });
      continue;
    }
    progress({ kind: 'start', entry: next.entry, name: next.name });
    await runSteps(t, { stopped, progress: (report) => progress({ kind: 'epoch', entry: next.entry, report }) });
    if (stopped()) return;
    const row = await t.sweepFinish();
    const model = t.takeSweepModel();
    row.wasm_bytes = build.memory.buffer.byteLength;
    row.device_kind = t.device.kind;
    progress({ kind: 'row', row, model }, [model.buffer]);
  }
}

// Steps the current run until `until()` (by default: the run has finished) or a stop, supplying
// images as it asks, reporting each epoch to `progress` (with a checkpoint after it when
// `checkpoints`), and answering read-only requests between steps.
async function runSteps(t, { stopped, until = () => t.finished, progress = () => {}, checkpoints = false, cacheToSend = false }) {
  while (!until() && !stopped()) {
    await supplyRequested(t);
    const report = await t.step();
    // While the frozen part's features are cached (one chunk per step), say how far.
    const caching = report ? null : t.caching;
    if (caching) self.postMessage({ type: 'caching', value: { ...caching, memory: await memoryInUse() } });
    if (report && cacheToSend) {
      cacheToSend = false;
      const bytes = await t.exportCache();
      if (bytes) self.postMessage({ type: 'cache', value: { kind: 'computed', bytes } }, [bytes.buffer]);
    }
    if (report) {
      progress({ ...report, memory: await memoryInUse() });
      // A checkpoint after every epoch lets the client restore the run if this worker dies.
      if (checkpoints) {
        const bytes = await t.checkpoint();
        self.postMessage({ type: 'checkpoint', value: { bytes, epoch: report.epoch, finished: t.finished, history: t.history } }, [bytes.buffer]);
      }
    }
    // Let 'stop' / 'pause' and new requests arrive, and answer the read-only ones, between steps;
    // while paused, answer them as they come.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await answerReadOnly();
    while (paused && !stopped()) {
      await Promise.race([paused.promise, nextArrival()]);
      await answerReadOnly();
    }
    need(); // a trap in a request answered meanwhile ends the run here
  }
}

// Pretrained weights given as bytes, or as {url} fetched here (same origin or CORS-enabled; the
// client makes a relative URL absolute against its page first).
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

// Hands the run the images it asks for, decoded a chunk or a batch at a time (in parallel: the
// browser decodes off this thread), until its next step can run; with `cacheOnly`, only those
// that fill the frozen part's cache (evaluating needs no training batch).
async function supplyRequested(t, { cacheOnly = false } = {}) {
  for (let request = t.inputRequest(); request && !(cacheOnly && request.augmented); request = t.inputRequest()) {
    const images = await Promise.all(request.indices.map(async (i) => {
      try {
        return await decode(sources[i]);
      } catch (e) {
        const name = sources[i]?.name ?? `image ${i + 1}`;
        throw new Error(`${name} can no longer be read (${e.message}); remove it from its class or add it again`);
      }
    }));
    const bytes = new Uint8Array(images.reduce((n, image) => n + image.data.length, 0));
    let offset = 0;
    for (const { data } of images) { bytes.set(data, offset); offset += data.length; }
    t.supplyImages(Uint32Array.from(request.indices), bytes,
      Uint32Array.from(images, (image) => image.width), Uint32Array.from(images, (image) => image.height));
  }
}

// kindling's memory in use: the wasm instance's (it grows, never shrinks) and, where the browser
// tells, this worker's JS heap; with the current run's estimated peak.
async function memoryInUse() {
  const estimate = trainer && !broken ? trainer.memoryEstimate : null;
  return {
    wasmBytes: build?.memory.buffer.byteLength ?? 0,
    jsHeapBytes: performance.memory?.usedJSHeapSize ?? null,
    estimatedPeakBytes: estimate?.total_bytes ?? null,
  };
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
  if (broken) throw new Error('kindling stopped after an internal error; the worker is closing');
  if (!trainer) throw new Error('no trainer: call create() first');
  return trainer;
}

// --- The request queue (see the top of the file).
const waiting = []; // requests not yet started, in arrival order
let running = false;
let arrived = null; // resolves the paused run's wait when a request arrives

function nextArrival() { return new Promise((resolve) => { arrived = resolve; }); }

async function runQueue() {
  if (running) return;
  running = true;
  while (waiting.length && !broken) await answer(waiting.shift());
  running = false;
}

// Between a run's steps: the read-only requests at the head of the queue.
async function answerReadOnly() {
  while (waiting.length && READ_ONLY.has(waiting[0].type) && !broken) await answer(waiting.shift());
}

// Runs one request and posts its result or error; never throws.
async function answer(request) {
  const { id, type, payload } = request;
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown request '${type}'`);
    const progress = (v, transfer = []) => self.postMessage({ id, type: 'progress', value: v }, transfer);
    const value = await handler(payload, progress, request);
    self.postMessage({ id, type: 'result', value });
  } catch (e) {
    // A lost GPU device is its own failure (the client goes on on the CPU), whatever error the
    // step that found it raised.
    if (await gpuLost()) return;
    self.postMessage({ id, type: 'error', message: e?.message ?? String(e) });
    if (e instanceof WebAssembly.RuntimeError) fatal(e);
  }
}

// The GPU device is gone, and with it every tensor of the project on it: ask the client for a
// fresh worker on the CPU device, and close.
function deviceLost(message) {
  if (broken) return;
  broken = true;
  self.postMessage({ type: 'device-lost', message });
  self.close();
}
watchGpuDevices(deviceLost);

// A trap leaves the wasm instance unusable: ask the client for a fresh worker, and close.
async function fatal(error) {
  if (broken || await gpuLost() || broken) return; // a lost GPU device is told by deviceLost()
  broken = true;
  self.postMessage({ type: 'fatal', message: `internal error in kindling: ${error.message}` });
  self.close();
}

// A trap inside an async wasm call escapes every handler (its Promise never settles) and surfaces
// here, as an uncaught error or an unhandled rejection.
self.addEventListener('error', (event) => {
  if (event.error instanceof WebAssembly.RuntimeError) { event.preventDefault(); fatal(event.error); }
});
self.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof WebAssembly.RuntimeError) { event.preventDefault(); fatal(event.reason); }
});

self.addEventListener('message', ({ data }) => {
  const { type } = data;
  if (type === 'threads') { askThreads(data.threads, data.wasm); return; }
  if (type === 'stop') { stoppedThrough = trainsArrived; paused?.unpause(); paused = null; return; }
  if (type === 'pause') {
    if (!paused) { let unpause; const promise = new Promise((r) => { unpause = r; }); paused = { promise, unpause }; }
    return;
  }
  if (type === 'unpause') { paused?.unpause(); paused = null; return; }
  // A stop sent after this train request (even while it still waits in the queue) ends it.
  waiting.push(type === 'train' || type === 'sweep' ? { ...data, train: ++trainsArrived } : data);
  arrived?.();
  arrived = null;
  runQueue();
});
