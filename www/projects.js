// The page's saved projects in IndexedDB (store.js): a description record, one record per image
// file and per text source (each written once, when added), the trained model and the weights
// the person chose. Keys: page/<project>/meta, …/image/<class>/<n>, …/text/<n>, …/model, …/weights.
import * as store from './store.js';

const key = (project, ...parts) => ['page', project, ...parts].join('/');
const pad = (n) => String(n).padStart(8, '0');

export function newProjectId() { return `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`; }

/** Writes the description (name, task, backbone, classes, settings, history, evaluation…). */
export async function saveMeta(project, meta) {
  await store.requestPersistence();
  await store.put(key(project, 'meta'), { ...meta, savedAt: Date.now() });
}

export function saveImage(project, classId, n, file) { return store.put(key(project, 'image', classId, pad(n)), file); }

export function removeClassImages(project, classId) { return store.remove(key(project, 'image', classId, '')); }

export function saveText(project, n, source) { return store.put(key(project, 'text', pad(n)), source); }

export function saveModel(project, bytes) { return store.put(key(project, 'model'), bytes); }

export function saveWeights(project, bytes) { return store.put(key(project, 'weights'), bytes); }

export function deleteProject(project) { return store.remove(key(project, '')); }

/** Every saved project's description, most recent first. */
export async function listProjects() {
  const records = await store.list('page/');
  return records.filter(([k]) => k.endsWith('/meta')).map(([, meta]) => meta).sort((a, b) => b.savedAt - a.savedAt);
}

/**
 * One project: `{ meta, images: Map<classId, File[]>, texts: source[], model, weights }`, or null
 * when it is gone.
 */
export async function loadProject(project) {
  const records = await store.list(key(project, ''));
  const meta = records.find(([k]) => k === key(project, 'meta'))?.[1];
  if (!meta) return null;
  const images = new Map();
  const texts = [];
  let model = null;
  let weights = null;
  for (const [k, value] of records) {
    const parts = k.split('/').slice(2);
    if (parts[0] === 'image') {
      if (!images.has(parts[1])) images.set(parts[1], []);
      images.get(parts[1]).push(value);
    } else if (parts[0] === 'text') texts.push(value);
    else if (parts[0] === 'model') model = value;
    else if (parts[0] === 'weights') weights = value;
  }
  return { meta, images, texts, model, weights };
}
