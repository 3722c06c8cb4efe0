// Keeps the open project saved in this browser as it changes: files and texts once each, the
// description (debounced) after every change, the model after training or import. A failure
// (a full quota, say) is shown under "Keep it"; nothing in the page is lost.
import * as projects from './projects.js';
import { optionValues } from './options.js';
import { state, errorText } from './page-state.js';
import { ui } from './ui.js';

let timer = null;
let chain = Promise.resolve();

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
  };
}

/** Saves the description soon (changes in a burst are written once). */
export function saveSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => run((p) => projects.saveMeta(p, meta(p))), 300);
}

/** Resolves when everything asked so far is written (or has failed). */
export function flush() {
  clearTimeout(timer);
  return run((p) => projects.saveMeta(p, meta(p)));
}

export function saveImage(entry, file) {
  const n = entry.saved++;
  run((p) => projects.saveImage(p, entry.id, n, file));
  saveSoon();
}

export function forgetClass(entry) { run((p) => projects.removeClassImages(p, entry.id)); saveSoon(); }

export function saveTextSource(source) { run((p) => projects.saveText(p, source.n, source)); saveSoon(); }

export function saveWeights(bytes) { run((p) => projects.saveWeights(p, bytes)); }

export function saveModel(bytes) { run((p) => projects.saveModel(p, bytes)); saveSoon(); }
