// The Worker client: every request carries an id and resolves or rejects exactly once; training
// progress arrives as an async iterator of epoch reports.
//
// Recovery and saving share one record of the project: the requests that built the trainer (a
// journal: create, add*, import, setConfig) and the checkpoint the worker sends after each epoch.
// When the worker dies, a new one replays the journal and resumes from the checkpoint; with a
// `project` name the same record lives in IndexedDB, so `restore()` brings it back after a reload.
import * as store from './store.js';

// Requests that change what the trainer holds, replayed in order to rebuild it.
const RECORDED = new Set(['create', 'addClass', 'addImageFiles', 'addTexts', 'addTextFile', 'addExamples', 'importModel', 'setConfig']);

export class KindlingClient {
  #workerUrl;
  #project;
  #nextId = 1;
  #pending = new Map();
  #journal = [];
  #checkpoint = null; // { bytes, epoch, finished, history }
  #ready = Promise.resolve(); // settles when a restarted worker has been restored
  #saving = Promise.resolve(); // IndexedDB writes, in order
  #recovering = false;

  /**
   * `options = { workerUrl?, project?, onRecover?, onStorageError? }` (a URL alone is taken as
   * `workerUrl`). With `project`, the project is saved in IndexedDB as it is built and trained.
   */
  constructor(options = {}) {
    if (options instanceof URL || typeof options === 'string') options = { workerUrl: options };
    this.#workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
    this.#project = options.project ?? null;
    this.onRecover = options.onRecover ?? null;
    this.onStorageError = options.onStorageError ?? null;
    /** The last saving failure (an Error saying why and what to do), or null. */
    this.storageError = null;
    /** Resolves once the last worker restart has restored the project (see `onRecover`). */
    this.recovery = Promise.resolve(null);
    this.#startWorker();
  }

  #startWorker() {
    const worker = new Worker(this.#workerUrl, { type: 'module' });
    worker.addEventListener('message', (event) => this.#receive(worker, event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      this.#crashed(worker, event.message || 'the worker stopped');
    });
    worker.addEventListener('messageerror', () => this.#crashed(worker, 'a message could not be read'));
    /** The current Worker (replaced after a crash). */
    this.worker = worker;
  }

  #receive(worker, { id, type, value, message }) {
    if (worker !== this.worker) return;
    if (type === 'fatal') { this.#crashed(worker, message); return; }
    if (type === 'checkpoint') { this.#keepCheckpoint(value); return; }
    const request = this.#pending.get(id);
    if (!request) return;
    if (type === 'progress') { request.onProgress?.(value); return; }
    this.#pending.delete(id);
    if (type === 'result') request.resolve(value);
    else request.reject(new Error(message));
  }

  #send(type, payload, onProgress, transfer = []) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, payload }, transfer);
    });
  }

  /** Sends one request (after any restore under way) and records it if it built the trainer. */
  async request(type, payload, onProgress, transfer = []) {
    await this.#ready;
    const value = await this.#send(type, payload, onProgress, transfer);
    if (RECORDED.has(type)) this.#record({ type, payload });
    return value;
  }

  #record(entry) {
    if (entry.type === 'create') {
      this.#journal = [];
      this.#checkpoint = null;
      this.#save(() => store.remove(`${this.#project}/`));
    }
    this.#journal.push(entry);
    const key = `${this.#project}/entry/${String(this.#journal.length).padStart(8, '0')}`;
    this.#save(() => store.put(key, entry));
  }

  #keepCheckpoint(checkpoint) {
    this.#checkpoint = checkpoint;
    this.#save(() => store.put(`${this.#project}/checkpoint`, checkpoint));
  }

  // Queues an IndexedDB write (projects only). A failure is reported, never thrown at training.
  #save(write) {
    if (!this.#project) return;
    this.#saving = this.#saving.then(async () => {
      await store.requestPersistence();
      await write();
    }).catch((e) => {
      this.storageError = e; // already an Error saying what happened and what to do (store.js)
      this.onStorageError?.(this.storageError);
    });
  }

  /** The epoch (0-based) of the last checkpoint the worker sent, or null. */
  get checkpointEpoch() { return this.#checkpoint?.epoch ?? null; }

  /** Resolves when every change so far has been written to IndexedDB (or failed: see `storageError`). */
  saved() { return this.#saving; }

  // The worker died (killed, out of memory, or a panic in the wasm): fail what was pending, start a
  // new worker, rebuild the trainer from the journal and resume from the last checkpoint.
  #crashed(worker, reason) {
    if (worker !== this.worker || this.#recovering) return;
    this.#recovering = true;
    worker.terminate();
    const epoch = this.#checkpoint?.epoch;
    const error = new Error(`the kindling worker failed (${reason}). It is being restarted and the project restored` +
      (epoch === undefined ? '' : ` from the checkpoint after epoch ${epoch + 1}`) +
      '; call train({ continue: true }) to go on.');
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    pending.forEach((request) => request.reject(error));
    this.#startWorker();
    this.recovery = this.#rebuild(this.#journal, this.#checkpoint).then((info) => {
      this.#recovering = false;
      this.onRecover?.(info);
      return info;
    }, (e) => {
      this.#recovering = false;
      throw new Error(`the worker was restarted but the project could not be restored: ${e.message}`);
    });
    this.#ready = this.recovery.catch(() => {});
  }

  async #rebuild(journal, checkpoint) {
    for (const { type, payload } of journal) await this.#send(type, payload);
    if (checkpoint) await this.#send('restoreCheckpoint', { bytes: checkpoint.bytes });
    return { examples: journal.length, epoch: checkpoint?.epoch ?? null, finished: checkpoint?.finished ?? false, history: checkpoint?.history ?? [] };
  }

  /**
   * Brings back the project saved under this client's `project` name: rebuilds the trainer and
   * resumes its last checkpoint. Resolves to null when nothing is saved, else to
   * `{ entries, epoch, finished, history }` (`entries` are the saved requests, e.g. to redraw a page).
   */
  async restore() {
    if (!this.#project) throw new Error('restore() needs a project name: new KindlingClient({ project: "my-project" })');
    const records = await store.list(`${this.#project}/`);
    const journal = records.filter(([key]) => key.startsWith(`${this.#project}/entry/`)).map(([, entry]) => entry);
    const checkpoint = records.find(([key]) => key === `${this.#project}/checkpoint`)?.[1] ?? null;
    if (!journal.length) return null;
    await this.#ready;
    let info;
    try {
      info = await this.#rebuild(journal, checkpoint);
    } catch (e) {
      throw new Error(`the saved project "${this.#project}" could not be restored: ${e.message}`);
    }
    this.#journal = journal;
    this.#checkpoint = checkpoint;
    return { ...info, entries: journal };
  }

  /** Deletes the saved project (the trainer in the worker is kept). */
  async forget() {
    if (!this.#project) return;
    await this.#saving;
    await store.remove(`${this.#project}/`);
  }

  /** Opens the device and creates the trainer; resolves to the device description. */
  create(options) { return this.request('create', options); }

  /** Replaces the training settings for the next run (validated in the worker). */
  setConfig(config) { return this.request('setConfig', { config }); }

  /** Declares a class (so an empty one is reported rather than forgotten). */
  addClass(name) { return this.request('addClass', { name }); }

  /**
   * Adds images to `className`: files or blobs (PNG, JPEG, WebP, GIF, BMP), `ImageData` or
   * `ImageBitmap`, decoded in the worker. Unreadable ones are skipped and listed with the reason;
   * resolves to `{ added, skipped: [{name, reason}], counts: [{name, count}] }`.
   */
  addImageFiles(images, className) { return this.request('addImageFiles', { files: [...images], className }); }

  /** Top-k prediction for one image (file, blob, ImageData or ImageBitmap): `{ classes, probabilities }`. */
  predictImageFile(image, topK = 3) { return this.request('predictImageFile', { file: image, topK }); }

  /** Adds texts (strings) to `className`; resolves to the example count. */
  addTexts(texts, className) { return this.request('addTexts', { texts, className }); }

  /**
   * Loads labelled texts from a CSV/TSV/JSONL File. `options = { format, text_column?,
   * label_column?, header? }`. Resolves to `{ added, skipped: [{line, reason}], columns, counts }`.
   */
  addTextFile(file, options) { return this.request('addTextFile', { file, options }); }

  /** Top-k prediction for one text. */
  predictText(text, topK = 3) { return this.request('predictText', { text, topK }); }

  /** Top-k prediction for each of `texts` (one batch). */
  predictTexts(texts, topK = 3) { return this.request('predictTexts', { texts, topK }); }

  /** Full evaluation on the validation set (per-class metrics, confusion matrix, hardest examples). */
  evaluate() { return this.request('evaluate'); }

  /** The trained model as one file's bytes (Uint8Array). */
  exportModel() { return this.request('exportModel'); }

  /** Loads a model file; resolves to its description. */
  importModel(bytes) { return this.request('importModel', { bytes }); }

  /** Class names in label order. */
  classes() { return this.request('classes'); }

  /** Examples per class: `[{ name, count }]`. */
  classCounts() { return this.request('classCounts'); }

  /** Adds examples (rows of `values`, labels indexing `classes`); resolves to the example count. */
  addExamples(values, labels, classes) { return this.request('addExamples', { values, labels, classes }); }

  /**
   * Trains; yields one report per epoch. Aborting `signal` stops after the current step.
   * `continue: true` goes on with an unfinished run (after `stop()`, a crash or `restore()`)
   * instead of starting a new one. `checkpoints: false` skips the per-epoch checkpoint.
   */
  async *train({ signal, continue: keepGoing = false, checkpoints = true } = {}) {
    const queue = [];
    let wake = null;
    let finished = false;
    let failure = null;
    const done = this.request('train', { continue: keepGoing, checkpoints }, (report) => { queue.push(report); wake?.(); })
      .then(() => { finished = true; wake?.(); }, (e) => { failure = e; wake?.(); });
    const onAbort = () => this.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (true) {
        if (queue.length) { yield queue.shift(); continue; }
        if (failure) throw failure;
        if (finished) break;
        await new Promise((resolve) => { wake = resolve; });
        wake = null;
      }
      await done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Holds training after the current step; `resume()` continues it. */
  pause() { this.worker.postMessage({ id: 0, type: 'pause' }); }
  resume() { this.worker.postMessage({ id: 0, type: 'resume' }); }
  /** Ends training after the current step (the model trained so far is kept). */
  stop() { this.worker.postMessage({ id: 0, type: 'stop' }); }

  /** Top-k prediction for each row of `values` (a batch of feature vectors). */
  predict(values, topK = 3) { return this.request('predict', { values, topK }); }

  /** Ends the worker and rejects what is pending; the client cannot be used afterwards. */
  terminate() {
    this.#recovering = true; // a terminated worker is not restarted
    this.worker.terminate();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    pending.forEach((request) => request.reject(new Error('the worker was terminated')));
  }

  /** Same as `terminate()`. */
  dispose() { this.terminate(); }
}
