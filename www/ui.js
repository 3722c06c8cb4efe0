// DOM only: getters for what the person chose, setters for what the page shows.
const $ = (id) => document.getElementById(id);

export const ui = {
  onTrain(handler) { $('train').addEventListener('click', handler); },
  onPause(handler) { $('pause').addEventListener('click', handler); },
  onStop(handler) { $('stop').addEventListener('click', handler); },
  setPaused(paused) {
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(paused));
  },
  devicePreference() { return $('device-choice').value; },
  epochs() {
    const n = Number($('epochs').value);
    if (!Number.isInteger(n) || n < 1 || n > 200) {
      throw new Error('Epochs must be a whole number from 1 to 200.');
    }
    return n;
  },
  setBusy(busy) {
    $('train').disabled = busy;
    $('pause').disabled = !busy;
    $('stop').disabled = !busy;
    if (!busy) this.setPaused(false);
  },
  setDevice(info) { $('device').textContent = `${info.kind === 'webgpu' ? 'WebGPU' : 'CPU'}: ${info.description} — ${info.reason}`; },
  setStatus(text) { $('status').textContent = text; },
  showError(message) { const e = $('error'); e.textContent = message; e.hidden = !message; },
  clearMetrics() { $('metrics').querySelector('tbody').replaceChildren(); $('metrics').hidden = true; },
  addEpoch(r) {
    const row = document.createElement('tr');
    const cells = [r.epoch + 1, r.train_loss.toFixed(4), pct(r.train_accuracy), r.val_loss.toFixed(4),
      pct(r.val_accuracy), r.val_macro_f1.toFixed(3), Math.round(r.examples_per_second)];
    for (const value of cells) {
      const td = document.createElement('td');
      td.textContent = String(value);
      row.append(td);
    }
    row.dataset.epoch = String(r.epoch + 1);
    $('metrics').querySelector('tbody').append(row);
    $('metrics').hidden = false;
  },
};

const pct = (x) => `${(100 * x).toFixed(1)}%`;
