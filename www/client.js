// The worker wrapper: every request carries an id and resolves or rejects exactly once;
// training progress arrives as an async iterator of epoch reports.
export class KindlingClient {
  constructor(workerUrl = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.nextId = 1;
    this.pending = new Map();
    this.worker.addEventListener('message', (event) => this.#receive(event.data));
    this.worker.addEventListener('error', (event) => this.#failAll(new Error(`worker failed: ${event.message ?? 'unknown error'}`)));
  }

  #receive({ id, type, value, message }) {
    const request = this.pending.get(id);
    if (!request) return;
    if (type === 'progress') { request.onProgress?.(value); return; }
    this.pending.delete(id);
    if (type === 'result') request.resolve(value);
    else request.reject(new Error(message));
  }

  #failAll(error) {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }

  request(type, payload, onProgress, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, payload }, transfer);
    });
  }

  /** Opens the device and creates the trainer; resolves to the device description. */
  create(options) { return this.request('create', options); }

  /** Declares a class (so an empty one is reported rather than forgotten). */
  addClass(name) { return this.request('addClass', { name }); }

  /**
   * Decodes image files (File/Blob: PNG, JPEG, WebP, GIF, BMP) in the worker and adds them to
   * `className`. Files that are not readable images are skipped and listed with the reason;
   * resolves to `{ added, skipped: [{name, reason}], counts: [{name, count}] }`.
   */
  addImageFiles(files, className) { return this.request('addImageFiles', { files: [...files], className }); }

  /** Top-k prediction for one image file: `{ classes, probabilities }`. */
  predictImageFile(file, topK = 3) { return this.request('predictImageFile', { file, topK }); }

  /** Adds texts (strings) to `className`; resolves to the example count. */
  addTexts(texts, className) { return this.request('addTexts', { texts, className }); }

  /**
   * Loads labelled texts from a CSV/TSV/JSONL File. `options = { format, text_column?,
   * label_column?, header? }`. Resolves to `{ added, skipped: [{line, reason}], columns, counts }`.
   */
  addTextFile(file, options) { return this.request('addTextFile', { file, options }); }

  /** Top-k prediction for one text. */
  predictText(text, topK = 3) { return this.request('predictText', { text, topK }); }

  /** Full evaluation on the validation set (per-class metrics, confusion matrix, hardest examples). */
  evaluate() { return this.request('evaluate'); }

  /** The trained model as one file's bytes (Uint8Array). */
  exportModel() { return this.request('exportModel'); }

  /** Loads a model file; resolves to its description. */
  importModel(bytes) { return this.request('importModel', { bytes }); }

  /** Class names in label order. */
  classes() { return this.request('classes'); }

  /** Adds examples (rows of `values`, labels indexing `classes`); resolves to the example count. */
  addExamples(values, labels, classes) { return this.request('addExamples', { values, labels, classes }); }

  /** Trains; yields one report per epoch. Aborting `signal` stops after the current step. */
  async *train({ signal } = {}) {
    const queue = [];
    let wake = null;
    let finished = false;
    let failure = null;
    const done = this.request('train', {}, (report) => { queue.push(report); wake?.(); })
      .then(() => { finished = true; wake?.(); }, (e) => { failure = e; wake?.(); });
    const onAbort = () => this.worker.postMessage({ id: 0, type: 'stop' });
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

  predict(values, topK = 3) { return this.request('predict', { values, topK }); }

  terminate() { this.worker.terminate(); this.#failAll(new Error('the worker was terminated')); }
}
