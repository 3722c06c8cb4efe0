// Saved projects in IndexedDB: the one place that knows how a project is stored, used by the Worker
// client (client.js) and by the page (saving.js, main.js).
//
// A project is every record whose key is an array starting with its id, so it is one key range
// that can be read, replaced and deleted as a whole:
//
//   [id, 'meta']                   the app's description ({ id, name, savedAt, … }); the page
//                                  lists projects by it (a client's own project has none)
//   [id, 'journal', n]             the requests that rebuild the trainer, in order: { type, payload }
//                                  (client.js records every one; the page writes its text sources)
//   [id, 'checkpoint']             the latest checkpoint: { bytes, epoch, finished, history }
//   [id, 'model']                  a trained model file; restore() imports it when there is no checkpoint
//   [id, 'weights']                the person's own pretrained weights (bytes)
//   [id, 'cache']                  the last run's feature cache file (a Blob; see client.train's cache)
//   [id, 'image', group, n]        an image File/Blob the app keeps (the page: per class id)
//   [id, 'sweep']                  the last sweep's results (sweeps.js: rows, ranking, baselines)
//   [id, 'sweep-model', entry]     the model file of that sweep's row for `entry`
//
// Values are anything structured-cloneable (File and Blob included), so uploaded files are kept as
// files. Keys of older versions were strings (page/<id>/…, <project>/entry/<n>, <project>/checkpoint);
// they are rewritten into this scheme the first time the store is used (migrate, below).
const DB_NAME = 'kindling';
const STORE = 'records';

let opening = null;
let migrating = null; // Promise<Map<id, why>> (migrated)

function openDb() {
  opening ??= new Promise((resolve, reject) => {
    if (!globalThis.indexedDB) { reject(new Error('this browser has no IndexedDB, so work cannot be saved')); return; }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`could not open the browser's storage: ${request.error?.message}`));
  });
  return opening;
}

// Converts what older versions saved (once per page, before any other use); resolves to the
// projects that could not be converted (id -> why). Their old records stay in place and are tried
// again on the next page load; reading them says why, everything else goes on.
function migrated() {
  migrating ??= openDb().then(migrate);
  return migrating;
}

function conversionError(failed) {
  const why = [...failed].map(([id, message]) => `"${id}": ${message}`).join(' ');
  return new Error(`${failed.size} project(s) saved by an older version of kindling could not be converted; ` +
    `they are kept as they were and tried again when the page is next opened. ${why}`);
}

// Runs `work(store)` in one transaction; resolves with its request's result once committed.
async function transact(mode, work) {
  await migrated();
  const db = await openDb();
  return new Promise((resolve, reject) => {
    let result;
    try {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      if (request) request.onsuccess = () => { result = request.result; };
      tx.oncomplete = () => resolve(result);
      tx.onabort = tx.onerror = () => { explain(tx.error).then(reject); };
    } catch (e) {
      explain(e).then(reject); // e.g. a value that cannot be stored, or a quota refusal
    }
  });
}

/** Turns a storage failure into an Error saying what happened and what to do. */
export async function explain(error) {
  if (error?.name !== 'QuotaExceededError') {
    return new Error(`the browser could not save the work: ${error?.message ?? error}`);
  }
  let usage = '';
  try {
    const { usage: used, quota } = await navigator.storage.estimate();
    usage = ` (${(used / 1e6).toFixed(0)} MB used of the ${(quota / 1e6).toFixed(0)} MB this site may use)`;
  } catch { /* the estimate is only a courtesy */ }
  return new Error(`the browser's storage for this site is full${usage}: delete saved projects or free disk space. ` +
    'Nothing already loaded or trained was lost, but this change was not saved.');
}

// Key ranges: an array key sorts after every string, number and shorter prefix of itself, and
// before any longer key with an array in the next place, so [...prefix] .. [...prefix, []]
// holds exactly the keys that start with `prefix`.
const under = (...prefix) => IDBKeyRange.bound(prefix, [...prefix, []]);

// --- Writing a project

/** Writes the description (the page's: name, task, backbone, classes, settings, history, evaluation…). */
export async function saveMeta(id, meta) {
  await requestPersistence();
  await transact('readwrite', (s) => s.put({ ...meta, id, savedAt: Date.now() }, [id, 'meta']));
}

/** Writes the n-th request of the journal (`{ type, payload }`), replacing what was there. */
export function saveEntry(id, n, entry) { return transact('readwrite', (s) => s.put(entry, [id, 'journal', n])); }

/**
 * The journal entry for one of the page's text sources (a labelled file with its columns, or
 * lines for a class): the request that adds it to a trainer. The page saves its texts this way,
 * and older versions' text records are converted with it.
 */
export function textRequest(source) {
  return source.kind === 'file'
    ? { type: 'addTextFile', payload: { file: source.file, options: source.options } }
    : { type: 'addTexts', payload: { texts: source.lines, className: source.className } };
}

export function saveCheckpoint(id, checkpoint) { return transact('readwrite', (s) => s.put(checkpoint, [id, 'checkpoint'])); }

export function saveModel(id, bytes) { return transact('readwrite', (s) => s.put(bytes, [id, 'model'])); }

/** The last run's feature cache file (a Blob: the browser keeps it on disk). */
export function saveCache(id, blob) { return transact('readwrite', (s) => s.put(blob, [id, 'cache'])); }

export function saveWeights(id, bytes) { return transact('readwrite', (s) => s.put(bytes, [id, 'weights'])); }

export function saveImage(id, group, n, file) { return transact('readwrite', (s) => s.put(file, [id, 'image', group, n])); }

/** Deletes the images kept for `group` (a deleted class). */
export function removeImages(id, group) { return transact('readwrite', (s) => s.delete(under(id, 'image', group))); }

/** The last sweep's results (`SweepRecord.board()`). */
export function saveSweep(id, record) { return transact('readwrite', (s) => s.put(record, [id, 'sweep'])); }

export function saveSweepModel(id, entry, bytes) { return transact('readwrite', (s) => s.put(bytes, [id, 'sweep-model', entry])); }

/** Deletes the last sweep (results and models): a new sweep starts over. */
export function clearSweep(id) {
  return transact('readwrite', (s) => {
    s.delete(under(id, 'sweep-model'));
    return s.delete([id, 'sweep']);
  });
}

/** Deletes the trainer's part of the project (journal, checkpoint, model): a new `create` starts it over. */
export function clearTrainer(id) {
  return transact('readwrite', (s) => {
    s.delete(under(id, 'journal'));
    s.delete([id, 'checkpoint']);
    return s.delete([id, 'model']);
  });
}

/** Deletes every record of the project. */
export function deleteProject(id) { return transact('readwrite', (s) => s.delete(under(id))); }

// --- Reading

/**
 * Every description (`[id, 'meta']`), most recent first. Rejects when projects saved by an older
 * version could not be converted: the error says why, and its `projects` are those listed.
 */
export async function listProjects() {
  const metas = [];
  await transact('readonly', (s) => {
    // Walk the keys only, jumping from one project's meta to the next project: files stay unread.
    const cursor = s.openKeyCursor(IDBKeyRange.lowerBound([]));
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      const [id, part] = c.key;
      if (part === 'meta') {
        s.get(c.key).onsuccess = (e) => metas.push(e.target.result);
        c.continue([id, []]);
      } else {
        c.continue(part < 'meta' ? [id, 'meta'] : [id, []]);
      }
    };
    return null;
  });
  metas.sort((a, b) => b.savedAt - a.savedAt);
  const failed = await migrated();
  if (failed.size) throw Object.assign(conversionError(failed), { projects: metas });
  return metas;
}

/**
 * One project: `{ id, meta, journal, checkpoint, model, weights, cache, images: Map<group, Blob[]>,
 * sweep, sweepModels: Map<entry, bytes> }`
 * (absent parts are null or empty), or null when nothing is saved under `id`.
 */
export async function loadProject(id) {
  const failed = await migrated();
  if (failed.has(id)) throw conversionError(new Map([[id, failed.get(id)]]));
  const records = [];
  await transact('readonly', (s) => {
    const cursor = s.openCursor(under(id));
    cursor.onsuccess = () => {
      if (!cursor.result) return;
      records.push([cursor.result.key, cursor.result.value]);
      cursor.result.continue();
    };
    return null;
  });
  if (!records.length) return null;
  const project = { id, meta: null, journal: [], checkpoint: null, model: null, weights: null, cache: null, images: new Map(),
    sweep: null, sweepModels: new Map() };
  for (const [[, part, group], value] of records) { // in key order: journal and images by number
    if (part === 'journal') project.journal.push(value);
    else if (part === 'sweep-model') project.sweepModels.set(group, value);
    else if (part === 'image') {
      if (!project.images.has(group)) project.images.set(group, []);
      project.images.get(group).push(value);
    } else if (part in project) project[part] = value;
  }
  return project;
}

let persistence = null;

/**
 * Asks the browser not to evict this site's storage under pressure (once per page); resolves to
 * whether it agreed. Saving works either way; without it the browser may clear old projects.
 */
export function requestPersistence() {
  persistence ??= (async () => {
    try { return Boolean(await navigator.storage?.persist?.()); } catch { return false; }
  })();
  return persistence;
}

// --- Projects saved by older versions (string keys)
//
//   page/<id>/meta, page/<id>/model, page/<id>/weights   -> [id, 'meta' | 'model' | 'weights']
//   page/<id>/image/<class>/<n>                         -> [id, 'image', class, n]
//   page/<id>/text/<n> (a text source)                  -> [id, 'journal', n] (the request it made)
//   <project>/entry/<n> (1-based)                       -> [project, 'journal', n - 1]
//   <project>/checkpoint                                -> [project, 'checkpoint']
//
// Each project is written in one transaction; its old records are deleted in a second one, only
// after the first has committed. A project whose new records already exist was converted before
// (the deletion did not happen): only its old records are deleted.

const OLD_PAGE = /^page\/([^/]+)\/(meta|model|weights|image\/([^/]+)\/(\d+)|text\/(\d+))$/;
const OLD_CLIENT = /^(.+)\/(entry\/(\d+)|checkpoint)$/;

// The old string keys, grouped by project: Map<id, [oldKey, newKey(value) -> [key, value]][]>.
function planMigration(keys) {
  const projects = new Map();
  const add = (id, oldKey, convert) => {
    if (!projects.has(id)) projects.set(id, []);
    projects.get(id).push([oldKey, convert]);
  };
  const entries = new Map(); // client project -> its entry keys, renumbered from 0 below
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const page = key.match(OLD_PAGE);
    if (page) {
      const [, id, part, group, n, text] = page;
      if (group !== undefined) add(id, key, (v) => [[id, 'image', group, Number(n)], v]);
      else if (text !== undefined) add(id, key, (v) => [[id, 'journal', Number(text)], textRequest(v)]);
      else add(id, key, (v) => [[id, part], v]);
      continue;
    }
    const client = key.match(OLD_CLIENT);
    if (!client) continue; // not ours: left alone
    const [, id, , n] = client;
    if (n === undefined) add(id, key, (v) => [[id, 'checkpoint'], v]);
    else {
      if (!entries.has(id)) entries.set(id, []);
      entries.get(id).push([Number(n), key]);
    }
  }
  for (const [id, list] of entries) {
    list.sort((a, b) => a[0] - b[0]).forEach(([, key], i) => add(id, key, (v) => [[id, 'journal', i], v]));
  }
  return projects;
}

// One request, as a promise (inside a transaction the caller keeps alive).
const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

function transaction(db, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error);
    work(tx.objectStore(STORE)).catch((e) => { try { tx.abort(); } catch { /* already over */ } reject(e); });
  });
}

async function migrate(db) {
  let keys = [];
  await transaction(db, 'readonly', async (s) => { keys = await done(s.getAllKeys(IDBKeyRange.upperBound([], true))); });
  const failed = new Map();
  for (const [id, records] of planMigration(keys)) {
    try {
      await transaction(db, 'readwrite', async (s) => {
        if (await done(s.count(under(id)))) return; // converted already
        const values = await Promise.all(records.map(([oldKey]) => done(s.get(oldKey))));
        records.forEach(([, convert], i) => {
          const [key, value] = convert(values[i]);
          s.put(value, key);
        });
      });
    } catch (e) {
      failed.set(id, (await explain(e)).message);
      continue;
    }
    // Committed: the old records can go (if this fails, the next page load deletes them).
    await transaction(db, 'readwrite', async (s) => { records.forEach(([oldKey]) => s.delete(oldKey)); }).catch(() => {});
  }
  return failed;
}
