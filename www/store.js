// Saved work in IndexedDB: one object store of records under string keys ("project/…"), so a
// project is a key range that can be listed, replaced and deleted as a whole. Values are
// anything structured-cloneable (File and Blob included), so uploaded files are kept as files.
const DB_NAME = 'kindling';
const STORE = 'records';

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    if (!globalThis.indexedDB) { reject(new Error('this browser has no IndexedDB, so work cannot be saved')); return; }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`could not open the browser's storage: ${request.error?.message}`));
  });
  return opening;
}

// Runs `work(store)` in one transaction; resolves with its request's result once committed.
async function transact(mode, work) {
  const db = await open();
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

/** Stores `value` under `key`, replacing what was there. */
export function put(key, value) { return transact('readwrite', (s) => s.put(value, key)); }

/** The value under `key`, or undefined. */
export function get(key) { return transact('readonly', (s) => s.get(key)); }

/** Every [key, value] whose key starts with `prefix`, in key order (one consistent read). */
export async function list(prefix) {
  const entries = [];
  await transact('readonly', (s) => {
    const cursor = s.openCursor(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
    cursor.addEventListener('success', () => {
      if (!cursor.result) return;
      entries.push([cursor.result.key, cursor.result.value]);
      cursor.result.continue();
    });
    return null;
  });
  return entries;
}

/** Deletes every record whose key starts with `prefix`. */
export function remove(prefix) {
  return transact('readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
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
