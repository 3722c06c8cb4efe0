// Keeps the open project saved in this browser as it changes, in the project record store.js
// defines: the description (debounced) after every change; each image once, when added (per class
// id); each text source as the request it makes of the trainer (the record's journal, which
// restore() replays when the project is opened); the person's own weights; the model after
// training or import; the last run's feature cache. A failure (a full quota, say) is shown under "Keep it"; nothing in the page
// is lost.
import * as store from './store.js';
import { optionValues } from './options.js';
import { state, errorText, onCacheComputed } from './page-state.js';
import { ui } from './ui.js';

let timer = null;
let chain = Promise.resolve();

export function newProjectId() { return `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`; }

// Runs saving work in order; reports the outcome.
function run(work) {
  if (!state.projectId) return chain;
  const project = state.projectId;
  chain = chain.then(() => work(project)).then(
    () => ui.saveStatus(`Saved in this browser at ${new Date().toLocaleTimeString()}.`),
    (e) => ui.saveStatus(`Not saved: ${errorText(e)}`, true),
  );
  return chain;
}

function meta(project) {
  return {
    id: project,
    name: ui.projectName(),
    task: state.task,
    backbone: state.backbone,
    ownWeights: state.weights instanceof Uint8Array,
    classes: state.classes.map((c) => ({ id: c.id, name: c.name, count: c.files.length })),
    nextClass: state.nextClass,
    texts: state.textSources.length,
    nextText: state.nextText,
    recipe: ui.recipe(),
    options: optionValues(),
    trainedClasses: state.trainedClasses,
    history: state.history,
    evaluation: state.evaluation,
    trainedExamples: state.trainedExamples,
  };
}

/** The text source a saved journal entry (number `n`, from store.textRequest) stands for. */
export function textSource({ type, payload }, n) {
  return type === 'addTextFile'
    ? { kind: 'file', file: payload.file, options: payload.options, n }
    : { kind: 'lines', className: payload.className, lines: payload.texts, n };
}

/** Saves the description soon (changes in a burst are written once). */
export function saveSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => run((p) => store.saveMeta(p, meta(p))), 300);
}

/** Resolves when everything asked so far is written (or has failed). */
export function flush() {
  clearTimeout(timer);
  return run((p) => store.saveMeta(p, meta(p)));
}

export function saveImage(entry, file) {
  const n = entry.saved++;
  run((p) => store.saveImage(p, entry.id, n, file));
  saveSoon();
}

export function forgetClass(entry) { run((p) => store.removeImages(p, entry.id)); saveSoon(); }

export function saveTextSource(source) { run((p) => store.saveEntry(p, source.n, store.textRequest(source))); saveSoon(); }

export function saveWeights(bytes) { run((p) => store.saveWeights(p, bytes)); }

export function saveModel(bytes) { run((p) => store.saveModel(p, bytes)); saveSoon(); }

/** The last comparison: its leaderboard and every row's model file (replacing an earlier one). */
export function saveSweep({ board, models }) {
  run(async (p) => {
    await store.clearSweep(p);
    await store.saveSweep(p, board);
    for (const [entry, bytes] of models) await store.saveSweepModel(p, entry, bytes);
  });
}

// The last run's feature cache (a Blob), so that the next Train — after a reload too — reuses it.
onCacheComputed((blob) => run((p) => store.saveCache(p, blob)));
