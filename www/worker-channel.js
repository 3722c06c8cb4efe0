// One kindling Worker and the requests in flight to it: every request carries an id and resolves
// or rejects exactly once. The client (client.js) owns the channels; after a crash it drops the
// dead one and opens another, so an answer from a dead worker can never reach a new request.

export class WorkerChannel {
  #pending = new Map();
  #nextId = 1;

  /**
   * Starts the worker (`url`, or the package's `worker.js`) and tells it its build and threads.
   * `on = { fatal(reason), deviceLost(message), checkpoint(value), caching(value), cache(value) }`
   * hears what the worker says outside an answer; a worker error or an unreadable message is
   * `fatal`.
   */
  constructor(url, threads, wasmUrls, on) {
    // The literal `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` is the
    // pattern bundlers (Vite, webpack, Parcel) recognise: they bundle the worker and its wasm.
    this.worker = url
      ? new Worker(url, { type: 'module' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    // First, which build and how many threads, and where their wasm is (worker.js loads the wasm
    // when it reads this).
    this.worker.postMessage({ type: 'threads', threads: threads ?? undefined, wasm: wasmUrls });
    this.worker.addEventListener('message', (event) => this.#receive(event.data, on));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      on.fatal(event.message || 'the worker stopped');
    });
    this.worker.addEventListener('messageerror', () => on.fatal('a message could not be read'));
  }

  #receive({ id, type, value, message }, on) {
    if (type === 'fatal') { on.fatal(message); return; }
    if (type === 'device-lost') { on.deviceLost(message); return; }
    if (type === 'checkpoint') { on.checkpoint(value); return; }
    if (type === 'caching') { on.caching(value); return; }
    if (type === 'cache') { on.cache(value); return; }
    const request = this.#pending.get(id);
    if (!request) return;
    if (type === 'progress') { request.onProgress?.(value); return; }
    this.#pending.delete(id);
    if (type === 'result') request.resolve(value);
    else request.reject(new Error(message));
  }

  /** Sends one request; resolves to its answer, or rejects with the worker's message. */
  send(type, payload, onProgress, transfer = []) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, payload }, transfer);
    });
  }

  /** A message that needs no answer (pause, unpause, stop). */
  tell(type) { this.worker.postMessage({ id: 0, type }); }

  /** Whether a request is waiting for its answer. */
  get busy() { return this.#pending.size > 0; }

  /** Rejects every unanswered request (`deviceLost`: marked so that `train()` goes on). */
  rejectPending(message, deviceLost = false) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    pending.forEach((request) => request.reject(Object.assign(new Error(message), { deviceLost })));
  }

  /** Ends the worker; what is pending stays pending until `rejectPending`. */
  terminate() { this.worker.terminate(); }
}

// A URL as the page means it (relative to its base, or to this script's global outside a page).
export function pageUrl(url) {
  return new URL(url, globalThis.document?.baseURI ?? self.location.href).href;
}

// `threads` as the client takes it: null/undefined (one per core) or a whole number 1–64.
export function checkedThreads(threads) {
  if (threads == null) return null;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new TypeError(`threads must be a whole number from 1 to 64 (or left out for one per core), not ${JSON.stringify(threads) ?? String(threads)}`);
  }
  return threads;
}
