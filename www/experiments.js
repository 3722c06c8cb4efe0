// "Compare settings": a sweep over the page's examples (the three recipes, three learning rates
// around the chosen one, or k-fold cross-validation), its live leaderboard against the
// no-training baseline, and each row's actions (show its curves and evaluation, make it the
// project's model, download it). The leaderboard and the rows' models are kept in the page's
// state and saved with the project, so they survive a reload.
import { state, errorText } from './page-state.js';
import { ui } from './ui.js';
import { imageProfile } from './image-classes.js';

const $ = (id) => document.getElementById(id);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (s) => `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;

function showMessage(id, message) {
  $(id).textContent = message ?? '';
  $(id).hidden = !message;
}

/** "Baseline without training: …" for `{ nearest_centroid, knn, k }`, and the gain of `accuracy` over it. */
export function baselineText(baselines, accuracy = null) {
  if (!baselines) return '';
  const best = Math.max(baselines.nearest_centroid, baselines.knn);
  const gain = accuracy == null ? '' : `; this model: ${signedPoints(100 * (accuracy - best))} over it`;
  return `Baseline without training: nearest class centre ${pct(baselines.nearest_centroid)}, ${baselines.k} nearest neighbours ${pct(baselines.knn)}${gain}.`;
}

function signedPoints(points) {
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} points`;
}

// Whether the run of `config` and `augment` is the convex fit (TrainConfig::not_convex), which
// has no learning rate: its regularisation is what a comparison varies instead.
function solvesConvex(config, augment) {
  const augments = Boolean(augment?.horizontal_flip || augment?.random_resized_crop || augment?.color_jitter > 0);
  return (config.head_fit ?? 'auto') !== 'epochs' && (config.strategy?.kind ?? 'feature_extraction') === 'feature_extraction'
    && !(config.head?.hidden?.length) && !(config.head?.dropout > 0) && config.balance !== 'sampling' && !augments;
}

// The sweep for the chosen kind, on the settings of the Train section (`config`, `augment`).
function specFor(kind, config, augment) {
  if (kind === 'recipes') return { recipes: ['quick', 'balanced', 'thorough'] };
  if (kind === 'learning-rates' && solvesConvex(config, augment)) {
    const c = config.convex_c ?? 1;
    return { grid: { convex_c: [c / 10, c, c * 10].map((x) => Number(x.toPrecision(3))) } };
  }
  if (kind === 'learning-rates') {
    const lr = config.learning_rate ?? 1e-3;
    return { grid: { learning_rate: [lr / 3, lr, lr * 3].map((x) => Number(x.toPrecision(3))) } };
  }
  if (kind === 'custom') {
    try {
      return JSON.parse($('sweep-spec').value);
    } catch (e) {
      throw new Error(`The settings to compare are not valid JSON (${e.message}); for example {"grid": {"learning_rate": [0.001, 0.003]}}.`);
    }
  }
  const k = Number($('sweep-folds').value);
  if (!Number.isInteger(k) || k < 2 || k > 10) throw new Error(`Folds must be a whole number from 2 to 10, not "${$('sweep-folds').value}".`);
  return { folds: { k, train_final: $('sweep-final').checked } };
}

function button(text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function td(text) {
  const cell = document.createElement('td');
  cell.textContent = String(text);
  return cell;
}

/** Draws `board` (rows ranked; the final model of a k-fold sweep, trained on every example, last). */
function render(board, actions) {
  const body = $('leaderboard').querySelector('tbody');
  const ranked = new Set(board.ranking);
  const order = [...board.ranking, ...board.rows.map((_, i) => i).filter((i) => !ranked.has(i))];
  body.replaceChildren(...order.map((i) => {
    const row = board.rows[i];
    const tr = document.createElement('tr');
    tr.dataset.entry = String(row.entry);
    const rank = ranked.has(i) ? board.ranking.indexOf(i) + 1 : '—';
    const onTraining = row.split.kind === 'all' ? ' (on training examples)' : '';
    // On WebGPU the run's tensors are GPU buffers, which the browser does not report: the estimate.
    const memory = row.device_kind === 'webgpu'
      ? `${mb(row.wasm_bytes)} wasm + ${mb(row.estimated_peak_bytes)} GPU est.`
      : row.wasm_bytes ? `${mb(row.wasm_bytes)} wasm` : `${mb(row.estimated_peak_bytes)} est.`;
    // How the recipe's augmentation adapted to the images (no flips for greyscale ones), if it did.
    const name = td(row.notes?.length ? `${row.name} (${row.notes.join('; ')})` : row.name);
    tr.append(td(rank), name, td(pct(row.accuracy) + onTraining), td(row.macro_f1.toFixed(3)),
      td(row.gain_points == null ? '—' : signedPoints(row.gain_points)),
      td(row.kept_epoch == null ? 'none' : `${row.kept_epoch + 1} of ${row.epochs_run}`),
      td(`${seconds(row.seconds)} (${row.step_ms.toFixed(0)} ms/step)`), td(memory),
      td(`${row.inference_ms.toFixed(1)} ms; ${row.inference_ms_batched.toFixed(1)} ms each in ${row.latency_batch}`),
      td(mb(row.model_bytes)));
    const cell = document.createElement('td');
    cell.append(
      button('Show', `Show the curves and evaluation of ${row.name}`, () => actions.show(row)),
      button('Use', `Use ${row.name} as the project's model`, () => actions.use(row)),
      button('Download', `Download the model of ${row.name}`, () => actions.download(row)));
    tr.append(cell);
    return tr;
  }));
  $('leaderboard').hidden = board.rows.length === 0;
  $('sweep-baseline').textContent = baselineText(board.baselines);
  const cv = board.crossValidation;
  $('cv-summary').textContent = cv
    ? `${cv.folds.length}-fold cross-validation: accuracy ${pct(cv.accuracy_mean)} ± ${(100 * cv.accuracy_std).toFixed(1)}, macro-F1 ${cv.macro_f1_mean.toFixed(3)} ± ${cv.macro_f1_std.toFixed(3)}`
    : '';
}

/**
 * Wires the panel. `prepare(settings)` builds a fresh trainer with the page's examples (as Train
 * does) and returns the settings read; `showRow(row)` shows a row's curves and evaluation;
 * `useModel(row, bytes)` makes it the project's model; `save(board, models)` keeps the sweep.
 */
export function setupExperiments({ readSettings, prepare, showRow, useModel, save }) {
  const actions = {
    show: (row) => showRow(row),
    use: async (row) => {
      showMessage('sweep-error', '');
      try {
        await useModel(row, modelOf(row));
        $('sweep-status').textContent = `${row.name} is now the project's model.`;
      } catch (e) {
        showMessage('sweep-error', errorText(e));
      }
    },
    download: (row) => {
      showMessage('sweep-error', '');
      try {
        ui.download(modelOf(row), `kindling-${row.name.replace(/[^\w.-]+/g, '-')}.safetensors`);
      } catch (e) {
        showMessage('sweep-error', errorText(e));
      }
    },
  };
  const modelOf = (row) => {
    const bytes = state.sweep?.models.get(row.entry);
    if (!bytes) throw new Error(`The model of ${row.name} is not kept: run the comparison again.`);
    return bytes;
  };

  $('sweep-kind').addEventListener('change', () => {
    $('sweep-fold-options').hidden = $('sweep-kind').value !== 'folds';
    $('sweep-custom').hidden = $('sweep-kind').value !== 'custom';
  });
  $('sweep-stop').addEventListener('click', () => { state.stopped = true; state.client?.stop(); });
  // Runs the sweep `spec` on the settings read (`settings`); resolves to its leaderboard, or
  // null when it failed (the error is shown).
  async function runSweep(spec, settings) {
    setBusy(true);
    try {
      $('sweep-status').textContent = 'Preparing the examples…';
      await prepare(settings);
      ui.setStatus('');
      state.sweep = { board: null, models: new Map() };
      let planned = 0;
      let done = 0;
      const board = await state.client.sweep(spec, {
        profile: state.task === 'images' ? imageProfile() : undefined,
        onProgress: (message) => {
          if (message.kind === 'planned') planned = message.entries.length;
          if (message.kind === 'baselines') $('sweep-baseline').textContent = baselineText(message.baselines);
          if (message.kind === 'start') $('sweep-status').textContent = `Run ${done + 1} of ${planned}: ${message.name}…`;
          if (message.kind === 'epoch') {
            const r = message.report;
            $('sweep-status').textContent = `Run ${done + 1} of ${planned}: epoch ${r.epoch + 1} of ${r.epochs}, validation accuracy ${pct(r.val_accuracy)}`;
            ui.setProgress((done + (r.epoch + 1) / r.epochs) / Math.max(1, planned));
          }
          if (message.kind === 'row') {
            done += 1;
            state.sweep.models.set(message.row.entry, message.model);
            state.sweep.board = state.client.sweepResults();
            render(state.sweep.board, actions);
          }
        },
      });
      state.sweep.board = board;
      render(board, actions);
      $('sweep-status').textContent = board.stopped
        ? `Stopped: ${board.rows.length} of ${board.planned} runs finished.`
        : `Done: ${board.rows.length} runs. Use a row to make it the project's model.`;
      save(state.sweep);
      return board;
    } catch (e) {
      showMessage('sweep-error', errorText(e));
      $('sweep-status').textContent = '';
      if (state.sweep?.board) save(state.sweep);
      return null;
    } finally {
      setBusy(false);
    }
  }

  $('sweep-run').addEventListener('click', async () => {
    showMessage('sweep-error', '');
    let spec;
    let settings;
    try {
      settings = readSettings();
      spec = specFor($('sweep-kind').value, settings.config ?? {}, settings.augment);
    } catch (e) {
      showMessage('sweep-error', errorText(e));
      return;
    }
    await runSweep(spec, settings);
  });

  return {
    /**
     * The Auto recipe: compares the recipes that suit the examples (the wasm plans them from the
     * examples per class) on one split, and makes the best by validation accuracy the project's
     * model. Resolves to `{ row, why, others }` (`row` null when nothing finished).
     */
    async runAuto(settings) {
      showMessage('sweep-error', '');
      const board = await runSweep({ auto: {} }, settings);
      // Still busy while the best row becomes the project's model (the caller ends it).
      ui.setTraining(true);
      const best = board?.rows[board.ranking[0]];
      if (!best) return { row: null, why: board?.auto?.why ?? '', others: [] };
      await useModel(best, modelOf(best));
      const others = board.ranking.slice(1).map((i) => board.rows[i]);
      return { row: best, why: board.auto?.why ?? '', others };
    },
    /** Shows a saved sweep (`{ board, models }`), or clears the panel (null). */
    show(sweep) {
      state.sweep = sweep;
      if (sweep?.board) render(sweep.board, actions);
      else {
        $('leaderboard').hidden = true;
        $('sweep-baseline').textContent = '';
        $('cv-summary').textContent = '';
      }
    },
    setOpen(open) { $('sweep-run').disabled = !open; },
  };
}

function setBusy(busy) {
  ui.setTraining(busy);
  $('sweep-run').disabled = busy;
  $('sweep-stop').disabled = !busy;
  state.stopped = false;
}
