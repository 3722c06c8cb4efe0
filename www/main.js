// Wiring: page events -> client calls -> page updates, for the project as a whole: start or
// open a project, train, evaluate, try, keep. Classes, texts and the camera have their own
// modules; saving.js keeps the open project saved in this browser.
import { ui } from './ui.js';
import { state, errorText, resumedFrom, createTrainer, TEXT_BACKBONES } from './page-state.js';
import { addClass, clearClasses, setupClassFolders } from './image-classes.js';
import { addTextSource, showTextCounts, showColumnsOfLastFile } from './text-project.js';
import { closeWebcam } from './camera-panel.js';
import { renderOptions, setOptionsTask, applyRecipe, readOptions, setOptionValues } from './options.js';
import { adaptRecipe, trainAuto } from './recipe-choice.js';
import * as store from './store.js';
import * as saving from './saving.js';
import { setupExperiments, baselineText } from './experiments.js';

const advanced = document.getElementById('advanced');
renderOptions(advanced);
applyRecipe(advanced, ui.recipe());
ui.onRecipe((name) => { applyRecipe(advanced, name); saving.saveSoon(); });
advanced.addEventListener('change', () => saving.saveSoon());
ui.onProjectName(() => saving.saveSoon());

// Pretrained weights: the person's file or URL, else the shipped defaults.
async function chooseWeights() {
  const own = ui.weightsFile();
  if (own) return new Uint8Array(await own.arrayBuffer());
  const url = ui.weightsUrl();
  if (url) return { url };
  return { url: state.task === 'text' ? 'weights/minilm/model.safetensors' : `weights/${state.backbone}.safetensors` };
}

function setTask(backbone) {
  state.backbone = backbone;
  state.task = TEXT_BACKBONES.has(backbone) ? 'text' : 'images';
  ui.setTask(state.task);
  setOptionsTask(advanced, state.task);
}

ui.onOpen(async () => {
  ui.modelError('');
  try {
    setTask(ui.backbone());
    state.weights = await chooseWeights();
    ui.setDeviceText('Opening the device and checking the weights…');
    await createTrainer();
    ui.setProjectOpen(true);
    experiments.setOpen(true);
    ui.setCanImport(true);
    if (!state.projectId) {
      state.projectId = saving.newProjectId();
      state.cache = null;
      if (state.weights instanceof Uint8Array) saving.saveWeights(state.weights);
    }
    if (state.task === 'images' && state.classes.length === 0) { addClass(); addClass(); }
    for (const source of state.task === 'text' ? state.textSources : []) await addTextSource(source);
    saving.saveSoon();
  } catch (e) {
    ui.modelError(errorText(e));
    ui.setDeviceText('Not started.');
  }
});

// CPU threads: the worker's pool is fixed once started, so a change restarts it with the project
// (client.setThreads); during training it applies from the next Train, which starts a new worker.
ui.setThreadsDefault(navigator.hardwareConcurrency || 1);
ui.onThreads(async () => {
  ui.modelError('');
  try {
    const threads = ui.threads();
    if (!state.client) return;
    ui.setDeviceText('Restarting the worker with the new thread count…');
    await state.client.setThreads(threads);
    ui.setDevice(await state.client.device());
  } catch (e) {
    ui.modelError(`${errorText(e)}${state.client ? ' (the setting applies from the next Train)' : ''}`);
    if (state.client) ui.setDevice(await state.client.device().catch(() => ({ kind: 'cpu', description: 'device unknown', reason: 'see above' })));
  }
});

ui.onAddClass(() => addClass());
setupClassFolders();

ui.onPause(() => {
  state.paused = !state.paused;
  if (state.paused) state.client?.pause(); else state.client?.unpause();
  ui.setPaused(state.paused);
  ui.setStatus(state.paused ? 'Paused.' : 'Training…');
});

ui.onStop(() => { state.stopped = true; state.client?.stop(); });

// The thumbnail of each example the last Train gave the trainer, in its order (the drill-downs'
// examples carry that index): class by class, each class's files as they were then, less those the
// worker skipped, known by position (two classes may hold files of the same name). A class deleted
// since keeps its places, without thumbnails. Each place is a [class's urls, position] pair, looked
// up when shown: a reopened project's thumbnails are replaced by small ones as they are made.
function exampleUrls(trained) {
  return trained.flatMap(({ id, count, skipped }) => {
    const urls = state.classes.find((c) => c.id === id)?.urls ?? [];
    const gone = new Set(skipped);
    return Array.from({ length: count }, (_, i) => [urls, i]).filter((_, i) => !gone.has(i));
  });
}

function exampleUrl(index) {
  const [urls, i] = state.exampleUrls[index] ?? [[], 0];
  return urls[i];
}

// At most this many texts are listed under a confusion-matrix cell (the title gives the count).
const CELL_TEXTS = 100;

// The texts of a text project's examples, by their evaluation entries (null for an image project,
// or when the trainer cannot say: the list then shows labels only).
async function exampleTexts(examples) {
  if (state.task !== 'text' || !state.client || examples.length === 0) return null;
  try {
    return await state.client.exampleTexts(examples.map((x) => x.index));
  } catch {
    return null;
  }
}

async function showEvaluation() {
  const evaluation = state.evaluation;
  if (!evaluation) return;
  ui.setCanDownloadMetrics(true);
  const hardest = evaluation.hardest.slice(0, 5);
  const texts = await exampleTexts(hardest);
  ui.showHardest(hardest.map((x, i) => ({ ...x, url: exampleUrl(x.index), text: texts?.[i] })), state.trainedClasses);
  ui.showEvaluation(evaluation, state.trainedClasses, async (a, p) => {
    const hits = evaluation.hardest.filter((x) => x.label === a && x.predicted === p);
    const [actual, predicted] = [state.trainedClasses[a], state.trainedClasses[p]];
    if (state.task === 'text') {
      const shown = hits.slice(0, CELL_TEXTS);
      const more = hits.length > shown.length ? ` (the first ${shown.length} listed)` : '';
      ui.showCellExamples(`${hits.length} ${actual} text(s) predicted as ${predicted}${more}`, { texts: (await exampleTexts(shown)) ?? [] });
    } else {
      ui.showCellExamples(`${hits.length} ${actual} example(s) predicted as ${predicted}`, { urls: hits.map((x) => exampleUrl(x.index)).filter(Boolean) });
    }
  });
}

// A fresh trainer with the page's examples (each Train and each comparison starts from them).
async function prepareTrainer(settings) {
  ui.setStatus('Preparing the examples…');
  await createTrainer(settings);
  for (const source of state.task === 'text' ? state.textSources : []) await addTextSource(source);
  const trained = [];
  for (const c of state.task === 'images' ? state.classes : []) {
    await state.client.addClass(c.name);
    const count = c.files.length;
    const result = await state.client.addImageFiles(c.files, c.name);
    if (result.skipped.length) ui.dataError(result.skipped.map((s) => `${s.name}: ${s.reason}`).join('; '));
    trained.push({ id: c.id, count, skipped: result.skipped.map((s) => s.index) });
  }
  state.trainedExamples = trained;
  state.exampleUrls = exampleUrls(trained);
}

// Shows a run's curves (epoch reports) and its evaluation as the Train and Evaluate sections'.
function showRun(history, evaluation) {
  ui.clearMetrics();
  state.history = history;
  history.forEach((r, i) => ui.addEpoch(r, history.slice(0, i + 1)));
  state.evaluation = evaluation;
  showEvaluation();
}

const experiments = setupExperiments({
  readSettings: () => readOptions(state.task),
  prepare: prepareTrainer,
  showRow: (row) => {
    showRun(row.history, row.evaluation);
    ui.setStatus(`Showing the comparison's run "${row.name}" (epoch ${row.kept_epoch == null ? 'none' : row.kept_epoch + 1} kept): validation accuracy ${(100 * row.accuracy).toFixed(1)}%.`);
  },
  useModel: async (row, bytes) => {
    await importModel(bytes);
    showRun(row.history, row.evaluation);
    ui.setStatus(`The model of "${row.name}" is the project's model: validation accuracy ${(100 * row.accuracy).toFixed(1)}%.`);
    saving.saveModel(bytes);
  },
  save: (sweep) => saving.saveSweep(sweep),
});

ui.onTrain(async () => {
  ui.trainError('');
  // Busy at once: the recipe's adaptation asks the worker first, and a second click (or a
  // prediction) must not start meanwhile.
  ui.setTraining(true);
  let settings;
  let notes = [];
  try {
    notes = await adaptRecipe(advanced, readOptions(state.task));
    settings = readOptions(state.task);
  } catch (e) {
    ui.trainError(errorText(e));
    ui.setTraining(false);
    return;
  }
  if (ui.recipe() === 'auto') {
    await trainAuto(experiments, settings);
    return;
  }
  ui.setTraining(true);
  state.paused = false;
  state.stopped = false;
  try {
    await prepareTrainer(settings);
    ui.clearMetrics();
    ui.setStatus('Computing backbone features and training…');
    let last = null;
    state.history = [];
    ui.setBaseline('');
    let baselines = null; // asked once the features are cached
    // The last run's feature cache (a Blob, read in the worker): taken when the images, backbone
    // and frozen part are the same.
    state.cacheReused = false;
    // On WebGPU each epoch is checkpointed, so that a lost GPU device costs no finished epoch.
    const checkpoints = state.device?.kind === 'webgpu';
    for await (const report of state.client.train({ checkpoints, cache: state.cache })) {
      // After a lost GPU device the run goes on from the last checkpoint: the epochs after it run
      // again, and their first reports give way.
      if (last && report.epoch <= last.epoch) {
        state.history = state.history.filter((r) => r.epoch < report.epoch);
        ui.dropEpochsFrom(report.epoch);
      }
      last = report;
      state.history.push(report);
      // The features are cached once the first epoch has run: the baseline costs one pass over them.
      baselines ??= state.client.baselines().then((b) => { ui.setBaseline(baselineText(b)); return b; }, () => null);
      ui.addEpoch(report, state.history);
      ui.setProgress((report.epoch + 1) / report.epochs);
      ui.setMemory(report.memory);
      const eta = report.eta_seconds > 0 ? `, about ${Math.ceil(report.eta_seconds)} s left` : '';
      ui.setStatus(`Epoch ${report.epoch + 1} of ${report.epochs}: ${Math.round(report.examples_per_second)} examples/s${eta}`);
    }
    ui.setProgress(1);
    state.trainedClasses = await state.client.classes();
    ui.setCanPredict(true);
    state.evaluation = await state.client.evaluate();
    // Every figure shown after training is the kept model's (the best epoch's where early
    // stopping watches, else the last completed one's), and says which epoch that is.
    const { epoch, report } = state.evaluation;
    const kept = `${epoch == null ? 'the weights before training' : `the weights of epoch ${epoch + 1}`}: validation accuracy ${(100 * report.accuracy).toFixed(1)}%`;
    const lost = state.client.deviceLost;
    if (lost) notes.push(`The GPU device was lost during the run; it went on on the CPU device from ${resumedFrom(lost.epoch)}.`);
    const reused = (state.cacheReused ? ' (backbone features reused from the last run)' : '') + notes.map((n) => ` ${n}`).join('');
    if (state.stopped) ui.setStatus(`Stopped after ${last ? last.epoch + 1 : 0} epoch(s); kept ${kept}.${reused}`);
    else if (last?.stopped) ui.setStatus(`${last.stopped} — ${kept}.${reused}`);
    else ui.setStatus(`Done: kept ${kept}.${reused}`);
    showEvaluation();
    ui.setBaseline(baselineText(await baselines, report.accuracy));
    saving.saveModel(await state.client.exportModel());
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
    const f16 = document.getElementById('export-f16').checked;
    const bytes = await state.client.exportModel({ precision: f16 ? 'f16' : 'f32' });
    ui.download(bytes, `kindling-${state.backbone}${f16 ? '-f16' : ''}.safetensors`);
    ui.keepStatus(`Model downloaded (${(bytes.length / 1e6).toFixed(1)} MB).`);
  } catch (e) {
    ui.keepError(errorText(e));
  }
});

async function importModel(bytes) {
  const info = await state.client.importModel(bytes);
  state.trainedClasses = info.classes;
  ui.setCanPredict(true);
  return info;
}

ui.onImportFile(async (file) => {
  ui.keepError('');
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const info = await importModel(bytes);
    saving.saveModel(bytes);
    ui.keepStatus(`Imported a ${info.classes.length}-class model (${info.classes.join(', ')}).`);
  } catch (e) {
    ui.keepError(errorText(e));
  }
});

// --- Saved projects: listed when the page opens; opening one brings back its examples,
// settings, curves and evaluation, and its trainer through the client's restore() (the saved
// text sources replayed, the model imported: ready to predict, no retraining).
async function listSaved() {
  let list = [];
  let problem = '';
  try {
    list = await store.listProjects();
  } catch (e) {
    list = e.projects ?? []; // some projects of an older version could not be converted: the rest are listed
    problem = errorText(e);
  }
  ui.showSavedProjects(list, { onOpen: openSaved, onDelete: deleteSaved });
  ui.savedError(problem);
}

async function deleteSaved(meta) {
  ui.savedError('');
  try {
    await store.deleteProject(meta.id);
    if (state.projectId === meta.id) state.projectId = null;
  } catch (e) {
    ui.savedError(errorText(e));
  }
  await listSaved();
}

async function openSaved(meta) {
  ui.savedError('');
  ui.modelError('');
  try {
    const saved = await store.loadProject(meta.id);
    if (!saved?.meta) throw new Error(`"${meta.name}" is no longer saved in this browser.`);
    closeWebcam();
    state.projectId = null; // nothing is re-saved while the project is rebuilt
    clearClasses();
    Object.assign(state, { textSources: [], history: [], evaluation: null, trainedClasses: [], exampleUrls: [], trainedExamples: [], cache: saved.cache ?? null });
    ui.clearMetrics();
    ui.setBackbone(saved.meta.backbone);
    setTask(saved.meta.backbone);
    state.weights = saved.weights ?? { url: state.task === 'text' ? 'weights/minilm/model.safetensors' : `weights/${state.backbone}.safetensors` };
    ui.setProjectName(saved.meta.name);
    ui.setRecipe(saved.meta.recipe);
    setOptionValues(advanced, saved.meta.options ?? {});
    ui.setDeviceText('Opening the device and checking the weights…');
    await createTrainer();
    ui.setProjectOpen(true);
    ui.setCanImport(true);
    state.nextClass = saved.meta.nextClass;
    state.nextText = Math.max(saved.meta.nextText ?? 0, saved.journal.length);
    for (const c of saved.meta.classes) addClass({ id: c.id, name: c.name, files: saved.images.get(c.id) ?? [] });
    // The journal holds the text sources; restore() adds them to the trainer, then imports the model.
    const restored = await state.client.restore(saved);
    state.textSources = saved.journal.map(saving.textSource);
    if (state.task === 'text') { await showTextCounts(); await showColumnsOfLastFile(); }
    state.history = saved.meta.history ?? [];
    state.history.forEach((r, i) => ui.addEpoch(r, state.history.slice(0, i + 1)));
    if (restored?.model) {
      state.trainedClasses = restored.model.classes;
      ui.setCanPredict(true);
    }
    state.trainedClasses = saved.meta.trainedClasses?.length ? saved.meta.trainedClasses : state.trainedClasses;
    state.evaluation = saved.meta.evaluation ?? null;
    // Projects saved before trainedExamples was kept: every class's files, none skipped.
    state.trainedExamples = saved.meta.trainedExamples ?? state.classes.map((c) => ({ id: c.id, count: c.files.length, skipped: [] }));
    state.exampleUrls = exampleUrls(state.trainedExamples);
    showEvaluation();
    experiments.show(saved.sweep ? { board: saved.sweep, models: saved.sweepModels } : null);
    experiments.setOpen(true);
    state.projectId = meta.id;
    ui.saveStatus(`Opened "${saved.meta.name}"${saved.model ? ' with its trained model' : ''}.`);
  } catch (e) {
    ui.savedError(`Could not open the project: ${errorText(e)}`);
  }
}

listSaved();
