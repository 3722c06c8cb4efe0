// The Worker client: requests to kindling's worker (worker-channel.js), training progress as an
// async iterator of epoch reports, and recovery.
//
// Recovery and saving share one record of the trainer (project-record.js): the requests that
// built it and the last checkpoint. When the worker dies, a new one replays the journal and
// resumes from the checkpoint. With a `project` name the record is written to IndexedDB
// (store.js), and `restore()` brings a saved project back after a reload: the same path serves
// the page, whose record holds its own journal and a trained model.
//
// The worker answers requests one at a time in the order they are sent (worker.js).
import { choiceKey, recall, remember } from './device-memory.js';
import { ProjectRecord } from './project-record.js';
import { reportsOf } from './report-stream.js';
import * as store from './store.js';
import { SweepRecord } from './sweeps.js';
import { ProjectRequests } from './client-requests.js';
import { WorkerChannel, checkedThreads, pageUrl } from './worker-channel.js';

export class KindlingClient extends ProjectRequests {
  #workerUrl;
  #wasmUrls;
  #threads;
  #record; // the trainer's journal and checkpoint (ProjectRecord)
  #channel; // the current worker (WorkerChannel), replaced after a crash
  #sweep = null; // the last sweep's SweepRecord
  #ready = Promise.resolve(); // settles when a restarted worker has been restored
  #recovering = false;
  #closed = null; // why this client takes no more requests (disposed, or the worker kept failing)

  /**
   * `options = { workerUrl?, wasmUrl?, threadsWasmUrl?, threads?, project?, onRecover?,
   * onDeviceLost?, onStorageError?, onCaching?, onCache? }` (a URL alone is taken as `workerUrl`). By default the
   * worker is the package's `worker.js` and it loads the package's own `.wasm` files; the URLs
   * override them (taken relative to the page), for an app that serves them elsewhere. `threads`: the CPU device's threads (default
   * `navigator.hardwareConcurrency`); more than one needs a cross-origin isolated page, else the
   * worker runs one thread and `runtime()` says why. With `project`, the requests that build the
   * trainer and its checkpoints are saved in IndexedDB under that name as they happen (store.js).
   */
  constructor(options = {}) {
    super();
    if (options instanceof URL || typeof options === 'string') options = { workerUrl: options };
    this.#threads = checkedThreads(options.threads);
    this.#workerUrl = options.workerUrl == null ? null : pageUrl(options.workerUrl);
    this.#wasmUrls = {
      single: options.wasmUrl == null ? undefined : pageUrl(options.wasmUrl),
      threaded: options.threadsWasmUrl == null ? undefined : pageUrl(options.threadsWasmUrl),
    };
    this.#record = new ProjectRecord(options.project ?? null, (e) => {
      this.storageError = e;
      this.onStorageError?.(e);
    });
    this.onRecover = options.onRecover ?? null;
    /** Told `{ message, epoch }` when the GPU device is lost and the project moves to the CPU. */
    this.onDeviceLost = options.onDeviceLost ?? null;
    /** `{ message, epoch }` once the GPU device was lost (epoch: the last checkpoint's, or null). */
    this.deviceLost = null;
    this.onStorageError = options.onStorageError ?? null;
    this.onCaching = options.onCaching ?? null;
    this.onCache = options.onCache ?? null;
    /** The last saving failure (an Error saying why and what to do), or null. */
    this.storageError = null;
    /** Resolves once the last worker restart has restored the project (see `onRecover`). */
    this.recovery = Promise.resolve(null);
    this.#startWorker();
  }

  #startWorker() {
    const channel = new WorkerChannel(this.#workerUrl, this.#threads, this.#wasmUrls, {
      fatal: (reason) => this.#crashed(channel, reason),
      deviceLost: (message) => this.#gpuLost(channel, message),
      checkpoint: (value) => { if (channel === this.#channel) this.#record.keepCheckpoint(value); },
      caching: (value) => { if (channel === this.#channel) this.onCaching?.(value); },
      cache: (value) => { if (channel === this.#channel) this.onCache?.(value); },
    });
    this.#channel = channel;
  }

  /** The current Worker (replaced after a crash). */
  get worker() { return this.#channel.worker; }

  #send(type, payload, onProgress, transfer = []) {
    if (this.#closed) return Promise.reject(new Error(this.#closed));
    return this.#channel.send(type, payload, onProgress, transfer);
  }

  /**
   * Sends one request (after any restore under way) and, once it has succeeded, records it if it
   * built the trainer. Records are made in the order the requests were sent; a failed request is
   * not recorded.
   */
  async request(type, payload, onProgress, transfer = []) {
    if (this.#closed) throw new Error(this.#closed);
    await this.#ready;
    return this.#record.track(type, payload, this.#send(type, payload, onProgress, transfer));
  }

  /** The epoch (0-based) of the last checkpoint the worker sent, or null. */
  get checkpointEpoch() { return this.#record.checkpoint?.epoch ?? null; }

  /** Resolves when every change so far has been written to IndexedDB (or failed: see `storageError`). */
  saved() { return this.#record.saved(); }

  // The GPU device is lost, and every tensor on it: the project is rebuilt as after a crash, but
  // on the CPU device (its `create` now asks for it), from the last checkpoint; train() goes on.
  #gpuLost(channel, message) {
    if (channel !== this.#channel || this.#closed) return;
    this.#record.moveToCpu();
    this.deviceLost = { message, epoch: this.checkpointEpoch };
    this.onDeviceLost?.(this.deviceLost);
    this.#crashed(channel, `the GPU device was lost (${message}); the project goes on on the CPU device`, true);
  }

  // The worker died (killed, out of memory, or a trap in the wasm): fail what was pending, start a
  // new worker, rebuild the trainer from the journal and resume from the last checkpoint. When the
  // new worker dies too before the project is back, the client gives up rather than loop: what was
  // pending, and every later request, is rejected with a message saying so.
  #crashed(channel, reason, deviceLost = false) {
    if (channel !== this.#channel || this.#closed) return;
    channel.terminate();
    if (this.#recovering) {
      this.#closed = `the kindling worker failed again while the project was being restored (${reason}). ` +
        'This client cannot go on: create a new KindlingClient' +
        (this.#record.project ? ` and restore() the saved project "${this.#record.project}".` : '.');
      channel.rejectPending(this.#closed);
      return;
    }
    const epoch = this.#record.checkpoint?.epoch;
    channel.rejectPending(`the kindling worker failed (${reason}). It is being restarted and the project restored` +
      (epoch === undefined ? '' : ` from the checkpoint after epoch ${epoch + 1}`) +
      (deviceLost ? '; a train() under way goes on by itself.' : '; call train({ continue: true }) to go on.'), deviceLost);
    this.recovery = this.#restartWorker().then((info) => {
      this.onRecover?.(info);
      return info;
    }, (e) => {
      throw new Error(`the worker was restarted but the project could not be restored: ${e.message}`);
    });
  }

  // Starts a fresh worker and rebuilds the project in it from the journal and the last
  // checkpoint (after a crash, or for a new thread count); later requests wait until it is back.
  // Resolves to what was restored.
  #restartWorker() {
    this.#startWorker();
    this.#recovering = true;
    const rebuilt = this.#rebuild(this.#record.journal, this.#record.checkpoint).finally(() => { this.#recovering = false; });
    this.#ready = rebuilt.catch(() => {});
    return rebuilt;
  }

  async #rebuild(journal, checkpoint) {
    for (const { type, payload } of journal) await this.#send(type, payload);
    if (checkpoint) await this.#send('restoreCheckpoint', { bytes: checkpoint.bytes });
    return { examples: journal.length, epoch: checkpoint?.epoch ?? null, finished: checkpoint?.finished ?? false, history: checkpoint?.history ?? [] };
  }

  /**
   * Brings back a saved project: `project` is its name (default: this client's `project`) or the
   * record `store.loadProject()` read. Replays its journal, then resumes its checkpoint or, when
   * there is none, imports its saved model. A journal that begins with `create` rebuilds the
   * trainer; one that does not (the page's text sources) goes on the trainer this client already
   * has. Resolves to null when nothing is saved, else to `{ examples, epoch, finished, history,
   * entries, model, checkpointRefused }` (`entries` are the saved requests, e.g. to redraw a page;
   * `model` is the imported model's description, or null; `checkpointRefused` says why a saved
   * checkpoint that no longer fits was skipped, else null). What is replayed is not saved again.
   */
  async restore(project = this.#record.project) {
    if (project == null) throw new Error('restore() needs a project: new KindlingClient({ project: "my-project" }), or restore("my-project")');
    const saved = typeof project === 'string' ? await store.loadProject(project) : project;
    const journal = saved?.journal ?? [];
    let checkpoint = saved?.checkpoint ?? null;
    let model = checkpoint ? null : saved?.model ?? null;
    if (!journal.length && !checkpoint && !model) return null;
    await this.#ready;
    let info;
    let modelInfo = null;
    let checkpointRefused = null;
    try {
      try {
        info = await this.#rebuild(journal, checkpoint);
      } catch (e) {
        // A checkpoint the examples no longer match (one taken before image fingerprints were
        // made of pixels, say) is skipped with its reason; the saved model stands in for it.
        if (!checkpoint || !/checkpoint/.test(e.message)) throw e;
        checkpointRefused = e.message;
        checkpoint = null;
        model = saved?.model ?? null;
        info = await this.#rebuild(journal, null);
      }
      if (model) modelInfo = await this.#send('importModel', { bytes: model });
    } catch (e) {
      throw new Error(`the saved project "${saved.meta?.name ?? saved.id ?? project}" could not be restored: ${e.message}`);
    }
    this.#record.adopt(journal, checkpoint, model);
    if (saved?.sweep) this.#sweep = SweepRecord.fromSaved(saved.sweep, saved.sweepModels);
    return { ...info, entries: journal, model: modelInfo, checkpointRefused };
  }

  /**
   * The worker's build and threads: `{ threads, build: 'threaded' | 'single', reason }`, where
   * `reason` says why (e.g. one thread because the page is not cross-origin isolated).
   */
  runtime() { return this.request('runtime'); }

  /** The device in use, as `create()` resolved to (with this worker's build and threads). */
  device() { return this.request('device'); }

  /**
   * Changes the CPU device's thread count (null: one per core). A worker's thread pool is fixed
   * once started, so this starts a new worker and rebuilds the project in it from the journal and
   * the last checkpoint, as after a crash; resolves to the new `runtime()`. Refused while a request
   * (training, say) is under way: stop it first.
   */
  async setThreads(threads) {
    const wanted = checkedThreads(threads);
    if (this.#closed) throw new Error(this.#closed);
    await this.#ready;
    if (this.#channel.busy) throw new Error('setThreads: a request (training, say) is still running; stop it or wait for it, then try again');
    this.#threads = wanted;
    this.#channel.terminate();
    try {
      await this.#restartWorker();
    } catch (e) {
      throw new Error(`the worker was restarted with ${wanted ?? 'one thread per core'} threads but the project could not be restored: ${e.message}`);
    }
    return this.runtime();
  }

  /** Deletes the saved project (the trainer in the worker is kept). */
  forget() { return this.#record.forget(); }

  /**
   * Opens the device and creates the trainer; resolves to the device description. Relative
   * `weights` / `vocab` URLs are taken relative to the page (the worker would resolve them against
   * its own script, which may live elsewhere, e.g. in node_modules).
   * With `device: 'auto'` (the default) and a hardware WebGPU adapter, or `measure_devices: true`,
   * the backbone is timed on both devices and the faster chosen; the figures are remembered per
   * adapter and backbone (localStorage) and shown in the answer (`measured`, `reason`).
   */
  async create(options = {}) {
    const auto = (options.device ?? 'auto') === 'auto';
    const key = auto ? await choiceKey(options.backbone) : null;
    const remembered = recall(key);
    const device = await this.request('create', { ...options, weights: fromPage(options.weights),
      vocab: fromPage(options.vocab), ...(remembered ? { remembered_speeds: remembered } : {}) });
    if (device.measured && !device.measured.remembered) remember(key, device.measured);
    return device;
  }

  /**
   * Trains; yields one report per epoch. Aborting `signal` stops after the current step.
   * `continue: true` goes on with an unfinished run (after `stop()`, a crash or `restore()`)
   * instead of starting a new one. `checkpoints: false` skips the per-epoch checkpoint.
   * `cache`: a feature-cache file (bytes or a Blob) an earlier run handed to `onCache` — a new
   * or restored run on the same
   * examples, backbone and frozen part takes it instead of decoding and computing every example
   * (`onCache({ kind: 'reused' })`, or `{ kind: 'refused', reason }` and it computes as usual).
   * With `onCache` set, a run that computed its cache hands it over once complete:
   * `onCache({ kind: 'computed', bytes })`.
   * When the GPU device is lost mid-run, the project is rebuilt on the CPU device and the run goes
   * on from its last checkpoint (`onDeviceLost` is told; with `checkpoints: false` it starts over).
   */
  async *train(options = {}) {
    let keepGoing = options.continue ?? false;
    for (;;) {
      try {
        yield* this.#trainOnce({ ...options, continue: keepGoing });
        return;
      } catch (e) {
        // The GPU device was lost: the project is rebuilt on the CPU device; the run goes on
        // from its last checkpoint (or starts over when it had none yet).
        if (!e.deviceLost) throw e;
        await this.recovery;
        if (this.#record.checkpoint?.finished) return;
        keepGoing = this.#record.checkpoint != null;
      }
    }
  }

  #trainOnce({ signal, continue: keepGoing = false, checkpoints = true, cache = null }) {
    const payload = { continue: keepGoing, checkpoints, cache, exportCache: Boolean(this.onCache) };
    return reportsOf((onReport) => this.request('train', payload, onReport), () => this.stop(), signal);
  }

  /**
   * Holds training after the current step; `unpause()` continues it. Predictions and the other
   * read-only requests are still answered while paused (and between the steps of a run).
   */
  pause() { this.#channel.tell('pause'); }
  unpause() { this.#channel.tell('unpause'); }

  /** @deprecated since 0.2: the old name of `unpause()`, kept for one release. */
  resume() { this.unpause(); }
  /**
   * Ends training after the current step (the model trained so far is kept); a `train()` sent
   * before and still waiting its turn in the worker ends at once.
   */
  stop() { this.#channel.tell('stop'); }

  /**
   * Compares configurations on the same examples and split: `spec` is `{ recipes: ['quick', …] }`,
   * `{ grid: { learning_rate: [1e-3, 3e-3], … } }`, `{ random: { draws, seed, fields } }` or
   * `{ folds: { k, train_final } }` (k-fold cross-validation). First the no-training baselines
   * are scored, then each run trains (sharing the frozen backbone's cached features where they
   * agree). `onProgress` sees `{ kind: 'planned' | 'baselines' | 'start' | 'epoch' | 'row', … }`;
   * aborting `signal` (or `stop()`) ends the sweep after the current step, keeping the rows
   * finished. Resolves to the leaderboard (`sweepResults()`); the project's model is unchanged
   * until `useSweepRow(entry)`. With a `project`, the results and the rows' models are saved.
   * `profile` (`{ smallest_class, images, greyscale }`, as `adaptRecipe` takes) lets a recipe's
   * augmentation adapt to the images as a single run of it does (no flips for greyscale ones).
   */
  async sweep(spec, { signal, onProgress, profile } = {}) {
    const record = new SweepRecord(spec);
    const project = this.#record.project;
    const save = (write) => this.#record.save(write);
    const onAbort = () => this.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { stopped, leaderboard } = await this.request('sweep', { spec, profile }, (message) => {
        // Planned: the sweep replaces the last one (a refused plan leaves it as it was).
        if (message.kind === 'planned') {
          this.#sweep = record;
          save(() => store.clearSweep(project));
        }
        record.accept(message);
        if (message.kind === 'row') save(() => store.saveSweepModel(project, message.row.entry, message.model));
        if (message.kind !== 'epoch') save(() => store.saveSweep(project, record.board()));
        onProgress?.(message);
      });
      record.finish(leaderboard, stopped);
    } catch (e) {
      record.finish(null, true);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.#sweep === record) save(() => store.saveSweep(project, record.board()));
    }
    return record.board();
  }

  /** The last sweep's leaderboard (of this session, or saved with the project), or null. */
  sweepResults() { return this.#sweep?.board() ?? null; }

  /** The model file (Uint8Array) of the last sweep's row for `entry`. */
  sweepModel(entry) {
    if (!this.#sweep) throw new Error('no sweep yet: run sweep() first');
    return this.#sweep.model(entry);
  }

  /** Makes a sweep row the project's model (imports its file); resolves to its description. */
  useSweepRow(entry) { return this.importModel(this.sweepModel(entry)); }

  /**
   * The no-training baselines of the current run — `{ nearest_centroid, knn, k }`, validation
   * accuracy of a nearest-centroid and a k-NN classifier on the frozen backbone's features — once
   * its feature cache is complete; null while it fills or when backbone blocks train.
   */
  baselines() { return this.request('baselines'); }

  /** Top-k prediction for each row of `values` (a batch of feature vectors). */
  predict(values, topK = 3) { return this.request('predict', { values, topK }); }

  /**
   * Ends the worker and rejects what is pending; the client cannot be used afterwards: later
   * requests reject at once.
   */
  terminate() {
    this.#closed ??= 'this KindlingClient was terminated (terminate() or dispose()); create a new one';
    this.#channel.terminate();
    this.#channel.rejectPending('the worker was terminated');
  }

  /** Same as `terminate()`. */
  dispose() { this.terminate(); }
}

// A `{ url }` source made absolute against the page (or, for a client inside a worker, that
// worker's script); bytes and strings pass unchanged.
function fromPage(source) {
  if (!source || typeof source !== 'object' || !('url' in source)) return source;
  return { ...source, url: pageUrl(source.url) };
}
