// The record of a trainer that recovery and saving share: the requests that built it (a journal:
// create, add*, import, setConfig) and the checkpoint the worker sends after each epoch. A new
// worker rebuilds the trainer by replaying the journal and resuming from the checkpoint. With a
// project name both are written to the project's record in IndexedDB (store.js) as they happen.
//
// The journal keeps the order in which requests were sent, whatever order their answers arrive
// in, and only requests that succeeded.
import * as store from './store.js';

// Requests that change what the trainer holds, replayed in order to rebuild it.
export const RECORDED = new Set(['create', 'addClass', 'addImageFiles', 'addTexts', 'addTextFile', 'addExamples', 'importModel', 'setConfig']);

export class ProjectRecord {
  #journal = [];
  #checkpoint = null; // { bytes, epoch, finished, history }
  #saving = Promise.resolve(); // IndexedDB writes, in order
  #unrecorded = []; // recorded requests sent and not yet in the journal: { entry, ok }, in send order
  #onStorageError;

  /** `project`: the saved project's name, or null to keep the record in memory only. */
  constructor(project, onStorageError) {
    this.project = project;
    this.#onStorageError = onStorageError;
  }

  get journal() { return this.#journal; }
  get checkpoint() { return this.#checkpoint; }

  /**
   * Journals request `type` once `reply` (its answer) has succeeded, after every recorded request
   * sent before it; resolves or rejects as `reply` does. Requests outside `RECORDED` pass through.
   */
  async track(type, payload, reply) {
    if (!RECORDED.has(type)) return reply;
    const slot = { entry: { type, payload }, ok: null };
    this.#unrecorded.push(slot);
    try {
      const value = await reply;
      slot.ok = true;
      return value;
    } catch (e) {
      slot.ok = false;
      throw e;
    } finally {
      // Record every answered request at the head of the send order (a later one answered
      // first waits for those before it).
      while (this.#unrecorded[0]?.ok != null) {
        const { entry, ok } = this.#unrecorded.shift();
        if (ok) this.#record(entry);
      }
    }
  }

  /** Adds a request to the journal in memory; a `create` starts the trainer, and the journal, over. */
  remember(entry) {
    if (entry.type === 'create') {
      this.#journal = [];
      this.#checkpoint = null;
    }
    this.#journal.push(entry);
  }

  // Remembers a request and saves it with the project.
  #record(entry) {
    const project = this.project;
    if (entry.type === 'create') this.save(() => store.clearTrainer(project));
    this.remember(entry);
    const n = this.#journal.length - 1;
    this.save(() => store.saveEntry(project, n, entry));
  }

  /** Keeps the worker's latest checkpoint (and saves it). */
  keepCheckpoint(checkpoint) {
    this.#checkpoint = checkpoint;
    const project = this.project;
    this.save(() => store.saveCheckpoint(project, checkpoint));
  }

  /**
   * Takes a restored project's journal, checkpoint and model as its own, in memory (they are
   * saved already), so that a crashed worker is rebuilt the same way.
   */
  adopt(journal, checkpoint, model) {
    journal.forEach((entry) => this.remember(entry));
    if (model) this.remember({ type: 'importModel', payload: { bytes: model } });
    this.#checkpoint = checkpoint;
  }

  /** From now on the trainer is rebuilt on the CPU device (the GPU device was lost). */
  moveToCpu() {
    const create = this.#journal.find((entry) => entry.type === 'create');
    if (create) create.payload = { ...create.payload, device: 'cpu' };
  }

  /** Queues an IndexedDB write (projects only). A failure is reported, never thrown at training. */
  save(write) {
    if (!this.project) return;
    this.#saving = this.#saving.then(async () => {
      await store.requestPersistence();
      await write();
    }).catch((e) => this.#onStorageError(e)); // already an Error saying what to do (store.js)
  }

  /** Resolves when every write so far has been made (or failed). */
  saved() { return this.#saving; }

  /** Deletes the saved project, after the writes already queued. */
  async forget() {
    if (!this.project) return;
    await this.#saving;
    await store.deleteProject(this.project);
  }
}
