// Wiring: page events -> client calls -> page updates. The page keeps the person's image files;
// each Train builds a fresh trainer in the worker from them, so renaming or deleting a class
// never leaves stale examples behind.
import { KindlingClient } from './client.js';
import { ui } from './ui.js';
import { openCamera, captureFrame, closeCamera } from './webcam.js';
import { readColumns, guessColumns, textFormat } from './text-columns.js';
import { renderOptions, setOptionsTask, applyRecipe, readOptions } from './options.js';

const advanced = document.getElementById('advanced');
renderOptions(advanced);
applyRecipe(advanced, ui.recipe());
ui.onRecipe((name) => applyRecipe(advanced, name));

const TEXT_BACKBONES = new Set(['minilm']);

const state = {
  task: 'images',
  textSources: [], // text projects: { kind: 'file', file, options } or { kind: 'lines', className, lines }
  client: null,
  backbone: null,
  weights: null, // { url } or Uint8Array
  classes: [], // { name, card, files: File[], urls: string[] }
  exampleUrls: [], // thumbnail of each example, in the order the trainer holds them
  trainedClasses: [],
  history: [], // epoch reports of the last run
  evaluation: null,
  paused: false,
  stopped: false,
  nextClass: 1,
  renameProblem: false,
};

function errorText(e) { return e?.message ?? String(e); }

async function createTrainer({ augment = {}, config = {}, textAugment = null } = {}) {
  state.client?.terminate();
  state.client = new KindlingClient();
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

ui.onOpen(async () => {
  ui.modelError('');
  try {
    state.backbone = ui.backbone();
    state.task = TEXT_BACKBONES.has(state.backbone) ? 'text' : 'images';
    ui.setTask(state.task);
    setOptionsTask(advanced, state.task);
    const own = ui.weightsFile();
    const url = state.task === 'text' ? 'weights/minilm/model.safetensors' : `weights/${state.backbone}.safetensors`;
    state.weights = own ? new Uint8Array(await own.arrayBuffer()) : { url };
    ui.setDeviceText('Opening the device and checking the weights…');
    await createTrainer();
    ui.setProjectOpen(true);
    ui.setCanImport(true);
    if (state.task === 'images' && state.classes.length === 0) { addClass(); addClass(); }
  } catch (e) {
    ui.modelError(errorText(e));
    ui.setDeviceText('Not started.');
  }
});

function addClass() {
  const entry = { name: `Class ${state.nextClass++}`, files: [], urls: [] };
  entry.card = ui.addClassCard(entry.name, {
    onFiles: (files) => addFiles(entry, files),
    onRename: (name) => renameClass(entry, name),
    onDelete: () => deleteClass(entry),
    onCamera: () => openWebcam('class', entry),
  });
  state.classes.push(entry);
  checkBalance();
}

ui.onAddClass(() => addClass());

function renameClass(entry, name) {
  const trimmed = name.trim();
  const problem = !trimmed ? 'A class needs a name.'
    : state.classes.some((c) => c !== entry && c.name === trimmed) ? `There is already a class called "${trimmed}".` : '';
  if (problem || state.renameProblem) ui.dataError(problem);
  state.renameProblem = Boolean(problem);
  if (problem) return;
  entry.name = trimmed;
  ui.renameClassCard(entry.card, trimmed);
}

// The camera: frames become image files of a class, or are predicted twice a second.
const camera = { mode: null, entry: null, timer: null };

async function openWebcam(mode, entry = null) {
  const report = mode === 'class' ? ui.dataError : ui.tryError;
  report('');
  closeWebcam();
  ui.showWebcam(mode === 'class' ? `Capturing images for "${entry.name}"` : 'Predicting what the camera sees', mode);
  try {
    await openCamera(ui.webcamVideo());
  } catch (e) {
    ui.hideWebcam();
    report(errorText(e));
    return;
  }
  Object.assign(camera, { mode, entry });
  ui.webcamReady();
  if (mode === 'predict') predictFromCamera();
}

async function predictFromCamera() {
  if (camera.mode !== 'predict') return;
  try {
    const frame = await captureFrame(ui.webcamVideo());
    ui.showPrediction(await state.client.predictImageFile(frame, 3), state.trainedClasses);
  } catch (e) {
    ui.tryError(errorText(e));
    closeWebcam();
    return;
  }
  camera.timer = setTimeout(predictFromCamera, 500);
}

function closeWebcam() {
  clearTimeout(camera.timer);
  Object.assign(camera, { mode: null, entry: null, timer: null });
  closeCamera(ui.webcamVideo());
  ui.hideWebcam();
}

async function captureInto(count) {
  const entry = camera.entry;
  if (camera.mode !== 'class' || !state.classes.includes(entry)) return;
  const frames = [];
  for (let i = 0; i < count; i++) {
    frames.push(await captureFrame(ui.webcamVideo()));
    if (count > 1) await new Promise((r) => setTimeout(r, 150));
  }
  await addFiles(entry, frames);
}

ui.onWebcam({
  capture: () => captureInto(1).catch((e) => ui.dataError(errorText(e))),
  burst: () => captureInto(10).catch((e) => ui.dataError(errorText(e))),
  close: closeWebcam,
  predict: () => openWebcam('predict'),
});

function deleteClass(entry) {
  if (camera.entry === entry) closeWebcam();
  entry.urls.forEach((u) => URL.revokeObjectURL(u));
  state.classes = state.classes.filter((c) => c !== entry);
  ui.removeClassCard(entry.card);
  checkBalance();
}

async function addFiles(entry, files) {
  const skipped = [];
  for (const file of files) {
    try {
      // Decoding here only checks the file; the worker decodes it again for training.
      (await createImageBitmap(file)).close();
      entry.files.push(file);
      entry.urls.push(URL.createObjectURL(file));
    } catch {
      skipped.push(file.name);
    }
  }
  ui.setClassImages(entry.card, entry.urls);
  ui.dataError(skipped.length ? `Skipped ${skipped.join(', ')}: not an image this browser can read. The other images were added.` : '');
  checkBalance();
}

// Text projects: the sources in the order they were added; the worker's trainer is rebuilt
// from them whenever one changes (a new column choice), and again for every Train.
async function addTextSource(source) {
  if (source.kind === 'file') return state.client.addTextFile(source.file, source.options);
  return state.client.addTexts(source.lines, source.className);
}

async function showTextCounts() { ui.showTextCounts(await state.client.classCounts()); }

ui.onTextFile(async (file) => {
  ui.dataError('');
  try {
    const format = textFormat(file.name);
    const columns = await readColumns(file, format);
    const chosen = guessColumns(columns);
    const source = { kind: 'file', file, options: { format, text_column: chosen.text, label_column: chosen.label } };
    const report = await addTextSource(source);
    state.textSources.push(source);
    ui.setColumns(columns, chosen);
    ui.showSkippedRows(report.skipped);
    await showTextCounts();
  } catch (e) {
    ui.dataError(`${file.name}: ${errorText(e)} The texts loaded before are kept.`);
  }
});

// A new column choice re-reads the last file: the trainer is rebuilt from every source. Changes
// run one after another (each rebuild replaces the worker), each with the pickers' latest values.
let columnWork = Promise.resolve();
ui.onColumnsChange(() => { columnWork = columnWork.then(rereadColumns); });

async function rereadColumns() {
  const source = state.textSources.findLast((s) => s.kind === 'file');
  const { text, label } = ui.textColumns();
  if (!source || (source.options.text_column === text && source.options.label_column === label)) return;
  ui.dataError('');
  const previous = source.options;
  source.options = { ...previous, text_column: text, label_column: label };
  try {
    await createTrainer();
    let report = null;
    for (const s of state.textSources) {
      const r = await addTextSource(s);
      if (s === source) report = r;
    }
    ui.showSkippedRows(report.skipped);
  } catch (e) {
    ui.dataError(`${source.file.name} with text column "${text}" and label column "${label}": ${errorText(e)} The previous columns are kept.`);
    source.options = previous;
    try {
      await createTrainer();
      for (const s of state.textSources) await addTextSource(s);
    } catch (again) {
      ui.dataError(errorText(again));
    }
  }
  await showTextCounts();
}

ui.onPaste(async (className, text) => {
  ui.dataError('');
  const name = className.trim();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!name) { ui.dataError('Name the class these texts belong to.'); return; }
  if (!lines.length) { ui.dataError('Paste at least one text (one per line).'); return; }
  try {
    const source = { kind: 'lines', className: name, lines };
    await addTextSource(source);
    state.textSources.push(source);
    ui.clearPaste();
    await showTextCounts();
  } catch (e) {
    ui.dataError(errorText(e));
  }
});

function checkBalance() {
  const counts = state.classes.map((c) => c.files.length).filter((n) => n > 0);
  const [min, max] = [Math.min(...counts), Math.max(...counts)];
  ui.dataWarning(counts.length >= 2 && max > 3 * min
    ? `Classes are imbalanced (${min} to ${max} images); consider more images for the smaller classes.`
    : '');
}

ui.onPause(() => {
  state.paused = !state.paused;
  if (state.paused) state.client?.pause(); else state.client?.resume();
  ui.setPaused(state.paused);
  ui.setStatus(state.paused ? 'Paused.' : 'Training…');
});

ui.onStop(() => { state.stopped = true; state.client?.stop(); });

ui.onTrain(async () => {
  ui.trainError('');
  let settings;
  try {
    settings = readOptions(state.task);
  } catch (e) {
    ui.trainError(errorText(e));
    return;
  }
  ui.setTraining(true);
  state.paused = false;
  state.stopped = false;
  try {
    ui.setStatus('Preparing the examples…');
    await createTrainer(settings);
    state.exampleUrls = [];
    for (const source of state.task === 'text' ? state.textSources : []) await addTextSource(source);
    for (const c of state.task === 'images' ? state.classes : []) {
      await state.client.addClass(c.name);
      const result = await state.client.addImageFiles(c.files, c.name);
      if (result.skipped.length) ui.dataError(result.skipped.map((s) => `${s.name}: ${s.reason}`).join('; '));
      state.exampleUrls.push(...c.urls.filter((_, i) => !result.skipped.some((s) => s.name === c.files[i].name)));
    }
    ui.clearMetrics();
    ui.setStatus('Computing backbone features and training…');
    let last = null;
    state.history = [];
    for await (const report of state.client.train()) {
      last = report;
      state.history.push(report);
      ui.addEpoch(report, state.history);
      ui.setProgress((report.epoch + 1) / report.epochs);
      const eta = report.eta_seconds > 0 ? `, about ${Math.ceil(report.eta_seconds)} s left` : '';
      ui.setStatus(`Epoch ${report.epoch + 1} of ${report.epochs}: ${Math.round(report.examples_per_second)} examples/s${eta}`);
    }
    if (state.stopped) ui.setStatus(`Stopped after ${last ? last.epoch + 1 : 0} epoch(s); the model trained so far is kept.`);
    else ui.setStatus(last?.stopped ?? `Done: validation accuracy ${(100 * last.val_accuracy).toFixed(1)}%`);
    ui.setProgress(1);
    state.trainedClasses = await state.client.classes();
    ui.setCanPredict(true);
    const evaluation = await state.client.evaluate();
    state.evaluation = evaluation;
    ui.setCanDownloadMetrics(true);
    ui.showHardest(evaluation.hardest.slice(0, 5).map((x) => ({ ...x, url: state.exampleUrls[x.index] })), state.trainedClasses);
    ui.showEvaluation(evaluation, state.trainedClasses, (a, p) => {
      const hits = evaluation.hardest.filter((x) => x.label === a && x.predicted === p);
      const urls = hits.map((x) => state.exampleUrls[x.index]).filter(Boolean);
      ui.showCellExamples(`${hits.length} ${state.trainedClasses[a]} example(s) predicted as ${state.trainedClasses[p]}`, urls);
    });
  } catch (e) {
    ui.trainError(errorText(e));
    ui.setStatus('');
  } finally {
    ui.setTraining(false);
  }
});

ui.onTryFile(async (file) => {
  ui.tryError('');
  try {
    ui.showPrediction(await state.client.predictImageFile(file, 3), state.trainedClasses);
  } catch (e) {
    ui.tryError(errorText(e));
  }
});

ui.onPredictText(async (text) => {
  ui.tryError('');
  try {
    ui.showPrediction(await state.client.predictText(text, 3), state.trainedClasses);
  } catch (e) {
    ui.tryError(errorText(e));
  }
});

ui.onMetricsJson(() => {
  const json = JSON.stringify({ classes: state.trainedClasses, epochs: state.history, evaluation: state.evaluation }, null, 2);
  ui.download(new TextEncoder().encode(json), 'kindling-metrics.json', 'application/json');
});

ui.onMetricsCsv(() => {
  const columns = ['epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_macro_f1', 'learning_rate', 'examples_per_second'];
  const rows = state.history.map((r) => columns.map((c) => (c === 'epoch' ? r.epoch + 1 : r[c])).join(','));
  ui.download(new TextEncoder().encode([columns.join(','), ...rows].join('\n') + '\n'), 'kindling-metrics.csv', 'text/csv');
});

ui.onExport(async () => {
  ui.keepError('');
  try {
    const bytes = await state.client.exportModel();
    ui.download(bytes, `kindling-${state.backbone}.safetensors`);
    ui.keepStatus(`Model downloaded (${(bytes.length / 1e6).toFixed(1)} MB).`);
  } catch (e) {
    ui.keepError(errorText(e));
  }
});

ui.onImportFile(async (file) => {
  ui.keepError('');
  try {
    const info = await state.client.importModel(new Uint8Array(await file.arrayBuffer()));
    state.trainedClasses = info.classes;
    ui.setCanPredict(true);
    ui.keepStatus(`Imported a ${info.classes.length}-class model (${info.classes.join(', ')}).`);
  } catch (e) {
    ui.keepError(errorText(e));
  }
});
