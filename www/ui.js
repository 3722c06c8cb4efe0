// DOM only: getters for what the person chose, setters for what the page shows. No training
// logic here; main.js wires these to the client.
import { drawLineChart, overfittingFrom } from './charts.js';
import { evaluationView } from './evaluation-view.js';
import { paintClass, swatch } from './class-colours.js';

const $ = (id) => document.getElementById(id);

function showMessage(id, message) {
  const el = $(id);
  el.textContent = message ?? '';
  el.hidden = !message;
}

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = String(text);
  return el;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

// Thumbnails are virtualised: a class of thousands of images keeps only the visible rows (plus
// one above and below) in the DOM; the spacer gives the scroll height of all of them.
const THUMB = 42; // px per cell (40 px image + 2 px gap)

function renderThumbs(thumbs) {
  const urls = thumbs.urls ?? [];
  const columns = Math.max(1, Math.floor((thumbs.clientWidth || 240) / THUMB));
  const rows = Math.ceil(urls.length / columns);
  const spacer = thumbs.firstChild;
  spacer.style.height = `${rows * THUMB}px`;
  const first = Math.max(0, Math.floor(thumbs.scrollTop / THUMB) - 1);
  const last = Math.min(rows, Math.ceil((thumbs.scrollTop + (thumbs.clientHeight || 3 * THUMB)) / THUMB) + 1);
  const images = [];
  for (let i = first * columns; i < Math.min(urls.length, last * columns); i++) {
    const img = document.createElement('img');
    img.src = urls[i];
    img.alt = '';
    img.dataset.index = String(i);
    img.style.left = `${(i % columns) * THUMB}px`;
    img.style.top = `${Math.floor(i / columns) * THUMB}px`;
    images.push(img);
  }
  spacer.replaceChildren(...images);
}

// Each class card in its class's colour: the cards' order is the classes' order in training.
function paintCards() {
  [...$('classes').children].forEach((card, i) => paintClass(card, i));
}

export const ui = {
  // --- 1. Model
  onOpen(handler) { $('open').addEventListener('click', handler); },
  backbone() { return $('backbone').value; },
  weightsFile() { return $('weights-file').files[0] ?? null; },
  weightsUrl() { return $('weights-url').value.trim(); },
  setBackbone(value) { $('backbone').value = value; },
  devicePreference() { return $('device-choice').value; },
  setDevice(info) {
    // The CPU description names its threads ("CPU, 4 threads (wasm SIMD)"); one thread for a
    // reason other than being asked (no cross-origin isolation, say) is said too.
    const what = info.kind === 'webgpu' ? `WebGPU: ${info.description}` : info.description;
    const why = info.threads === 1 && info.threadsReason && !/as asked/.test(info.threadsReason)
      ? ` (${info.threadsReason})` : '';
    $('device').textContent = `${what} — ${info.reason}${why}`;
  },
  /** The CPU thread count asked for: a whole number 1–64, or null (one per core) when empty. */
  threads() {
    const text = $('threads-choice').value.trim();
    if (!text) return null;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      throw new Error(`CPU threads must be a whole number from 1 to 64 (or empty for one per core), not "${text}"`);
    }
    return n;
  },
  setThreadsDefault(n) { $('threads-choice').placeholder = String(n); },
  onThreads(handler) { $('threads-choice').addEventListener('change', handler); },
  setDeviceText(text) { $('device').textContent = text; },
  modelError(message) { showMessage('model-error', message); },
  setProjectOpen(open) {
    $('add-class').disabled = !open;
    $('text-file').disabled = !open;
    $('paste-add').disabled = !open;
    $('train').disabled = !open;
    $('folder-picker').disabled = !open;
    $('zip-file').disabled = !open;
  },
  /** Shows the image or the text parts of the page. */
  setTask(task) {
    for (const id of ['image-data', 'try-image']) $(id).hidden = task !== 'images';
    for (const id of ['text-data', 'try-text']) $(id).hidden = task !== 'text';
    $('data-hint').textContent = task === 'text'
      ? 'Load a file of labelled texts (CSV, TSV or JSONL: one text and its class per row) or paste the texts of each class.'
      : 'Add a class per kind of thing to recognise and give each class images: drop them on the class, pick files or use the camera.';
  },
  onTextFile(handler) {
    $('text-file').addEventListener('change', () => { const f = $('text-file').files[0]; if (f) handler(f); $('text-file').value = ''; });
  },
  /** Offers `columns` in both pickers, preselecting `chosen = { text, label }`. */
  setColumns(columns, chosen) {
    for (const [id, value] of [['text-column', chosen.text], ['label-column', chosen.label]]) {
      $(id).replaceChildren(...columns.map((c) => new Option(c, c, c === value, c === value)));
    }
    $('column-picker').hidden = columns.length === 0;
  },
  textColumns() { return { text: $('text-column').value, label: $('label-column').value }; },
  onColumnsChange(handler) {
    for (const id of ['text-column', 'label-column']) $(id).addEventListener('change', () => handler(this.textColumns()));
  },
  onPaste(handler) {
    $('paste-add').addEventListener('click', () => handler($('paste-class').value, $('paste-lines').value));
  },
  clearPaste() { $('paste-lines').value = ''; },
  /** Examples per class `[{name, count}]`. */
  showTextCounts(counts) {
    $('text-counts').replaceChildren(...counts.map(({ name, count }) => cell('li', `${name}: ${count} text${count === 1 ? '' : 's'}`)));
    $('text-empty').hidden = counts.some((c) => c.count > 0);
  },
  /** The rows of the last file that were skipped, with reasons. */
  showSkippedRows(skipped) {
    const box = $('skipped-rows');
    box.hidden = skipped.length === 0;
    box.querySelector('summary').textContent = `Skipped rows (${skipped.length})`;
    box.querySelector('ul').replaceChildren(...skipped.map((r) => cell('li', `line ${r.line}: ${r.reason}`)));
  },
  onPredictText(handler) { $('try-text-button').addEventListener('click', () => handler($('try-text-input').value)); },

  // --- 2. Examples
  onAddClass(handler) { $('add-class').addEventListener('click', handler); },
  /**
   * Folders of classes: `onPicker(files)` (the directory picker), `onZip(file)`, and `onDrop(dataTransfer)`
   * for a drop on the folder zone (a drop on a class card with folders in it comes there too).
   */
  onClassFolders({ onPicker, onZip, onDrop }) {
    const picker = $('folder-picker');
    picker.addEventListener('change', () => { if (picker.files.length) onPicker([...picker.files]); picker.value = ''; });
    const zip = $('zip-file');
    zip.addEventListener('change', () => { const f = zip.files[0]; if (f) onZip(f); zip.value = ''; });
    const zone = $('folder-drop');
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('dragover'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragover'));
    zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('dragover'); onDrop(e.dataTransfer); });
  },
  folderStatus(text) { $('folder-status').textContent = text; },
  /** Adds a class card; `handlers.onFiles(files)`, `onDrop(dataTransfer)`, `onRename(name)`, `onDelete()`, `onCamera()`. */
  addClassCard(name, handlers) {
    const card = document.createElement('div');
    card.className = 'class';
    card.dataset.className = name;
    const label = document.createElement('input');
    label.type = 'text';
    label.value = name;
    label.setAttribute('aria-label', 'Class name');
    label.addEventListener('change', () => handlers.onRename(label.value));
    const files = document.createElement('input');
    files.type = 'file';
    files.multiple = true;
    files.accept = 'image/*';
    files.setAttribute('aria-label', `Add images to ${name}`);
    files.addEventListener('change', () => { handlers.onFiles([...files.files]); files.value = ''; });
    const count = cell('p', '0 images — drop images here, pick files or use the camera');
    count.className = 'count';
    const thumbs = document.createElement('div');
    thumbs.className = 'thumbs';
    // A scrolling list of thumbnails is reachable from the keyboard (to scroll it).
    thumbs.tabIndex = 0;
    thumbs.setAttribute('role', 'group');
    thumbs.setAttribute('aria-label', `Images of ${name}`);
    const camera = cell('button', 'Camera');
    camera.type = 'button';
    camera.className = 'camera';
    camera.setAttribute('aria-label', `Capture images for ${name} with the camera`);
    camera.addEventListener('click', () => handlers.onCamera());
    const remove = cell('button', 'Delete class');
    remove.type = 'button';
    remove.addEventListener('click', () => handlers.onDelete());
    card.addEventListener('dragover', (e) => { e.preventDefault(); card.classList.add('dragover'); });
    card.addEventListener('dragleave', () => card.classList.remove('dragover'));
    card.addEventListener('drop', (e) => {
      e.preventDefault();
      card.classList.remove('dragover');
      handlers.onDrop(e.dataTransfer);
    });
    card.append(label, files, count, thumbs, camera, remove);
    $('classes').append(card);
    $('empty-classes').hidden = true;
    paintCards();
    return card;
  },
  renameClassCard(card, name) {
    card.dataset.className = name;
    card.querySelector('.thumbs').setAttribute('aria-label', `Images of ${name}`);
    card.querySelector('input[type=file]').setAttribute('aria-label', `Add images to ${name}`);
    card.querySelector('button.camera').setAttribute('aria-label', `Capture images for ${name} with the camera`);
  },
  removeClassCard(card) {
    card.remove();
    paintCards();
    $('empty-classes').hidden = $('classes').children.length > 0;
  },
  /** Shows the class's count and its thumbnails (only those scrolled into view exist). */
  setClassImages(card, urls) {
    card.querySelector('.count').textContent = urls.length
      ? `${urls.length} image${urls.length === 1 ? '' : 's'}` : '0 images — drop images here, pick files or use the camera';
    const thumbs = card.querySelector('.thumbs');
    thumbs.urls = urls;
    if (!thumbs.virtual) {
      thumbs.virtual = true;
      thumbs.append(document.createElement('div'));
      thumbs.addEventListener('scroll', () => renderThumbs(thumbs), { passive: true });
      new ResizeObserver(() => renderThumbs(thumbs)).observe(thumbs);
    }
    renderThumbs(thumbs);
  },
  // --- The camera panel: under the classes when capturing, under "Try it" when predicting.
  webcamVideo() { return $('webcam-video'); },
  showWebcam(title, mode) {
    const panel = $('webcam-panel');
    (mode === 'class' ? $('image-data') : $('try-image')).after(panel);
    $('webcam-title').textContent = title;
    for (const id of ['webcam-capture', 'webcam-burst']) { $(id).hidden = mode !== 'class'; $(id).disabled = true; }
    panel.hidden = false;
  },
  /** The camera runs: capturing can start. */
  webcamReady() { for (const id of ['webcam-capture', 'webcam-burst']) $(id).disabled = false; },
  hideWebcam() { $('webcam-panel').hidden = true; },
  onWebcam({ capture, burst, close, predict }) {
    $('webcam-capture').addEventListener('click', capture);
    $('webcam-burst').addEventListener('click', burst);
    $('webcam-close').addEventListener('click', close);
    $('try-webcam').addEventListener('click', predict);
  },
  dataWarning(message) { showMessage('data-warning', message); },
  dataError(message) { showMessage('data-error', message); },

  // --- 3. Train
  recipe() { return document.querySelector('input[name=recipe]:checked').value; },
  setRecipe(name) { const r = document.querySelector(`input[name=recipe][value=${name}]`); if (r) r.checked = true; },
  onRecipe(handler) {
    for (const r of document.querySelectorAll('input[name=recipe]')) r.addEventListener('change', () => handler(r.value));
  },
  onTrain(handler) { $('train').addEventListener('click', handler); },
  onPause(handler) { $('pause').addEventListener('click', handler); },
  onStop(handler) { $('stop').addEventListener('click', handler); },
  setPaused(paused) {
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(paused));
  },
  setTraining(busy) {
    $('train').disabled = busy;
    $('open').disabled = busy;
    $('pause').disabled = !busy;
    $('stop').disabled = !busy;
    if (!busy) this.setPaused(false);
  },
  setProgress(fraction) { $('progress').value = fraction; },
  setStatus(text) { $('status').textContent = text; },
  /** kindling's memory in use, as the worker measures it: `{ wasmBytes, jsHeapBytes }`. */
  setMemory(memory) {
    if (!memory) return;
    const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
    const heap = memory.jsHeapBytes != null ? ` + ${mb(memory.jsHeapBytes)} JS heap` : '';
    const peak = memory.estimatedPeakBytes != null ? `; this run's estimated peak: ${mb(memory.estimatedPeakBytes)}` : '';
    $('memory').textContent = `Memory in use: ${mb(memory.wasmBytes)} (kindling's wasm memory${heap})${peak}`;
    $('memory').dataset.wasmBytes = String(memory.wasmBytes);
  },
  trainError(message) { showMessage('train-error', message); },
  setBaseline(text) { showMessage('baseline', text); },
  clearMetrics() {
    $('metrics').querySelector('tbody').replaceChildren();
    $('curves').hidden = true;
    showMessage('overfitting', '');
  },
  /** Adds epoch `r` to the table and redraws the curves from `history` (every epoch so far). */
  addEpoch(r, history) {
    const row = document.createElement('tr');
    row.dataset.epoch = String(r.epoch + 1);
    for (const value of [r.epoch + 1, r.train_loss.toFixed(4), pct(r.train_accuracy), r.val_loss.toFixed(4),
      pct(r.val_accuracy), r.val_macro_f1.toFixed(3), r.learning_rate.toPrecision(3), Math.round(r.examples_per_second)]) {
      row.append(cell('td', value));
    }
    $('metrics').querySelector('tbody').append(row);
    $('curves').hidden = false;
    this.drawCurves(history);
  },
  /** Removes the table's rows of epoch `epoch` (0-based) and later ones. */
  dropEpochsFrom(epoch) {
    for (const row of $('metrics').querySelectorAll('tbody tr')) {
      if (Number(row.dataset.epoch) > epoch) row.remove();
    }
  },
  drawCurves(history) {
    const from = overfittingFrom(history);
    const band = from === null ? null : { from, label: 'overfitting' };
    drawLineChart($('loss-chart'), { title: 'Loss per epoch', band, yMin: 0, series: [
      { name: 'training', className: 'train', values: history.map((r) => r.train_loss) },
      { name: 'validation', className: 'val', values: history.map((r) => r.val_loss) }] });
    drawLineChart($('accuracy-chart'), { title: 'Accuracy per epoch', band, yMin: 0, yMax: 1, series: [
      { name: 'training', className: 'train', values: history.map((r) => r.train_accuracy) },
      { name: 'validation', className: 'val', values: history.map((r) => r.val_accuracy) }] });
    drawLineChart($('lr-chart'), { title: 'Learning rate per epoch', yMin: 0, series: [
      { name: 'head', className: 'lr', values: history.map((r) => r.learning_rate) }] });
    showMessage('overfitting', from === null ? '' : `Overfitting since epoch ${from + 1}: validation loss rises while training loss falls. `
      + 'More examples, augmentation, dropout or fewer epochs help; early stopping keeps the best epoch.');
  },

  // --- 4. Evaluate (the tables and drill-downs: evaluation-view.js)
  ...evaluationView,
  onMetricsJson(handler) { $('metrics-json').addEventListener('click', handler); },
  onMetricsCsv(handler) { $('metrics-csv').addEventListener('click', handler); },
  setCanDownloadMetrics(can) { $('metrics-json').disabled = !can; $('metrics-csv').disabled = !can; },
  // --- 5. Try it
  onTryFile(handler) { $('try-file').addEventListener('change', () => { const f = $('try-file').files[0]; if (f) handler(f); }); },
  setCanPredict(can) {
    $('try-file').disabled = !can;
    $('try-webcam').disabled = !can;
    $('try-text-button').disabled = !can;
    $('export').disabled = !can;
  },
  showPrediction(prediction, classes) {
    $('prediction').replaceChildren(...prediction.classes.map((c, i) => {
      const li = cell('li', `${classes[c]} ${pct(prediction.probabilities[i])}`);
      li.prepend(swatch(c));
      const bar = document.createElement('span');
      bar.className = 'bar';
      paintClass(bar, c);
      bar.style.width = `${Math.round(200 * prediction.probabilities[i])}px`;
      li.append(bar);
      return li;
    }));
  },
  tryError(message) { showMessage('try-error', message); },

  // --- 6. Keep it
  projectName() { return $('project-name').value.trim() || 'Untitled project'; },
  setProjectName(name) { $('project-name').value = name; },
  onProjectName(handler) { $('project-name').addEventListener('change', handler); },
  saveStatus(text, isError = false) {
    $('save-status').textContent = text;
    $('save-status').className = isError ? 'error' : 'hint';
  },
  /** Lists saved projects (most recent first) with Open and Delete buttons. */
  showSavedProjects(list, { onOpen, onDelete }) {
    $('saved').hidden = list.length === 0;
    $('saved-projects').replaceChildren(...list.map((meta) => {
      const li = document.createElement('li');
      const what = meta.task === 'text' ? `${meta.texts} text source${meta.texts === 1 ? '' : 's'}`
        : `${meta.classes.length} classes, ${meta.classes.reduce((n, c) => n + c.count, 0)} images`;
      const open = cell('button', 'Open');
      open.type = 'button';
      open.setAttribute('aria-label', `Open ${meta.name}`);
      open.addEventListener('click', () => onOpen(meta));
      const remove = cell('button', 'Delete');
      remove.type = 'button';
      remove.setAttribute('aria-label', `Delete ${meta.name}`);
      remove.addEventListener('click', () => onDelete(meta));
      li.append(cell('strong', meta.name), ` — ${what}${meta.history?.length ? ', trained' : ''}, saved ${new Date(meta.savedAt).toLocaleString()} `, open, ' ', remove);
      return li;
    }));
  },
  savedError(message) {
    showMessage('saved-error', message);
    if (message) $('saved').hidden = false; // the section may have nothing listed
  },
  onExport(handler) { $('export').addEventListener('click', handler); },
  onImportFile(handler) { $('import-file').addEventListener('change', () => { const f = $('import-file').files[0]; if (f) handler(f); }); },
  setCanImport(can) { $('import-file').disabled = !can; },
  keepStatus(text) { $('keep-status').textContent = text; },
  keepError(message) { showMessage('keep-error', message); },
  download(bytes, name, type = 'application/octet-stream') {
    const url = URL.createObjectURL(new Blob([bytes], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};
