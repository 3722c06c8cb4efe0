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
  classes: [], // image projects: { id, name, card, files: File[], urls: string[], saved: number }
  nextClass: 1,
  textSources: [], // text projects: { kind: 'file', file, options, n } or { kind: 'lines', className, lines, n }
  nextText: 0,
  exampleUrls: [], // thumbnail of each example, in the order the trainer holds them
  trainedExamples: [], // the last Train's image examples, per class in trainer order: { id, count, skipped: [positions] }
  trainedClasses: [],
  history: [], // epoch reports of the last run
  evaluation: null,
  paused: false,
  stopped: false,
  renameProblem: false,
};

export function errorText(e) { return e?.message ?? String(e); }

/** Replaces the worker's trainer with a fresh one for the current task, backbone and settings. */
export async function createTrainer({ augment = {}, config = {}, textAugment = null } = {}) {
  state.client?.terminate();
  state.client = new KindlingClient({
    // Before the first epoch the backbone's features are cached a chunk per step: show how far.
    onCaching: ({ done, total, memory }) => {
      ui.setProgress(done / total);
      ui.setStatus(`Computing backbone features: ${done} of ${total} examples…`);
      ui.setMemory(memory);
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
  ui.setDevice(device);
}
