// The page's state (one project at a time) and the trainer in its worker. The page keeps the
// person's files and texts; each Train builds a fresh trainer from them, so renaming or deleting
// a class never leaves stale examples behind.
import { KindlingClient } from './client.js';
import { ui } from './ui.js';

export const TEXT_BACKBONES = new Set(['minilm']);

export const state = {
  projectId: null, // id of the saved project (store.js)
  task: 'images',
  backbone: null,
  weights: null, // { url } or Uint8Array (the person's own file)
  client: null,
  device: null, // what the trainer runs on (`client.create()`'s answer)
  classes: [], // image projects: { id, name, card, files: File[], urls: string[], saved: number }
  nextClass: 1,
  textSources: [], // text projects: { kind: 'file', file, options, n } or { kind: 'lines', className, lines, n }
  nextText: 0,
  exampleUrls: [], // where each example's thumbnail is ([class's urls, position]), in the trainer's order
  trainedExamples: [], // the last Train's image examples, per class in trainer order: { id, count, skipped: [positions] }
  trainedClasses: [],
  history: [], // epoch reports of the last run
  cache: null, // a Blob: the last run's feature cache file (kindling refuses it for other examples)
  cacheReused: false, // whether the current run took `cache`
  evaluation: null,
  sweep: null, // the last comparison: { board (the client's leaderboard), models: Map<entry, bytes> }
  paused: false,
  stopped: false,
  renameProblem: false,
};

export function errorText(e) { return e?.message ?? String(e); }

/** Where a run goes on after a lost GPU device: `epoch` is its last checkpoint's (0-based), or null. */
export function resumedFrom(epoch) { return epoch == null ? 'the start' : `epoch ${epoch + 2}`; }

let saveCache = () => {};
/** Where a computed feature cache goes to be saved (saving.js sets it; it depends on this module). */
export function onCacheComputed(save) { saveCache = save; }

/** Replaces the worker's trainer with a fresh one for the current task, backbone and settings. */
export async function createTrainer({ augment = {}, config = {}, textAugment = null } = {}) {
  const threads = ui.threads(); // checked before the old trainer goes
  state.client?.terminate();
  state.client = new KindlingClient({
    threads,
    // A lost GPU device: the client rebuilds the project on the CPU and training goes on from
    // the last epoch's checkpoint (main.js asks for them on WebGPU).
    onDeviceLost: ({ message, epoch }) => {
      ui.setStatus(`The GPU device was lost (${message}): training goes on on the CPU device from ${resumedFrom(epoch)}.`);
      ui.setDeviceText('CPU (the GPU device was lost)');
      // The status line moves on with the epochs; the device line keeps saying why it is the CPU.
      state.client.recovery.then(() => state.client.device()).then((device) => {
        state.device = device;
        ui.setDevice({ ...device, reason: `the GPU device was lost (${message}); training went on here` });
      }, () => {});
    },
    // Before the first epoch the backbone's features are cached a chunk per step: show how far.
    onCaching: ({ done, total, memory }) => {
      ui.setProgress(done / total);
      ui.setStatus(`Computing backbone features: ${done} of ${total} examples…`);
      ui.setMemory(memory);
    },
    // A run that computed the frozen part's features hands them over: kept with the project, the
    // next Train on the same images (even after a reload) skips computing them.
    onCache: (event) => {
      if (event.kind === 'computed') {
        state.cache = new Blob([event.bytes]);
        saveCache(state.cache);
      } else if (event.kind === 'reused') {
        state.cacheReused = true;
        ui.setStatus('Reusing the backbone features computed by the last run…');
      }
    },
  });
  const text = state.task === 'text';
  const device = await state.client.create({
    backbone: text ? { kind: 'bert', max_len: 128 } : { kind: state.backbone },
    device: ui.devicePreference(),
    weights: state.weights,
    ...(text ? { vocab: { url: 'weights/minilm/vocab.txt' }, ...(textAugment ? { text_augment: textAugment } : {}) } : { augment }),
    config,
  });
  state.device = device;
  ui.setDevice(device);
}
